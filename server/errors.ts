/**
 * The gateway's error catalogue: one stable code per failure, with what it means on each
 * surface — the HTTP status a webhook answers, the WebSocket close code the media socket uses,
 * and whether a provider failure is worth retrying. Logs carry the code, never a stack trace
 * in a response.
 */

/** One entry of the catalogue. */
export interface ErrorSpec {
  /** HTTP status for webhook/HTTP failures. */
  readonly http?: number;
  /** WebSocket close code for media-socket failures. */
  readonly wsClose?: number;
  /** Whether trying again may succeed (provider failures). */
  readonly retryable?: boolean;
  readonly summary: string;
}

export const ERRORS = {
  HTTP_BODY_TOO_LARGE: { http: 413, summary: 'request body over the size limit' },
  HTTP_BAD_BODY: { http: 400, summary: 'request body could not be parsed' },
  HTTP_NOT_FOUND: { http: 404, summary: 'no such route' },
  HTTP_UPGRADE_REQUIRED: { http: 426, summary: 'WebSocket path requested without an upgrade' },
  HTTP_INTERNAL: { http: 500, summary: 'unexpected failure while answering a request' },
  TWILIO_SIGNATURE_INVALID: { http: 403, summary: 'X-Twilio-Signature missing or not valid for this URL' },
  WS_PATH_UNKNOWN: { http: 404, summary: 'upgrade requested on a path that has no WebSocket handler' },
  WS_SIGNATURE_INVALID: { http: 403, summary: 'media-socket upgrade not signed by Twilio' },
  WS_BAD_MESSAGE: { summary: 'media-socket message ignored (not JSON, binary, unknown or out of order)' },
  WS_TOKEN_INVALID: {
    wsClose: 1008,
    summary: 'stream token in start.customParameters missing, forged, expired or reused',
  },
  WS_PONG_TIMEOUT: { wsClose: 1006, summary: 'peer missed a pong; socket terminated' },
  WS_DRAIN_TIMEOUT: { wsClose: 1001, summary: 'drain timeout reached during shutdown; socket closed' },
  CALL_ENDED_BY_AGENT: { wsClose: 1000, summary: 'the agent ended the call' },
  CONSOLE_AUTH_REQUIRED: { http: 401, summary: 'console token or session required (Authorization: Bearer, or log in)' },
  CONSOLE_LOOPBACK_ONLY: { http: 403, summary: 'CONSOLE_TOKEN is not set: the console answers only from loopback' },
  CONSOLE_CROSS_SITE: { http: 403, summary: 'cross-site form submission refused' },
  CONSOLE_LIVE_FULL: { http: 503, summary: 'too many live-update streams open; try again shortly' },
  CONSOLE_LIVE_SLOW_CLIENT: { summary: 'live-update client stopped reading; its stream was dropped' },
  CONSOLE_INTERNAL: { http: 500, summary: 'internal error' },
  CONSOLE_NOT_FOUND: { http: 404, summary: 'no such console page' },
} as const satisfies Record<string, ErrorSpec>;

/** A code from the catalogue. */
export type ErrorCode = keyof typeof ERRORS;
