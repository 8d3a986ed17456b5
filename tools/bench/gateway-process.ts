/**
 * The gateway under test, run as a child process exactly like `npm start` (`node gateway.ts` from
 * the repository root), so its CPU, memory and event loop are its own. Its JSON log lines are parsed
 * as they arrive; the benchmark keeps the per-turn and barge-in records and counts warnings/errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { track } from './children.ts';

/** One parsed log line. */
export type LogRecord = Record<string, unknown>;

/** A running gateway. */
export interface GatewayChild {
  readonly pid: number;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** `TURN` records (per caller turn: `overheadMs`, `firstMediaMs`, …). */
  readonly turns: LogRecord[];
  /** `BARGE_IN` records (`reactionMs` for caller interruptions). */
  readonly bargeIns: LogRecord[];
  /** Warning and error lines counted by event name (e.g. `LLM_ERROR`, `WS_BAD_MESSAGE`). */
  readonly problems: Map<string, number>;
  /** Current resident set size from /proc (Linux); undefined elsewhere or once exited. */
  rssBytes(): Promise<number | undefined>;
  /** SIGTERM (a drain; calls are over by then), SIGKILL after `graceMs`. Resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `node gateway.ts` in `root` with a clean environment plus `env` (PORT=0, HOST=127.0.0.1 are
 * set here) and resolves once it logged `GATEWAY_LISTENING`.
 * @throws Error if it exits or has not listened within `timeoutMs`, with its stderr.
 */
export async function startGatewayChild(root: string, env: Record<string, string>, timeoutMs = 15_000): Promise<GatewayChild> {
  const child = spawn(process.execPath, ['gateway.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      METADATA_SERVER_DETECTION: 'none',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const turns: LogRecord[] = [];
  const bargeIns: LogRecord[] = [];
  const problems = new Map<string, number>();
  let stderr = '';
  let partial = '';
  let onListening: ((port: number) => void) | undefined;
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      let r: LogRecord;
      try {
        r = JSON.parse(line) as LogRecord;
      } catch {
        continue; // not a log record (nothing else is printed in json format)
      }
      if (r['message'] === 'TURN') turns.push(r);
      else if (r['message'] === 'BARGE_IN') bargeIns.push(r);
      else if (r['message'] === 'GATEWAY_LISTENING') onListening?.(Number(r['port']));
      if (r['level'] === 'warn' || r['level'] === 'error') problems.set(String(r['message']), (problems.get(String(r['message'])) ?? 0) + 1);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not listen within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    onListening = (p) => {
      clearTimeout(timer);
      resolve(p);
    };
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`gateway exited during start-up (code ${child.exitCode}); stderr: ${stderr}`));
    });
  });
  return {
    pid: child.pid!,
    base: `http://127.0.0.1:${port}`,
    turns,
    bargeIns,
    problems,
    rssBytes: () => procRss(child),
    stop: (graceMs = 5000) => stopChild(child, exited, graceMs),
  };
}

/** VmRSS of a live child from /proc/PID/status; reading it does not disturb the gateway (unlike a scrape). */
async function procRss(child: ChildProcess): Promise<number | undefined> {
  if (child.exitCode !== null || child.pid === undefined) return undefined;
  try {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined; // not Linux, or the process just exited
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
