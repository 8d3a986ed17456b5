/**
 * The sound of the TTS emulator: a deterministic tone per text (same text, same bytes), or real
 * Hebrew from espeak-ng when asked for and installed, encoded as Google encodes it.
 *
 * Unary MULAW and LINEAR16 answers are RIFF/WAVE files with `fact` and `LIST` chunks between `fmt `
 * and `data` (Google documents a WAV header for them without saying how big), so a client that
 * assumes a 44-byte header hears a click in tests too. PCM is headerless. Streamed audio is
 * headerless unless a header is asked for (whether Google adds one to streamed MULAW is UNCONFIRMED).
 */
import { execFile, execFileSync } from 'node:child_process';
import { pcm16ToMulaw } from '../../media/audio/mulaw.ts';
import { buildWav, parseWav, WAV_FORMAT } from '../../media/audio/wav.ts';

/** Options of {@link fakeTtsAudio}; the emulator uses the same ones. */
export interface FakeTtsAudioOptions {
  /** Duration per character (code point) of input text. Default 60. */
  msPerChar?: number;
  /** Output sample rate. Default 8000. */
  sampleRateHertz?: number;
  /** Google's `speakingRate`: the duration is divided by it (0 means 1). Default 1. */
  speakingRate?: number;
}

/**
 * The μ-law bytes the emulator speaks for `text` (8 kHz unless told otherwise):
 * max(200, msPerChar × code points) ÷ speakingRate ms of a tone whose pitch (220–660 Hz) is a hash of the text,
 * peak ≈ −12 dBFS with a 4 Hz syllable-like swell and 10 ms fades. Deterministic.
 */
export function fakeTtsAudio(text: string, opts: FakeTtsAudioOptions = {}): Buffer {
  return pcm16ToMulaw(tonePcm(text, opts));
}

/** The tone of {@link fakeTtsAudio} as PCM16. */
export function tonePcm(text: string, opts: FakeTtsAudioOptions): Int16Array {
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

/** What makes the sound: the tone, or espeak-ng (sox resamples when present). */
export interface SpeechEngine {
  /** True when espeak-ng was asked for and found. */
  readonly espeak: boolean;
  /** PCM16 for `text` at `rate`, and which engine made it (espeak falls back to the tone on failure). */
  speak(text: string, rate: number, tone: FakeTtsAudioOptions): Promise<{ pcm: Int16Array; engine: 'tone' | 'espeak' }>;
}

/** An engine for the emulator's `voice` option: 'tone', or 'espeak' when espeak-ng is on PATH. */
export function speechEngine(kind: 'tone' | 'espeak' | undefined): SpeechEngine {
  const espeak = kind === 'espeak' && onPath('espeak-ng');
  const sox = espeak && onPath('sox');
  return {
    espeak,
    async speak(text, rate, tone) {
      const pcm = espeak ? await espeakPcm(text, rate, sox).catch(() => undefined) : undefined;
      if (pcm) return { pcm, engine: 'espeak' };
      return { pcm: tonePcm(text, { ...tone, sampleRateHertz: rate }), engine: 'tone' };
    },
  };
}

/** Headerless audio in `encoding` ('MULAW' or 'PCM'/'LINEAR16' as 16-bit little-endian). */
export function rawAudio(pcm: Int16Array, encoding: string): Buffer {
  if (encoding === 'MULAW') return pcm16ToMulaw(pcm);
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength); // little-endian hosts only, like Node's targets
}

/** Bytes per ms of audio in `encoding` at `rate`. */
export function bytesPerMs(encoding: string, rate: number): number {
  return ((encoding === 'MULAW' ? 1 : 2) * rate) / 1000;
}

/** A unary answer: PCM headerless, MULAW and LINEAR16 wrapped in a WAV with `fact` and `LIST` chunks. */
export function unaryAudio(pcm: Int16Array, encoding: string, rate: number): Buffer {
  const data = rawAudio(pcm, encoding);
  if (encoding === 'PCM') return Buffer.from(data);
  const fact = Buffer.alloc(4);
  fact.writeUInt32LE(pcm.length);
  return buildWav(data, wavFormat(encoding, rate), {
    extraChunks: [
      { id: 'fact', body: fact },
      { id: 'LIST', body: listInfo('fake-tts') },
    ],
  });
}

/**
 * A WAV header for streamed audio: everything up to and including the `data` chunk header, whose
 * size is 0xFFFFFFFF ("unknown length", as streaming writers mark it). Audio bytes follow it.
 */
export function streamingWavHeader(encoding: string, rate: number): Buffer {
  const wav = buildWav(Buffer.alloc(0), wavFormat(encoding, rate), {
    extraChunks: [{ id: 'LIST', body: listInfo('fake-tts') }],
  });
  wav.writeUInt32LE(0xffffffff, 4);
  wav.writeUInt32LE(0xffffffff, wav.length - 4);
  return wav;
}

function wavFormat(encoding: string, rate: number) {
  return encoding === 'MULAW'
    ? { formatTag: WAV_FORMAT.MULAW, channels: 1, sampleRate: rate, bitsPerSample: 8 }
    : { formatTag: WAV_FORMAT.PCM, channels: 1, sampleRate: rate, bitsPerSample: 16 };
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
  return resampleLinear(src, parsed.sampleRate, rate);
}

/** Linear-interpolation resampling; crude (no low-pass) but adequate for a demo voice. */
function resampleLinear(src: Int16Array, from: number, to: number): Int16Array {
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

/** 32-bit FNV-1a over the UTF-8 bytes: a stable, dependency-free text hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}
