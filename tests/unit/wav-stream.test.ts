import {
  MAX_WAV_DATA_BYTES,
  STREAM_HEADER_BYTES,
  UNKNOWN_WAV_SIZE,
  interleavePcm16,
  streamingWavHeader,
  wavFinishPatches,
} from '../../media/audio/wav-stream.ts';
import { WAV_FORMAT, parseWav } from '../../media/audio/wav.ts';

/** A file as a streaming writer leaves it: header, samples, then the patches applied. */
function finished(data: Buffer, channels = 2, rate = 8000): Buffer {
  const file = Buffer.concat([streamingWavHeader(channels, rate), data, Buffer.alloc(1)]);
  let end = STREAM_HEADER_BYTES + data.length;
  for (const p of wavFinishPatches(data.length)) {
    p.bytes.copy(file, p.offset);
    end = Math.max(end, p.offset + p.bytes.length);
  }
  return file.subarray(0, end);
}

describe('streamingWavHeader', () => {
  it('is a 44-byte PCM16 header whose sizes say "unknown", readable to the end of the file', () => {
    const header = streamingWavHeader(2, 8000);
    expect(header.length).toBe(STREAM_HEADER_BYTES);
    expect(header.readUInt32LE(4)).toBe(UNKNOWN_WAV_SIZE);
    expect(header.readUInt32LE(40)).toBe(UNKNOWN_WAV_SIZE);
    expect(header.readUInt32LE(28)).toBe(32000); // byte rate: 8000 frames × 2 channels × 2 bytes
    expect(header.readUInt16LE(32)).toBe(4); // block align
    const samples = Buffer.from([1, 0, 2, 0, 3, 0, 4, 0]);
    const partial = parseWav(Buffer.concat([header, samples])); // a file cut short before close
    expect(partial).toMatchObject({ formatTag: WAV_FORMAT.PCM, channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    expect(partial.data).toEqual(samples);
  });

  it('refuses formats it cannot describe', () => {
    expect(() => streamingWavHeader(0, 8000)).toThrow(RangeError);
    expect(() => streamingWavHeader(2, 0)).toThrow(RangeError);
    expect(() => streamingWavHeader(2, 8000.5)).toThrow(RangeError);
  });
});

describe('wavFinishPatches', () => {
  it('declares the exact sizes, so a reader stops at the end of the data', () => {
    const data = Buffer.alloc(4 * 100, 7);
    const file = Buffer.concat([finished(data), Buffer.from('trailing junk')]);
    expect(file.readUInt32LE(4)).toBe(STREAM_HEADER_BYTES - 8 + data.length);
    expect(file.readUInt32LE(40)).toBe(data.length);
    const wav = parseWav(file);
    expect(wav.data).toEqual(data);
    expect(wav.channels).toBe(2);
  });

  it('declares an empty file as empty', () => {
    const wav = parseWav(finished(Buffer.alloc(0)));
    expect(wav.data.length).toBe(0);
  });

  it('adds the pad byte after odd-length data and counts it in the RIFF size', () => {
    const patches = wavFinishPatches(3);
    expect(patches).toContainEqual({ offset: STREAM_HEADER_BYTES + 3, bytes: Buffer.alloc(1) });
    const file = finished(Buffer.from([9, 9, 9]), 1, 8000);
    expect(file.length).toBe(STREAM_HEADER_BYTES + 4);
    expect(file.readUInt32LE(4)).toBe(file.length - 8);
    expect(parseWav(file).data).toEqual(Buffer.from([9, 9, 9]));
  });

  it('refuses sizes a WAV cannot declare', () => {
    expect(() => wavFinishPatches(-1)).toThrow(RangeError);
    expect(() => wavFinishPatches(1.5)).toThrow(RangeError);
    expect(() => wavFinishPatches(MAX_WAV_DATA_BYTES + 1)).toThrow(RangeError);
    expect(wavFinishPatches(MAX_WAV_DATA_BYTES)[0]!.bytes.readUInt32LE(0)).toBeLessThanOrEqual(0xffffffff);
  });
});

describe('interleavePcm16', () => {
  it('puts left then right in each frame, little-endian, full range kept', () => {
    const out = interleavePcm16(Int16Array.from([1, -32768, 32767]), Int16Array.from([-2, 256, 0]));
    expect([...new Int16Array(out.buffer, out.byteOffset, out.length / 2)]).toEqual([1, -2, -32768, 256, 32767, 0]);
    expect(out.subarray(0, 4)).toEqual(Buffer.from([0x01, 0x00, 0xfe, 0xff]));
  });

  it('refuses channels of different lengths', () => {
    expect(() => interleavePcm16(new Int16Array(2), new Int16Array(3))).toThrow(RangeError);
  });
});
