/**
 * The real gateway as a child process, started exactly as `npm start` starts it (`node gateway.ts`
 * from the repository root, on this same Node), with its JSON log lines collected from stdout.
 *
 *   spawn ──GATEWAY_LISTENING──▶ running ──stop(): SIGTERM──▶ draining ──exit──▶ gone
 *     │                                          └── still there after graceMs: SIGKILL
 *     └── exits or stays silent too long: startGatewayChild rejects (the child is killed)
 */
import { spawn } from 'node:child_process';
import type { LogRecord } from './log-flow.ts';

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

/** A started gateway. */
export interface GatewayChild {
  readonly pid: number;
  /** `http://HOST:PORT` from `GATEWAY_LISTENING`. */
  readonly url: string;
  /** Every JSON log line so far, in order; a line that is not JSON is kept as `{ message: 'NON_JSON_LINE', line }`. */
  readonly logs: LogRecord[];
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<ChildExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** What it wrote to stderr (start-up problems are reported there). */
  stderr(): string;
  /** SIGTERM (the gateway drains), then SIGKILL after `graceMs`. Idempotent; never rejects. */
  stop(graceMs: number): Promise<StopResult>;
  /** SIGKILL now, synchronously (for a second Ctrl-C). */
  kill(): void;
}

/** Options of {@link startGatewayChild}. */
export interface GatewayChildOptions {
  /** The repository root: where `gateway.ts` is. */
  root: string;
  /** The child's whole environment (nothing is inherited, so the shell's settings cannot change the run). */
  env: Record<string, string>;
  /** Longest wait for `GATEWAY_LISTENING`. Default 15000. */
  startTimeoutMs?: number;
}

/** The gateway did not come up; the message says why (exit code and stderr, or the timeout). */
export class GatewayStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayStartError';
  }
}

/**
 * Spawns the gateway and resolves once it logs `GATEWAY_LISTENING`.
 * @throws GatewayStartError when it exits first or stays silent for `startTimeoutMs` (it is killed then).
 */
export async function startGatewayChild(opts: GatewayChildOptions): Promise<GatewayChild> {
  const child = spawn(process.execPath, ['gateway.ts'], { cwd: opts.root, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogRecord[] = [];
  let stderr = '';
  let partial = '';
  let gone = false;
  let onLine: (() => void) | undefined;
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    partial += text;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.trim()) logs.push(parseLine(line));
    }
    onLine?.();
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<ChildExit>((resolve) => {
    // 'close' (not 'exit') so the last log lines have been read when this resolves.
    child.once('close', (code, signal) => {
      gone = true;
      resolve({ code, signal });
    });
  });
  // A failed spawn reports 'error' before 'close'; the close settles things, this only names the cause.
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const listening = await new Promise<LogRecord | string>((resolve) => {
    const timeoutMs = opts.startTimeoutMs ?? 15_000;
    const timer = setTimeout(() => resolve(`it did not log GATEWAY_LISTENING within ${timeoutMs} ms`), timeoutMs);
    onLine = () => {
      const hit = logs.find((r) => r['message'] === 'GATEWAY_LISTENING');
      if (hit) {
        clearTimeout(timer);
        resolve(hit);
      }
    };
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      resolve(spawnError ? `it could not be spawned (${spawnError.message})` : `it exited with ${signal ?? `code ${code}`}`);
    });
  });
  onLine = undefined;
  if (typeof listening === 'string') {
    if (!gone) child.kill('SIGKILL');
    await exited;
    const said = stderr.trim();
    throw new GatewayStartError(`the gateway did not start: ${listening}${said ? `; it said: ${said}` : ''}`);
  }

  let stopping: Promise<StopResult> | undefined;
  return {
    pid: child.pid!,
    url: `http://${String(listening['host'])}:${Number(listening['port'])}`,
    logs,
    exited,
    hasExited: () => gone,
    stderr: () => stderr,
    kill: () => {
      if (!gone) child.kill('SIGKILL');
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

function parseLine(line: string): LogRecord {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as LogRecord;
  } catch {
    // not JSON: kept as text below, so nothing the gateway printed is lost
  }
  return { message: 'NON_JSON_LINE', line };
}
