/**
 * Forking the benchmark's helper processes (emulators, load generators) and talking to them over
 * IPC. Each is a `.ts` file Node 24 runs directly, forked with the parent's Node and no inherited
 * flags (a parent under `--inspect` must not make every child fight for the same port).
 */
import { fork, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Remembers a child until it exits; if the benchmark exits first (an error, Ctrl-C turned into
 * `process.exit`), the child is SIGKILLed then, so no gateway or emulator is left running orphaned.
 */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  return child;
}

/** Forks `file` with `args` (tracked); its stdout/stderr go to ours so a crash is visible. */
export function forkChild(file: string, args: string[] = []): ChildProcess {
  return track(
    fork(file, args, { execPath: process.execPath, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
}

/**
 * Resolves with the child's first message whose `type` is `type`.
 * @throws Error if the child exits first or nothing came within `timeoutMs`.
 */
export function nextMessage<T extends { type: string }>(
  child: ChildProcess,
  type: T['type'],
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: unknown) => {
      if ((m as { type?: unknown }).type !== type) return;
      done();
      resolve(m as T);
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`child ${child.pid} exited (code ${code}) before sending '${type}'`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`child ${child.pid} sent no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Disconnects (the children exit on 'disconnect'), then SIGKILLs whatever has not exited after `graceMs`. */
export async function endChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
