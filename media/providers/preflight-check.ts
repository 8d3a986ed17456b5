/**
 * The shape of one preflight check and the harness every check runs in: a time limit tied to an
 * AbortSignal, and no way to throw (a failure is data: `ok: false`, what was measured, the
 * setting to change). Also the one place that turns a {@link ProviderError} into "change this
 * variable".
 */
import type { VoiceConfig } from '../../config/config.ts';
import { ProviderError } from './types.ts';
import type { ProviderName } from './types.ts';

/**
 * The result of one check.
 * - `ok: false` is a failure (NO-GO); `ok: true` with `warn` is a warning (still GO).
 * - `measured`: what the check saw, e.g. "synthesis 212 ms, 2.1 s of audio".
 * - `variable`: the setting to change when it failed or warned.
 * - `detail`: the provider's own words, or what to do.
 * - `ms`: how long the check took.
 */
export interface PreflightCheck {
  name: string;
  ok: boolean;
  warn?: string;
  measured: string;
  variable?: string;
  detail?: string;
  ms: number;
}

/** What a check body returns; the harness adds `name` and `ms`. */
export type CheckOutcome = Omit<PreflightCheck, 'name' | 'ms'>;

/** How a check body is run by {@link runCheck}. */
export interface CheckSpec {
  name: string;
  /** The check is abandoned (its signal aborted) after this long and reported as failed. */
  limitMs: number;
  /** The setting named when the time limit is hit (default: none). */
  timeoutVariable?: string;
  /** Aborting stops the check at once; it then fails with "cancelled". */
  signal?: AbortSignal;
}

/**
 * Runs `body` with a signal that aborts after `spec.limitMs` (or when `spec.signal` aborts).
 * Never throws and never waits past the limit: a body that throws becomes a failure carrying the
 * error's message (a ProviderError also names its setting through `variableOf`), and a body still
 * running at the limit is abandoned with its signal aborted.
 */
export async function runCheck(
  spec: CheckSpec,
  body: (signal: AbortSignal) => Promise<CheckOutcome>,
  variableOf: (err: ProviderError) => string | undefined = () => undefined,
): Promise<PreflightCheck> {
  const started = performance.now();
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort();
  spec.signal?.addEventListener('abort', onParentAbort, { once: true });
  if (spec.signal?.aborted) controller.abort();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<CheckOutcome>((resolve) => {
    const expire = (why: 'timeout' | 'cancelled'): void =>
      resolve(
        why === 'timeout'
          ? {
              ok: false,
              measured: `no result within ${spec.limitMs} ms`,
              ...(spec.timeoutVariable ? { variable: spec.timeoutVariable } : {}),
              detail: 'the check was abandoned at its time limit',
            }
          : { ok: false, measured: 'cancelled before it finished' },
      );
    timer = setTimeout(() => expire('timeout'), spec.limitMs);
    if (controller.signal.aborted) expire('cancelled');
    else controller.signal.addEventListener('abort', () => expire('cancelled'), { once: true });
  });
  const work = Promise.resolve()
    .then(() => body(controller.signal))
    .catch((err: unknown) => failure(err, variableOf));
  try {
    const outcome = await Promise.race([work, limit]);
    return { name: spec.name, ...outcome, ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener('abort', onParentAbort);
    controller.abort(); // whatever the body still has open (streams, timers) is told to stop
  }
}

/** A failed outcome for `err`: its message as the detail, its setting from `variableOf`. */
export function failure(
  err: unknown,
  variableOf: (err: ProviderError) => string | undefined = () => undefined,
  measured?: string,
): CheckOutcome {
  const message = err instanceof Error ? err.message : String(err);
  const variable = err instanceof ProviderError ? variableOf(err) : undefined;
  const code = err instanceof ProviderError ? err.code : 'UNKNOWN';
  return {
    ok: false,
    measured: measured ?? `failed: ${code}`,
    ...(variable ? { variable } : {}),
    detail: message,
  };
}

/**
 * The setting behind a provider failure that is not specific to one request: credentials for
 * AUTH, the emulator or base URL for a connection problem. BAD_REQUEST is decided by `badRequest`
 * (only the check knows which of its settings the provider refused). QUOTA and RATE_LIMITED name
 * nothing: they are fixed in the provider's console, not here.
 */
export function variableFor(
  err: ProviderError,
  config: VoiceConfig,
  badRequest: (err: ProviderError) => string | undefined,
): string | undefined {
  const provider: ProviderName = err.provider;
  switch (err.code) {
    case 'AUTH':
      return provider === 'llm' ? 'OPENAI_API_KEY' : 'GOOGLE_APPLICATION_CREDENTIALS';
    case 'BAD_REQUEST':
      return badRequest(err);
    case 'UNAVAILABLE':
    case 'TIMEOUT':
      if (provider === 'stt' && config.googleSttEmulatorHost) return 'GOOGLE_STT_EMULATOR_HOST';
      if (provider === 'tts' && config.googleTtsEmulatorHost) return 'GOOGLE_TTS_EMULATOR_HOST';
      if (provider === 'llm' && config.openaiBaseUrl) return 'OPENAI_BASE_URL';
      return undefined;
    case 'QUOTA':
    case 'RATE_LIMITED':
    case 'STREAM_LIMIT':
    case 'BAD_AUDIO':
    case 'ABORTED':
    case 'UNKNOWN':
      return undefined;
  }
}

/** "2.1 s" for 2140 ms; "640 ms" below a second. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
