/**
 * Streaming synthesis of one reply (Chirp 3 HD voices): one synthesis stream per reply, each
 * sentence written to it as soon as it is known, audio handed to the player chunk by chunk as it
 * arrives, before the sentence is synthesized whole. Aborting the reply's signal cancels the stream.
 *
 * The audio of a stream carries no sentence boundaries, so what the caller heard of an interrupted
 * reply is estimated from the share of the reply's audio that played (and the call's measured
 * speaking rate while the audio is still coming): a whole-word prefix of the text.
 *
 *   sentence-text ─► stream.write ──► Google ──► chunks ─► player.enqueue(chunk)
 *   text-ended    ─► stream.end
 */
import { BYTES_PER_MS } from '../audio/format.ts';
import { heardPrefix } from './conversation.ts';
import type { HeardSegment } from './playout-events.ts';
import { ProviderError, type StreamingSynthesizer, type SynthesisStream } from '../providers/types.ts';

/** Speaking rate assumed before the call has measured its own (Hebrew, ms of audio per character). */
const DEFAULT_MS_PER_CHAR = 65;

/** What a streamed reply needs. */
export interface StreamedSpeechDeps {
  synthesizer: StreamingSynthesizer;
  voice: string | undefined;
  signal: AbortSignal;
  /** One chunk of audio, in order; `index` counts chunks. */
  onAudio: (index: number, audio: Buffer) => void;
  onError: (err: ProviderError) => void;
  /** The first sentence was written (synthesis started). */
  onStart: () => void;
}

/** One reply's synthesis stream. */
export class StreamedSpeech {
  readonly #d: StreamedSpeechDeps;
  readonly #stream: SynthesisStream;
  readonly #done: Promise<void>;
  #chunks = 0;
  #bytes = 0;
  #chars = 0;
  #ended = false;

  constructor(deps: StreamedSpeechDeps) {
    this.#d = deps;
    this.#stream = deps.synthesizer.open(deps.signal, deps.voice ? { voice: deps.voice } : {});
    this.#done = this.#pump();
  }

  /** Audio chunks received so far. */
  get chunks(): number {
    return this.#chunks;
  }

  /** Audio bytes received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** One sentence, as the voice should read it. */
  write(text: string): void {
    if (this.#d.signal.aborted || this.#ended) return;
    if (this.#chars === 0) this.#d.onStart();
    this.#chars += text.length;
    try {
      this.#stream.write(text);
    } catch (err) {
      this.#d.onError(asError(err));
    }
  }

  /** No more text. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stream.end();
  }

  /** Resolves when the stream is over (all audio received, failed or aborted). */
  done(): Promise<void> {
    return this.#done;
  }

  /**
   * The share (0..1) of the reply's text covered by `heardBytes` of its audio. When all audio has
   * arrived it is exact in audio terms; before that the rest is estimated at `msPerChar`.
   */
  heardFraction(heardBytes: number, complete: boolean, msPerChar = DEFAULT_MS_PER_CHAR): number {
    if (heardBytes <= 0 || this.#chars === 0) return 0;
    const total = complete ? this.#bytes : Math.max(this.#bytes, this.#chars * msPerChar * BYTES_PER_MS);
    return total > 0 ? Math.min(1, heardBytes / total) : 0;
  }

  /**
   * The words of `text` (the reply so far) in the share of its audio the caller heard: the chunks
   * confirmed played plus what played of the chunks a clear cut.
   */
  heard(
    text: string,
    playedBytes: number,
    cut: readonly HeardSegment[],
    complete: boolean,
    msPerChar?: number,
  ): { text: string; chars: number; ms: number } {
    const cutBytes = cut.reduce((n, p) => n + p.heardBytes, 0);
    const words = heardPrefix(text, this.heardFraction(playedBytes + cutBytes, complete, msPerChar));
    return { text: words, chars: words.length, ms: Math.round(cutBytes / BYTES_PER_MS) };
  }

  /** Measured speaking rate of this reply (ms of audio per character), once all audio arrived. */
  msPerChar(): number | undefined {
    return this.#chars > 0 && this.#bytes > 0 ? this.#bytes / BYTES_PER_MS / this.#chars : undefined;
  }

  async #pump(): Promise<void> {
    try {
      for await (const audio of this.#stream) {
        if (this.#d.signal.aborted) return;
        if (audio.length === 0) continue;
        this.#bytes += audio.length;
        this.#d.onAudio(this.#chunks++, audio);
      }
    } catch (err) {
      const e = asError(err);
      if (!this.#d.signal.aborted && e.code !== 'ABORTED') this.#d.onError(e);
    }
  }
}

function asError(err: unknown): ProviderError {
  return err instanceof ProviderError ? err : new ProviderError('tts', 'UNKNOWN', String(err), { cause: err });
}
