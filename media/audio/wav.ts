/**
 * RIFF/WAVE reading and writing, enough for telephony audio.
 *
 * Google TTS wraps LINEAR16/MULAW/ALAW output in a WAV header whose exact size is not
 * documented (providers.md §2.3), and Twilio needs the raw payload, so the reader walks the
 * chunk list instead of assuming a 44-byte header. It is lenient where real files are sloppy:
 *
 *   RIFF <size> WAVE | "fmt " <n> … [pad] | any other chunks … [pad] | "data" <n> <payload>
 *
 * - the RIFF size is not used to find chunks (streaming writers leave it 0 or 0xFFFFFFFF), only
 *   to tell a file cut off before its data chunk (WAV_TRUNCATED) from one without (WAV_NO_DATA);
 * - chunks of odd length are followed by one pad byte (the spec's word alignment);
 * - a fmt chunk may be longer than 16 bytes (cbSize and extensions are skipped);
 * - a data size of 0xFFFFFFFF, or any size past the end of the buffer, means "to the end".
 */

/** Format tags used by telephony audio (WAVE_FORMAT_PCM and WAVE_FORMAT_MULAW). */
export const WAV_FORMAT = { PCM: 1, MULAW: 7 } as const;

/** The fields of a fmt chunk that matter for playback; see WAV_FORMAT for formatTag values. */
export interface WavFormat {
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

/** A parsed WAV: its format and the data chunk's bytes (a view sharing memory with the input). */
export interface WavInfo extends WavFormat {
  data: Buffer;
}

type WavErrorCode = 'WAV_NOT_RIFF' | 'WAV_NO_FMT' | 'WAV_NO_DATA' | 'WAV_TRUNCATED';

/**
 * Why a buffer could not be read as WAV. Codes:
 * - WAV_NOT_RIFF: no "RIFF….WAVE" signature (wavPayload treats such input as headerless audio);
 * - WAV_NO_FMT: no usable fmt chunk (missing, or shorter than 16 bytes);
 * - WAV_NO_DATA: no data chunk;
 * - WAV_TRUNCATED: the buffer ends before fmt and data were both found: inside the signature,
 *   a chunk header or a chunk that precedes them, or short of the size the RIFF header declares.
 */
export class WavError extends Error {
  readonly code: WavErrorCode;
  constructor(code: WavErrorCode, message: string) {
    super(message);
    this.name = 'WavError';
    this.code = code;
  }
}

const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const FMT_MIN = 16;

function hasSignature(buf: Buffer): boolean {
  return buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WAVE';
}

function readFmt(body: Buffer): WavFormat {
  let formatTag = body.readUInt16LE(0);
  // WAVE_FORMAT_EXTENSIBLE keeps the real tag in the first two bytes of its SubFormat GUID
  // (offset 24, present when cbSize >= 22); report that so callers check one field.
  if (formatTag === WAVE_FORMAT_EXTENSIBLE && body.length >= 26) formatTag = body.readUInt16LE(24);
  return {
    formatTag,
    channels: body.readUInt16LE(2),
    sampleRate: body.readUInt32LE(4),
    bitsPerSample: body.readUInt16LE(14),
  };
}

/**
 * Parses a RIFF/WAVE buffer: the first fmt chunk's format and the first data chunk's bytes.
 * Chunks may come in any order. Does not copy: `data` is a subarray of `buf`.
 * Throws WavError (see its codes); never returns a format it could not read.
 */
export function parseWav(buf: Buffer): WavInfo {
  if (!hasSignature(buf)) {
    if (buf.length < 12 && buf.length >= 4 && buf.toString('latin1', 0, 4) === 'RIFF') {
      throw new WavError('WAV_TRUNCATED', `RIFF header cut off after ${buf.length} bytes`);
    }
    throw new WavError('WAV_NOT_RIFF', 'not a RIFF/WAVE buffer');
  }
  let fmt: WavFormat | undefined;
  let data: Buffer | undefined;
  let pos = 12;
  while (pos < buf.length && (fmt === undefined || data === undefined)) {
    if (pos + 8 > buf.length) {
      throw new WavError('WAV_TRUNCATED', `chunk header cut off at byte ${pos}`);
    }
    const id = buf.toString('latin1', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    const available = buf.length - body;
    if (id === 'data') {
      // Take the first data chunk only; a size past the end (including the 0xFFFFFFFF
      // "unknown length" marker) means the payload runs to the end of the buffer, which
      // also ends the walk.
      if (data === undefined) data = buf.subarray(body, body + Math.min(size, available));
    } else {
      if (id === 'fmt ' && fmt === undefined) {
        if (size < FMT_MIN) throw new WavError('WAV_NO_FMT', `fmt chunk of ${size} bytes, need ${FMT_MIN}`);
        if (available < FMT_MIN) throw new WavError('WAV_TRUNCATED', 'fmt chunk cut off');
        fmt = readFmt(buf.subarray(body, body + Math.min(size, available)));
      }
      // A chunk running past the end means whatever we still lack is not in this buffer.
      if (size > available && (fmt === undefined || data === undefined)) {
        throw new WavError('WAV_TRUNCATED', `"${id}" chunk of ${size} bytes runs past the end`);
      }
    }
    pos = body + size + (size & 1);
  }
  if (fmt === undefined || data === undefined) {
    // The RIFF size is only trusted to tell a cut-off file from one that truly lacks a chunk.
    if (8 + buf.readUInt32LE(4) > buf.length) {
      throw new WavError('WAV_TRUNCATED', `RIFF declares ${buf.readUInt32LE(4) + 8} bytes, got ${buf.length}`);
    }
    if (fmt === undefined) throw new WavError('WAV_NO_FMT', 'no fmt chunk');
    throw new WavError('WAV_NO_DATA', 'no data chunk');
  }
  return { ...fmt, data };
}

/**
 * The audio bytes of `buf`: the data chunk if `buf` is RIFF/WAVE, otherwise `buf` itself,
 * unchanged, on the assumption that it is already headerless (e.g. Google's PCM encoding).
 * Throws WavError when `buf` is a WAV but a broken one, rather than play its header as audio.
 */
export function wavPayload(buf: Buffer): Buffer {
  try {
    return parseWav(buf).data;
  } catch (err) {
    if (err instanceof WavError && err.code === 'WAV_NOT_RIFF') return buf;
    throw err;
  }
}

/**
 * Builds a WAV file around `data`. Non-PCM formats get the 18-byte fmt chunk (cbSize = 0) the
 * spec asks for; PCM gets the plain 16-byte one. `extraChunks` (e.g. LIST, fact) are written in
 * order between fmt and data; ids must be 4 ASCII characters (RangeError otherwise). Odd-length
 * chunks, data included, get their pad byte. No fact chunk is added on its own.
 */
export function buildWav(
  data: Buffer,
  fmt: WavFormat,
  opts?: { extraChunks?: Array<{ id: string; body: Buffer }> },
): Buffer {
  const fmtBody = Buffer.alloc(fmt.formatTag === WAV_FORMAT.PCM ? 16 : 18); // cbSize stays 0
  const blockAlign = fmt.channels * Math.ceil(fmt.bitsPerSample / 8);
  fmtBody.writeUInt16LE(fmt.formatTag, 0);
  fmtBody.writeUInt16LE(fmt.channels, 2);
  fmtBody.writeUInt32LE(fmt.sampleRate, 4);
  fmtBody.writeUInt32LE(fmt.sampleRate * blockAlign, 8);
  fmtBody.writeUInt16LE(blockAlign, 12);
  fmtBody.writeUInt16LE(fmt.bitsPerSample, 14);

  const chunks = [{ id: 'fmt ', body: fmtBody }, ...(opts?.extraChunks ?? []), { id: 'data', body: data }];
  const parts: Buffer[] = [Buffer.from('RIFF\0\0\0\0WAVE', 'latin1')];
  for (const { id, body } of chunks) {
    if (!/^[\x20-\x7e]{4}$/.test(id))
      throw new RangeError(`WAV chunk id must be 4 ASCII characters, got ${JSON.stringify(id)}`);
    const header = Buffer.alloc(8);
    header.write(id, 0, 'latin1');
    header.writeUInt32LE(body.length, 4);
    parts.push(header, body);
    if (body.length & 1) parts.push(Buffer.alloc(1));
  }
  const out = Buffer.concat(parts);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}
