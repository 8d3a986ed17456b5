/**
 * The store's one timer primitive: wait `ms`, or less when `signal` aborts (shutdown) or when the
 * wake function handed to `onWake` is called (e.g. a full batch is waiting). The timer is unref'd:
 * a store never keeps a process alive on its own.
 */
export function sleep(
  ms: number,
  signal: AbortSignal,
  onWake?: (wake: (() => void) | undefined) => void,
): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      onWake?.(undefined);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    onWake?.(done);
    signal.addEventListener('abort', done, { once: true });
  });
}
