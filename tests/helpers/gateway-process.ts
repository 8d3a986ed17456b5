/**
 * Runs the real gateway as a child process (`node gateway.ts`, exactly what `npm start` runs),
 * parses its JSON log lines, and exposes its port once it is listening.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** A gateway child process. */
export interface GatewayProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  port: () => number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(event: string, timeoutMs?: number, match?: (r: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns the gateway with a clean environment plus `env`. Resolves once the process was spawned. */
export function spawnGateway(env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, ['gateway.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', METADATA_SERVER_DETECTION: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ message: 'NON_JSON_LINE', line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLog: GatewayProcess['waitForLog'] = (event, timeoutMs = 10_000, match = () => true) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = logs.find((r) => r.message === event && match(r));
        if (!hit) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${event} within ${timeoutMs} ms; stderr: ${stderr}; logs: ${logs.map((l) => l.message).join(',')}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog,
    port: () => {
      const rec = logs.find((r) => r.message === 'GATEWAY_LISTENING');
      if (!rec) throw new Error('gateway is not listening yet');
      return Number(rec.port);
    },
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}
