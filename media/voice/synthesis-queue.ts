/**
 * Unary synthesis of one reply's sentences: each sentence is sent to text-to-speech as soon as it
 * is known, at most `concurrency` at once, and the audio is delivered strictly in sentence order,
 * whatever order the syntheses complete in. A sentence that fails is skipped (the rest still
 * plays). Everything stops when the reply's signal aborts; late results are dropped.
 *
 *   sentence 0 ─► TTS ─┐
 *   sentence 1 ─► TTS ─┼─► in-order delivery ─► onAudio(0), onAudio(1), onAudio(2)
 *   sentence 2 ─► TTS ─┘     (≤ concurrency running; the rest wait for a slot)
 */
import { ProviderError, type Synthesizer } from '../providers/types.ts';

/** One delivered sentence. */
export interface SentenceAudio {
  index: number;
  audio: Buffer;
  synthMs: number;
  /** Time spent waiting for a synthesis slot. */
  waitedMs: number;
}

/** Callbacks of a {@link SynthesisQueue}. */
export interface SynthesisQueueDeps {
  signal: AbortSignal;
  now: () => number;
  /** Called in sentence order. */
  onAudio: (a: SentenceAudio) => void;
  /** A sentence could not be synthesized (never called for ABORTED). */
  onError: (index: number, err: ProviderError) => void;
  /** A synthesis request is about to go out (after waiting for a slot). */
  onStart?: (index: number) => void;
  concurrency?: number;
}

/** Default number of syntheses of one reply running at once. */
export const TTS_CONCURRENCY = 3;

/** Ordered, bounded synthesis for one reply. */
export class SynthesisQueue {
  readonly #d: SynthesisQueueDeps;
  #chain: Promise<void> = Promise.resolve();
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  #delivered = 0;
  #failed = 0;

  constructor(deps: SynthesisQueueDeps) {
    this.#d = deps;
    deps.signal.addEventListener('abort', () => this.#waiting.splice(0).forEach((wake) => wake()), { once: true });
  }

  /** Sentences delivered so far / failed so far. */
  get delivered(): number {
    return this.#delivered;
  }
  get failed(): number {
    return this.#failed;
  }

  /** Queues a sentence; its audio is delivered after every earlier sentence's. */
  push(index: number, text: string, synthesizer: Synthesizer, voice: string | undefined): void {
    const result = this.#synthesize(index, text, synthesizer, voice);
    this.#chain = this.#chain.then(async () => {
      const audio = await result;
      if (!audio || this.#d.signal.aborted) return;
      this.#delivered++;
      this.#d.onAudio(audio);
    });
  }

  /** Resolves when every sentence pushed so far has been delivered or has failed. */
  idle(): Promise<void> {
    return this.#chain;
  }

  async #synthesize(
    index: number,
    text: string,
    synthesizer: Synthesizer,
    voice: string | undefined,
  ): Promise<SentenceAudio | undefined> {
    const queuedAt = this.#d.now();
    await this.#slot();
    try {
      if (this.#d.signal.aborted) return undefined;
      const startedAt = this.#d.now();
      this.#d.onStart?.(index);
      const { mulaw, synthMs } = await synthesizer.synthesize(text, this.#d.signal, voice ? { voice } : {});
      return { index, audio: mulaw, synthMs, waitedMs: startedAt - queuedAt };
    } catch (err) {
      const e = err instanceof ProviderError ? err : new ProviderError('tts', 'UNKNOWN', String(err), { cause: err });
      if (e.code !== 'ABORTED' && !this.#d.signal.aborted) {
        this.#failed++;
        this.#d.onError(index, e);
      }
      return undefined;
    } finally {
      this.#release();
    }
  }

  #slot(): Promise<void> {
    if (this.#running < (this.#d.concurrency ?? TTS_CONCURRENCY) || this.#d.signal.aborted) {
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

  #release(): void {
    this.#running--;
    this.#waiting.shift()?.();
  }
}
