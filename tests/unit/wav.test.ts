import { readFileSync } from 'node:fs';
import { WAV_FORMAT, WavError, buildWav, parseWav, wavPayload } from '../../media/audio/wav.ts';
import type { WavFormat } from '../../media/audio/wav.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const MULAW_8K: WavFormat = { formatTag: WAV_FORMAT.MULAW, channels: 1, sampleRate: 8000, bitsPerSample: 8 };
const PCM_16K: WavFormat = { formatTag: WAV_FORMAT.PCM, channels: 1, sampleRate: 16000, bitsPerSample: 16 };

// Hand-rolled writers, independent of buildWav, for inputs buildWav would never produce.
function chunk(id: string, body: Buffer, declaredSize = body.length, pad = body.length % 2 === 1): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(declaredSize, 4);
  return Buffer.concat([header, body, pad ? Buffer.alloc(1) : Buffer.alloc(0)]);
}
function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...chunks]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}
function fmtBody(tag: number, channels: number, rate: number, bits: number, extra = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  return Buffer.concat([b, extra]);
}
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof WavError) return err.code;
    throw err;
  }
  return undefined;
}

const audio = Buffer.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);

describe('buildWav', () => {
  test('writes the canonical 44-byte header for PCM', () => {
    const wav = buildWav(audio, PCM_16K);
    expect(wav.length).toBe(44 + audio.length);
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString('latin1', 8, 16)).toBe('WAVEfmt ');
    expect(wav.readUInt32LE(16)).toBe(16);
    expect(wav.readUInt32LE(28)).toBe(32000); // byte rate
    expect(wav.readUInt16LE(32)).toBe(2); // block align
    expect(wav.toString('latin1', 36, 40)).toBe('data');
    expect(wav.readUInt32LE(40)).toBe(audio.length);
    expect(wav.subarray(44)).toEqual(audio);
  });

  test('gives non-PCM formats an 18-byte fmt chunk with cbSize 0', () => {
    const wav = buildWav(audio, MULAW_8K);
    expect(wav.readUInt32LE(16)).toBe(18);
    expect(wav.readUInt16LE(20)).toBe(WAV_FORMAT.MULAW);
    expect(wav.readUInt16LE(36)).toBe(0);
    expect(wav.toString('latin1', 38, 42)).toBe('data');
  });

  test('places extra chunks between fmt and data, padding odd lengths', () => {
    const list = Buffer.from('INFOISFT\x05\x00\x00\x00test\x00\x00', 'latin1');
    const fact = Buffer.alloc(4);
    fact.writeUInt32LE(6, 0);
    const odd = Buffer.from([1, 2, 3]);
    const wav = buildWav(audio.subarray(0, 5), MULAW_8K, {
      extraChunks: [
        { id: 'LIST', body: list },
        { id: 'fact', body: fact },
        { id: 'odd ', body: odd },
      ],
    });
    let pos = 12 + 8 + 18;
    expect(wav.toString('latin1', pos, pos + 4)).toBe('LIST');
    pos += 8 + list.length;
    expect(wav.toString('latin1', pos, pos + 4)).toBe('fact');
    pos += 8 + 4;
    expect(wav.toString('latin1', pos, pos + 4)).toBe('odd ');
    expect(wav.readUInt32LE(pos + 4)).toBe(3); // size excludes the pad byte
    expect(wav[pos + 8 + 3]).toBe(0); // pad byte
    pos += 8 + 4;
    expect(wav.toString('latin1', pos, pos + 4)).toBe('data');
    expect(wav.length).toBe(pos + 8 + 6); // 5 data bytes + pad
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(parseWav(wav).data).toEqual(audio.subarray(0, 5));
  });

  test('rejects chunk ids that are not 4 ASCII characters', () => {
    expect(() => buildWav(audio, PCM_16K, { extraChunks: [{ id: 'abc', body: audio }] })).toThrow(RangeError);
    expect(() => buildWav(audio, PCM_16K, { extraChunks: [{ id: 'אבגד', body: audio }] })).toThrow(RangeError);
  });

  test('round-trips through parseWav', () => {
    for (const fmt of [MULAW_8K, PCM_16K, { formatTag: 6, channels: 2, sampleRate: 8000, bitsPerSample: 8 }]) {
      const info = parseWav(buildWav(audio, fmt));
      expect({ ...info, data: [...info.data] }).toEqual({ ...fmt, data: [...audio] });
    }
  });
});

describe('parseWav', () => {
  test('reads a μ-law WAV written by sox (18-byte fmt chunk and a fact chunk)', () => {
    const wav = fixture('sox-mulaw.wav');
    // Pin the layout that makes this fixture interesting, so a regenerated file cannot silently lose it.
    expect(wav.readUInt32LE(16)).toBe(18);
    expect(wav.toString('latin1', 38, 42)).toBe('fact');
    const info = parseWav(wav);
    expect(info).toMatchObject({ formatTag: WAV_FORMAT.MULAW, channels: 1, sampleRate: 8000, bitsPerSample: 8 });
    expect(info.data.length).toBe(2000); // 0.25 s
    expect(info.data.equals(fixture('caller-hebrew.ulaw').subarray(0, 2000))).toBe(true);
    expect(wavPayload(wav).equals(info.data)).toBe(true);
  });

  test('skips LIST and odd-length chunks before data, honouring the pad byte', () => {
    const wav = riff(
      chunk('fmt ', fmtBody(7, 1, 8000, 8)),
      chunk('LIST', Buffer.from('INFOx', 'latin1')), // odd: followed by a pad byte
      chunk('junk', Buffer.alloc(3, 0x64)),
      chunk('data', audio),
    );
    expect(parseWav(wav).data).toEqual(audio);
  });

  test('accepts an oversized fmt chunk and resolves WAVE_FORMAT_EXTENSIBLE to its sub-format', () => {
    const ext = Buffer.alloc(24);
    ext.writeUInt16LE(22, 0); // cbSize
    ext.writeUInt16LE(8, 2); // valid bits
    ext.writeUInt16LE(7, 8); // SubFormat GUID starts with the real tag: μ-law
    const wav = riff(chunk('fmt ', fmtBody(0xfffe, 1, 8000, 8, ext)), chunk('data', audio));
    expect(parseWav(wav)).toMatchObject({ formatTag: 7, channels: 1, sampleRate: 8000, bitsPerSample: 8 });
    expect(parseWav(wav).data).toEqual(audio);
  });

  test('finds fmt after data', () => {
    const wav = riff(chunk('data', audio), chunk('fmt ', fmtBody(1, 1, 24000, 16)));
    expect(parseWav(wav)).toMatchObject({ formatTag: 1, sampleRate: 24000, data: audio });
  });

  test('clamps a data size of 0xFFFFFFFF or past the end to the bytes present', () => {
    const fmt = chunk('fmt ', fmtBody(7, 1, 8000, 8));
    const streaming = riff(fmt, chunk('data', audio, 0xffffffff));
    expect(parseWav(streaming).data).toEqual(audio);
    const overstated = riff(fmt, chunk('data', audio, 1000));
    expect(parseWav(overstated).data).toEqual(audio);
  });

  test('ignores a wrong RIFF size', () => {
    const wav = buildWav(audio, MULAW_8K);
    wav.writeUInt32LE(0, 4);
    expect(parseWav(wav).data).toEqual(audio);
  });

  test('returns a view, not a copy', () => {
    const wav = buildWav(audio, MULAW_8K);
    const { data } = parseWav(wav);
    expect(data.buffer).toBe(wav.buffer);
  });

  test('every truncation of a real file either fails as WAV_TRUNCATED or yields a prefix of its data', () => {
    const wav = fixture('sox-mulaw.wav');
    const dataStart = wav.indexOf('data', 12, 'latin1') + 8;
    const full = parseWav(wav).data;
    for (let n = 0; n <= wav.length; n++) {
      const cut = wav.subarray(0, n);
      if (n < 4) expect(codeOf(() => parseWav(cut))).toBe('WAV_NOT_RIFF');
      else if (n < dataStart) expect([n, codeOf(() => parseWav(cut))]).toEqual([n, 'WAV_TRUNCATED']);
      else expect(parseWav(cut).data.equals(full.subarray(0, n - dataStart))).toBe(true);
    }
  });

  test('fails as WAV_TRUNCATED when a chunk before data runs past the end', () => {
    const wav = riff(chunk('fmt ', fmtBody(7, 1, 8000, 8)), chunk('LIST', Buffer.alloc(10), 500));
    expect(codeOf(() => parseWav(wav))).toBe('WAV_TRUNCATED');
    const stray = Buffer.concat([riff(chunk('fmt ', fmtBody(7, 1, 8000, 8))), Buffer.from('dat')]);
    expect(codeOf(() => parseWav(stray))).toBe('WAV_TRUNCATED');
  });

  test('reports a complete chunk list without data or fmt', () => {
    expect(codeOf(() => parseWav(riff(chunk('fmt ', fmtBody(7, 1, 8000, 8)), chunk('LIST', Buffer.alloc(4)))))).toBe(
      'WAV_NO_DATA',
    );
    expect(codeOf(() => parseWav(riff(chunk('data', audio))))).toBe('WAV_NO_FMT');
    expect(codeOf(() => parseWav(riff(chunk('fmt ', Buffer.alloc(14)), chunk('data', audio))))).toBe('WAV_NO_FMT');
    expect(codeOf(() => parseWav(riff()))).toBe('WAV_NO_FMT');
  });

  test('uses the RIFF size to tell a file cut before its data chunk from one without', () => {
    const fmtOnly = riff(chunk('fmt ', fmtBody(7, 1, 8000, 8)));
    fmtOnly.writeUInt32LE(fmtOnly.length - 8 + 8 + audio.length, 4); // as if a data chunk followed
    expect(codeOf(() => parseWav(fmtOnly))).toBe('WAV_TRUNCATED');
    fmtOnly.writeUInt32LE(0, 4); // streaming writer that never filled the size in
    expect(codeOf(() => parseWav(fmtOnly))).toBe('WAV_NO_DATA');
  });

  test('rejects buffers without the RIFF/WAVE signature', () => {
    expect(codeOf(() => parseWav(Buffer.alloc(0)))).toBe('WAV_NOT_RIFF');
    expect(codeOf(() => parseWav(fixture('caller-hebrew.ulaw')))).toBe('WAV_NOT_RIFF');
    const avi = riff(chunk('data', audio));
    avi.write('AVI ', 8, 'latin1');
    expect(codeOf(() => parseWav(avi))).toBe('WAV_NOT_RIFF');
  });

  test('WavError is a named Error carrying its code', () => {
    let caught: unknown;
    try {
      parseWav(riff(chunk('data', audio)));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({ name: 'WavError', code: 'WAV_NO_FMT' });
  });
});

describe('wavPayload', () => {
  test('returns headerless audio unchanged (the same Buffer)', () => {
    const raw = fixture('caller-hebrew.ulaw');
    expect(wavPayload(raw)).toBe(raw);
    const tiny = Buffer.from([0xff, 0x7f]);
    expect(wavPayload(tiny)).toBe(tiny);
  });

  test('strips whatever header precedes the data chunk', () => {
    const fact = Buffer.alloc(4);
    const wav = buildWav(audio, MULAW_8K, {
      extraChunks: [
        { id: 'fact', body: fact },
        { id: 'LIST', body: Buffer.alloc(7) },
      ],
    });
    expect(wavPayload(wav)).toEqual(audio);
  });

  test('throws on a WAV it cannot read instead of passing the header through as audio', () => {
    const broken = riff(chunk('fmt ', fmtBody(7, 1, 8000, 8)));
    expect(() => wavPayload(broken)).toThrow(WavError);
  });
});
