/**
 * OpenAI Chat Completions (streaming) behind the {@link ReplyGenerator} seam.
 *
 * The SDK's `timeout` only covers the wait for response headers, and a stalled SSE body would hang
 * for minutes (providers.md §4.1), so a watchdog bounds both the wait for the first token and every
 * gap between chunks. The watchdog only runs while we are waiting on the network, never while the
 * consumer is busy with an event we already yielded, so a slow consumer cannot trip it.
 */
import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromOpenAIError, providerError } from './errors.ts';
import { ChunkAssembler } from './openai-chunks.ts';
import { withRetry } from './retry.ts';
import { ProviderError } from './types.ts';
import type { ChatMessage, GenerateOptions, GenerationEvent, ReplyGenerator, ToolSpec } from './types.ts';

type OpenAIMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type StreamingParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming;
type ChunkIterator = AsyncIterator<OpenAI.Chat.Completions.ChatCompletionChunk>;

/** Our history entry in the Chat Completions wire shape. */
function toOpenAIMessage(m: ChatMessage): OpenAIMessage {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'assistant':
      return m.toolCalls?.length
        ? {
            role: 'assistant',
            content: m.content || null,
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : { role: 'assistant', content: m.content };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  }
}

/**
 * The request body for `messages`: the configured model, `reasoning_effort` (unless `omit`),
 * `max_completion_tokens` (unless 0; never `max_tokens`, which reasoning models refuse), the usage
 * chunk, and `tools` as functions when any are offered (an empty list is refused by the API, so none is sent).
 */
export function chatRequest(
  config: VoiceConfig,
  messages: readonly ChatMessage[],
  tools: readonly ToolSpec[] = [],
): StreamingParams {
  return {
    model: config.openaiModel,
    messages: messages.map(toOpenAIMessage),
    stream: true,
    stream_options: { include_usage: true },
    ...(config.openaiReasoningEffort === 'omit' ? {} : { reasoning_effort: config.openaiReasoningEffort }),
    ...(config.openaiMaxCompletionTokens > 0 ? { max_completion_tokens: config.openaiMaxCompletionTokens } : {}),
    ...(tools.length
      ? {
          tools: tools.map((t) => ({
            type: 'function' as const,
            function: { name: t.name, description: t.description, parameters: t.parameters },
          })),
        }
      : {}),
  };
}

/**
 * Streams replies from OPENAI_MODEL as text, tool-call (complete, at the stream's finish, in index
 * order) and usage events. Watchdogs: LLM_FIRST_TOKEN_TIMEOUT_MS from the request to the first
 * output (text or a tool-call delta), LLM_IDLE_TIMEOUT_MS between later chunks (0 disables either).
 * Errors (thrown from the iteration) are ProviderErrors: AUTH (also for a missing key, at first
 * use), BAD_REQUEST (refused request, unknown or retired model; the message names the setting to
 * check), QUOTA (out of credit, never retried), RATE_LIMITED, UNAVAILABLE (after one retry, when
 * no output came yet; also a stream that ends without a finish_reason, after the text already
 * yielded), TIMEOUT (watchdog or header timeout; not retried, the turn's time is already spent).
 * The caller's abort ends the iteration quietly, whatever stage it is in.
 */
export class OpenAIReplyGenerator implements ReplyGenerator {
  private readonly clients: ProviderClients;
  private readonly config: VoiceConfig;
  private readonly retryDelayMs: number;

  /** `retryDelayMs` (default 250) is the base delay before the one retry. */
  constructor(clients: ProviderClients, config: VoiceConfig, opts: { retryDelayMs?: number } = {}) {
    this.clients = clients;
    this.config = config;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
  }

  async *generate(
    messages: readonly ChatMessage[],
    signal: AbortSignal,
    opts: GenerateOptions = {},
  ): AsyncIterable<GenerationEvent> {
    if (signal.aborted) return;
    const client = this.clients.openai();
    const request = chatRequest(this.config, messages, opts.tools);
    let attempt: Attempt;
    try {
      // Retried only up to the first output: once something was yielded, a retry would repeat it.
      attempt = await withRetry(() => this.start(client, request, signal, opts.onRequestSent), {
        provider: 'llm',
        attempts: 2,
        baseDelayMs: this.retryDelayMs,
        maxDelayMs: this.retryDelayMs * 4,
        signal,
        isRetryable: (err) => err instanceof ProviderError && err.retryable && err.code !== 'TIMEOUT',
      });
    } catch (err) {
      if (signal.aborted) return; // barge-in or hang-up while connecting: not an error
      throw err;
    }
    try {
      for (;;) {
        for (const event of attempt.take()) {
          yield event;
          if (signal.aborted) return;
        }
        if (attempt.ended) return;
        await attempt.read(this.config.llmIdleTimeoutMs, 'idle');
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    } finally {
      attempt.dispose(); // also aborts the request when the consumer stopped early
    }
  }

  /** Sends the request and waits for the first output (or the end of an empty reply). */
  private async start(
    client: OpenAI,
    request: StreamingParams,
    signal: AbortSignal,
    onRequestSent?: () => void,
  ): Promise<Attempt> {
    const attempt = new Attempt(signal, this.config);
    try {
      attempt.arm(this.config.llmFirstTokenTimeoutMs, 'first');
      onRequestSent?.();
      const stream = await client.chat.completions.create(request, {
        signal: attempt.controller.signal,
        maxRetries: 0,
      });
      attempt.iterator = stream[Symbol.asyncIterator]();
      await attempt.read(this.config.llmFirstTokenTimeoutMs, 'first', false);
      return attempt;
    } catch (err) {
      attempt.dispose();
      throw attempt.classify(err);
    }
  }
}

/** One request: its abort controller (linked to the caller's signal), watchdog, iterator and assembled events. */
class Attempt {
  readonly controller = new AbortController();
  iterator: ChunkIterator | undefined;
  /** The stream is over (finished properly, or ended by the caller's abort). */
  ended = false;
  private readonly assembler = new ChunkAssembler();
  private queue: GenerationEvent[] = [];
  private readonly caller: AbortSignal;
  private readonly config: VoiceConfig;
  private timer: NodeJS.Timeout | undefined;
  private timedOut: { phase: 'first' | 'idle'; ms: number } | undefined;
  private readonly onCallerAbort = (): void => this.controller.abort();

  constructor(caller: AbortSignal, config: VoiceConfig) {
    this.caller = caller;
    this.config = config;
    caller.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  /** Starts the watchdog: after `ms` the request is aborted and remembered as timed out. */
  arm(ms: number, phase: 'first' | 'idle'): void {
    clearTimeout(this.timer);
    if (ms <= 0) return;
    this.timer = setTimeout(() => {
      this.timedOut = { phase, ms };
      this.controller.abort();
    }, ms);
  }

  /** Events assembled so far and not yet taken. */
  take(): GenerationEvent[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }

  /**
   * Reads chunks until there is something to yield ('idle') or until the first output ('first'),
   * or to the end of the stream. The watchdog runs only during this wait (`rearm` false keeps the
   * one already running); in 'idle' every chunk re-arms it. Throws a ProviderError.
   */
  async read(ms: number, phase: 'first' | 'idle', rearm = true): Promise<void> {
    if (rearm) this.arm(ms, phase);
    try {
      for (;;) {
        const r = await this.iterator!.next();
        if (r.done) {
          // An abort mid-stream ends the SDK's iteration quietly (providers.md §4.4): tell why.
          if (this.timedOut) throw this.classify(undefined);
          if (!this.caller.aborted) this.assembler.end();
          this.ended = true;
          return;
        }
        const { events, output } = this.assembler.push(r.value);
        this.queue.push(...events);
        if (phase === 'first' ? output : this.queue.length > 0) return;
        if (phase === 'idle') this.arm(ms, phase); // role, empty and partial tool-call chunks still show the stream is alive
      }
    } catch (err) {
      throw this.classify(err);
    } finally {
      clearTimeout(this.timer);
    }
  }

  /** Our watchdog's TIMEOUT, the caller's ABORTED, or the SDK error classified (naming the setting to fix). */
  classify(err: unknown): ProviderError {
    if (err instanceof ProviderError) return err;
    if (this.timedOut) {
      const what =
        this.timedOut.phase === 'first'
          ? 'no first token within LLM_FIRST_TOKEN_TIMEOUT_MS'
          : 'the reply stalled for LLM_IDLE_TIMEOUT_MS';
      return providerError('llm', 'TIMEOUT', `${what} (${this.timedOut.ms} ms); request aborted`, {
        phrase: 'timed out',
        cause: err,
      });
    }
    if (this.caller.aborted) return providerError('llm', 'ABORTED', undefined);
    const classified = fromOpenAIError(err, [this.config.openaiApiKey]);
    const setting = classified.code === 'BAD_REQUEST' ? refusedSetting(err, this.config) : undefined;
    if (!setting) return classified;
    return providerError('llm', 'BAD_REQUEST', (err as Error).message, {
      phrase: `request refused (check ${setting})`,
      cause: err,
      secrets: [this.config.openaiApiKey],
      ...(classified.vendorCode === undefined ? {} : { vendorCode: classified.vendorCode }),
    });
  }

  /** Clears the watchdog, closes the request if still open, and unlinks from the caller. */
  dispose(): void {
    clearTimeout(this.timer);
    this.caller.removeEventListener('abort', this.onCallerAbort);
    if (!this.controller.signal.aborted) this.controller.abort();
  }
}

/** The setting behind a refused request, from OpenAI's error `code`/`param`, with its value. */
function refusedSetting(err: unknown, config: VoiceConfig): string | undefined {
  if (!(err instanceof APIError)) return undefined;
  if (err.code === 'model_not_found' || err.param === 'model') return `OPENAI_MODEL=${config.openaiModel}`;
  if (err.param === 'reasoning_effort')
    return `OPENAI_REASONING_EFFORT=${config.openaiReasoningEffort} for OPENAI_MODEL=${config.openaiModel}`;
  if (err.param === 'max_completion_tokens' || err.param === 'max_tokens')
    return `OPENAI_MAX_COMPLETION_TOKENS=${config.openaiMaxCompletionTokens}`;
  return undefined;
}
