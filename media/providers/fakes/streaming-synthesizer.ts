/**
 * The streaming half of the synthesis fakes (see synthesizer.ts): chunked audio with a first-chunk
 * delay, injected failures before any chunk or mid-stream, a record of every stream. Only Chirp 3
 * HD voices stream, as with Google; an abort ends the stream quietly.
 */
import { isChirp3HdVoice } from '../../../config/config.ts';
import { providerError } from '../errors.ts';
import type { ProviderError, SynthesisOptions, SynthesisStream, StreamingSynthesizer } from '../types.ts';
import { fakeSynthesisAudio, toError, tooLong, type InjectedFailure } from './synthesizer.ts';

/** Options of {@link FakeStreamingSynthesizer}; every field has a default. */
export interface FakeStreamingOptions {
  /** From a text reaching an idle stream to its first chunk, ms. Default 0. */
  firstChunkMs?: number;
  /** Audio per chunk, ms. Default 20. */
  chunkMs?: number;
  /** Wait between two chunks, ms. Default 0. */
  chunkIntervalMs?: number;
  /** Audio per character, ms. Default 60. */
  msPerChar?: number;
  /** Voice of streams that name none. Default 'he-IL-Chirp3-HD-Achernar'. */
  defaultVoice?: string;
  /** Consulted before every chunk (`chunksSent` so far); a failure ends the stream with it. */
  fail?: (ctx: { stream: number; chunksSent: number }) => InjectedFailure | undefined;
}

/** What the fake recorded about one stream. */
export interface FakeStreamRecord {
  index: number;
  voice: string;
  texts: string[];
  chunksSent: number;
  /** True once end() was called. */
  ended: boolean;
  state: 'open' | 'done' | 'aborted' | 'failed';
}

/** A scripted {@link StreamingSynthesizer}: chunked audio with a first-chunk delay. */
export class FakeStreamingSynthesizer implements StreamingSynthesizer {
  /** Every stream opened, in order. */
  readonly streams: FakeStreamRecord[] = [];
  private readonly o: FakeStreamingOptions;
  private readonly queued: ProviderError[] = [];

  constructor(opts: FakeStreamingOptions = {}) {
    this.o = opts;
  }

  /** The next `count` streams (default 1) fail with `failure` as soon as they open. */
  failNext(failure: InjectedFailure, count = 1): void {
    for (let i = 0; i < count; i++) this.queued.push(toError(failure));
  }

  open(signal: AbortSignal, opts: SynthesisOptions = {}): SynthesisStream {
    const voice = opts.voice ?? this.o.defaultVoice ?? 'he-IL-Chirp3-HD-Achernar';
    const record: FakeStreamRecord = {
      index: this.streams.length,
      voice,
      texts: [],
      chunksSent: 0,
      ended: false,
      state: 'open',
    };
    if (!signal.aborted) this.streams.push(record); // as the adapter, which never opens a call then
    const early = this.queued.shift() ?? (isChirp3HdVoice(voice) ? undefined : notStreamable(voice));
    return new FakeSynthesisStream(record, this.o, signal, early);
  }
}

const notStreamable = (voice: string): ProviderError =>
  providerError('tts', 'BAD_REQUEST', `Voice '${voice}' does not support streaming synthesis.`, { vendorCode: 3 });

class FakeSynthesisStream implements SynthesisStream {
  private readonly record: FakeStreamRecord;
  private readonly o: FakeStreamingOptions;
  private readonly signal: AbortSignal;
  private readonly out: Buffer[] = [];
  private error: ProviderError | undefined;
  private wake: (() => void) | undefined;
  private work: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private readonly onAbort = (): void => this.settle('aborted');

  constructor(record: FakeStreamRecord, o: FakeStreamingOptions, signal: AbortSignal, early?: ProviderError) {
    this.record = record;
    this.o = o;
    this.signal = signal;
    if (signal.aborted) record.state = 'aborted';
    else if (early) this.settle('failed', early);
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** As GoogleSynthesisStream.write: BAD_REQUEST thrown for over-long text, blank text skipped, late writes ignored. */
  write(text: string): void {
    const refused = tooLong(text);
    if (refused) throw refused;
    if (text.trim() === '' || this.record.ended || this.record.state !== 'open') return;
    this.record.texts.push(text);
    const idle = this.pending++ === 0;
    this.work = this.work.then(() => this.speak(text, idle));
  }

  end(): void {
    if (this.record.ended || this.record.state !== 'open') return;
    this.record.ended = true;
    this.work = this.work.then(() => this.settle('done'));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    try {
      for (;;) {
        if (this.record.state === 'aborted') return;
        const chunk = this.out.shift();
        if (chunk) {
          yield chunk;
          continue;
        }
        if (this.error) throw this.error;
        if (this.record.state === 'done') return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      if (this.record.state === 'open') this.settle('aborted'); // the reader stopped early
    }
  }

  private async speak(text: string, idle: boolean): Promise<void> {
    const audio = fakeSynthesisAudio(text, this.o.msPerChar);
    const size = Math.max(1, Math.round((this.o.chunkMs ?? 20) * 8));
    for (let at = 0; at < audio.length && this.record.state === 'open'; at += size) {
      await this.sleep(at === 0 && idle ? (this.o.firstChunkMs ?? 0) : (this.o.chunkIntervalMs ?? 0));
      if (this.record.state !== 'open') break;
      const failure = this.o.fail?.({ stream: this.record.index, chunksSent: this.record.chunksSent });
      if (failure) return this.settle('failed', toError(failure));
      this.out.push(audio.subarray(at, at + size));
      this.record.chunksSent++;
      this.notify();
    }
    this.pending--;
  }

  private settle(state: 'done' | 'aborted' | 'failed', error?: ProviderError): void {
    if (this.record.state !== 'open') return;
    this.record.state = state;
    this.error = error;
    if (state === 'aborted') this.out.length = 0;
    this.signal.removeEventListener('abort', this.onAbort);
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    this.notify();
  }

  /** Waits `ms`; returns early when the stream settles. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
