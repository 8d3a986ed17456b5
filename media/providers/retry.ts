/**
 * The one retry layer of the providers. The SDKs' own retries are switched off everywhere
 * (OpenAI `maxRetries: 0`, Google per-call `retry: { retryCodes: [] }`), so a failure is retried
 * here or not at all, and never by two loops multiplying each other's attempts.
 *
 * Delays grow exponentially with "equal jitter": attempt n waits between half and all of
 * min(maxDelayMs, baseDelayMs × 2^(n-1)), so concurrent calls that failed together spread out
 * but never retry instantly.
 */
import { providerError } from './errors.ts';
import { ProviderError } from './types.ts';
import type { ProviderName } from './types.ts';

/** How {@link withRetry} retries. */
export interface RetryPolicy {
  /** Provider named in the ABORTED error when `signal` fires. */
  provider: ProviderName;
  /** Total attempts including the first (at least 1). */
  attempts: number;
  /** Delay before the first retry, before jitter. */
  baseDelayMs: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
  /** Aborting stops the loop: no new attempt starts, and a pending delay rejects at once. */
  signal?: AbortSignal;
  /** Whether `err` (thrown by attempt number `attempt`) deserves another try. Default: a ProviderError with `retryable`. */
  isRetryable?: (err: unknown, attempt: number) => boolean;
  /** Told about each retry before its delay (for logs and metrics). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn(attempt)` (attempt counts from 1) until it resolves, throws an error that is not
 * retryable, or `attempts` are used up; the last error is rethrown unchanged. Rejects with an
 * ABORTED ProviderError when `signal` is (or becomes, during a delay) aborted. It does not cancel a
 * running attempt: `fn` should pass `signal` to its own request.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const isRetryable = policy.isRetryable ?? ((err: unknown) => err instanceof ProviderError && err.retryable);
  const attempts = Math.max(1, Math.floor(policy.attempts));
  for (let attempt = 1; ; attempt++) {
    if (policy.signal?.aborted) throw abortedError(policy.provider);
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || policy.signal?.aborted || !isRetryable(err, attempt)) throw err;
      const delayMs = backoffDelay(attempt, policy.baseDelayMs, policy.maxDelayMs);
      policy.onRetry?.(err, attempt, delayMs);
      await abortableDelay(delayMs, policy.provider, policy.signal);
    }
  }
}

/**
 * Delay before retry number `failures` (1 = after the first failure): a random value between half
 * and all of min(maxDelayMs, baseDelayMs × 2^(failures-1)). `random` is injectable for tests.
 */
export function backoffDelay(
  failures: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Resolves after `ms`; rejects with an ABORTED ProviderError as soon as `signal` aborts. */
export function abortableDelay(ms: number, provider: ProviderName, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(provider));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      reject(abortedError(provider));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error every provider rejects with when its caller cancelled (barge-in, hang-up). Not retryable. */
export function abortedError(provider: ProviderName): ProviderError {
  return providerError(provider, 'ABORTED', undefined);
}

/**
 * Settles like `promise`, except that it rejects with an ABORTED ProviderError as soon as `signal`
 * aborts. The losing side's rejection is still handled, so it never becomes unhandled.
 */
export function raceAbort<T>(promise: Promise<T>, provider: ProviderName, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      promise.then(undefined, () => undefined); // the request's own outcome no longer matters; handled here so it is not reported as unhandled
      return reject(abortedError(provider));
    }
    const onAbort = (): void => reject(abortedError(provider));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
