/**
 * Framing of a PCM16 WAV file that is written while its audio is still coming (a call recording):
 * pure functions over buffers, no I/O. The file is the canonical 44-byte header, then samples:
 *
 *   0 "RIFF" <riff size>  8 "WAVE"  12 "fmt " 16 <PCM, channels, rate, byte rate, block align, 16>
 *   36 "data" <data size>  44 <interleaved little-endian samples…> [pad byte if the data is odd]
 *
 * The header goes out first with both sizes set to 0xFFFFFFFF ("unknown length": parseWav and
 * common players read such a data chunk to the end of the file, so a file cut short by a crash
 * still plays), and the two sizes are patched in place once the length is known.
 */
import { WAV_FORMAT, buildWav } from './wav.ts';

/** Bytes before the first sample of a streamed PCM16 WAV. */
export const STREAM_HEADER_BYTES = 44;
/** The size both placeholders hold until the file is finished. */
export const UNKNOWN_WAV_SIZE = 0xffffffff;
/** The most sample bytes a WAV can declare: the RIFF size (36 + data + pad) must fit in 32 bits. */
export const MAX_WAV_DATA_BYTES = 0xffffffff - 37;

const RIFF_SIZE_OFFSET = 4;
const DATA_SIZE_OFFSET = 40;

/**
 * The 44-byte header of a PCM16 WAV with `channels` and `sampleRate`, sizes left unknown.
 * Throws RangeError for a channel count outside 1..65535 or a rate that is not a positive integer.
 */
export function streamingWavHeader(channels: number, sampleRate: number): Buffer {
  if (!Number.isInteger(channels) || channels < 1 || channels > 0xffff) {
    throw new RangeError(`channels must be an integer from 1 to 65535, got ${channels}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate * channels * 2 > 0xffffffff) {
    throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  }
  const header = buildWav(Buffer.alloc(0), { formatTag: WAV_FORMAT.PCM, channels, sampleRate, bitsPerSample: 16 });
  header.writeUInt32LE(UNKNOWN_WAV_SIZE, RIFF_SIZE_OFFSET);
  header.writeUInt32LE(UNKNOWN_WAV_SIZE, DATA_SIZE_OFFSET);
  return header;
}

/** Bytes to write at `offset` of the file. */
export interface WavPatch {
  offset: number;
  bytes: Buffer;
}

/**
 * What finishes a streamed WAV holding `dataBytes` of samples: the RIFF and data sizes, and the
 * pad byte the spec wants after odd-length data. Throws RangeError when `dataBytes` is negative,
 * fractional or above MAX_WAV_DATA_BYTES.
 */
export function wavFinishPatches(dataBytes: number): WavPatch[] {
  if (!Number.isInteger(dataBytes) || dataBytes < 0 || dataBytes > MAX_WAV_DATA_BYTES) {
    throw new RangeError(`data size must be an integer from 0 to ${MAX_WAV_DATA_BYTES}, got ${dataBytes}`);
  }
  const pad = dataBytes & 1;
  const u32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v, 0);
    return b;
  };
  const patches = [
    { offset: RIFF_SIZE_OFFSET, bytes: u32(STREAM_HEADER_BYTES - 8 + dataBytes + pad) },
    { offset: DATA_SIZE_OFFSET, bytes: u32(dataBytes) },
  ];
  if (pad) patches.push({ offset: STREAM_HEADER_BYTES + dataBytes, bytes: Buffer.alloc(1) });
  return patches;
}

/**
 * Interleaves two PCM16 channels into little-endian stereo frames (left, right, left, …).
 * Throws RangeError when the channels differ in length.
 */
export function interleavePcm16(left: Int16Array, right: Int16Array): Buffer {
  if (left.length !== right.length) {
    throw new RangeError(`channels differ in length: ${left.length} and ${right.length} samples`);
  }
  const out = Buffer.allocUnsafe(left.length * 4);
  for (let i = 0; i < left.length; i++) {
    out.writeInt16LE(left[i]!, i * 4);
    out.writeInt16LE(right[i]!, i * 4 + 2);
  }
  return out;
}
