/**
 * A wire-level fake of Google Speech-to-Text v1 `StreamingRecognize`, served over real gRPC from the
 * protos bundled in `@google-cloud/speech`, so the real `SpeechClient` can be pointed at it.
 *
 * It reacts to the audio it is sent, not to a clock: every 20 ms window of decoded audio is classified
 * as speech or silence by its RMS, and all times (interims, end of utterance, stream limit) are counted
 * in audio time, so results are identical however fast the audio is pushed.
 *
 * One utterance, as seen by the detector (times are audio time):
 *
 *   silence ──loud window──▶ speaking ──speech ≥ minSpeechMs──▶ recognised ─┬─ every interimEveryMs of speech: interim
 *      ▲                        │                                            │
 *      └── endSilenceMs quiet ──┘ (noise: nothing sent)                      └─ endSilenceMs quiet (or half-close): final
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';
import { grpc } from 'google-gax';
import type { protos } from '@google-cloud/speech';
import { mulawToPcm16 } from '../../media/audio/mulaw.ts';

/** The streaming config as the fake decodes it (enums as strings, defaults filled in). */
export type SttStreamingConfig = protos.google.cloud.speech.v1.IStreamingRecognitionConfig;

/** A gRPC status to end a call with (`code` is numeric, e.g. 11 OUT_OF_RANGE, 14 UNAVAILABLE). */
export interface GrpcFault {
  code: number;
  details: string;
}

/** What `opts.transcript` is told about the utterance being recognised. */
export interface TranscriptContext {
  /** 0-based index of the utterance within its stream (noise does not count). */
  utteranceIndex: number;
  /** 0-based index of the stream within this fake (`fake.streams[streamIndex]`). */
  streamIndex: number;
  /** Speech heard so far in this utterance, in ms of audio. */
  speechMs: number;
}

/** Sentences the default transcript cycles through, by utterance index within the stream. */
export const DEFAULT_STT_TRANSCRIPTS: readonly string[] = [
  'שלום, אני רוצה לבדוק את מצב ההזמנה שלי',
  'המספר הוא שלוש שבע אחת שתיים',
  'כן, זה נכון',
  'תודה רבה, להתראות',
];

/** Options of {@link startFakeStt}; every field has a default. */
export interface FakeSttOptions {
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port to bind. Default 0 (an ephemeral port). */
  port?: number;
  /** A 20 ms window whose decoded PCM16 RMS is at least this counts as speech. Default 300. */
  speechRms?: number;
  /** Interim results are sent after every this many ms of speech audio. Default 300. */
  interimEveryMs?: number;
  /** This much silence audio after speech ends the utterance and triggers its final. Default 300. */
  endSilenceMs?: number;
  /** Utterances with less speech than this are noise and produce nothing. Default 150. */
  minSpeechMs?: number;
  /** Extra wall-clock delay before each final is sent (later results queue behind it). Default 0. */
  finalDelayMs?: number;
  /**
   * Text of an utterance. Called for every result (interims and final) with the speech heard so far;
   * interims carry a growing prefix of its words. Default: {@link DEFAULT_STT_TRANSCRIPTS} cycled by utteranceIndex.
   */
  transcript?: (ctx: TranscriptContext) => string;
  /** A stream carrying more audio than this ends with 11 OUT_OF_RANGE, like Google's 305 s cap. Default 305000. */
  maxStreamAudioMs?: number;
  /** Wall-clock time without any audio after which a stream ends with 11 OUT_OF_RANGE "Audio Timeout Error". Default 10000. */
  idleTimeoutMs?: number;
  /** Fail each stream once it has received this much audio (ms). Default: never. */
  failStreamAfterAudioMs?: number;
  /** Only the first N streams fail by `failStreamAfterAudioMs`. Default: all of them. */
  failStreamCount?: number;
  /** Status code used by `failStreamAfterAudioMs`. Default 14 (UNAVAILABLE). */
  failCode?: number;
  /** Status details used by `failStreamAfterAudioMs`. Default "The service is currently unavailable." */
  failDetails?: string;
  /** Inspect each stream's config; returning a fault ends the stream with it before any audio is processed. */
  rejectConfig?: (cfg: SttStreamingConfig) => GrpcFault | undefined;
  /** Called synchronously for every {@link FakeSttEvent} (also emitted on `fake.events`). */
  onEvent?: (e: FakeSttEvent) => void;
}

/** Lifecycle notifications; on `fake.events` each is emitted under its `type` name and under 'event'. */
export type FakeSttEvent =
  | { type: 'open'; stream: number }
  | { type: 'config'; stream: number; config: SttStreamingConfig }
  | { type: 'interim'; stream: number; utterance: number; transcript: string; audioMs: number }
  | { type: 'final'; stream: number; utterance: number; transcript: string; audioMs: number; resultEndMs: number }
  | { type: 'noise'; stream: number; speechMs: number; audioMs: number }
  | { type: 'closed'; stream: number; state: SttStreamState; code?: number; details?: string };

/** Where a stream is in its life; every state but 'open' is final. */
export type SttStreamState = 'open' | 'ended' | 'cancelled' | 'failed';

/** What the fake knows about one stream; mutated in place while the stream lives. */
export interface FakeSttStream {
  index: number;
  /** Null until the first (config) message arrives. */
  config: SttStreamingConfig | null;
  audioBytes: number;
  /** Audio received, in ms (bytes ÷ bytes-per-ms of the configured encoding). */
  audioMs: number;
  /** 'ended': finished with OK after the client half-closed; 'cancelled': the client cancelled; 'failed': ended with an error status. */
  state: SttStreamState;
  openedAt: number;
  closedAt?: number;
  /** Responses carrying results (interims + finals) sent so far. */
  results: number;
  /** The status the stream ended with, if it failed. */
  fault?: GrpcFault;
}

/** A running fake. */
export interface FakeStt {
  /** "127.0.0.1:PORT". */
  readonly address: string;
  readonly port: number;
  /** Every stream ever opened, in order (index = position). */
  readonly streams: FakeSttStream[];
  /** Emits each {@link FakeSttEvent} under its `type` and under 'event'. */
  readonly events: EventEmitter;
  /** Streams still open. */
  activeStreams(): FakeSttStream[];
  /** Ends every open stream at once with `code`/`details`; returns how many were failed. */
  failActiveStreams(code: number, details: string): number;
  /** Resolves with the next event of `type` matching `filter`; rejects after `timeoutMs` (default 5000). */
  waitForEvent<T extends FakeSttEvent['type']>(
    type: T,
    filter?: (e: Extract<FakeSttEvent, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<FakeSttEvent, { type: T }>>;
  /** Force-shuts the server down (open streams are cancelled). Idempotent, never hangs. */
  close(): Promise<void>;
}

const OUT_OF_RANGE = 11;
const INVALID_ARGUMENT = 3;
const WINDOW_MS = 20;
const STREAM_LIMIT_DETAILS = 'Exceeded maximum allowed stream duration of 305 seconds.';
const IDLE_DETAILS =
  'Audio Timeout Error: Long duration elapsed without audio. Audio should be sent close to real time.';
const MALORDERED_DETAILS = 'Malordered Data Received. Send exactly one config, followed by audio data.';

const req = createRequire(import.meta.url);
// Same loader options as google-gax uses for its clients, so both sides agree on field shapes.
const speechPackage = protoLoader.fromJSON(req('@google-cloud/speech/build/protos/protos.json'), {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const SPEECH_SERVICE = speechPackage['google.cloud.speech.v1.Speech'] as unknown as grpc.ServiceDefinition;

type Resolved = Required<
  Pick<
    FakeSttOptions,
    | 'speechRms'
    | 'interimEveryMs'
    | 'endSilenceMs'
    | 'minSpeechMs'
    | 'finalDelayMs'
    | 'maxStreamAudioMs'
    | 'idleTimeoutMs'
    | 'failCode'
    | 'failDetails'
  >
> &
  FakeSttOptions;

/** Starts the fake on `opts.host:opts.port` (default 127.0.0.1, ephemeral port). */
export async function startFakeStt(opts: FakeSttOptions = {}): Promise<FakeStt> {
  const o: Resolved = {
    speechRms: 300,
    interimEveryMs: 300,
    endSilenceMs: 300,
    minSpeechMs: 150,
    finalDelayMs: 0,
    maxStreamAudioMs: 305_000,
    idleTimeoutMs: 10_000,
    failCode: 14,
    failDetails: 'The service is currently unavailable.',
    ...stripUndefined(opts),
  };
  const streams: FakeSttStream[] = [];
  const sessions = new Set<Session>();
  const events = new EventEmitter();
  const emit = (e: FakeSttEvent): void => {
    o.onEvent?.(e);
    events.emit(e.type, e);
    events.emit('event', e);
  };

  const server = new grpc.Server();
  server.addService(SPEECH_SERVICE, {
    StreamingRecognize(call: grpc.ServerDuplexStream<any, any>) {
      const record: FakeSttStream = {
        index: streams.length,
        config: null,
        audioBytes: 0,
        audioMs: 0,
        state: 'open',
        openedAt: Date.now(),
        results: 0,
      };
      streams.push(record);
      const s = new Session(call, record, o, emit, () => sessions.delete(s));
      sessions.add(s);
      emit({ type: 'open', stream: record.index });
    },
  });
  const host = o.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${o.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );

  return {
    address: `${host}:${port}`,
    port,
    streams,
    events,
    activeStreams: () => streams.filter((r) => r.state === 'open'),
    failActiveStreams(code, details) {
      const open = [...sessions];
      for (const s of open) s.fail({ code, details });
      return open.length;
    },
    waitForEvent(type, filter, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off(type, listener);
          reject(new Error(`fake STT: no '${type}' event within ${timeoutMs} ms`));
        }, timeoutMs);
        function listener(e: any): void {
          if (filter && !filter(e)) return;
          clearTimeout(timer);
          events.off(type, listener);
          resolve(e);
        }
        events.on(type, listener);
      });
    },
    async close() {
      for (const s of [...sessions]) s.cancelled();
      server.forceShutdown();
    },
  };
}

/** The current utterance of a stream. */
interface Utterance {
  startMs: number;
  endMs: number;
  speechMs: number;
  silenceMs: number;
  /** -1 until the utterance has enough speech to be more than noise. */
  index: number;
  interims: number;
}

/** One StreamingRecognize call. Results and the closing status go through one ordered queue. */
class Session {
  private readonly call: grpc.ServerDuplexStream<any, any>;
  private readonly record: FakeSttStream;
  private readonly o: Resolved;
  private readonly emit: (e: FakeSttEvent) => void;
  private readonly onGone: () => void;
  private bytesPerMs = 8;
  private windowBytes = 160;
  private decode: (b: Buffer) => Int16Array = mulawToPcm16;
  private pending: Buffer = Buffer.alloc(0);
  private windows = 0;
  private utt: Utterance | undefined;
  private utterances = 0;
  /** No more audio is processed (a terminal status is queued or sent, or single utterance is over). */
  private deaf = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  private idle: NodeJS.Timeout | undefined;

  constructor(
    call: grpc.ServerDuplexStream<any, any>,
    record: FakeSttStream,
    o: Resolved,
    emit: (e: FakeSttEvent) => void,
    onGone: () => void,
  ) {
    this.call = call;
    this.record = record;
    this.o = o;
    this.emit = emit;
    this.onGone = onGone;
    call.on('data', (msg: { streamingConfig?: SttStreamingConfig | null; audioContent?: Buffer | null }) =>
      this.onMessage(msg),
    );
    // grpc-js reports a client cancel as 'end' followed, a tick later, by 'cancelled'; waiting one
    // setImmediate tells a real half-close from a cancel before anything is finalised.
    call.on('end', () => setImmediate(() => this.onHalfClose()));
    call.on('cancelled', () => this.cancelled());
    this.armIdle();
  }

  private onMessage(msg: { streamingConfig?: SttStreamingConfig | null; audioContent?: Buffer | null }): void {
    if (this.record.state !== 'open' || this.deaf) return;
    if (msg.streamingConfig) {
      if (this.record.config) return this.fail({ code: INVALID_ARGUMENT, details: MALORDERED_DETAILS });
      this.record.config = msg.streamingConfig;
      const fault = this.o.rejectConfig?.(msg.streamingConfig) ?? this.configure(msg.streamingConfig);
      if (fault) return this.fail(fault);
      this.emit({ type: 'config', stream: this.record.index, config: msg.streamingConfig });
      return;
    }
    if (!this.record.config) return this.fail({ code: INVALID_ARGUMENT, details: MALORDERED_DETAILS });
    const audio = msg.audioContent ?? Buffer.alloc(0);
    this.armIdle();
    this.record.audioBytes += audio.length;
    this.record.audioMs = this.record.audioBytes / this.bytesPerMs;
    this.pending = this.pending.length ? Buffer.concat([this.pending, audio]) : audio;
    let at = 0;
    while (!this.deaf && this.pending.length - at >= this.windowBytes) {
      this.onWindow(rms(this.decode(this.pending.subarray(at, at + this.windowBytes))));
      at += this.windowBytes;
    }
    this.pending = this.pending.subarray(at);
    this.checkLimits();
  }

  /** Validates the recognition config the way Google would for the encodings the fake can decode. */
  private configure(cfg: SttStreamingConfig): GrpcFault | undefined {
    const rc = cfg.config;
    if (!rc?.languageCode)
      return { code: INVALID_ARGUMENT, details: "Invalid recognition 'config': missing language_code." };
    const rate = rc.sampleRateHertz ?? 0;
    if (rate < 8000 || rate > 48000)
      return { code: INVALID_ARGUMENT, details: `sample_rate_hertz (${rate}) must be between 8000 and 48000.` };
    let bytesPerSample = 1;
    if (rc.encoding === 'LINEAR16') {
      bytesPerSample = 2;
      this.decode = (b) => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    } else if (rc.encoding !== 'MULAW') {
      return {
        code: INVALID_ARGUMENT,
        details: `The fake recognizer supports MULAW and LINEAR16, not ${String(rc.encoding)}.`,
      };
    }
    this.bytesPerMs = (rate / 1000) * bytesPerSample;
    this.windowBytes = Math.round((rate * WINDOW_MS) / 1000) * bytesPerSample;
    return undefined;
  }

  private onWindow(level: number): void {
    const start = this.windows++ * WINDOW_MS;
    const o = this.o;
    if (level >= o.speechRms) {
      const u = (this.utt ??= { startMs: start, endMs: start, speechMs: 0, silenceMs: 0, index: -1, interims: 0 });
      u.speechMs += WINDOW_MS;
      u.silenceMs = 0;
      u.endMs = start + WINDOW_MS;
      if (u.index < 0 && u.speechMs >= o.minSpeechMs) {
        u.index = this.utterances++;
        if (this.record.config?.enableVoiceActivityEvents)
          this.send({ speechEventType: 'SPEECH_ACTIVITY_BEGIN', speechEventTime: duration(u.startMs) }, 0);
      }
      if (u.index >= 0 && this.record.config?.interimResults && u.speechMs >= (u.interims + 1) * o.interimEveryMs)
        this.sendInterim(u);
    } else if (this.utt) {
      this.utt.silenceMs += WINDOW_MS;
      if (this.utt.silenceMs >= o.endSilenceMs) this.endUtterance();
    }
  }

  private text(u: Utterance): string {
    const ctx = { utteranceIndex: u.index, streamIndex: this.record.index, speechMs: u.speechMs };
    return this.o.transcript
      ? this.o.transcript(ctx)
      : (DEFAULT_STT_TRANSCRIPTS[u.index % DEFAULT_STT_TRANSCRIPTS.length] ?? '');
  }

  private sendInterim(u: Utterance): void {
    u.interims++;
    const transcript = this.text(u).split(/\s+/).slice(0, u.interims).join(' ');
    const audioMs = this.audioNow();
    this.send(
      {
        results: [
          {
            alternatives: [{ transcript, confidence: 0 }],
            isFinal: false,
            stability: 0.8,
            resultEndTime: duration(audioMs),
            languageCode: this.lang(),
          },
        ],
      },
      0,
      () => this.emit({ type: 'interim', stream: this.record.index, utterance: u.index, transcript, audioMs }),
    );
  }

  /** Closes the current utterance: a final if it had enough speech, otherwise it was noise. */
  private endUtterance(): void {
    const u = this.utt;
    this.utt = undefined;
    if (!u) return;
    const audioMs = this.audioNow();
    if (u.index < 0) {
      this.emit({ type: 'noise', stream: this.record.index, speechMs: u.speechMs, audioMs });
      return;
    }
    const cfg = this.record.config;
    const transcript = this.text(u);
    if (cfg?.singleUtterance)
      this.send({ speechEventType: 'END_OF_SINGLE_UTTERANCE', speechEventTime: duration(u.endMs) }, 0);
    if (cfg?.enableVoiceActivityEvents)
      this.send({ speechEventType: 'SPEECH_ACTIVITY_END', speechEventTime: duration(u.endMs) }, 0);
    this.send(
      {
        results: [
          {
            alternatives: [{ transcript, confidence: 0.92 }],
            isFinal: true,
            stability: 0,
            resultEndTime: duration(u.endMs),
            languageCode: this.lang(),
          },
        ],
      },
      this.o.finalDelayMs,
      () =>
        this.emit({
          type: 'final',
          stream: this.record.index,
          utterance: u.index,
          transcript,
          audioMs,
          resultEndMs: u.endMs,
        }),
    );
    if (cfg?.singleUtterance) this.deaf = true; // Google stops recognising after the one utterance
  }

  private checkLimits(): void {
    const o = this.o;
    const failN = o.failStreamCount ?? Infinity;
    if (
      o.failStreamAfterAudioMs !== undefined &&
      this.record.index < failN &&
      this.record.audioMs >= o.failStreamAfterAudioMs
    ) {
      this.finish({ code: o.failCode, details: o.failDetails });
    } else if (this.record.audioMs > o.maxStreamAudioMs) {
      this.finish({ code: OUT_OF_RANGE, details: STREAM_LIMIT_DETAILS });
    }
  }

  /** Client half-closed: recognise what is pending (as Google does), then end with OK after queued results. */
  private onHalfClose(): void {
    if (this.record.state !== 'open') return;
    if (!this.deaf && this.utt) this.endUtterance();
    this.finish(undefined);
  }

  /** Queues the end of the stream behind pending results; `fault` undefined means status OK. */
  private finish(fault: GrpcFault | undefined): void {
    if (this.deaf && fault) return; // a terminal status is already queued
    this.deaf = true;
    this.clearIdle();
    this.queue = this.queue.then(() => (fault ? this.fail(fault) : this.close('ended')));
  }

  /** Ends the stream with `fault` now, skipping anything still queued. */
  fail(fault: GrpcFault): void {
    if (this.record.state !== 'open') return;
    this.record.fault = fault;
    this.close('failed');
    // grpc-js turns an 'error' emitted on a server stream into the call's status (code + details).
    this.call.emit('error', fault);
  }

  /** The client (or server shutdown) cancelled the call. */
  cancelled(): void {
    if (this.record.state === 'open') this.close('cancelled');
  }

  private close(state: Exclude<SttStreamState, 'open'>): void {
    if (this.record.state !== 'open') return;
    this.record.state = state;
    this.record.closedAt = Date.now();
    this.deaf = true;
    this.clearIdle();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (state === 'ended') this.call.end();
    this.onGone();
    const f = this.record.fault;
    this.emit({ type: 'closed', stream: this.record.index, state, ...(f ? { code: f.code, details: f.details } : {}) });
  }

  /** Writes `resp` after `delayMs` (wall clock), in order with everything queued before it. */
  private send(resp: Record<string, unknown>, delayMs: number, after?: () => void): void {
    this.queue = this.queue.then(async () => {
      if (delayMs > 0) await this.sleep(delayMs);
      if (this.record.state !== 'open') return;
      if (resp['results']) this.record.results++;
      this.call.write(resp);
      after?.();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private armIdle(): void {
    this.clearIdle();
    this.idle = setTimeout(() => this.fail({ code: OUT_OF_RANGE, details: IDLE_DETAILS }), this.o.idleTimeoutMs);
    this.idle.unref(); // a forgotten stream must not keep a test process alive
  }

  private clearIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** Audio time of the end of the last complete window. */
  private audioNow(): number {
    return this.windows * WINDOW_MS;
  }

  /** Google reports the language code lower-cased. */
  private lang(): string {
    return (this.record.config?.config?.languageCode ?? '').toLowerCase();
  }
}

/** Root mean square of PCM16 samples. */
function rms(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  return pcm.length ? Math.sqrt(sum / pcm.length) : 0;
}

/** A google.protobuf.Duration for `ms` of audio. */
function duration(ms: number): { seconds: number; nanos: number } {
  const whole = Math.floor(ms);
  return { seconds: Math.floor(whole / 1000), nanos: (whole % 1000) * 1e6 };
}

/** Drops undefined values so they do not override the defaults in a spread. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
