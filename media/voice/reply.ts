/**
 * One spoken reply: text in (streamed from the model, or a fixed line such as the greeting),
 * sentences out to text-to-speech as soon as each is complete, audio to the player strictly in
 * sentence order. While the first sentence plays, later ones are still being generated and
 * synthesized. `abort()` (barge-in, hang-up) cancels the model request and pending syntheses and
 * drops any audio that arrives afterwards.
 *
 *   LLM deltas ─► SentenceSplitter ─► TTS (≤ 3 at once) ─► in-order chain ─► Player
 */
import type { Logger } from '../../server/logger.ts';
import { SentenceSplitter } from './sentence-splitter.ts';
import type { Player } from './playout.ts';
import { ProviderError, type ChatMessage, type ReplyGenerator, type Synthesizer } from '../providers/types.ts';

/** Where the reply's text comes from. */
export type ReplySource =
  { kind: 'llm'; generator: ReplyGenerator; messages: ChatMessage[] } | { kind: 'text'; text: string };

/** Timestamps (performance.now ms) of the stages, for the TURN log. */
export interface ReplyMetrics {
  llmRequestAt?: number;
  firstTokenAt?: number;
  firstSentenceAt?: number;
  /** The first sentence's synthesis request went out (after waiting for a TTS slot). */
  firstTtsStartAt?: number;
  firstTtsDoneAt?: number;
  firstMediaAt?: number;
  firstMarkAt?: number;
}

/** How the text side of a reply ended. */
export interface ReplyResult {
  /** Sentences produced (whether or not they could be spoken). */
  sentences: string[];
  /** Sentences handed to the player. */
  queued: number;
  /** The model failed (not set when aborted). */
  llmError?: ProviderError;
  /** The first TTS failure, if any sentence could not be synthesized. */
  ttsError?: ProviderError;
  aborted: boolean;
}

/** Dependencies of a reply. */
export interface ReplyDeps {
  id: number;
  player: Player;
  synthesizer: Synthesizer;
  logger: Logger;
  /** Told about each synthesis failure (metrics). */
  onTtsError?: (e: ProviderError) => void;
  now?: () => number;
}

/** Most syntheses of one reply running at once. */
const TTS_CONCURRENCY = 3;

/** A reply in progress. */
export class Reply {
  readonly id: number;
  readonly metrics: ReplyMetrics = {};
  readonly #deps: ReplyDeps;
  readonly #controller = new AbortController();
  readonly #now: () => number;
  #sentences: string[] = [];
  #queued = 0;
  #ttsError: ProviderError | undefined;
  #chain: Promise<void> = Promise.resolve();
  #running = 0;
  #waiting: Array<() => void> = [];
  /** Indexes of sentences whose audio was confirmed played. */
  readonly played = new Set<number>();

  constructor(deps: ReplyDeps) {
    this.#deps = deps;
    this.id = deps.id;
    this.#now = deps.now ?? (() => performance.now());
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Text of sentence `i` (as sent to TTS). */
  sentence(i: number): string | undefined {
    return this.#sentences[i];
  }

  /** Cancels the model request and pending syntheses; late audio is dropped. Idempotent. */
  abort(): void {
    if (!this.aborted) this.#controller.abort();
    for (const wake of this.#waiting.splice(0)) wake();
  }

  /** Runs the reply until all its audio is queued in the player (or it failed or was aborted). */
  async run(source: ReplySource): Promise<ReplyResult> {
    let llmError: ProviderError | undefined;
    try {
      if (source.kind === 'text') this.#onSentence(source.text.trim());
      else llmError = await this.#stream(source);
    } finally {
      await this.#chain;
    }
    return {
      sentences: [...this.#sentences],
      queued: this.#queued,
      llmError,
      ttsError: this.#ttsError,
      aborted: this.aborted,
    };
  }

  async #stream(source: { generator: ReplyGenerator; messages: ChatMessage[] }): Promise<ProviderError | undefined> {
    const splitter = new SentenceSplitter();
    try {
      const events = source.generator.generate(source.messages, this.signal, {
        onRequestSent: () => {
          this.metrics.llmRequestAt ??= this.#now();
        },
      });
      for await (const event of events) {
        if (this.aborted) break;
        if (event.type !== 'text') continue;
        const delta = event.text;
        if (delta && this.metrics.firstTokenAt === undefined) this.metrics.firstTokenAt = this.#now();
        for (const s of splitter.push(delta)) this.#onSentence(s);
      }
      if (!this.aborted) for (const s of splitter.flush()) this.#onSentence(s);
      return undefined;
    } catch (err) {
      if (this.aborted) return undefined;
      const e = err instanceof ProviderError ? err : new ProviderError('llm', 'UNKNOWN', String(err), { cause: err });
      if (e.code === 'ABORTED') return undefined;
      // Whatever complete sentences came before the failure still get spoken.
      return e;
    }
  }

  #onSentence(text: string): void {
    if (this.aborted || !/[\p{L}\p{N}]/u.test(text)) return; // punctuation-only lines are not spoken
    const index = this.#sentences.length;
    this.#sentences.push(text);
    if (index === 0) this.metrics.firstSentenceAt = this.#now();
    const synthesis = this.#synthesize(text, index);
    this.#chain = this.#chain.then(async () => {
      const audio = await synthesis;
      if (!audio || this.aborted) return;
      this.#queued++;
      this.#deps.player.enqueue({ replyId: this.id, index, text }, audio);
    });
  }

  async #synthesize(text: string, index: number): Promise<Buffer | undefined> {
    await this.#slot();
    if (this.aborted) return this.#release(undefined);
    const started = this.#now();
    if (index === 0) this.metrics.firstTtsStartAt = started;
    try {
      const { mulaw, synthMs } = await this.#deps.synthesizer.synthesize(text, this.signal);
      if (index === 0) this.metrics.firstTtsDoneAt = this.#now();
      this.#deps.logger.info('TTS_LEN_ms', {
        replyId: this.id,
        sentence: index,
        chars: text.length,
        audioMs: Math.round(mulaw.length / 8),
        synthMs: Math.round(synthMs),
        waitedMs: Math.round(this.#now() - started - synthMs),
      });
      return this.#release(mulaw);
    } catch (err) {
      const e = err instanceof ProviderError ? err : new ProviderError('tts', 'UNKNOWN', String(err), { cause: err });
      if (e.code !== 'ABORTED' && !this.aborted) {
        this.#ttsError ??= e;
        this.#deps.onTtsError?.(e);
        this.#deps.logger.warn('TTS_ERROR', {
          replyId: this.id,
          sentence: index,
          code: e.code,
          retryable: e.retryable,
          error: e.message,
        });
      }
      return this.#release(undefined);
    }
  }

  #slot(): Promise<void> {
    if (this.#running < TTS_CONCURRENCY || this.aborted) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.#running++;
        resolve();
      }),
    );
  }

  #release<T>(value: T): T {
    this.#running--;
    this.#waiting.shift()?.();
    return value;
  }
}
