/**
 * A wire-level fake of Google Text-to-Speech v1 (`SynthesizeSpeech`, `ListVoices`), served over real
 * gRPC from the protos bundled in `@google-cloud/text-to-speech`, so the real `TextToSpeechClient`
 * can be pointed at it.
 *
 * MULAW and LINEAR16 answers are RIFF/WAVE files with `fact` and `LIST` chunks between `fmt ` and
 * `data` (as Google documents a WAV header for them), so a caller that assumes a 44-byte header
 * hears a click in tests too. The audio is a tone derived from the text: same text, same bytes.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';
import { grpc } from 'google-gax';
import type { protos } from '@google-cloud/text-to-speech';
import { pcm16ToMulaw } from '../../media/audio/mulaw.ts';
import { buildWav, parseWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import type { GrpcFault } from './google-stt.ts';

type SynthesizeRequest = protos.google.cloud.texttospeech.v1.ISynthesizeSpeechRequest;

/** Options of {@link fakeTtsAudio}; the fake server uses the same ones. */
export interface FakeTtsAudioOptions {
  /** Duration per character (code point) of input text. Default 60. */
  msPerChar?: number;
  /** Output sample rate. Default 8000. */
  sampleRateHertz?: number;
  /** Google's `speakingRate`: the duration is divided by it (0 means 1). Default 1. */
  speakingRate?: number;
}

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
  /** Wall-clock wait before every answer (errors included); a function gets the request text. Default 0. */
  latencyMs?: number | ((text: string) => number);
  /** Inspect each request (0-based `index`); returning a fault answers it instead of audio. */
  fail?: (req: SynthesizeRequest, index: number) => GrpcFault | undefined;
}

/** What the fake recorded about one SynthesizeSpeech request. */
export interface FakeTtsRequest {
  index: number;
  /** `input.text`, else `input.ssml`, else `input.markup`. */
  text: string;
  voice: SynthesizeRequest['voice'];
  audioConfig: SynthesizeRequest['audioConfig'];
  /** Date.now() on arrival. */
  at: number;
  /** Status answered: 0 for audio, else the gRPC code. Undefined while the answer is pending. */
  code?: number;
  /** How the audio was made, when it was. */
  engine?: 'tone' | 'espeak';
}

/** A running fake. */
export interface FakeTts {
  /** "127.0.0.1:PORT". */
  readonly address: string;
  readonly port: number;
  /** Every SynthesizeSpeech request in arrival order. */
  readonly requests: FakeTtsRequest[];
  /** True when 'espeak' was asked for and espeak-ng was found. */
  readonly espeak: boolean;
  /** Answers the next `count` requests (default 1) with `code`/`details`, before `opts.fail` is consulted. */
  failNext(code: number, details: string, count?: number): void;
  /** Force-shuts the server down; pending answers are dropped. Idempotent, never hangs. */
  close(): Promise<void>;
}

const INVALID_ARGUMENT = 3;
/** Google's documented per-request input limit, in UTF-8 bytes. */
const MAX_INPUT_BYTES = 5000;
const TOO_LONG_DETAILS =
  'Either `input.text` or `input.ssml` is longer than the limit of 5000 bytes. This limit is different from quotas. ' +
  'To fix, reduce the byte length of the characters in this request, or consider using the Long Audio API.';
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

const HEBREW_VOICES = ['A', 'B', 'C', 'D'].flatMap((v, i) =>
  ['Standard', 'Wavenet'].map((family) => ({
    languageCodes: ['he-IL'],
    name: `he-IL-${family}-${v}`,
    ssmlGender: i % 2 ? 'MALE' : 'FEMALE',
    naturalSampleRateHertz: NATURAL_RATE,
  })),
);

/**
 * The μ-law bytes the fake puts in the WAV `data` chunk for `text` (8 kHz unless told otherwise):
 * max(200, msPerChar × code points) ÷ speakingRate ms of a tone whose pitch (220–660 Hz) is a hash of the text,
 * peak ≈ −12 dBFS with a 4 Hz syllable-like swell and 10 ms fades. Deterministic.
 */
export function fakeTtsAudio(text: string, opts: FakeTtsAudioOptions = {}): Buffer {
  return pcm16ToMulaw(tonePcm(text, opts));
}

function tonePcm(text: string, opts: FakeTtsAudioOptions): Int16Array {
  const rate = opts.sampleRateHertz ?? 8000;
  const ms = Math.max(200, (opts.msPerChar ?? 60) * Array.from(text).length) / (opts.speakingRate || 1);
  const n = Math.round((ms * rate) / 1000);
  const freq = 220 + (fnv1a(text) % 441);
  const fade = Math.max(1, Math.round(rate / 100));
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const edge = Math.min(1, i / fade, (n - 1 - i) / fade);
    const swell = 0.7 + 0.3 * Math.sin(2 * Math.PI * 4 * t);
    pcm[i] = Math.round(8000 * edge * swell * Math.sin(2 * Math.PI * freq * t));
  }
  return pcm;
}

/** Starts the fake on `opts.host:opts.port` (default 127.0.0.1, ephemeral port). */
export async function startFakeTts(opts: FakeTtsOptions = {}): Promise<FakeTts> {
  const requests: FakeTtsRequest[] = [];
  const queued: GrpcFault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const tools =
    opts.voice === 'espeak' ? { espeak: onPath('espeak-ng'), sox: onPath('sox') } : { espeak: false, sox: false };

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
      const latency = typeof opts.latencyMs === 'function' ? opts.latencyMs(rec.text) : (opts.latencyMs ?? 0);
      const answer = (): void => {
        respond(r, rec).then(
          (audio) => {
            rec.code = 0;
            callback(null, { audioContent: audio });
          },
          (e: unknown) => {
            // A thrown non-fault is a bug in the fake: answer INTERNAL rather than leave the caller waiting.
            const fault = isFault(e) ? e : { code: 13, details: `fake TTS internal error: ${String(e)}` };
            rec.code = fault.code;
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
    },
    ListVoices(call: grpc.ServerUnaryCall<{ languageCode?: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const lang = call.request.languageCode?.toLowerCase();
      callback(null, {
        voices: HEBREW_VOICES.filter((v) => !lang || v.languageCodes.some((c) => c.toLowerCase().startsWith(lang))),
      });
    },
  });

  /** Resolves with `audioContent`, or rejects with the fault to answer. */
  async function respond(r: SynthesizeRequest, rec: FakeTtsRequest): Promise<Buffer> {
    const fault = queued.shift() ?? opts.fail?.(r, rec.index) ?? validate(r);
    if (fault) throw fault;
    const cfg = r.audioConfig ?? {};
    const rate = cfg.sampleRateHertz || NATURAL_RATE;
    const spoken = r.input?.ssml ? r.input.ssml.replace(/<[^>]*>/g, '') : rec.text;
    let pcm: Int16Array | undefined;
    if (tools.espeak) pcm = await espeakPcm(spoken, rate, tools.sox).catch(() => undefined);
    rec.engine = pcm ? 'espeak' : 'tone';
    pcm ??= tonePcm(spoken, {
      msPerChar: opts.msPerChar,
      speakingRate: cfg.speakingRate ?? undefined,
      sampleRateHertz: rate,
    });
    return encode(pcm, String(cfg.audioEncoding), rate);
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
    espeak: tools.espeak,
    failNext(code, details, count = 1) {
      for (let i = 0; i < count; i++) queued.push({ code, details });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.forceShutdown();
    },
  };
}

/** The checks Google makes that a client can trip over; messages paraphrase Google's. */
function validate(r: SynthesizeRequest): GrpcFault | undefined {
  const bad = (details: string): GrpcFault => ({ code: INVALID_ARGUMENT, details });
  const input = r.input;
  const text = input?.text || input?.ssml || input?.markup || '';
  if (!text) return bad('Either `input.text` or `input.ssml` must be set.');
  if (Buffer.byteLength(text, 'utf8') > MAX_INPUT_BYTES) return bad(TOO_LONG_DETAILS);
  if (!r.voice?.languageCode) return bad('Voice language code must be set.');
  const enc = String(r.audioConfig?.audioEncoding ?? 'AUDIO_ENCODING_UNSPECIFIED');
  if (enc === 'AUDIO_ENCODING_UNSPECIFIED') return bad('AudioConfig.audio_encoding must be set.');
  if (!['MULAW', 'LINEAR16', 'PCM'].includes(enc))
    return bad(`The fake synthesizer supports MULAW, LINEAR16 and PCM, not ${enc}.`);
  const rate = r.audioConfig?.sampleRateHertz ?? 0;
  if (rate !== 0 && (rate < 8000 || rate > 48000)) return bad(`Unsupported sample rate ${rate} Hz for ${enc}.`);
  return undefined;
}

/** Wraps PCM16 the way Google does for each supported encoding. */
function encode(pcm: Int16Array, encoding: string, rate: number): Buffer {
  const le = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength); // little-endian hosts only, like Node's targets
  if (encoding === 'PCM') return Buffer.from(le); // documented as headerless
  const mulaw = encoding === 'MULAW';
  const data = mulaw ? pcm16ToMulaw(pcm) : le;
  const fmt = mulaw
    ? { formatTag: WAV_FORMAT.MULAW, channels: 1, sampleRate: rate, bitsPerSample: 8 }
    : { formatTag: WAV_FORMAT.PCM, channels: 1, sampleRate: rate, bitsPerSample: 16 };
  const fact = Buffer.alloc(4);
  fact.writeUInt32LE(pcm.length);
  return buildWav(data, fmt, {
    extraChunks: [
      { id: 'fact', body: fact },
      { id: 'LIST', body: listInfo('fake-tts') },
    ],
  });
}

/** A LIST/INFO chunk body with one ISFT (software) entry, as encoders like ffmpeg write. */
function listInfo(software: string): Buffer {
  const value = Buffer.from(`${software}\0`, 'ascii');
  const padded = Buffer.concat([value, Buffer.alloc(value.length & 1)]);
  const head = Buffer.alloc(12);
  head.write('INFO', 0, 'ascii');
  head.write('ISFT', 4, 'ascii');
  head.writeUInt32LE(value.length, 8);
  return Buffer.concat([head, padded]);
}

/** Hebrew speech from espeak-ng as PCM16 at `rate` (sox resamples when present, else linear interpolation). */
async function espeakPcm(text: string, rate: number, sox: boolean): Promise<Int16Array> {
  const wav = await run('espeak-ng', ['-v', 'he', '--stdout', text]);
  if (sox) {
    const raw = await run(
      'sox',
      ['-t', 'wav', '-', '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', String(rate), '-'],
      wav,
    );
    return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + (raw.length & ~1)));
  }
  const parsed = parseWav(wav);
  const src = new Int16Array(
    parsed.data.buffer.slice(parsed.data.byteOffset, parsed.data.byteOffset + (parsed.data.length & ~1)),
  );
  return resample(src, parsed.sampleRate, rate);
}

/** Linear-interpolation resampling; crude (no low-pass) but adequate for a demo voice. */
function resample(src: Int16Array, from: number, to: number): Int16Array {
  if (from === to || src.length === 0) return src;
  const out = new Int16Array(Math.round((src.length * to) / from));
  for (let i = 0; i < out.length; i++) {
    const pos = (i * from) / to;
    const k = Math.floor(pos);
    const a = src[k] ?? 0;
    const b = src[k + 1] ?? a;
    out[i] = Math.round(a + (b - a) * (pos - k));
  }
  return out;
}

function run(cmd: string, args: string[], stdin?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 10_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
    if (stdin) child.stdin?.end(stdin);
  });
}

function onPath(cmd: string): boolean {
  try {
    execFileSync('which', [cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // `which` exits non-zero when the command is missing: that is the answer, not an error
  }
}

function isFault(e: unknown): e is GrpcFault {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as GrpcFault).code === 'number' &&
    typeof (e as GrpcFault).details === 'string'
  );
}

/** 32-bit FNV-1a over the UTF-8 bytes: a stable, dependency-free text hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}
