/**
 * OpenAI Chat Completions (streaming) behind the {@link ReplyGenerator} seam.
 *
 * The SDK's `timeout` only covers the wait for response headers, and a stalled SSE body would hang
 * for minutes (providers.md §4.1), so a watchdog bounds both the wait for the first token and every
 * gap between chunks. The watchdog only runs while we are waiting on the network, never while the
 * consumer is busy with a piece we already yielded, so a slow consumer cannot trip it.
 */
import type OpenAI from 'openai';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromOpenAIError, providerError } from './errors.ts';
import { withRetry } from './retry.ts';
import { ProviderError } from './types.ts';
import type { ChatMessage, GenerateOptions, GenerationEvent, ReplyGenerator } from './types.ts';

type OpenAIMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

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

type ChunkIterator = AsyncIterator<OpenAI.Chat.Completions.ChatCompletionChunk>;

/**
 * Streams replies from OPENAI_MODEL. Watchdogs: LLM_FIRST_TOKEN_TIMEOUT_MS from the request to the
 * first content, LLM_IDLE_TIMEOUT_MS between later chunks (0 disables either). Errors (thrown from
 * the iteration) are ProviderErrors: AUTH (also for a missing key, at first use), BAD_REQUEST,
 * RATE_LIMITED, UNAVAILABLE (after one retry, when nothing was yielded yet), TIMEOUT (watchdog or
 * header timeout; not retried, the turn's time is already spent). The caller's abort ends the
 * iteration quietly, whatever stage it is in.
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
    const onRequestSent = opts.onRequestSent;
    if (signal.aborted) return;
    const client = this.clients.openai();
    let attempt: Attempt;
    try {
      // Retried only up to the first token: once text has been yielded, a retry would repeat it.
      attempt = await withRetry(() => this.start(client, messages, signal, onRequestSent), {
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
      let piece = attempt.first;
      while (piece !== undefined) {
        yield { type: 'text', text: piece };
        piece = await attempt.nextPiece(this.config.llmIdleTimeoutMs, 'idle');
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    } finally {
      attempt.dispose(); // also aborts the request when the consumer stopped early
    }
  }

  /** Sends the request and waits for the first content piece (undefined if the reply is empty). */
  private async start(
    client: OpenAI,
    messages: readonly ChatMessage[],
    signal: AbortSignal,
    onRequestSent?: () => void,
  ): Promise<Attempt> {
    const attempt = new Attempt(signal, this.config.openaiApiKey);
    try {
      attempt.arm(this.config.llmFirstTokenTimeoutMs, 'first');
      onRequestSent?.();
      const stream = await client.chat.completions.create(
        {
          model: this.config.openaiModel,
          messages: messages.map(toOpenAIMessage),
          stream: true,
        },
        { signal: attempt.controller.signal, maxRetries: 0 },
      );
      attempt.iterator = stream[Symbol.asyncIterator]();
      attempt.first = await attempt.nextPiece(this.config.llmFirstTokenTimeoutMs, 'first', false);
      return attempt;
    } catch (err) {
      attempt.dispose();
      throw attempt.classify(err);
    }
  }
}

/** One request: its abort controller (linked to the caller's signal), watchdog and iterator. */
class Attempt {
  readonly controller = new AbortController();
  iterator: ChunkIterator | undefined;
  first: string | undefined;
  private readonly caller: AbortSignal;
  private readonly apiKey: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timedOut: { phase: 'first' | 'idle'; ms: number } | undefined;
  private readonly onCallerAbort = (): void => this.controller.abort();

  constructor(caller: AbortSignal, apiKey: string | undefined) {
    this.caller = caller;
    this.apiKey = apiKey;
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

  /**
   * The next non-empty content piece, or undefined at the end of the stream. The watchdog runs
   * only during this wait (`rearm` false keeps the one already running). Throws a ProviderError.
   */
  async nextPiece(ms: number, phase: 'first' | 'idle', rearm = true): Promise<string | undefined> {
    if (rearm) this.arm(ms, phase);
    try {
      for (;;) {
        const r = await this.iterator!.next();
        // An abort mid-stream ends the SDK's iteration quietly (providers.md §4.4): tell why.
        if (r.done) {
          if (this.timedOut) throw this.classify(undefined);
          return undefined;
        }
        const piece = r.value.choices[0]?.delta?.content;
        if (piece) return piece;
        if (phase === 'idle') this.arm(ms, phase); // role, usage and empty chunks still show the stream is alive
      }
    } catch (err) {
      throw this.classify(err);
    } finally {
      clearTimeout(this.timer);
    }
  }

  /** Our watchdog's TIMEOUT, the caller's ABORTED, or the SDK error classified. */
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
    return fromOpenAIError(err, [this.apiKey]);
  }

  /** Clears the watchdog, closes the request if still open, and unlinks from the caller. */
  dispose(): void {
    clearTimeout(this.timer);
    this.caller.removeEventListener('abort', this.onCallerAbort);
    if (!this.controller.signal.aborted) this.controller.abort();
  }
}
