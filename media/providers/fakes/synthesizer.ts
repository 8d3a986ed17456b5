/**
 * In-process stand-ins for the two synthesis seams, for stage tests: deterministic audio, per-
 * request delays (so completions can come out of order), injected failures, counters, and a record
 * of every text and voice. They behave as the Google adapters do where a caller can tell
 * (tests/integration/contract-synthesizer.test.ts runs one suite against both): empty and
 * over-long text are refused before "sending", unknown voices are BAD_REQUEST, only Chirp 3 HD
 * voices stream, an abort is ABORTED (unary) or a quiet end (streaming).
 *
 * Every wait is a plain setTimeout, so jest's fake timers drive them.
 */
import { isChirp3HdVoice } from '../../../config/config.ts';
import { providerError } from '../errors.ts';
import { abortedError } from '../retry.ts';
import type {
  ProviderError,
  ProviderErrorCode,
  StreamingSynthesizer,
  Synthesis,
  SynthesisOptions,
  SynthesisStream,
  Synthesizer,
} from '../types.ts';

/** Google's per-request input limit, UTF-8 bytes (as the adapters enforce it). */
const MAX_INPUT_BYTES = 5000;
const DEFAULT_VOICE = 'he-IL-Wavenet-A';

/** The voices the fakes know by default: he-IL Standard/WaveNet A–D and every `*-Chirp3-HD-*` name. */
export function isFakeVoice(voice: string): boolean {
  return /^he-IL-(Standard|Wavenet)-[A-D]$/.test(voice) || isChirp3HdVoice(voice);
}

/**
 * The μ-law a fake speaks for `text`: `msPerChar` (default 60) × code points ms at 8 bytes per ms
 * (at least 20 ms), bytes derived from the text so different texts differ. Never μ-law silence (0xFF).
 */
export function fakeSynthesisAudio(text: string, msPerChar = 60): Buffer {
  const out = Buffer.alloc(Math.max(160, Math.round(msPerChar * Array.from(text).length * 8)));
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  for (let i = 0; i < out.length; i++) {
    h = Math.imul(h ^ i, 0x01000193) >>> 0;
    out[i] = h % 0xfe; // 0x00–0xFD
  }
  return out;
}

/** A failure to inject: a ready ProviderError, or one of our codes (a TTS ProviderError is built). */
export type InjectedFailure = ProviderError | ProviderErrorCode;

function toError(f: InjectedFailure): ProviderError {
  return typeof f === 'string' ? providerError('tts', f, 'injected by the fake synthesizer') : f;
}

function tooLong(text: string): ProviderError | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= MAX_INPUT_BYTES) return undefined;
  return providerError('tts', 'BAD_REQUEST', `text of ${bytes} UTF-8 bytes is over ${MAX_INPUT_BYTES}`, {
    phrase: 'text too long',
  });
}

const unknownVoice = (voice: string): ProviderError =>
  providerError('tts', 'BAD_REQUEST', `Voice '${voice}' does not exist. Is it misspelled?`, { vendorCode: 3 });

/** Options of {@link FakeSynthesizer}; every field has a default. */
export interface FakeSynthesizerOptions {
  /** Wait before each answer, ms: a number or a function of (text, 0-based request index). Default 0. */
  delayMs?: number | ((text: string, index: number) => number);
  /** A failure for a request (by text and index), or undefined to answer it. */
  fail?: (text: string, index: number) => InjectedFailure | undefined;
  /** Audio per character, ms. Default 60. */
  msPerChar?: number;
  /** Voice of requests that name none. Default 'he-IL-Wavenet-A'. */
  defaultVoice?: string;
  /** Which voice names exist (others are BAD_REQUEST). Default {@link isFakeVoice}. */
  knownVoice?: (voice: string) => boolean;
}

/** One request the fake accepted. */
export interface FakeSynthesisCall {
  index: number;
  text: string;
  voice: string;
  outcome: 'pending' | 'ok' | 'failed' | 'aborted';
}

/** A scripted {@link Synthesizer}. */
export class FakeSynthesizer implements Synthesizer {
  /** Every request that reached the "provider", in order. */
  readonly calls: FakeSynthesisCall[] = [];
  private readonly o: FakeSynthesizerOptions;
  private readonly queued: ProviderError[] = [];

  constructor(opts: FakeSynthesizerOptions = {}) {
    this.o = opts;
  }

  /** Fails the next `count` requests (default 1) with `failure`, before `opts.fail` is asked. */
  failNext(failure: InjectedFailure, count = 1): void {
    for (let i = 0; i < count; i++) this.queued.push(toError(failure));
  }

  /** How many requests ended each way. */
  count(outcome: FakeSynthesisCall['outcome']): number {
    return this.calls.filter((c) => c.outcome === outcome).length;
  }

  /** Rejects like GoogleSynthesizer: BAD_REQUEST (bad text, unknown voice), injected failures, ABORTED. */
  synthesize(text: string, signal: AbortSignal, opts: SynthesisOptions = {}): Promise<Synthesis> {
    if (signal.aborted) return Promise.reject(abortedError('tts'));
    if (text.trim() === '')
      return Promise.reject(providerError('tts', 'BAD_REQUEST', 'empty text', { phrase: 'nothing to say' }));
    const refused = tooLong(text);
    if (refused) return Promise.reject(refused);
    const voice = opts.voice ?? this.o.defaultVoice ?? DEFAULT_VOICE;
    const call: FakeSynthesisCall = { index: this.calls.length, text, voice, outcome: 'pending' };
    this.calls.push(call);
    const failure =
      this.queued.shift() ??
      ((this.o.knownVoice ?? isFakeVoice)(voice) ? undefined : unknownVoice(voice)) ??
      ((f) => (f ? toError(f) : undefined))(this.o.fail?.(text, call.index));
    const d = this.o.delayMs;
    const delay = typeof d === 'function' ? d(text, call.index) : (d ?? 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        call.outcome = failure ? 'failed' : 'ok';
        if (failure) reject(failure);
        else resolve({ mulaw: fakeSynthesisAudio(text, this.o.msPerChar), synthMs: delay });
      }, delay);
      function onAbort(): void {
        clearTimeout(timer);
        call.outcome = 'aborted';
        reject(abortedError('tts'));
      }
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

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
