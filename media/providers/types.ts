/**
 * The three provider seams of the voice pipeline. Each has a real implementation on the vendor
 * SDK (Google STT, OpenAI, Google TTS) and can be replaced by a fake in tests. Cancellation is
 * always an AbortSignal; failures are always a {@link ProviderError} with a stable code.
 */
import { ERRORS, type ProviderErrorCode } from '../../server/errors.ts';

/** Which provider failed. */
export type ProviderName = 'stt' | 'llm' | 'tts';

/**
 * Stable failure codes, from the error catalogue (server/errors.ts: the entries with `permanent`),
 * which also holds each code's default `retryable` and `permanent`:
 * - AUTH: missing or wrong credentials / permission (never retryable; the call cannot go on)
 * - BAD_REQUEST: the provider refused the request (bad voice, language, model…)
 * - QUOTA: the account's quota or credit is exhausted (never retryable: waiting does not help)
 * - RATE_LIMITED: a rate limit (requests per minute); worth retrying later
 * - UNAVAILABLE: connection refused/reset, provider 5xx, stream dropped
 * - TIMEOUT: deadline, or our watchdog fired (stalled stream)
 * - STREAM_LIMIT: Google ended a recognition stream at its duration limit (code 11)
 * - BAD_AUDIO: the provider returned audio we cannot play (wrong format)
 * - ABORTED: we cancelled it (barge-in, hang-up); not an error to report
 * - UNKNOWN: anything else
 */
export type { ProviderErrorCode };

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
    this.retryable = opts.retryable ?? ERRORS[code].retryable;
    this.vendorCode = opts.vendorCode;
  }

  /**
   * A failure that will not go away by itself on this call (credentials, a refused request such as
   * an unknown model or voice, an exhausted quota): the call cannot be served and ends at once.
   * Transient failures (unavailable, timeout, rate limit) are worth another turn. Which codes are
   * permanent when not retryable is the catalogue's `permanent`.
   */
  get permanent(): boolean {
    return !this.retryable && ERRORS[this.code].permanent;
  }
}

// ---------------------------------------------------------------- speech-to-text

/** What a recognition session reports. */
export type RecognizerEvent =
  | { type: 'interim'; text: string; stability: number }
  /** `confidence` is 0 when the recognizer gave no estimate (Google's "not set"). */
  | { type: 'final'; text: string; confidence: number }
  /** A stream was replaced (rotation before the limit, or restart after an error). */
  | { type: 'restarted'; reason: 'rotation' | 'error'; streamIndex: number; error?: ProviderError }
  /** Recognition cannot continue for this call (non-retryable error, or retries exhausted). */
  | { type: 'failed'; error: ProviderError };

/** Per-session recognition options. */
export interface RecognizerOptions {
  /**
   * Phrases the caller is likely to say (business names, products, the caller's own name):
   * v1 `speechContexts[].phrases`, v2 inline phrase sets. Empty or absent: no adaptation.
   */
  hints?: readonly string[];
}

/** One call's continuous recognition, across as many provider streams as it takes. */
export interface RecognizerSession {
  /** Caller audio, 8 kHz μ-law, written as it arrives (real-time pace). Never throws. */
  write(mulaw: Buffer): void;
  /**
   * A quiet moment (caller silent, no turn pending): the session may rotate its stream now if it
   * is getting old. Cheap to call often.
   */
  quietMoment(): void;
  /**
   * Replaces the phrase hints; the next stream (rotation, or one opened now when `reopen` is set)
   * carries them. Used when the CRM's hints arrive after recognition started.
   */
  setHints?(hints: readonly string[], reopen: boolean): void;
  /** Ends the session: current stream half-closed, timers cleared, late errors swallowed. Idempotent. */
  close(): void;
}

/** Starts recognition sessions. */
export interface SpeechRecognizer {
  /** Opens a session; events arrive through `onEvent` until close() or a 'failed' event. */
  start(onEvent: (e: RecognizerEvent) => void, signal: AbortSignal, opts?: RecognizerOptions): RecognizerSession;
}

// ---------------------------------------------------------------- replies

/** A tool the model may call: a JSON Schema of its arguments (OpenAI "function" tools). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** One tool call as the model asked for it. `arguments` is the raw JSON text the model wrote. */
export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: string;
}

/** A message as kept in the call's history. */
export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  /** What the agent said (and the tools it called in that step, if any). */
  | { role: 'assistant'; content: string; toolCalls?: readonly ToolCallRequest[] }
  /** A tool's result, answering the call with `toolCallId`. */
  | { role: 'tool'; toolCallId: string; content: string };

/** What a reply stream produces, in order. */
export type GenerationEvent =
  /** A piece of the reply's text. */
  | { type: 'text'; text: string }
  /** A complete tool call (arguments fully streamed). */
  | { type: 'tool-call'; call: ToolCallRequest }
  /** Token counts of the request (from the stream's usage chunk), when the provider reports them. */
  | { type: 'usage'; inputTokens: number; outputTokens: number };

/** Options of one generation. */
export interface GenerateOptions {
  /** Tools offered to the model; none when absent or empty. */
  tools?: readonly ToolSpec[];
  /** Called when the HTTP request is handed to the network (metrics). */
  onRequestSent?: () => void;
}

/** Streams the agent's reply. */
export interface ReplyGenerator {
  /**
   * Yields the reply's events as they arrive. Ends quietly when `signal` aborts (barge-in).
   * Throws a ProviderError on failure, including TIMEOUT when no first token arrives in time or
   * the stream stalls between tokens (a watchdog: the SDK's own timeout does not cover a stalled
   * body), and UNAVAILABLE when the stream ends without a finish reason (cut by a proxy).
   */
  generate(
    messages: readonly ChatMessage[],
    signal: AbortSignal,
    opts?: GenerateOptions,
  ): AsyncIterable<GenerationEvent>;
}

// ---------------------------------------------------------------- text-to-speech

/** Synthesized audio for one piece of text. */
export interface Synthesis {
  /** Raw 8 kHz μ-law, header already removed. */
  mulaw: Buffer;
  /** Time the provider took, ms. */
  synthMs: number;
}

/** Per-request synthesis options. */
export interface SynthesisOptions {
  /** Voice name (e.g. `he-IL-Wavenet-A`); default: the configured TTS_VOICE. */
  voice?: string;
}

/** Speaks text. */
export interface Synthesizer {
  /** Rejects with a ProviderError (ABORTED when `signal` aborted first). */
  synthesize(text: string, signal: AbortSignal, opts?: SynthesisOptions): Promise<Synthesis>;
}

/**
 * One reply's streaming synthesis: sentences go in as they are ready, audio comes out as it is
 * produced, before the whole text is synthesized. Iterating yields raw 8 kHz μ-law chunks in order
 * and ends once `end()` was called and everything written was spoken; it throws a ProviderError
 * on failure. Aborting the signal given to `open()` cancels the stream (barge-in).
 */
export interface SynthesisStream extends AsyncIterable<Buffer> {
  /** Queues one complete sentence (best prosody when each input is a sentence). */
  write(text: string): void;
  /** No more text. */
  end(): void;
}

/** Opens streaming syntheses (Google `StreamingSynthesize`, Chirp 3 HD voices only). */
export interface StreamingSynthesizer {
  open(signal: AbortSignal, opts?: SynthesisOptions): SynthesisStream;
}
