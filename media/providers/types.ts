/**
 * The three provider seams of the voice pipeline. Each has a real implementation on the vendor
 * SDK (Google STT, OpenAI, Google TTS) and can be replaced by a fake in tests. Cancellation is
 * always an AbortSignal; failures are always a {@link ProviderError} with a stable code.
 */

/** Which provider failed. */
export type ProviderName = 'stt' | 'llm' | 'tts';

/**
 * Stable failure codes. `retryable` says whether the same request may succeed if tried again.
 * - AUTH: missing or wrong credentials / permission (never retryable; the call cannot go on)
 * - BAD_REQUEST: the provider refused the request (bad voice, language, model…)
 * - RATE_LIMITED: quota or rate limit
 * - UNAVAILABLE: connection refused/reset, provider 5xx, stream dropped
 * - TIMEOUT: deadline, or our watchdog fired (stalled stream)
 * - STREAM_LIMIT: Google ended a recognition stream at its duration limit (code 11)
 * - BAD_AUDIO: the provider returned audio we cannot play (wrong format)
 * - ABORTED: we cancelled it (barge-in, hang-up); not an error to report
 * - UNKNOWN: anything else
 */
export type ProviderErrorCode =
  | 'AUTH'
  | 'BAD_REQUEST'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'STREAM_LIMIT'
  | 'BAD_AUDIO'
  | 'ABORTED'
  | 'UNKNOWN';

/** A classified provider failure. */
export class ProviderError extends Error {
  readonly provider: ProviderName;
  readonly code: ProviderErrorCode;
  readonly retryable: boolean;
  /** The vendor's own code when there is one (gRPC status number, HTTP status). */
  readonly vendorCode: number | string | undefined;
  constructor(
    provider: ProviderName,
    code: ProviderErrorCode,
    message: string,
    opts: { retryable?: boolean; vendorCode?: number | string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'ProviderError';
    this.provider = provider;
    this.code = code;
    this.retryable =
      opts.retryable ??
      (code === 'UNAVAILABLE' || code === 'TIMEOUT' || code === 'RATE_LIMITED' || code === 'STREAM_LIMIT');
    this.vendorCode = opts.vendorCode;
  }
}

// ---------------------------------------------------------------- speech-to-text

/** What a recognition session reports. */
export type RecognizerEvent =
  | { type: 'interim'; text: string; stability: number }
  | { type: 'final'; text: string; confidence: number }
  /** A stream was replaced (rotation before the limit, or restart after an error). */
  | { type: 'restarted'; reason: 'rotation' | 'error'; streamIndex: number; error?: ProviderError }
  /** Recognition cannot continue for this call (non-retryable error, or retries exhausted). */
  | { type: 'failed'; error: ProviderError };

/** One call's continuous recognition, across as many provider streams as it takes. */
export interface RecognizerSession {
  /** Caller audio, 8 kHz μ-law, written as it arrives (real-time pace). Never throws. */
  write(mulaw: Buffer): void;
  /**
   * A quiet moment (caller silent, no turn pending): the session may rotate its stream now if it
   * is getting old. Cheap to call often.
   */
  quietMoment(): void;
  /** Ends the session: current stream half-closed, timers cleared, late errors swallowed. Idempotent. */
  close(): void;
}

/** Starts recognition sessions. */
export interface SpeechRecognizer {
  /** Opens a session; events arrive through `onEvent` until close() or a 'failed' event. */
  start(onEvent: (e: RecognizerEvent) => void, signal: AbortSignal): RecognizerSession;
}

// ---------------------------------------------------------------- replies

/** A chat message as kept in the call's history. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Streams the agent's reply text. */
export interface ReplyGenerator {
  /**
   * Yields text deltas as they arrive. Ends quietly when `signal` aborts (barge-in). Throws a
   * ProviderError on failure, including TIMEOUT when no first token arrives in time or the stream
   * stalls between tokens (a watchdog: the SDK's own timeout does not cover a stalled body).
   * `onRequestSent` is called when the HTTP request is handed to the network (metrics).
   */
  generate(messages: readonly ChatMessage[], signal: AbortSignal, onRequestSent?: () => void): AsyncIterable<string>;
}

// ---------------------------------------------------------------- text-to-speech

/** Synthesized audio for one piece of text. */
export interface Synthesis {
  /** Raw 8 kHz μ-law, header already removed. */
  mulaw: Buffer;
  /** Time the provider took, ms. */
  synthMs: number;
}

/** Speaks text. */
export interface Synthesizer {
  /** Rejects with a ProviderError (ABORTED when `signal` aborted first). */
  synthesize(text: string, signal: AbortSignal): Promise<Synthesis>;
}
