/**
 * The real gateway as a child process, started exactly as `npm start` starts it (`node gateway.ts`
 * from the repository root, on this same Node), with its JSON log lines read from stdout. Shared by
 * the demo, the benchmark and the tests that need the whole process (signals, exit codes).
 *
 *   spawn ──GATEWAY_LISTENING──▶ running ──stop(): SIGTERM──▶ draining ──exit──▶ gone
 *     │                                          └── still there after graceMs: SIGKILL
 *     └── exits or stays silent too long: startGatewayChild rejects (the child is killed)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: where `gateway.ts` is. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One parsed log line; a line that is not JSON is kept as `{ message: 'NON_JSON_LINE', line }`. */
export type LogRecord = Record<string, unknown>;

/** How the child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What {@link GatewayChild.stop} did. */
export interface StopResult extends ChildExit {
  /** SIGKILL was needed: the drain did not finish within the grace period. */
  killed: boolean;
  /** From the SIGTERM (or from the call of stop(), if the child was already gone) to the exit. */
  ms: number;
}

/** A spawned gateway, listening or not. */
export interface GatewayProcess {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every log line so far, in order (empty with `keepLogs: false`). */
  readonly logs: LogRecord[];
  /** Bytes the process has written to stdout (its log) so far, whether or not lines are kept. */
  stdoutBytes(): number;
  /** Resolves when the process has exited and its output has been read. */
  readonly exited: Promise<ChildExit>;
  hasExited(): boolean;
  /** What it wrote to stderr (start-up problems are reported there). */
  stderr(): string;
  /** The first record with this message (and `match`) already logged or still to come. */
  waitForLog(event: string, timeoutMs?: number, match?: (r: LogRecord) => boolean): Promise<LogRecord>;
  /** Sends a signal now (tests: a second SIGTERM, SIGINT). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (the gateway drains), then SIGKILL after `graceMs`. Idempotent; never rejects. */
  stop(graceMs: number): Promise<StopResult>;
}

/** A gateway that logged `GATEWAY_LISTENING`. */
export interface GatewayChild extends GatewayProcess {
  /** `http://HOST:PORT` from `GATEWAY_LISTENING`. */
  readonly url: string;
  readonly port: number;
}

/** Options of {@link spawnGateway}. */
export interface GatewayChildOptions {
  /** The child's whole environment on top of {@link baseGatewayEnv} (nothing else is inherited). */
  env: Record<string, string>;
  /** Keep every record in `logs` (default true; a long benchmark passes false and uses `onRecord`). */
  keepLogs?: boolean;
  /** Called with every record as it is read. */
  onRecord?: (r: LogRecord) => void;
  /** Longest wait for `GATEWAY_LISTENING` in {@link startGatewayChild}. Default 15000. */
  startTimeoutMs?: number;
  /**
   * Script to run instead of `gateway.ts`, relative to the repository root (tests start stand-in
   * servers that log `GATEWAY_LISTENING` the same way). Default `gateway.ts`.
   */
  script?: string;
  /** Arguments after the script. Default none. */
  args?: string[];
}

/**
 * The environment every child starts from: listen on any free loopback port, no metadata-server
 * probe by the Google auth library (nothing to find off-cloud, and it costs seconds). The shell's
 * own variables are not inherited, so a token or key set there can neither change nor leak into a run.
 */
export function baseGatewayEnv(): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/tmp',
    PORT: '0',
    HOST: '127.0.0.1',
    METADATA_SERVER_DETECTION: 'none',
  };
}

/** The gateway did not come up; the message says why (exit code and stderr, or the timeout). */
export class GatewayStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayStartError';
  }
}

/** Spawns `node gateway.ts` and returns at once (it may still fail to start: see `exited`). */
export function spawnGateway(opts: GatewayChildOptions): GatewayProcess {
  // Each child keeps its call store in its own fresh directory unless told otherwise, so children
  // running side by side never share a database; it is removed once the child has exited. A caller
  // that passes DATA_DIR gets no extra directory, and keeps its own.
  const ownDataDir = opts.env['DATA_DIR'] === undefined ? mkdtempSync(join(tmpdir(), 'gateway-data-')) : undefined;
  const child = spawn(process.execPath, [opts.script ?? 'gateway.ts', ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: {
      ...baseGatewayEnv(),
      ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = opts.keepLogs ?? true;
  const logs: LogRecord[] = [];
  const watchers = new Set<(r: LogRecord) => void>();
  let stderr = '';
  let partial = '';
  let gone = false;
  let outBytes = 0;
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    outBytes += Buffer.byteLength(text);
    partial += text;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!line.trim()) continue;
      const r = parseLine(line);
      if (keep) logs.push(r);
      opts.onRecord?.(r);
      for (const w of watchers) w(r);
    }
  });
  // Only the tail is kept: a start-up failure is reported in the last lines.
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-8000)));
  child.once('error', (err) => (stderr += `\nspawn failed: ${err.message}`));
  const exited = new Promise<ChildExit>((resolve) => {
    // 'close' (not 'exit') so the last log lines have been read when this resolves.
    child.once('close', (code, signal) => {
      gone = true;
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });

  const waitForLog: GatewayProcess['waitForLog'] = (event, timeoutMs = 10_000, match = () => true) =>
    new Promise((resolve, reject) => {
      const hit = (r: LogRecord) => r['message'] === event && match(r);
      const seen = logs.find(hit);
      if (seen) return resolve(seen);
      const watcher = (r: LogRecord) => {
        if (!hit(r)) return;
        done();
        resolve(r);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${event} within ${timeoutMs} ms; stderr: ${stderr.trim()}`));
      }, timeoutMs);
      void exited.then(() => {
        if (!watchers.has(watcher)) return;
        done();
        reject(new Error(`the gateway exited before logging ${event}; stderr: ${stderr.trim()}`));
      });
      const done = () => {
        clearTimeout(timer);
        watchers.delete(watcher);
      };
      watchers.add(watcher);
    });

  let stopping: Promise<StopResult> | undefined;
  return {
    process: child,
    pid: child.pid ?? -1,
    logs,
    stdoutBytes: () => outBytes,
    exited,
    hasExited: () => gone,
    stderr: () => stderr,
    waitForLog,
    signal: (sig) => {
      if (!gone) child.kill(sig);
    },
    stop(graceMs) {
      stopping ??= (async () => {
        const t0 = performance.now();
        if (!gone) child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
        const first = await Promise.race([exited, late]);
        clearTimeout(timer);
        const killed = first === 'late';
        if (killed) child.kill('SIGKILL');
        const exit = await exited;
        return { ...exit, killed, ms: Math.round(performance.now() - t0) };
      })();
      return stopping;
    },
  };
}

/**
 * Spawns the gateway and resolves once it logs `GATEWAY_LISTENING`.
 * @throws GatewayStartError when it exits first or stays silent for `startTimeoutMs` (it is killed then).
 */
export async function startGatewayChild(opts: GatewayChildOptions): Promise<GatewayChild> {
  const g = spawnGateway(opts);
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  let listening: LogRecord;
  try {
    listening = await g.waitForLog('GATEWAY_LISTENING', timeoutMs);
  } catch {
    const why = g.hasExited()
      ? `it exited with ${(await g.exited).signal ?? `code ${(await g.exited).code}`}`
      : `it did not log GATEWAY_LISTENING within ${timeoutMs} ms`;
    if (!g.hasExited()) g.process.kill('SIGKILL');
    await g.exited;
    const said = g.stderr().trim();
    throw new GatewayStartError(`the gateway did not start: ${why}${said ? `; it said: ${said}` : ''}`);
  }
  const port = Number(listening['port']);
  return { ...g, port, url: `http://${String(listening['host'])}:${port}` };
}

function parseLine(line: string): LogRecord {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as LogRecord;
  } catch {
    // not JSON: kept as text below, so nothing the gateway printed is lost
  }
  return { message: 'NON_JSON_LINE', line };
}
