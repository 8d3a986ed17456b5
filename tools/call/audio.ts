/**
 * Caller audio for the call simulator: whatever file the user has, as the 8 kHz μ-law Twilio would
 * carry. WAV at any rate, mono or multichannel, PCM (8/16/24/32-bit), 32-bit float or μ-law; or raw
 * headerless μ-law by extension (`.ulaw`, `.mulaw`, `.ul`, `.raw`).
 *
 *   bytes ─ parseWav ─▶ samples per channel ─ average ─▶ mono ─ resample ─▶ 8 kHz ─ pcm16ToMulaw ─▶ μ-law
 *
 * 8 kHz mono μ-law WAVs are passed through untouched, so a recording made from a real call is replayed
 * bit for bit.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { mulawDecodeSample, pcm16ToMulaw } from '../../media/audio/mulaw.ts';
import { parseWav, WAV_FORMAT, WavError } from '../../media/audio/wav.ts';
import type { WavInfo } from '../../media/audio/wav.ts';
import { resample } from '../../media/audio/resample.ts';

/** Twilio's media rate. */
export const TWILIO_RATE = 8000;

const RAW_MULAW_EXTENSIONS = new Set(['.ulaw', '.mulaw', '.ul', '.raw']);
const WAVE_FORMAT_IEEE_FLOAT = 3;

/** The audio file cannot be used: missing, empty, not a format we read, or a broken WAV. Message says why. */
export class AudioInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AudioInputError';
  }
}

/**
 * Reads a caller audio file and returns it as raw 8 kHz μ-law.
 * @throws AudioInputError when the file cannot be read or decoded.
 */
export async function loadCallerAudio(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AudioInputError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return callerAudioFromBytes(bytes, path);
}

/**
 * Converts file contents to raw 8 kHz μ-law. A RIFF/WAVE signature wins over the extension; otherwise
 * `.ulaw`/`.mulaw`/`.ul`/`.raw` mean headerless μ-law and anything else is refused.
 * @param name the file name, for its extension and for error messages.
 * @throws AudioInputError for empty input, an unknown type, or a WAV that is broken, unsupported or empty.
 */
export function callerAudioFromBytes(bytes: Buffer, name: string): Buffer {
  if (bytes.length === 0) throw new AudioInputError(`${name} is empty`);
  const ext = extname(name).toLowerCase();
  const riff = bytes.length >= 4 && bytes.toString('latin1', 0, 4) === 'RIFF';
  if (riff || ext === '.wav') return wavToMulaw8k(bytes, name);
  if (RAW_MULAW_EXTENSIONS.has(ext)) return Buffer.from(bytes);
  throw new AudioInputError(
    `${name}: unknown audio type "${ext || '(no extension)'}"; use a .wav file or raw 8 kHz μ-law (.ulaw, .raw)`,
  );
}

/**
 * Decodes a WAV file to raw 8 kHz mono μ-law (channels averaged, rate converted).
 * @throws AudioInputError when the WAV is broken, holds no whole sample frame, or uses an unsupported format.
 */
export function wavToMulaw8k(bytes: Buffer, name = 'WAV'): Buffer {
  let wav: WavInfo;
  try {
    wav = parseWav(bytes);
  } catch (err) {
    if (err instanceof WavError)
      throw new AudioInputError(`${name}: not a usable WAV file (${err.code}: ${err.message})`);
    throw err;
  }
  const { formatTag, channels, sampleRate } = wav;
  if (channels < 1 || sampleRate < 1)
    throw new AudioInputError(`${name}: WAV declares ${channels} channels at ${sampleRate} Hz`);
  if (formatTag === WAV_FORMAT.MULAW && channels === 1 && sampleRate === TWILIO_RATE) {
    return Buffer.from(wav.data); // already what Twilio carries: keep it bit-exact
  }
  const mono = resample(decodeToMono(wav, name), sampleRate, TWILIO_RATE);
  if (mono.length === 0) throw new AudioInputError(`${name}: WAV holds no audio`);
  const pcm = new Int16Array(mono.length);
  for (let i = 0; i < mono.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(mono[i]!)));
  return pcm16ToMulaw(pcm);
}

/** One sample reader per supported encoding, returning PCM16-scale values. */
function sampleReader(formatTag: number, bits: number): ((data: Buffer, offset: number) => number) | undefined {
  if (formatTag === WAV_FORMAT.PCM) {
    if (bits === 8) return (d, o) => (d[o]! - 128) * 256; // 8-bit WAV is unsigned
    if (bits === 16) return (d, o) => d.readInt16LE(o);
    if (bits === 24) return (d, o) => d.readIntLE(o, 3) / 256;
    if (bits === 32) return (d, o) => d.readInt32LE(o) / 65536;
  }
  if (formatTag === WAVE_FORMAT_IEEE_FLOAT && bits === 32) return (d, o) => d.readFloatLE(o) * 32768;
  if (formatTag === WAV_FORMAT.MULAW && bits === 8) return (d, o) => mulawDecodeSample(d[o]!);
  return undefined;
}

/** Decodes interleaved samples and averages the channels of each frame into one mono sample. */
export function decodeToMono(wav: WavInfo, name = 'WAV'): Float32Array {
  const { formatTag, channels, bitsPerSample, data } = wav;
  const read = sampleReader(formatTag, bitsPerSample);
  if (read === undefined) {
    throw new AudioInputError(
      `${name}: unsupported WAV encoding (format tag ${formatTag}, ${bitsPerSample} bits); use PCM 8/16/24/32-bit, 32-bit float or μ-law`,
    );
  }
  const bytesPerSample = bitsPerSample / 8;
  const frameBytes = bytesPerSample * channels;
  const frames = Math.floor(data.length / frameBytes);
  if (frames === 0) throw new AudioInputError(`${name}: WAV holds no audio`);
  const mono = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(data, f * frameBytes + c * bytesPerSample);
    mono[f] = sum / channels;
  }
  return mono;
}
