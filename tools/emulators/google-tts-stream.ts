/**
 * `StreamingSynthesize` of the TTS emulator: one bidi call, as Google documents it.
 *
 *   client: streamingConfig ─▶ input.text ─▶ input.text … ─▶ half-close
 *   server:                        ╰─ firstChunkMs ─▶ chunk ─▶ chunk … (one per chunkMs of audio,
 *                                     each after chunkMs × realTimeFactor) ─▶ OK once all is spoken
 *
 * The first message must be exactly one `streamingConfig` (voice, `streamingAudioConfig`); only
 * Chirp 3 HD voices are accepted; every later message is one `input`. Audio never comes in one
 * piece: an input that reaches an idle synthesizer gets its first chunk `firstChunkMs` after it
 * arrived, and every further chunk follows after the time it takes to produce it; an input that
 * arrives while audio is still being produced joins the same cadence. A client cancel stops
 * production at once. Refusals end the call with Google's status codes (google-tts-rules.ts).
 */
import type { grpc } from 'google-gax';
import type { protos } from '@google-cloud/text-to-speech';
import type { GrpcFault } from './google-stt.ts';
import { bytesPerMs, rawAudio, streamingWavHeader } from './google-tts-audio.ts';
import type { SpeechEngine } from './google-tts-audio.ts';
import { checkAudio, checkText, isFault, resolveStreamingVoice, TTS_TEXTS } from './google-tts-rules.ts';
import type { AudioSettings } from './google-tts-rules.ts';
import type { FakeVoice } from './google-tts-voices.ts';

/** The streaming config as the emulator decodes it (enums as strings, defaults filled in). */
export type TtsStreamingConfig = protos.google.cloud.texttospeech.v1.IStreamingSynthesizeConfig;
type StreamingRequest = protos.google.cloud.texttospeech.v1.IStreamingSynthesizeRequest;

/** Timing and shape of streamed audio; every field has a default. */
export interface FakeTtsStreamingOptions {
  /** Wall-clock ms from an input reaching an idle synthesizer to its first audio chunk. Default 150. */
  firstChunkMs?: number;
  /** Audio per chunk, ms (the last chunk of an input may be shorter). Default 100. */
  chunkMs?: number;
  /** Wall-clock ms it takes to produce 1 ms of audio: 0.2 is five times faster than real time. Default 0.2. */
  realTimeFactor?: number;
  /**
   * A WAV header in front of streamed audio (UNCONFIRMED whether Google sends one): 'none'
   * (default), 'first' (before the stream's first audio), 'each-input' (before each input's audio).
   * The header is a chunk of its own, with data size 0xFFFFFFFF; 'first-split' sends the stream's
   * one header in two messages.
   */
  wavHeader?: 'none' | 'first' | 'each-input' | 'first-split';
  /** Bytes to send as the header instead of a correct one (a header that lies about the format). */
  wavHeaderBytes?: Buffer;
  /** Consulted once the config is accepted (`chunksSent` 0) and before every chunk; a fault ends the stream with it. */
  fault?: (ctx: { index: number; chunksSent: number; config: TtsStreamingConfig }) => GrpcFault | undefined;
}

/** Where a stream is in its life; every state but 'open' is final. */
export type TtsStreamState = 'open' | 'ended' | 'cancelled' | 'failed';

/** What the emulator knows about one StreamingSynthesize call; mutated in place while it lives. */
export interface FakeTtsStream {
  index: number;
  /** Null until the first message arrives. */
  config: TtsStreamingConfig | null;
  /** The voice that speaks, once the config was accepted. */
  voice?: string;
  /** Every `input.text` (or `markup`) received, in order. */
  inputs: string[];
  /** Date.now() when each audio chunk (not a header) was written. */
  chunkAt: number[];
  /** Audio bytes written, headers excluded. */
  audioBytes: number;
  /** Header chunks written. */
  headers: number;
  state: TtsStreamState;
  /** True once the client half-closed. */
  halfClosed: boolean;
  openedAt: number;
  firstInputAt?: number;
  closedAt?: number;
  /** The status the stream failed with. */
  fault?: GrpcFault;
}

/** What a session needs from its emulator. */
export interface TtsStreamContext {
  voices: readonly FakeVoice[];
  engine: SpeechEngine;
  msPerChar: number | undefined;
  streaming: Required<Omit<FakeTtsStreamingOptions, 'fault' | 'wavHeaderBytes'>> &
    Pick<FakeTtsStreamingOptions, 'fault' | 'wavHeaderBytes'>;
  /** A fault to answer the config with before anything else (quota mode, failNextStream). */
  preempt(): GrpcFault | undefined;
  onClosed(record: FakeTtsStream): void;
}

type Call = grpc.ServerDuplexStream<StreamingRequest, { audioContent: Buffer }>;

/** One StreamingSynthesize call on the emulator. */
export class TtsStreamSession {
  private readonly call: Call;
  readonly record: FakeTtsStream;
  private readonly ctx: TtsStreamContext;
  private audio: AudioSettings = { encoding: 'PCM', sampleRateHertz: 0, speakingRate: 0 };
  private work: Promise<void> = Promise.resolve();
  private pendingInputs = 0;
  private lastSentAt = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly wakers = new Set<() => void>();

  constructor(call: Call, index: number, ctx: TtsStreamContext) {
    this.call = call;
    this.ctx = ctx;
    this.record = {
      index,
      config: null,
      inputs: [],
      chunkAt: [],
      audioBytes: 0,
      headers: 0,
      state: 'open',
      halfClosed: false,
      openedAt: Date.now(),
    };
    call.on('data', (msg: StreamingRequest) => this.onMessage(msg));
    // grpc-js reports a client cancel as 'end' and then 'cancelled'; one setImmediate tells them apart.
    call.on('end', () => setImmediate(() => this.onHalfClose()));
    call.on('cancelled', () => this.close('cancelled'));
    call.on('error', () => this.close('cancelled')); // the transport went away under us
  }

  /** Ends the call with `fault` now; nothing queued is sent. */
  fail(fault: GrpcFault): void {
    if (this.record.state !== 'open') return;
    this.record.fault = fault;
    this.close('failed');
    // grpc-js turns an 'error' emitted on a server stream into the call's status (code + details).
    this.call.emit('error', fault);
  }

  /** Stops everything (server shutdown, client cancel, end). Idempotent. */
  close(state: Exclude<TtsStreamState, 'open'>): void {
    if (this.record.state !== 'open') return;
    this.record.state = state;
    this.record.closedAt = Date.now();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of this.wakers) wake();
    this.wakers.clear();
    if (state === 'ended') this.call.end();
    this.ctx.onClosed(this.record);
  }

  private onMessage(msg: StreamingRequest): void {
    if (this.record.state !== 'open') return;
    if (msg.streamingConfig) {
      if (this.record.config) return this.fail({ code: 3, details: TTS_TEXTS.configOnce });
      this.record.config = msg.streamingConfig;
      return this.configure(msg.streamingConfig);
    }
    if (!this.record.config) return this.fail({ code: 3, details: TTS_TEXTS.configFirst });
    const text = msg.input?.text || msg.input?.markup || '';
    const refused = checkText(text);
    if (refused) return this.fail(refused);
    this.record.inputs.push(text);
    this.record.firstInputAt ??= Date.now();
    const arrived = Date.now();
    const idle = this.pendingInputs === 0;
    this.pendingInputs++;
    const first = this.record.inputs.length === 1;
    this.work = this.work.then(() => this.speak(text, arrived, idle, first));
  }

  private configure(cfg: TtsStreamingConfig): void {
    const early = this.ctx.preempt();
    if (early) return this.fail(early);
    const voice = resolveStreamingVoice(cfg.voice, this.ctx.voices);
    if (isFault(voice)) return this.fail(voice);
    const a = cfg.streamingAudioConfig;
    // Without a streamingAudioConfig Google answers headerless LINEAR16 at 24 kHz (the response's proto comment).
    this.audio = a
      ? {
          encoding: String(a.audioEncoding ?? 'AUDIO_ENCODING_UNSPECIFIED'),
          sampleRateHertz: a.sampleRateHertz ?? 0,
          speakingRate: a.speakingRate ?? 0,
        }
      : { encoding: 'PCM', sampleRateHertz: 24000, speakingRate: 0 };
    const refused = checkAudio(this.audio, true) ?? this.ctx.streaming.fault?.(this.faultContext());
    if (refused) return this.fail(refused);
    this.record.voice = voice.name;
  }

  private onHalfClose(): void {
    if (this.record.state !== 'open') return;
    this.record.halfClosed = true;
    this.work = this.work.then(() => this.close('ended'));
  }

  /** Produces and sends one input's audio, chunk by chunk, on the stream's cadence. */
  private async speak(text: string, arrived: number, idle: boolean, first: boolean): Promise<void> {
    try {
      if (this.record.state !== 'open') return;
      const s = this.ctx.streaming;
      const rate = this.audio.sampleRateHertz || 24000;
      const { pcm } = await this.ctx.engine.speak(text, rate, {
        msPerChar: this.ctx.msPerChar,
        speakingRate: this.audio.speakingRate,
      });
      const audio = rawAudio(pcm, this.audio.encoding);
      const perMs = bytesPerMs(this.audio.encoding, rate);
      // Whole samples per chunk, so a 16-bit sample is never split between two messages.
      const sampleBytes = this.audio.encoding === 'MULAW' ? 1 : 2;
      const chunkBytes = Math.max(sampleBytes, Math.round((s.chunkMs * perMs) / sampleBytes) * sampleBytes);
      let header = s.wavHeader === 'each-input' || (s.wavHeader !== 'none' && first);
      for (let at = 0; at < audio.length; at += chunkBytes) {
        const chunk = audio.subarray(at, at + chunkBytes);
        // Each chunk is due once it has been produced: the first of an idle start after
        // firstChunkMs, every other one its own duration × realTimeFactor after the one before.
        const due =
          idle && at === 0 ? arrived + s.firstChunkMs : this.lastSentAt + (chunk.length / perMs) * s.realTimeFactor;
        await this.sleep(due - Date.now());
        if (this.record.state !== 'open') return;
        const fault = s.fault?.(this.faultContext());
        if (fault) return this.fail(fault);
        if (header) {
          const bytes = s.wavHeaderBytes ?? streamingWavHeader(this.audio.encoding, rate);
          const parts = s.wavHeader === 'first-split' ? [bytes.subarray(0, 20), bytes.subarray(20)] : [bytes];
          for (const part of parts) this.call.write({ audioContent: part });
          this.record.headers++;
          header = false;
        }
        this.call.write({ audioContent: chunk });
        this.lastSentAt = Date.now();
        this.record.chunkAt.push(this.lastSentAt);
        this.record.audioBytes += chunk.length;
      }
    } catch (err) {
      this.fail({ code: 13, details: `TTS emulator internal error: ${String(err)}` });
    } finally {
      this.pendingInputs--;
    }
  }

  private faultContext(): { index: number; chunksSent: number; config: TtsStreamingConfig } {
    return { index: this.record.index, chunksSent: this.record.chunkAt.length, config: this.record.config ?? {} };
  }

  /** Waits `ms` (wall clock); returns early when the session closes. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.timers.add(timer);
      this.wakers.add(wake);
    });
  }
}
