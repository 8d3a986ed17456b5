/**
 * Types of the OpenAI emulator: how a test scripts one answer ({@link FakeReply}), what the
 * emulator records about each request, its options and its handle.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FakeModelSpec, ReasoningEffortValue } from './openai-models.ts';

/** One tool call the emulator streams: `arguments` as JSON text, or an object that is stringified. */
export interface FakeToolCall {
  /** Default `call_fake_<request>_<index>`. */
  id?: string;
  name: string;
  arguments: string | Record<string, unknown>;
}

/** How the emulator answers one completion request. Every field is optional; the defaults give a fast, well-formed stream. */
export interface FakeReply {
  /**
   * Reply text. Default {@link DEFAULT_OPENAI_REPLY} when there are no `toolCalls`, none when there
   * are (then given text comes first, followed by the calls). Ignored when `chunks` is given.
   */
  text?: string;
  /** Exact content deltas to send. Default: `text` cut into DEFAULT_CHUNK_CHARS-code-point pieces. */
  chunks?: string[];
  /** Tool calls, streamed after the text as the API does: one header delta each, then the arguments in pieces. */
  toolCalls?: FakeToolCall[];
  /** Code points of arguments per delta. Default 8. */
  argumentChunkChars?: number;
  /** Wall-clock wait before response headers are sent (exercises the SDK's header timeout). Default 0. */
  headersDelayMs?: number;
  /** Wait after the headers before the role chunk and first output chunk (time to first token). Default 0. */
  firstTokenDelayMs?: number;
  /** Wait between consecutive output chunks (content and tool-call deltas). Default 0. */
  chunkDelayMs?: number;
  /** Send only this many output chunks, then go silent with the connection left open (a stalled stream). */
  stallAfterChunks?: number;
  /**
   * Send only this many output chunks, then end the response with no `finish_reason` and no
   * `data: [DONE]` (a stream cut by a proxy). The SDK ends its iteration normally.
   */
  cutAfterChunks?: number;
  /** HTTP status. Any status ≥ 400 answers a JSON error body instead of a completion. Default 200. */
  status?: number;
  /** Error body for a non-200 answer; setting it without `status` means status 500. */
  error?: { message: string; type?: string; code?: string; param?: string };
  /** Stream half the output chunks, then send an SSE `data: {"error":…}` frame and end the response. */
  midStreamError?: boolean;
  /** Value of the `x-should-retry` header on error answers. Default false, so the SDK never retries on its own. */
  shouldRetry?: boolean;
  /** `finish_reason` of the final chunk. Default 'tool_calls' when there are tool calls, else 'stop'. */
  finishReason?: string;
  /** Token counts for the usage chunk. Default: about 4 characters per token of the request and the answer. */
  usage?: { prompt_tokens: number; completion_tokens: number };
}

/** What the emulator recorded about one request. Mutated in place while the request is in flight. */
export interface FakeOpenAIRequest {
  index: number;
  method: string;
  path: string;
  /** Parsed JSON body (`model`, `messages`, `stream`…), or null if it was not JSON. */
  body: any;
  headers: IncomingHttpHeaders;
  /** HTTP status that was (or is being) answered. */
  status: number;
  /** OpenAI error `code` (or `type` when the code is null) of an error answer, e.g. 'model_not_found'. */
  errorCode?: string;
  startedAt: number;
  /** Set when the response ended, failed or was aborted. Never set for a stall the client never aborts. */
  finishedAt?: number;
  /** The client closed the connection before the response was complete (barge-in, SDK abort). */
  abortedByClient: boolean;
  /** Output chunks written so far: content pieces and tool-call deltas (role, finish and usage chunks are not counted). */
  chunksSent: number;
}

/** Settings that may be changed while the emulator runs ({@link FakeOpenAI.set}). */
export interface FakeOpenAISettings {
  /**
   * Accepted API keys. Default: any non-empty bearer key (a request without `Authorization: Bearer …`
   * still gets 401). A key not in the list gets 401 `invalid_api_key`.
   */
  apiKeys?: readonly string[];
  /** Every completion answers 429 `insufficient_quota` (an account out of credit). Default false. */
  insufficientQuota?: boolean;
  /** The emulator's date (YYYY-MM-DD) for model shutdowns. Default: the real current date (UTC). */
  today?: string;
}

/** Options of {@link startFakeOpenAI}. */
export interface FakeOpenAIOptions extends FakeOpenAISettings {
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port to bind. Default 0 (an ephemeral port). */
  port?: number;
  /**
   * Per-request behaviour, a function of the request (its parsed body, e.g. the messages so far,
   * so a multi-round tool conversation can be scripted); may be async. Default `{}`.
   */
  reply?: (req: { body: any; index: number }) => FakeReply | Promise<FakeReply>;
  /** Same as `apiKeys: [apiKey]` (kept for older tests). */
  apiKey?: string;
  /** Model table (id → spec), replacing DEFAULT_OPENAI_MODELS. */
  models?: Readonly<Record<string, FakeModelSpec>>;
  /** Accepted `reasoning_effort` values per model id, overriding the model table's (UNCONFIRMED defaults). */
  reasoningEfforts?: Readonly<Record<string, readonly ReasoningEffortValue[]>>;
  /** Request bodies larger than this get 413. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** A running emulator. */
export interface FakeOpenAI {
  /** "127.0.0.1:PORT". */
  readonly address: string;
  readonly port: number;
  /** "http://127.0.0.1:PORT/v1": pass as the SDK's `baseURL`. */
  readonly baseURL: string;
  /** Every request in arrival order (index = position). */
  readonly requests: FakeOpenAIRequest[];
  /** Changes settings for the requests that arrive from now on. */
  set(settings: FakeOpenAISettings): void;
  /** Resolves once request `index` (0-based) has arrived; rejects after `timeoutMs` (default 5000). */
  waitForRequest(index: number, timeoutMs?: number): Promise<FakeOpenAIRequest>;
  /** Resolves once the client aborted request `index`; rejects after `timeoutMs` (default 5000). */
  waitForAbort(index: number, timeoutMs?: number): Promise<FakeOpenAIRequest>;
  /** Resolves once request `index` is over (completed, errored or aborted); rejects after `timeoutMs` (default 5000). */
  waitForEnd(index: number, timeoutMs?: number): Promise<FakeOpenAIRequest>;
  /** Destroys every open connection (stalled streams included) and stops listening. Idempotent, never hangs. */
  close(): Promise<void>;
}
