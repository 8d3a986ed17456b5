/**
 * The gateway's error catalogue, the one source of truth for every failure it answers, closes or
 * classifies with: a stable code (what logs carry in `code` and what the API and console put in
 * `error.code`), the HTTP status it is answered with, the WebSocket close code the media socket
 * gets, whether trying again may succeed, and for provider failures whether the call can go on.
 * Call sites take statuses and close codes from here ({@link httpStatus}, {@link closeCode},
 * {@link statusLine}); `tests/unit/errors.test.ts` fails on a literal anywhere else, and checks the
 * README's `## Errors` table against this list.
 *
 * Codes are an external contract (clients, dashboards and the README name them): never rename one.
 */
import { STATUS_CODES } from 'node:http';

/** One entry of the catalogue. */
export interface ErrorSpec {
  /** HTTP status the failure is answered with (webhooks, API, console, refused upgrades). */
  readonly http?: number;
  /** WebSocket close code of the media socket (1006: terminated without a close frame). */
  readonly wsClose?: number;
  /** Whether the same request (or call, or provider request) may succeed if tried again. */
  readonly retryable: boolean;
  /**
   * Set on exactly the provider codes ({@link ProviderErrorCode}): the default of "this call cannot
   * be served" when the failure is not retryable (media/providers/types.ts `ProviderError.permanent`).
   */
  readonly permanent?: boolean;
  /** One line: what happened. Sent as the body where the call site has no text of its own. */
  readonly summary: string;
}

export const ERRORS = {
  // ---- plain HTTP: the server, webhooks, health, metrics
  HTTP_MALFORMED_REQUEST: { http: 400, retryable: false, summary: 'request line or headers Node could not parse' },
  HTTP_REQUEST_TIMEOUT: { http: 408, retryable: true, summary: 'headers or body not received in time' },
  HTTP_HEADERS_TOO_LARGE: { http: 431, retryable: false, summary: 'request headers over the size limit' },
  HTTP_TOO_MANY_CONNECTIONS: { retryable: true, summary: 'MAX_CONNECTIONS connections open; a new one was dropped' },
  HTTP_HANDLER_FAILED: { http: 503, retryable: true, summary: 'the request listener threw before answering' },
  HTTP_BODY_TOO_LARGE: { http: 413, retryable: false, summary: 'request body over the size limit' },
  HTTP_BAD_BODY: { http: 400, retryable: false, summary: 'request body could not be parsed' },
  HTTP_UNSUPPORTED_ENCODING: {
    http: 415,
    retryable: false,
    summary: 'request body in a Content-Encoding or charset the gateway does not read',
  },
  HTTP_NOT_FOUND: { http: 404, retryable: false, summary: 'no such route' },
  HTTP_METHOD_NOT_ALLOWED: { http: 405, retryable: false, summary: 'method not allowed on this route' },
  HTTP_UPGRADE_REQUIRED: { http: 426, retryable: false, summary: 'WebSocket path requested without an upgrade' },
  HTTP_INTERNAL: { http: 500, retryable: false, summary: 'unexpected failure while answering a request' },
  HTTP_DRAINING: { http: 503, retryable: true, summary: 'draining: /healthz asks the load balancer to go elsewhere' },
  HTTP_BAD_HOST: { http: 400, retryable: false, summary: 'no usable public origin for the TwiML (Host or scheme)' },
  HTTP_BAD_CALL_SID: { http: 400, retryable: false, summary: 'incoming_call with a CallSid over 64 characters' },
  TWILIO_SIGNATURE_INVALID: {
    http: 403,
    retryable: false,
    summary: 'X-Twilio-Signature missing or not valid for this URL',
  },
  METRICS_UNAUTHORIZED: { http: 401, retryable: false, summary: '/metrics without the METRICS_TOKEN bearer' },

  // ---- the media socket: refused upgrades, then close codes
  WS_PATH_UNKNOWN: {
    http: 404,
    retryable: false,
    summary: 'upgrade requested on a path that has no WebSocket handler',
  },
  WS_SIGNATURE_INVALID: { http: 403, retryable: false, summary: 'media-socket upgrade not signed by Twilio' },
  WS_UPGRADE_FAILED: { http: 503, retryable: true, summary: 'routing an upgrade threw; the socket was refused' },
  WS_CONNECTION_FAILED: { wsClose: 1006, retryable: true, summary: 'setting up an upgraded socket threw; terminated' },
  WS_BAD_MESSAGE: {
    retryable: false,
    summary: 'media-socket message ignored (not JSON, binary, unknown or out of order)',
  },
  WS_PAYLOAD_TOO_LARGE: {
    wsClose: 1009,
    retryable: false,
    summary: 'a frame over WS_MAX_PAYLOAD_BYTES (closed by ws)',
  },
  WS_TOKEN_INVALID: {
    wsClose: 1008,
    retryable: false,
    summary: 'stream token in start.customParameters missing, forged, expired or reused',
  },
  WS_STREAM_DUPLICATE: { wsClose: 1008, retryable: false, summary: 'a second stream for a call that has a live one' },
  WS_START_FAILED: {
    wsClose: 1008,
    retryable: true,
    summary: 'the start could not be checked (the token store failed)',
  },
  WS_START_TIMEOUT: { wsClose: 1008, retryable: false, summary: 'no accepted start within WS_START_TIMEOUT_MS' },
  WS_PONG_TIMEOUT: { wsClose: 1006, retryable: false, summary: 'peer missed a pong; socket terminated' },
  WS_STREAM_STOPPED: {
    wsClose: 1000,
    retryable: false,
    summary: 'Twilio sent stop (the caller hung up); socket closed',
  },
  CALL_ENDED_BY_AGENT: { wsClose: 1000, retryable: false, summary: 'the agent ended the call' },
  WS_DRAIN_TIMEOUT: { wsClose: 1001, retryable: true, summary: 'drain timeout reached during shutdown; socket closed' },

  // ---- the call API (/api): `error.code` of its JSON answers
  FORBIDDEN: { http: 403, retryable: false, summary: 'the API answers loopback only' },
  BAD_LIMIT: { http: 400, retryable: false, summary: 'limit is not a whole number from 1 to the largest page' },
  BAD_CURSOR: { http: 400, retryable: false, summary: 'before is neither an ISO time nor a known callSid' },
  BAD_CALL_SID: { http: 400, retryable: false, summary: 'malformed callSid in the path' },
  CALL_NOT_FOUND: { http: 404, retryable: false, summary: 'no call with that callSid' },
  RECORDING_NOT_FOUND: { http: 404, retryable: false, summary: 'no recording for that call' },
  RANGE_NOT_SATISFIABLE: { http: 416, retryable: false, summary: 'a Range outside the recording' },
  NOT_FOUND: { http: 404, retryable: false, summary: 'no such API route (405 for methods other than GET and HEAD)' },
  STORE_UNAVAILABLE: { http: 503, retryable: true, summary: 'the call store is unavailable' },
  INTERNAL: { http: 500, retryable: false, summary: 'unexpected API failure' },

  // ---- the console (/console, /api/calls/live, the guard of both)
  CONSOLE_AUTH_REQUIRED: {
    http: 401,
    retryable: false,
    summary: 'console token or session required (Authorization: Bearer, or log in)',
  },
  CONSOLE_LOOPBACK_ONLY: {
    http: 403,
    retryable: false,
    summary: 'CONSOLE_TOKEN is not set: the console answers only from loopback',
  },
  CONSOLE_CROSS_SITE: { http: 403, retryable: false, summary: 'cross-site form submission refused' },
  CONSOLE_LIVE_FULL: { http: 503, retryable: true, summary: 'too many live-update streams open; try again shortly' },
  CONSOLE_LIVE_SLOW_CLIENT: { retryable: true, summary: 'live-update client stopped reading; its stream was dropped' },
  CONSOLE_INTERNAL: { http: 500, retryable: false, summary: 'internal error' },
  CONSOLE_NOT_FOUND: { http: 404, retryable: false, summary: 'no such console page' },

  // ---- providers (ProviderError.code); BAD_REQUEST is also the API's 400 for a malformed request
  AUTH: { retryable: false, permanent: true, summary: 'provider credentials missing or refused' },
  BAD_REQUEST: {
    http: 400,
    retryable: false,
    permanent: true,
    summary: 'a request refused as malformed (by a provider: bad voice, language, model; or by the API)',
  },
  QUOTA: { retryable: false, permanent: true, summary: "the provider account's quota or credit is used up" },
  RATE_LIMITED: { retryable: true, permanent: false, summary: 'a provider rate limit (requests per minute)' },
  UNAVAILABLE: { retryable: true, permanent: false, summary: 'provider unreachable, 5xx, or its stream dropped' },
  TIMEOUT: { retryable: true, permanent: false, summary: "a provider deadline, or the gateway's watchdog fired" },
  STREAM_LIMIT: { retryable: true, permanent: false, summary: 'Google ended a recognition stream at its limit' },
  BAD_AUDIO: { retryable: false, permanent: false, summary: 'the provider returned audio that cannot be played' },
  ABORTED: { retryable: false, permanent: false, summary: 'cancelled by the gateway (barge-in, hang-up)' },
  UNKNOWN: { retryable: false, permanent: false, summary: 'an unclassified provider failure' },

  // ---- the speech detector model (SPEECH_DETECTOR_UNAVAILABLE; the energy VAD is used instead)
  RUNTIME_MISSING: { retryable: false, summary: 'onnxruntime-node or the model package is missing or will not load' },
  MODEL_MISSING: { retryable: false, summary: 'the speech model file cannot be read' },
  MODEL_INVALID: { retryable: false, summary: 'the file is not a Silero VAD model onnxruntime accepts' },
} as const satisfies Record<string, ErrorSpec>;

/** A code from the catalogue. */
export type ErrorCode = keyof typeof ERRORS;

/** The codes whose entry has field `F`. */
type CodesWith<F extends keyof ErrorSpec> = {
  [K in ErrorCode]: (typeof ERRORS)[K] extends Readonly<Record<F, unknown>> ? K : never;
}[ErrorCode];

/** Codes that are answered with an HTTP status. */
export type HttpErrorCode = CodesWith<'http'>;
/** Codes the media socket is closed with. */
export type CloseErrorCode = CodesWith<'wsClose'>;
/** Codes a provider failure is classified with (the entries with `permanent`). */
export type ProviderErrorCode = CodesWith<'permanent'>;

/** The HTTP status of `code`. */
export function httpStatus(code: HttpErrorCode): number {
  return ERRORS[code].http;
}

/** The WebSocket close code of `code`. */
export function closeCode(code: CloseErrorCode): number {
  return ERRORS[code].wsClose;
}

/** The reason phrase of `code`'s status (`Not Found`), as Node writes it. */
export function statusText(code: HttpErrorCode): string {
  return STATUS_CODES[httpStatus(code)] ?? 'Error';
}

/** The raw status line for `code` (`HTTP/1.1 404 Not Found`), for sockets Express never sees. */
export function statusLine(code: HttpErrorCode): string {
  return `HTTP/1.1 ${httpStatus(code)} ${statusText(code)}`;
}

/** True when `s` is a catalogue code. */
export function isErrorCode(s: string): s is ErrorCode {
  return Object.hasOwn(ERRORS, s);
}

/** Body-parser errors that are the client's fault, by the parser's `type`. */
const BODY_ERRORS: Readonly<Record<string, HttpErrorCode>> = {
  'entity.too.large': 'HTTP_BODY_TOO_LARGE',
  'parameters.too.many': 'HTTP_BODY_TOO_LARGE',
  'entity.parse.failed': 'HTTP_BAD_BODY',
  'entity.verify.failed': 'HTTP_BAD_BODY',
  'request.aborted': 'HTTP_BAD_BODY',
  'request.size.invalid': 'HTTP_BAD_BODY',
  'encoding.unsupported': 'HTTP_UNSUPPORTED_ENCODING',
  'charset.unsupported': 'HTTP_UNSUPPORTED_ENCODING',
};

/**
 * The code of an error that is the client's fault, or undefined for anything else (a fault of
 * ours). Body-parser names its errors by `type`; a body that could not be decompressed or decoded,
 * or a badly encoded path, carries only a 4xx `status`: 413 and 415 keep their meaning, any other
 * 4xx is a bad body (400).
 */
export function clientErrorCode(err: unknown): HttpErrorCode | undefined {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { type?: unknown; status?: unknown };
  if (typeof e.type === 'string' && Object.hasOwn(BODY_ERRORS, e.type)) return BODY_ERRORS[e.type];
  if (typeof e.status !== 'number' || Math.floor(e.status / 100) !== 4) return undefined;
  if (e.status === httpStatus('HTTP_BODY_TOO_LARGE')) return 'HTTP_BODY_TOO_LARGE';
  if (e.status === httpStatus('HTTP_UNSUPPORTED_ENCODING')) return 'HTTP_UNSUPPORTED_ENCODING';
  return 'HTTP_BAD_BODY';
}
