/**
 * In-process stand-ins for the two synthesis seams, for stage tests: deterministic audio, per-
 * request delays (so completions can come out of order), injected failures, counters, and a record
 * of every text and voice. They behave as the Google adapters do where a caller can tell
 * (tests/integration/contract-synthesizer.test.ts runs one suite against both): empty and
 * over-long text are refused before "sending", unknown voices are BAD_REQUEST, only Chirp 3 HD
 * voices stream, an abort is ABORTED (unary) or a quiet end (streaming). The streaming fake is in
 * streaming-synthesizer.ts.
 *
 * Every wait is a plain setTimeout, so jest's fake timers drive them.
 */
import { isChirp3HdVoice } from '../../../config/config.ts';
import { providerError } from '../errors.ts';
import { abortedError } from '../retry.ts';
import type { ProviderError, ProviderErrorCode, Synthesis, SynthesisOptions, Synthesizer } from '../types.ts';

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

/** The ProviderError an injected failure stands for. */
export function toError(f: InjectedFailure): ProviderError {
  return typeof f === 'string' ? providerError('tts', f, 'injected by the fake synthesizer') : f;
}

/** BAD_REQUEST for text over Google's per-request limit, as the adapters refuse it. */
export function tooLong(text: string): ProviderError | undefined {
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
