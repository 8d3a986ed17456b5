/**
 * Turns vendor failures into {@link ProviderError}s: one place that knows gRPC status numbers and
 * the OpenAI SDK's error classes, so the pipeline only ever sees our stable codes.
 *
 * Messages are written for an operator reading a log line: which provider, what went wrong in
 * plain words, what to check, then the vendor's own status text. They never carry secrets: text
 * that looks like an API key or bearer token is masked, and so is any key passed in `secrets`.
 */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  OpenAIError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from 'openai';
import { ProviderError } from './types.ts';
import type { ProviderErrorCode, ProviderName } from './types.ts';

/** Human name of each provider, as it starts every message. */
export const PROVIDER_LABEL: Readonly<Record<ProviderName, string>> = {
  stt: 'Google Speech-to-Text',
  tts: 'Google Text-to-Speech',
  llm: 'OpenAI',
};

/** What to set when credentials are the problem. */
const CREDENTIALS_HINT: Readonly<Record<ProviderName, string>> = {
  stt: 'set GOOGLE_APPLICATION_CREDENTIALS, or GOOGLE_STT_EMULATOR_HOST for a local emulator',
  tts: 'set GOOGLE_APPLICATION_CREDENTIALS, or GOOGLE_TTS_EMULATOR_HOST for a local emulator',
  llm: 'set OPENAI_API_KEY, or OPENAI_BASE_URL for a local OpenAI-compatible server',
};

/** What to check when the provider refuses the request itself. */
const REQUEST_HINT: Readonly<Record<ProviderName, string>> = {
  stt: 'check STT_LANGUAGE and STT_MODEL',
  tts: 'check TTS_VOICE and the text',
  llm: 'check OPENAI_MODEL and OPENAI_BASE_URL',
};

const GRPC_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** gRPC status number → our code. 2 UNKNOWN is decided by its text (see fromGrpcError). */
const GRPC_CODES: Readonly<Record<number, ProviderErrorCode>> = {
  1: 'ABORTED',
  3: 'BAD_REQUEST',
  5: 'BAD_REQUEST',
  9: 'BAD_REQUEST',
  12: 'BAD_REQUEST',
  4: 'TIMEOUT',
  7: 'AUTH',
  16: 'AUTH',
  8: 'QUOTA',
  10: 'UNAVAILABLE',
  13: 'UNAVAILABLE',
  14: 'UNAVAILABLE',
  11: 'STREAM_LIMIT',
};

/** Text of transport failures that gRPC sometimes reports as 2 UNKNOWN instead of 14. */
const CONNECTION_TEXT =
  /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|connection|stream removed|RST_STREAM|GOAWAY|network/i;

/** RESOURCE_EXHAUSTED texts that describe a rate (requests per minute), not a used-up quota. */
const RATE_TEXT = /per minute|per second|rate limit|too many requests|concurrent/i;

/** google-auth-library's failures to find or read credentials; they carry no gRPC code. */
const GOOGLE_CREDENTIALS_TEXT =
  /default credentials|could not refresh access token|invalid_grant|client_email|private_key|credentials/i;

/** Short phrase per code; the message is "<provider>: <phrase> (<hint>) — <vendor text>". */
function describe(provider: ProviderName, code: ProviderErrorCode, vendorCode: number | string | undefined): string {
  switch (code) {
    case 'AUTH':
      if (vendorCode === 403) return 'permission denied (the key has no access to this model, project or region)';
      if (vendorCode === 7)
        return "permission denied (check the service account's roles and that the API is enabled in its project)";
      return `credentials missing or invalid (${CREDENTIALS_HINT[provider]})`;
    case 'BAD_REQUEST':
      return `request refused (${REQUEST_HINT[provider]})`;
    case 'QUOTA':
      return 'quota or credit exhausted (check billing and quotas in the provider console)';
    case 'RATE_LIMITED':
      return 'rate limit exceeded';
    case 'UNAVAILABLE':
      return 'service unavailable or connection lost';
    case 'TIMEOUT':
      return 'timed out';
    case 'STREAM_LIMIT':
      return 'recognition stream ended by the server (duration or audio-timeout limit)';
    case 'BAD_AUDIO':
      return 'returned audio that cannot be played';
    case 'ABORTED':
      return 'request cancelled';
    case 'UNKNOWN':
      return 'unexpected error';
  }
}

/**
 * Builds a ProviderError with the standard message layout. `detail` is the vendor's text (masked
 * for secrets here). Options are passed through to the ProviderError constructor.
 */
export function providerError(
  provider: ProviderName,
  code: ProviderErrorCode,
  detail: string | undefined,
  opts: {
    retryable?: boolean;
    vendorCode?: number | string;
    cause?: unknown;
    secrets?: readonly (string | undefined)[];
    phrase?: string;
  } = {},
): ProviderError {
  const phrase = opts.phrase ?? describe(provider, code, opts.vendorCode);
  const tail = detail ? ` — ${maskSecrets(detail, opts.secrets)}` : '';
  const { secrets: _secrets, phrase: _phrase, ...rest } = opts;
  return new ProviderError(provider, code, `${PROVIDER_LABEL[provider]}: ${phrase}${tail}`, rest);
}

/**
 * Classifies an error from a Google client call or stream (numeric gRPC `code`, `details`).
 * 16/7 → AUTH; 3/5/9/12 → BAD_REQUEST; 8 → QUOTA (RATE_LIMITED when its text names a rate); 14/13/10 → UNAVAILABLE, and 2 UNKNOWN
 * too when its text names a connection problem; 4 → TIMEOUT; 11 → STREAM_LIMIT (both the 305 s
 * cap and "Audio Timeout"); 1 → ABORTED. Without a code, google-auth's "Could not load the default
 * credentials" (and other credential-file failures) → AUTH; anything else → UNKNOWN.
 * A ProviderError is returned unchanged.
 */
export function fromGrpcError(provider: ProviderName, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    details?: unknown;
    message?: unknown;
  };
  const text = typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e.code === 'number' ? e.code : undefined;
  if (code === undefined) {
    const ours: ProviderErrorCode = GOOGLE_CREDENTIALS_TEXT.test(text) ? 'AUTH' : 'UNKNOWN';
    return providerError(provider, ours, text, { cause: err });
  }
  const details = typeof e.details === 'string' && e.details ? e.details : text;
  let ours = GRPC_CODES[code] ?? (code === 2 && CONNECTION_TEXT.test(details) ? 'UNAVAILABLE' : 'UNKNOWN');
  // RESOURCE_EXHAUSTED is both "quota used up" (permanent) and "too many requests per minute".
  if (code === 8 && RATE_TEXT.test(details)) ours = 'RATE_LIMITED';
  const name = GRPC_NAMES[code] ?? 'STATUS';
  const shown = details.startsWith(`${code} `) ? details : `${code} ${name}: ${details}`;
  return providerError(provider, ours, shown, { vendorCode: code, cause: err });
}

/**
 * Classifies an error from the OpenAI SDK by its class: AuthenticationError/PermissionDeniedError
 * → AUTH; BadRequest/NotFound/UnprocessableEntity (and other 4xx) → BAD_REQUEST; RateLimitError →
 * RATE_LIMITED (QUOTA, not retryable, when the account is out of credit: `insufficient_quota`);
 * InternalServerError/APIConnectionError/409 → UNAVAILABLE; APIConnectionTimeoutError and 408 →
 * TIMEOUT; APIUserAbortError (or a DOM AbortError) → ABORTED; an APIError without status (an error
 * event in the middle of a stream) → UNAVAILABLE; the constructor's "Missing credentials"
 * OpenAIError → AUTH; anything else → UNKNOWN. `secrets` (e.g. the configured key) are masked in
 * the message. A ProviderError is returned unchanged.
 */
export function fromOpenAIError(err: unknown, secrets: readonly (string | undefined)[] = []): ProviderError {
  if (err instanceof ProviderError) return err;
  const text = err instanceof Error ? err.message : String(err);
  // Whether a code is retryable is the catalogue's default (server/errors.ts), never decided here.
  const make = (code: ProviderErrorCode, vendorCode?: number | string): ProviderError =>
    providerError('llm', code, text, { cause: err, secrets, ...(vendorCode === undefined ? {} : { vendorCode }) });

  // Subclasses first: APIUserAbortError and APIConnectionError extend APIError.
  if (err instanceof APIUserAbortError) return make('ABORTED');
  if (err instanceof APIConnectionTimeoutError) return make('TIMEOUT');
  if (err instanceof APIConnectionError) return make('UNAVAILABLE');
  if (err instanceof AuthenticationError || err instanceof PermissionDeniedError) return make('AUTH', err.status);
  if (err instanceof RateLimitError) {
    // Out of credit is a 429 too, but waiting will not help: QUOTA, which the catalogue makes permanent.
    return err.code === 'insufficient_quota' ? make('QUOTA', 429) : make('RATE_LIMITED', 429);
  }
  if (err instanceof BadRequestError || err instanceof NotFoundError || err instanceof UnprocessableEntityError)
    return make('BAD_REQUEST', err.status);
  if (err instanceof InternalServerError) return make('UNAVAILABLE', err.status);
  if (err instanceof APIError) {
    const status = err.status;
    if (status === undefined) return make('UNAVAILABLE'); // error event inside an SSE stream
    if (status === 408) return make('TIMEOUT', status);
    if (status === 409 || status >= 500) return make('UNAVAILABLE', status);
    return make('BAD_REQUEST', status);
  }
  if (err instanceof OpenAIError && /missing credentials/i.test(text)) return make('AUTH');
  if (err instanceof Error && err.name === 'AbortError') return make('ABORTED');
  return make('UNKNOWN');
}

/**
 * Masks secrets in `text`: OpenAI-style keys (sk-…), Google API keys (AIza…), bearer tokens,
 * `key=`/`api_key=` query values, and every non-empty string in `secrets` (at least 4 characters).
 */
export function maskSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out
    .replace(/\bsk-[A-Za-z0-9_*.-]{4,}/g, 'sk-[redacted]')
    .replace(/\bAIza[0-9A-Za-z_-]{20,}/g, '[redacted]')
    .replace(/\b(Bearer)\s+[^\s"',]+/gi, '$1 [redacted]')
    .replace(/\b(api_?key|key|access_token)=([^&\s"']+)/gi, '$1=[redacted]');
}
