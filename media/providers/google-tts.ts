/**
 * Google Text-to-Speech v1 `SynthesizeSpeech` behind the {@link Synthesizer} seam, plus a small
 * cache for texts spoken again and again (the greeting).
 *
 * Google wraps MULAW output in a WAV header of undocumented size (providers.md §2.3); the header is
 * parsed, checked and removed here, because a caller must never hear header bytes or audio in a
 * format Twilio would play as noise.
 */
import type { protos } from '@google-cloud/text-to-speech';
import type { VoiceConfig } from '../../config/config.ts';
import { parseWav, WavError, WAV_FORMAT } from '../audio/wav.ts';
import type { ProviderClients } from './clients.ts';
import { fromGrpcError, providerError } from './errors.ts';
import { abortedError, raceAbort, withRetry } from './retry.ts';
import { ProviderError } from './types.ts';
import type { Synthesis, SynthesisOptions, Synthesizer } from './types.ts';
import { voiceLanguage } from './google-tts-voices.ts';

export { voiceLanguage } from './google-tts-voices.ts';

type SynthesizeRequest = protos.google.cloud.texttospeech.v1.ISynthesizeSpeechRequest;

/** Google's limit on `input.text`, in UTF-8 bytes (about 2,500 Hebrew letters). */
export const TTS_MAX_INPUT_BYTES = 5000;
/** A retry is only started when at least this much of the time budget is left. */
const MIN_RETRY_BUDGET_MS = 500;

/**
 * Synthesizes as 8 kHz μ-law with the request's `voice` (default TTS_VOICE); the language sent is
 * the one the voice name starts with. TTS_TIMEOUT_MS is the budget of one synthesize() call,
 * retries included (0 = no budget of ours). Rejects with a ProviderError:
 * - BAD_REQUEST for empty text or text over {@link TTS_MAX_INPUT_BYTES} (refused before calling),
 *   or when Google refuses the voice/request (an unknown voice, a language mismatch);
 * - BAD_AUDIO when the answer is empty, a broken WAV, or a WAV that is not μ-law 8000 Hz mono;
 * - ABORTED as soon as `signal` aborts (the gRPC call is cancelled too);
 * - TIMEOUT, UNAVAILABLE, RATE_LIMITED (after one retry, when the budget allows it), AUTH, QUOTA.
 */
export class GoogleSynthesizer implements Synthesizer {
  private readonly clients: ProviderClients;
  private readonly voice: string;
  private readonly timeoutMs: number;
  private readonly retryDelayMs: number;

  /** `retryDelayMs` (default 100) is the base delay before the one retry. */
  constructor(clients: ProviderClients, config: VoiceConfig, opts: { retryDelayMs?: number } = {}) {
    this.clients = clients;
    this.voice = config.ttsVoice;
    this.timeoutMs = config.ttsTimeoutMs;
    this.retryDelayMs = opts.retryDelayMs ?? 100;
  }

  async synthesize(text: string, signal: AbortSignal, opts: SynthesisOptions = {}): Promise<Synthesis> {
    if (signal.aborted) throw abortedError('tts');
    const voice = opts.voice ?? this.voice;
    if (text.trim() === '') throw providerError('tts', 'BAD_REQUEST', 'empty text', { phrase: 'nothing to say' });
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > TTS_MAX_INPUT_BYTES) {
      throw providerError(
        'tts',
        'BAD_REQUEST',
        `text of ${bytes} UTF-8 bytes is over Google's limit of ${TTS_MAX_INPUT_BYTES}; split it into sentences first`,
        { phrase: 'text too long' },
      );
    }
    const client = await raceAbort(this.clients.tts(), 'tts', signal);
    const started = Date.now();
    const deadline = this.timeoutMs > 0 ? started + this.timeoutMs : Infinity;
    const request: SynthesizeRequest = {
      input: { text },
      voice: { languageCode: voiceLanguage(voice), name: voice },
      audioConfig: { audioEncoding: 'MULAW', sampleRateHertz: 8000 },
    };
    const audio = await withRetry(
      async () => {
        const left = deadline - Date.now();
        if (left <= 0) throw providerError('tts', 'TIMEOUT', `no audio within TTS_TIMEOUT_MS (${this.timeoutMs} ms)`);
        // `signal` in the call options makes gax cancel the gRPC call; raceAbort rejects at once
        // rather than waiting for the cancellation to come back.
        const call = client.synthesizeSpeech(request, {
          retry: { retryCodes: [] }, // retry.ts is the only retry layer
          signal,
          ...(Number.isFinite(left) ? { timeout: left } : {}),
        });
        try {
          const [response] = await raceAbort(call, 'tts', signal);
          return response.audioContent;
        } catch (err) {
          throw fromGrpcError('tts', err);
        }
      },
      {
        provider: 'tts',
        attempts: 2,
        baseDelayMs: this.retryDelayMs,
        maxDelayMs: this.retryDelayMs * 2,
        signal,
        isRetryable: (err) =>
          err instanceof ProviderError &&
          err.retryable &&
          deadline - Date.now() > MIN_RETRY_BUDGET_MS + this.retryDelayMs * 2,
      },
    );
    return { mulaw: mulawPayload(audio), synthMs: Date.now() - started };
  }
}

/**
 * The playable μ-law in Google's `audioContent`: the data chunk of a μ-law 8000 Hz mono WAV, or
 * the bytes as they are when there is no RIFF header. Throws BAD_AUDIO for anything else.
 */
export function mulawPayload(audioContent: Uint8Array | string | null | undefined): Buffer {
  const raw =
    typeof audioContent === 'string'
      ? Buffer.from(audioContent, 'base64')
      : Buffer.from(
          audioContent?.buffer ?? new ArrayBuffer(0),
          audioContent?.byteOffset ?? 0,
          audioContent?.byteLength ?? 0,
        );
  if (raw.length === 0) throw providerError('tts', 'BAD_AUDIO', 'empty audioContent');
  let wav;
  try {
    wav = parseWav(raw);
  } catch (err) {
    if (err instanceof WavError && err.code === 'WAV_NOT_RIFF') return raw; // headerless: already raw μ-law
    throw providerError('tts', 'BAD_AUDIO', `unreadable WAV (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
  const { formatTag, sampleRate, channels, bitsPerSample } = wav;
  if (formatTag !== WAV_FORMAT.MULAW || sampleRate !== 8000 || channels !== 1 || bitsPerSample !== 8) {
    throw providerError(
      'tts',
      'BAD_AUDIO',
      `expected μ-law 8000 Hz mono, got format ${formatTag}, ${sampleRate} Hz, ${channels} channel(s), ${bitsPerSample} bits`,
    );
  }
  if (wav.data.length === 0) throw providerError('tts', 'BAD_AUDIO', 'WAV without audio');
  return wav.data;
}

/** One synthesis shared by everyone asking for the same key while it runs. */
interface InFlight {
  promise: Promise<Synthesis>;
  controller: AbortController;
  waiters: number;
}

/**
 * Wraps a Synthesizer so each text is synthesized once per process and voice: results are kept in
 * an LRU of `maxEntries` (default 32), keyed by voice (the request's; default the `voice` given
 * here) + NUL + text; concurrent requests for the same key share one synthesis. Failures are not
 * cached. Each caller's `signal` only cancels its own wait; the shared synthesis is cancelled when
 * every waiter has aborted. A cache hit reports `synthMs` 0. The returned audio is shared: do not
 * modify it. Errors are those of the wrapped synthesizer.
 */
export class SynthesisCache implements Synthesizer {
  private readonly inner: Synthesizer;
  private readonly voice: string;
  private readonly maxEntries: number;
  private readonly done = new Map<string, Buffer>();
  private readonly running = new Map<string, InFlight>();

  constructor(inner: Synthesizer, opts: { voice: string; maxEntries?: number }) {
    this.inner = inner;
    this.voice = opts.voice;
    this.maxEntries = Math.max(1, opts.maxEntries ?? 32);
  }

  async synthesize(text: string, signal: AbortSignal, opts: SynthesisOptions = {}): Promise<Synthesis> {
    if (signal.aborted) throw abortedError('tts');
    const voice = opts.voice ?? this.voice;
    const key = `${voice}\u0000${text}`;
    const hit = this.done.get(key);
    if (hit) {
      this.done.delete(key); // re-insert: Map order is the LRU order
      this.done.set(key, hit);
      return { mulaw: hit, synthMs: 0 };
    }
    const started = Date.now();
    const flight = this.running.get(key) ?? this.begin(key, text, voice);
    flight.waiters++;
    const onAbort = (): void => {
      if (--flight.waiters === 0 && this.running.get(key) === flight) {
        this.running.delete(key);
        flight.controller.abort();
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await raceAbort(flight.promise, 'tts', signal);
      return { mulaw: result.mulaw, synthMs: Date.now() - started };
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!signal.aborted) flight.waiters--;
    }
  }

  private begin(key: string, text: string, voice: string): InFlight {
    const controller = new AbortController();
    const promise = this.inner.synthesize(text, controller.signal, { voice }).then(
      (result) => {
        if (this.running.get(key) === flight) this.running.delete(key);
        this.done.set(key, result.mulaw);
        while (this.done.size > this.maxEntries) this.done.delete(this.done.keys().next().value!);
        return result;
      },
      (err: unknown) => {
        if (this.running.get(key) === flight) this.running.delete(key);
        throw err;
      },
    );
    const flight: InFlight = { promise, controller, waiters: 0 };
    this.running.set(key, flight);
    return flight;
  }
}
