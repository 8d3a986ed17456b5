/**
 * A wire-level emulator of Google Text-to-Speech v1 (`SynthesizeSpeech`, `StreamingSynthesize`,
 * `ListVoices`), served over real gRPC from the protos bundled in `@google-cloud/text-to-speech`,
 * so the real `TextToSpeechClient` can be pointed at it.
 *
 * As strict as the service where it matters to the gateway: it knows Google's voices
 * (google-tts-voices.ts) and refuses what Google refuses with Google's status codes and texts
 * (google-tts-rules.ts): an unknown voice, a voice of another language, no input, input over
 * 5,000 bytes, an unsupported encoding or sample rate; a quota mode answers RESOURCE_EXHAUSTED.
 * Unary answers can be delayed per request (so they complete out of order); streamed audio comes
 * in chunks with a modelled time to first chunk (google-tts-stream.ts).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';
import { grpc } from 'google-gax';
import type { protos } from '@google-cloud/text-to-speech';
import type { GrpcFault } from './google-stt.ts';
import { speechEngine, unaryAudio } from './google-tts-audio.ts';
import { checkAudio, checkText, isFault, quotaFault, resolveVoice } from './google-tts-rules.ts';
import type { FakeTtsQuota } from './google-tts-rules.ts';
import { TtsStreamSession } from './google-tts-stream.ts';
import type { FakeTtsStream, FakeTtsStreamingOptions } from './google-tts-stream.ts';
import { DEFAULT_TTS_VOICES, voicesFor } from './google-tts-voices.ts';
import type { FakeVoice } from './google-tts-voices.ts';

export { fakeTtsAudio } from './google-tts-audio.ts';
export type { FakeTtsAudioOptions } from './google-tts-audio.ts';

type SynthesizeRequest = protos.google.cloud.texttospeech.v1.ISynthesizeSpeechRequest;

/** Options of {@link startFakeTts}; every field has a default. */
export interface FakeTtsOptions {
  /** Duration per character of input text (the request's `speakingRate` divides it). Default 60. */
  msPerChar?: number;
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port to bind. Default 0 (an ephemeral port). */
  port?: number;
  /**
   * 'tone' (default): deterministic tone, see {@link fakeTtsAudio}. 'espeak': real Hebrew from `espeak-ng -v he`
   * if it is on PATH (converted with sox when present, else resampled here); falls back to the tone otherwise.
   */
  voice?: 'tone' | 'espeak';
  /**
   * Wall-clock wait before every SynthesizeSpeech answer (errors included). A function gets the
   * request's text and 0-based index, so answers can be made to complete out of order. Default 0.
   */
  latencyMs?: number | ((text: string, index: number) => number);
  /** Inspect each SynthesizeSpeech request (0-based `index`); returning a fault answers it instead of audio. */
  fail?: (req: SynthesizeRequest, index: number) => GrpcFault | undefined;
  /** The voices the emulator knows (ListVoices and validation). Default {@link DEFAULT_TTS_VOICES}. */
  voices?: readonly FakeVoice[];
  /** Start in a quota mode (see {@link FakeTts.setQuota}). Default: none. */
  quota?: FakeTtsQuota;
  /** StreamingSynthesize timing and faults. */
  streaming?: FakeTtsStreamingOptions;
}

/** What the emulator recorded about one SynthesizeSpeech request. */
export interface FakeTtsRequest {
  index: number;
  /** `input.text`, else `input.ssml`, else `input.markup`. */
  text: string;
  voice: SynthesizeRequest['voice'];
  audioConfig: SynthesizeRequest['audioConfig'];
  /** Date.now() on arrival. */
  at: number;
  /** Date.now() when answered. */
  answeredAt?: number;
  /** Status answered: 0 for audio, else the gRPC code. Undefined while the answer is pending. */
  code?: number;
  /** How the audio was made, when it was. */
  engine?: 'tone' | 'espeak';
  /** True when the client cancelled the call before it was answered (nothing is answered then). */
  cancelled?: boolean;
}

/** A running emulator. */
export interface FakeTts {
  /** "127.0.0.1:PORT". */
  readonly address: string;
  readonly port: number;
  /** Every SynthesizeSpeech request in arrival order. */
  readonly requests: FakeTtsRequest[];
  /** Every StreamingSynthesize call in arrival order. */
  readonly streams: FakeTtsStream[];
  /** The `languageCode` of every ListVoices request, in order ('' when none was given). */
  readonly listVoicesRequests: string[];
  /** Emits 'stream-closed' with the {@link FakeTtsStream} when a streaming call ends in any way. */
  readonly events: EventEmitter;
  /** True when 'espeak' was asked for and espeak-ng was found. */
  readonly espeak: boolean;
  /** Answers the next `count` SynthesizeSpeech requests (default 1) with `code`/`details`, before anything else is checked. */
  failNext(code: number, details: string, count?: number): void;
  /** Ends the next `count` streaming calls (default 1) with `code`/`details` when their config arrives. */
  failNextStream(code: number, details: string, count?: number): void;
  /** Quota mode for every RPC from now on ('exhausted' or 'rate'); undefined switches it off. */
  setQuota(mode: FakeTtsQuota | undefined): void;
  /** Resolves with stream `index` once it has ended in any way; rejects after `timeoutMs` (default 5000). */
  waitForStreamClosed(index: number, timeoutMs?: number): Promise<FakeTtsStream>;
  /** Force-shuts the server down; pending answers are dropped and open streams cancelled. Idempotent, never hangs. */
  close(): Promise<void>;
}

/** Rate used when the request leaves `sampleRateHertz` at 0 (the natural rate of Google's voices). */
const NATURAL_RATE = 24000;

const req = createRequire(import.meta.url);
// Same loader options as google-gax uses for its clients, so both sides agree on field shapes.
const ttsPackage = protoLoader.fromJSON(req('@google-cloud/text-to-speech/build/protos/protos.json'), {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const TTS_SERVICE = ttsPackage['google.cloud.texttospeech.v1.TextToSpeech'] as unknown as grpc.ServiceDefinition;

/** Starts the emulator on `opts.host:opts.port` (default 127.0.0.1, ephemeral port). */
export async function startFakeTts(opts: FakeTtsOptions = {}): Promise<FakeTts> {
  const requests: FakeTtsRequest[] = [];
  const streams: FakeTtsStream[] = [];
  const listVoicesRequests: string[] = [];
  const sessions = new Set<TtsStreamSession>();
  const events = new EventEmitter();
  const queued: GrpcFault[] = [];
  const queuedStream: GrpcFault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const voices = opts.voices ?? DEFAULT_TTS_VOICES;
  const engine = speechEngine(opts.voice);
  let quota = opts.quota;
  const streaming = {
    firstChunkMs: 150,
    chunkMs: 100,
    realTimeFactor: 0.2,
    wavHeader: 'none' as NonNullable<FakeTtsStreamingOptions['wavHeader']>,
    ...opts.streaming,
  };

  const server = new grpc.Server();
  server.addService(TTS_SERVICE, {
    SynthesizeSpeech(call: grpc.ServerUnaryCall<SynthesizeRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const r = call.request;
      const input = r.input ?? {};
      const rec: FakeTtsRequest = {
        index: requests.length,
        text: input.text || input.ssml || input.markup || '',
        voice: r.voice,
        audioConfig: r.audioConfig,
        at: Date.now(),
      };
      requests.push(rec);
      const latency =
        typeof opts.latencyMs === 'function' ? opts.latencyMs(rec.text, rec.index) : (opts.latencyMs ?? 0);
      const answer = (): void => {
        respond(r, rec).then(
          (audio) => {
            rec.code = 0;
            rec.answeredAt = Date.now();
            callback(null, { audioContent: audio });
          },
          (e: unknown) => {
            // A thrown non-fault is a bug in the emulator: answer INTERNAL rather than leave the caller waiting.
            const fault = isFault(e) ? e : { code: 13, details: `TTS emulator internal error: ${String(e)}` };
            rec.code = fault.code;
            rec.answeredAt = Date.now();
            callback({ code: fault.code, details: fault.details });
          },
        );
      };
      if (latency <= 0) return answer();
      const t = setTimeout(() => {
        timers.delete(t);
        answer();
      }, latency);
      timers.add(t);
      call.on('cancelled', () => {
        rec.cancelled = true;
        clearTimeout(t);
        timers.delete(t);
      });
    },
    StreamingSynthesize(call: ConstructorParameters<typeof TtsStreamSession>[0]) {
      const session = new TtsStreamSession(call, streams.length, {
        voices,
        engine,
        msPerChar: opts.msPerChar,
        streaming,
        preempt: () => queuedStream.shift() ?? (quota ? quotaFault(quota) : undefined),
        onClosed: (record) => {
          sessions.delete(session);
          events.emit('stream-closed', record);
        },
      });
      streams.push(session.record);
      sessions.add(session);
    },
    ListVoices(call: grpc.ServerUnaryCall<{ languageCode?: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const languageCode = call.request.languageCode ?? '';
      listVoicesRequests.push(languageCode);
      if (quota) return callback(quotaFault(quota));
      callback(null, { voices: voicesFor(voices, languageCode) });
    },
  });

  /** Resolves with `audioContent`, or rejects with the fault to answer. */
  async function respond(r: SynthesizeRequest, rec: FakeTtsRequest): Promise<Buffer> {
    const fault = queued.shift() ?? (quota ? quotaFault(quota) : undefined) ?? opts.fail?.(r, rec.index);
    if (fault) throw fault;
    const voice = resolveVoice(r.voice, voices);
    if (isFault(voice)) throw voice;
    const cfg = r.audioConfig ?? {};
    const audio = {
      encoding: String(cfg.audioEncoding ?? 'AUDIO_ENCODING_UNSPECIFIED'),
      sampleRateHertz: cfg.sampleRateHertz ?? 0,
      speakingRate: cfg.speakingRate ?? 0,
    };
    const refused = checkText(rec.text) ?? checkAudio(audio, false);
    if (refused) throw refused;
    const rate = audio.sampleRateHertz || NATURAL_RATE;
    const spoken = r.input?.ssml ? r.input.ssml.replace(/<[^>]*>/g, '') : rec.text;
    const { pcm, engine: used } = await engine.speak(spoken, rate, {
      msPerChar: opts.msPerChar,
      speakingRate: audio.speakingRate,
    });
    rec.engine = used;
    return unaryAudio(pcm, audio.encoding, rate);
  }

  const host = opts.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `${host}:${port}`,
    port,
    requests,
    streams,
    listVoicesRequests,
    events,
    espeak: engine.espeak,
    failNext(code, details, count = 1) {
      for (let i = 0; i < count; i++) queued.push({ code, details });
    },
    failNextStream(code, details, count = 1) {
      for (let i = 0; i < count; i++) queuedStream.push({ code, details });
    },
    setQuota(mode) {
      quota = mode;
    },
    waitForStreamClosed(index, timeoutMs = 5000) {
      const done = streams[index];
      if (done && done.state !== 'open') return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('stream-closed', onClosed);
          reject(new Error(`stream ${index} still open after ${timeoutMs} ms`));
        }, timeoutMs);
        function onClosed(record: FakeTtsStream): void {
          if (record.index !== index) return;
          clearTimeout(timer);
          events.off('stream-closed', onClosed);
          resolve(record);
        }
        events.on('stream-closed', onClosed);
      });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of [...sessions]) s.close('cancelled');
      server.forceShutdown();
    },
  };
}
