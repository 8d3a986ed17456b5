/**
 * Google Text-to-Speech `StreamingSynthesize` behind the {@link StreamingSynthesizer} seam: one
 * bidi gRPC call per reply, sentences in as they are ready, 8 kHz μ-law out as it is produced.
 *
 *   open ──client ready──▶ streaming ──end(), server OK──▶ done
 *    │ (texts held)            │
 *    └─────────────────────────┴── abort ──▶ aborted (call cancelled, iteration ends quietly)
 *                                 └─ error, or no audio within TTS_TIMEOUT_MS ──▶ failed (iteration throws)
 *
 * Only Chirp 3 HD voices stream (Google answers INVALID_ARGUMENT → BAD_REQUEST for the others).
 * There is no retry: audio may already have been played, and a second call would repeat it.
 * Whether Google puts a WAV header on streamed MULAW is UNCONFIRMED, so a chunk that starts with
 * one has it checked (μ-law, 8000 Hz, mono) and removed.
 */
import type { TextToSpeechClient, protos } from '@google-cloud/text-to-speech';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromGrpcError, providerError } from './errors.ts';
import { TTS_MAX_INPUT_BYTES } from './google-tts.ts';
import { StreamedMulaw } from './google-tts-stream-audio.ts';
import { voiceLanguage } from './google-tts-voices.ts';
import { ProviderError } from './types.ts';
import type { StreamingSynthesizer, SynthesisOptions, SynthesisStream } from './types.ts';

type StreamingRequest = protos.google.cloud.texttospeech.v1.IStreamingSynthesizeRequest;
type StreamingResponse = protos.google.cloud.texttospeech.v1.IStreamingSynthesizeResponse;
type GrpcStream = ReturnType<TextToSpeechClient['streamingSynthesize']>;

/** Tuning; every field has a default. */
export interface GoogleTtsStreamOptions {
  /** Audio held for a reader that is behind before the gRPC stream is paused, bytes. Default 160000 (20 s). */
  maxBufferedBytes?: number;
}

/**
 * Opens one {@link GoogleSynthesisStream} per reply with the request's `voice` (default TTS_VOICE).
 * TTS_TIMEOUT_MS (0 = off) bounds the wait for audio; see GoogleSynthesisStream.
 */
export class GoogleStreamingSynthesizer implements StreamingSynthesizer {
  private readonly clients: ProviderClients;
  private readonly config: VoiceConfig;
  private readonly maxBufferedBytes: number;

  constructor(clients: ProviderClients, config: VoiceConfig, opts: GoogleTtsStreamOptions = {}) {
    this.clients = clients;
    this.config = config;
    this.maxBufferedBytes = Math.max(8000, opts.maxBufferedBytes ?? 160_000);
  }

  open(signal: AbortSignal, opts: SynthesisOptions = {}): GoogleSynthesisStream {
    const voice = opts.voice ?? this.config.ttsVoice;
    const request: StreamingRequest = {
      streamingConfig: {
        voice: { languageCode: voiceLanguage(voice), name: voice },
        streamingAudioConfig: { audioEncoding: 'MULAW', sampleRateHertz: 8000 },
      },
    };
    return new GoogleSynthesisStream(this.clients.tts(), request, signal, {
      timeoutMs: this.config.ttsTimeoutMs,
      maxBufferedBytes: this.maxBufferedBytes,
    });
  }
}

/**
 * One reply's streaming synthesis ({@link SynthesisStream}); read it once. Iteration yields μ-law
 * chunks in order and ends after end() once Google has finished. It throws a ProviderError:
 * - BAD_REQUEST when Google refuses the voice or config; AUTH, QUOTA, RATE_LIMITED, UNAVAILABLE
 *   (also for a cancel we did not ask for) as errors.ts classifies them;
 * - TIMEOUT when no audio came within TTS_TIMEOUT_MS of the first write, or when Google neither
 *   sent audio nor finished within TTS_TIMEOUT_MS after end() or after the last chunk since then;
 * - BAD_AUDIO for a streamed WAV header that is not μ-law 8000 Hz mono.
 * Aborting the signal cancels the gRPC call at once, drops unread audio, and ends iteration quietly;
 * so does a reader that stops early (break).
 */
export class GoogleSynthesisStream implements SynthesisStream {
  private readonly signal: AbortSignal;
  private readonly timeoutMs: number;
  private readonly maxBufferedBytes: number;
  private readonly onAbort = (): void => this.stop('aborted');
  private state: 'starting' | 'streaming' | 'done' | 'aborted' | 'failed' = 'starting';
  private call: GrpcStream | undefined;
  private readonly held: StreamingRequest[] = [];
  private ended = false;
  private texts = 0;
  private audioBytes = 0;
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private paused = false;
  private error: ProviderError | undefined;
  private wake: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly audio = new StreamedMulaw();
  private read = false;

  constructor(
    client: Promise<TextToSpeechClient>,
    config: StreamingRequest,
    signal: AbortSignal,
    o: { timeoutMs: number; maxBufferedBytes: number },
  ) {
    this.signal = signal;
    this.timeoutMs = o.timeoutMs;
    this.maxBufferedBytes = o.maxBufferedBytes;
    this.held.push(config);
    if (signal.aborted) {
      this.state = 'aborted';
      client.catch(() => undefined); // nobody will use it; its failure is not ours to report here
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    client.then(
      (c) => this.start(c),
      (err: unknown) => this.fail(fromGrpcError('tts', err)),
    );
  }

  /**
   * Queues one sentence. Whitespace-only text is skipped; after end(), abort or failure, writes are
   * ignored. Throws BAD_REQUEST (and sends nothing) for text over Google's 5,000-byte limit.
   */
  write(text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > TTS_MAX_INPUT_BYTES) {
      throw providerError(
        'tts',
        'BAD_REQUEST',
        `text of ${bytes} UTF-8 bytes is over Google's limit of ${TTS_MAX_INPUT_BYTES}; split it into sentences first`,
        { phrase: 'text too long' },
      );
    }
    if (this.ended || !this.live() || text.trim() === '') return;
    this.texts++;
    this.send({ input: { text } });
    this.armWatchdog();
  }

  /** No more text: the call is half-closed, and iteration ends once Google has spoken everything. */
  end(): void {
    if (this.ended || !this.live()) return;
    this.ended = true;
    if (this.state === 'streaming') this.call!.end();
    this.armWatchdog();
  }

  /** Counters for logs and tests: audio received, audio waiting for the reader, whether Google is held back. */
  stats(): { audioBytes: number; bufferedBytes: number; paused: boolean } {
    return { audioBytes: this.audioBytes, bufferedBytes: this.bufferedBytes, paused: this.paused };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.read) throw new Error('a SynthesisStream can be read only once');
    this.read = true;
    try {
      for (;;) {
        if (this.state === 'aborted') return;
        const chunk = this.chunks.shift();
        if (chunk) {
          this.bufferedBytes -= chunk.length;
          if (this.paused && this.bufferedBytes <= this.maxBufferedBytes / 2) {
            this.paused = false;
            this.call?.resume();
          }
          yield chunk;
          continue;
        }
        if (this.error) throw this.error;
        if (this.state === 'done') return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // Reached on a normal end too; stopping a finished stream only releases the abort listener.
      this.stop('aborted');
    }
  }

  private live(): boolean {
    return this.state === 'starting' || this.state === 'streaming';
  }

  private start(client: TextToSpeechClient): void {
    if (this.state !== 'starting') return;
    const call = client.streamingSynthesize({ retry: { retryCodes: [] } }); // one attempt: see the file comment
    this.call = call;
    this.state = 'streaming';
    call.on('data', (r: StreamingResponse) => this.onData(r));
    call.on('error', (err: unknown) => this.onError(err));
    call.on('end', () => this.finish());
    for (const m of this.held.splice(0)) call.write(m);
    if (this.ended) call.end();
  }

  private send(request: StreamingRequest): void {
    if (this.state === 'streaming') this.call!.write(request);
    else this.held.push(request);
  }

  private onData(r: StreamingResponse): void {
    if (this.state !== 'streaming') return;
    let audio: Buffer;
    try {
      audio = this.audio.push(Buffer.from(r.audioContent ?? new Uint8Array(0)));
    } catch (err) {
      return this.fail(err instanceof ProviderError ? err : fromGrpcError('tts', err));
    }
    if (audio.length === 0) return;
    this.audioBytes += audio.length;
    this.chunks.push(audio);
    this.bufferedBytes += audio.length;
    if (!this.paused && this.bufferedBytes > this.maxBufferedBytes) {
      this.paused = true; // bounded: Google waits (gRPC flow control) until the reader catches up
      this.call!.pause();
    }
    this.armWatchdog(true);
    this.notify();
  }

  private onError(err: unknown): void {
    if (this.state !== 'streaming') return; // our own cancel, or already settled
    const error = fromGrpcError('tts', err);
    if (error.code !== 'ABORTED') return this.fail(error);
    // CANCELLED that we did not ask for: something between us and Google dropped the call.
    this.fail(
      providerError('tts', 'UNAVAILABLE', error.message, {
        cause: err,
        ...(error.vendorCode === undefined ? {} : { vendorCode: error.vendorCode }),
      }),
    );
  }

  private finish(): void {
    if (this.state !== 'streaming') return;
    this.state = 'done';
    this.release();
    this.notify();
  }

  private fail(error: ProviderError): void {
    if (!this.live()) return;
    this.error = error;
    this.stop('failed');
  }

  /** Ends the stream for good: cancels the call if it still runs, drops audio on abort. Idempotent. */
  private stop(state: 'aborted' | 'failed'): void {
    if (this.live()) {
      this.state = state;
      // `cancel` is missing on the stand-in stream a closed client hands out; nothing to cancel then.
      (this.call?.cancel as (() => void) | undefined)?.call(this.call);
    }
    if (this.state === 'aborted') {
      this.chunks.length = 0;
      this.bufferedBytes = 0;
    }
    this.release();
    this.notify();
  }

  private release(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.signal.removeEventListener('abort', this.onAbort);
  }

  /**
   * Keeps a watchdog while audio is owed: text written and no audio yet, or end() called and the
   * stream not finished. `restart` (a chunk arrived) starts the wait over.
   */
  private armWatchdog(restart = false): void {
    if (this.timeoutMs <= 0 || !this.live()) return;
    const owed = (this.texts > 0 && this.audioBytes === 0) || this.ended;
    if (restart || !owed) {
      clearTimeout(this.watchdog);
      this.watchdog = undefined;
    }
    if (!owed || this.watchdog) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (this.bufferedBytes > 0) return this.armWatchdog(); // paused for a slow reader: not a stall
      const what = this.audioBytes === 0 ? 'no audio' : 'no more audio and no end';
      this.fail(providerError('tts', 'TIMEOUT', `${what} within TTS_TIMEOUT_MS (${this.timeoutMs} ms)`));
    }, this.timeoutMs);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
