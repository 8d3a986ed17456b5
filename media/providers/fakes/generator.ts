/**
 * A scripted {@link ReplyGenerator} for stage tests: no network, timers only (so it runs on jest's
 * fake clock), and the same observable behaviour as the OpenAI generator — the contract suite in
 * tests/integration/contract-generator.test.ts runs the same expectations against both.
 *
 * Like the real one it retries once (through retry.ts) when a retryable error other than TIMEOUT
 * comes before the first output, ends quietly on abort, yields tool calls only once all text is
 * out, and, when given watchdog limits, turns a wait longer than them into TIMEOUT.
 */
import { providerError } from '../errors.ts';
import { abortableDelay, withRetry } from '../retry.ts';
import { ProviderError } from '../types.ts';
import type {
  ChatMessage,
  GenerateOptions,
  GenerationEvent,
  ProviderErrorCode,
  ReplyGenerator,
  ToolCallRequest,
  ToolSpec,
} from '../types.ts';

/** One scripted answer. Everything is optional; `{}` is an empty, successful reply. */
export interface FakeGeneration {
  /** Text pieces, yielded in order. */
  pieces?: readonly string[];
  /** Tool calls, yielded after the text in this order; `arguments` objects are stringified; `id` default `call_<request>_<i>`. */
  toolCalls?: ReadonlyArray<{ id?: string; name: string; arguments: string | Record<string, unknown> }>;
  /** Yielded last, as a `usage` event. */
  usage?: { inputTokens: number; outputTokens: number };
  /** Wait before the first output (per attempt). Default 0. */
  firstTokenDelayMs?: number;
  /** Wait before each later piece and each tool call. Default 0. */
  pieceDelayMs?: number;
  /**
   * An injected failure. Without `afterPieces` the attempt fails before any output — the first
   * `attempts` attempts (default: all), so `{ code: 'UNAVAILABLE', attempts: 1 }` succeeds on the
   * retry. With `afterPieces` it is thrown after that many pieces (never retried).
   */
  fail?: { code: ProviderErrorCode; message?: string; attempts?: number; afterPieces?: number };
  /** Produce this many pieces, then nothing more: TIMEOUT once a watchdog limit passes, else wait for the abort. */
  stallAfterPieces?: number;
  /** After the pieces, end as a stream cut without a finish reason: UNAVAILABLE (tool calls and usage are lost). */
  cut?: boolean;
}

/** What the fake recorded about one generate() call. */
export interface FakeGenerationRequest {
  index: number;
  /** A copy of the messages it was given. */
  messages: ChatMessage[];
  /** The tools offered (empty when none). */
  tools: ToolSpec[];
  /** Attempts made (2 after the retry). */
  attempts: number;
  /** Events yielded so far. */
  yielded: GenerationEvent[];
  outcome: 'pending' | 'done' | 'aborted' | 'error';
  error?: ProviderError;
}

/** Options of {@link FakeReplyGenerator}. */
export interface FakeReplyGeneratorOptions {
  /** Like LLM_FIRST_TOKEN_TIMEOUT_MS: a longer wait for the first output is a TIMEOUT. Default 0 = none. */
  firstTokenTimeoutMs?: number;
  /** Like LLM_IDLE_TIMEOUT_MS: a longer wait between outputs is a TIMEOUT. Default 0 = none. */
  idleTimeoutMs?: number;
  /** Base delay before the one retry. Default 0 (still a timer: advance fake clocks). */
  retryDelayMs?: number;
}

/** The script: one answer for every request, one per request in order (the last repeats), or a function of the request. */
export type FakeGenerationScript =
  FakeGeneration | readonly FakeGeneration[] | ((req: FakeGenerationRequest) => FakeGeneration);

/** Scripted reply generator; see the file comment. Errors are ProviderErrors of the scripted code. */
export class FakeReplyGenerator implements ReplyGenerator {
  /** Every generate() call, in order. */
  readonly requests: FakeGenerationRequest[] = [];
  private readonly script: FakeGenerationScript;
  private readonly opts: FakeReplyGeneratorOptions;

  constructor(script: FakeGenerationScript = {}, opts: FakeReplyGeneratorOptions = {}) {
    this.script = script;
    this.opts = opts;
  }

  /** Attempts over all requests (retries included). */
  get attempts(): number {
    return this.requests.reduce((n, r) => n + r.attempts, 0);
  }

  async *generate(
    messages: readonly ChatMessage[],
    signal: AbortSignal,
    opts: GenerateOptions = {},
  ): AsyncIterable<GenerationEvent> {
    const rec: FakeGenerationRequest = {
      index: this.requests.length,
      messages: messages.map((m) => ({ ...m })),
      tools: [...(opts.tools ?? [])],
      attempts: 0,
      yielded: [],
      outcome: 'pending',
    };
    this.requests.push(rec);
    const g = this.answerFor(rec);
    const pieces = g.pieces ?? [];
    const step = new Stepper(signal, this.opts);
    try {
      if (signal.aborted) return;
      await withRetry(
        async () => {
          rec.attempts++;
          opts.onRequestSent?.();
          const failing = g.fail && g.fail.afterPieces === undefined && rec.attempts <= (g.fail.attempts ?? Infinity);
          if (failing) {
            await step.wait(g.firstTokenDelayMs, 'first');
            throw scripted(g.fail!);
          }
          const hasOutput = pieces.length > 0 || (!g.cut && (g.toolCalls?.length ?? 0) > 0);
          if (g.stallAfterPieces === 0) await step.wait(Infinity, 'first');
          else if (hasOutput) await step.wait(g.firstTokenDelayMs, 'first');
        },
        {
          provider: 'llm',
          attempts: 2,
          baseDelayMs: this.opts.retryDelayMs ?? 0,
          maxDelayMs: (this.opts.retryDelayMs ?? 0) * 4,
          signal,
          isRetryable: (err) => err instanceof ProviderError && err.retryable && err.code !== 'TIMEOUT',
        },
      );
      const emit = (e: GenerationEvent): GenerationEvent => (rec.yielded.push(e), e);
      for (let i = 0; i < pieces.length; i++) {
        if (i > 0) await step.wait(g.pieceDelayMs, 'idle');
        if (signal.aborted) return;
        yield emit({ type: 'text', text: pieces[i]! });
        if (g.fail?.afterPieces === i + 1) throw scripted(g.fail);
        if (g.stallAfterPieces === i + 1) await step.wait(Infinity, 'idle');
      }
      if (g.cut)
        throw providerError('llm', 'UNAVAILABLE', 'the reply stream ended without a finish_reason (scripted cut)');
      for (const [i, c] of (g.toolCalls ?? []).entries()) {
        if (i > 0 || pieces.length > 0) await step.wait(g.pieceDelayMs, 'idle');
        if (signal.aborted) return;
        yield emit({ type: 'tool-call', call: toolCall(rec.index, i, c) });
      }
      if (g.usage && !signal.aborted) yield emit({ type: 'usage', ...g.usage });
    } catch (err) {
      if (signal.aborted) return; // quiet, like the real generator
      rec.error = err instanceof ProviderError ? err : providerError('llm', 'UNKNOWN', String(err), { cause: err });
      throw rec.error;
    } finally {
      rec.outcome = rec.error ? 'error' : signal.aborted ? 'aborted' : rec.outcome === 'pending' ? 'done' : rec.outcome;
    }
  }

  private answerFor(rec: FakeGenerationRequest): FakeGeneration {
    const s = this.script;
    if (typeof s === 'function') return s(rec);
    if (Array.isArray(s)) return (s as readonly FakeGeneration[])[Math.min(rec.index, s.length - 1)] ?? {};
    return s as FakeGeneration;
  }
}

/** Waits on timers tied to the caller's signal, with the watchdogs of the real generator. */
class Stepper {
  private readonly signal: AbortSignal;
  private readonly opts: FakeReplyGeneratorOptions;
  constructor(signal: AbortSignal, opts: FakeReplyGeneratorOptions) {
    this.signal = signal;
    this.opts = opts;
  }

  /** Waits `ms`; a wait past the phase's watchdog limit ends in TIMEOUT at the limit; ABORTED on abort. */
  async wait(ms: number | undefined, phase: 'first' | 'idle'): Promise<void> {
    const want = ms ?? 0;
    const limit = (phase === 'first' ? this.opts.firstTokenTimeoutMs : this.opts.idleTimeoutMs) ?? 0;
    if (limit > 0 && want > limit) {
      await abortableDelay(limit, 'llm', this.signal);
      const what =
        phase === 'first'
          ? 'no first token within LLM_FIRST_TOKEN_TIMEOUT_MS'
          : 'the reply stalled for LLM_IDLE_TIMEOUT_MS';
      throw providerError('llm', 'TIMEOUT', `${what} (${limit} ms); request aborted`, { phrase: 'timed out' });
    }
    if (want === Infinity) {
      await new Promise<void>((_, reject) => {
        if (this.signal.aborted) return reject(providerError('llm', 'ABORTED', undefined));
        this.signal.addEventListener('abort', () => reject(providerError('llm', 'ABORTED', undefined)), { once: true });
      });
    }
    if (want > 0) await abortableDelay(want, 'llm', this.signal);
  }
}

function scripted(fail: NonNullable<FakeGeneration['fail']>): ProviderError {
  return providerError('llm', fail.code, fail.message ?? `scripted ${fail.code}`);
}

function toolCall(request: number, i: number, c: NonNullable<FakeGeneration['toolCalls']>[number]): ToolCallRequest {
  return {
    id: c.id ?? `call_${request}_${i}`,
    name: c.name,
    arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
  };
}
