import { readFileSync } from 'node:fs';
import {
  MULAW_SILENCE,
  mulawDecodeSample,
  mulawEncodeSample,
  mulawToPcm16,
  pcm16ToMulaw,
} from '../../media/audio/mulaw.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

/** Reads little-endian PCM16 without relying on the host's byte order or the Buffer's alignment. */
function readPcm16le(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(2 * i);
  return out;
}

/** The 255 distinct levels a μ-law decoder can output, ascending (0 appears twice as ±0). */
const LEVELS = [...new Set(Array.from({ length: 256 }, (_, b) => mulawDecodeSample(b)))].sort((a, b) => a - b);

/** Distance from x to the nearest decodable level (binary search over LEVELS). */
function nearestDistance(x: number): number {
  let lo = 0;
  let hi = LEVELS.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (LEVELS[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return Math.min(Math.abs(LEVELS[lo]! - x), Math.abs(LEVELS[hi]! - x));
}

describe('mulaw: known G.711 values', () => {
  test.each([
    [0xff, 0],
    [0x7f, 0],
    [0x00, -32124],
    [0x80, 32124],
    [0xfe, 8],
    [0x7e, -8],
    [0xf0, 120],
    [0xef, 132],
    [0xe0, 372],
    [0x8f, 16764],
    [0x0f, -16764],
    [0x81, 31100],
  ])('decodes byte %i to %i', (byte, value) => {
    expect(mulawDecodeSample(byte)).toBe(value);
  });

  test.each([
    [0, 0xff],
    [8, 0xfe],
    [-8, 0x7e],
    [32767, 0x80],
    [32635, 0x80],
    [-32768, 0x00],
    [16764, 0x8f],
    [-16764, 0x0f],
  ])('encodes %i to byte %i', (sample, byte) => {
    expect(mulawEncodeSample(sample)).toBe(byte);
  });

  test('MULAW_SILENCE decodes to 0 and is what 0 encodes to', () => {
    expect(mulawDecodeSample(MULAW_SILENCE)).toBe(0);
    expect(mulawEncodeSample(0)).toBe(MULAW_SILENCE);
  });

  test('the decoder is monotonic within each sign half (0x00..0x7f rises, 0x80..0xff falls)', () => {
    for (let b = 1; b < 0x80; b++) expect(mulawDecodeSample(b)).toBeGreaterThan(mulawDecodeSample(b - 1));
    for (let b = 0x81; b < 0x100; b++) expect(mulawDecodeSample(b)).toBeLessThan(mulawDecodeSample(b - 1));
  });

  test('decodeSample uses only the low 8 bits', () => {
    expect(mulawDecodeSample(0x100 | 0x80)).toBe(32124);
    expect(mulawDecodeSample(-1)).toBe(mulawDecodeSample(0xff));
  });
});

describe('mulaw: encoder properties over every PCM16 value', () => {
  test('every code except negative zero survives decode → encode', () => {
    for (let b = 0; b < 256; b++) {
      expect(mulawEncodeSample(mulawDecodeSample(b))).toBe(b === 0x7f ? 0xff : b);
    }
  });

  test('quantisation is monotonic and the error stays within half the step of the chosen segment', () => {
    let previousLevel = -Infinity;
    let worst = 0;
    for (let x = -32768; x <= 32767; x++) {
      const code = mulawEncodeSample(x);
      const level = mulawDecodeSample(code);
      const step = 8 << ((~code >> 4) & 0x07); // 8, 16, … 1024 from the exponent bits
      const error = Math.abs(level - x);
      if (level < previousLevel) throw new Error(`level falls at sample ${x}`);
      if (Math.abs(x) <= 32635 && error > step / 2) throw new Error(`sample ${x}: error ${error} > ${step / 2}`);
      previousLevel = level;
      worst = Math.max(worst, error);
    }
    expect(worst).toBe(32768 - 32124); // only the clip region beyond ±32635 exceeds 512
  });

  test('inside a segment each sample maps to a nearest level', () => {
    // Segment edges are excluded: there the threshold is the edge, not the midpoint.
    for (let x = -32635; x <= 32635; x++) {
      const code = mulawEncodeSample(x);
      const exponent = (~code >> 4) & 0x07;
      const mantissa = ~code & 0x0f;
      if (mantissa === 0 || mantissa === 15) continue;
      const error = Math.abs(mulawDecodeSample(code) - x);
      if (error !== nearestDistance(x))
        throw new Error(`sample ${x} (exponent ${exponent}): error ${error}, nearest ${nearestDistance(x)}`);
    }
  });

  test('x and -x get mirror-image codes', () => {
    const asymmetric: number[] = [];
    for (let x = 1; x <= 32767; x++) if (mulawEncodeSample(-x) !== (mulawEncodeSample(x) ^ 0x80)) asymmetric.push(x);
    expect(asymmetric).toEqual([]);
  });

  test('clamps out-of-range input, rounds fractions and treats NaN as 0', () => {
    expect(mulawEncodeSample(40000)).toBe(mulawEncodeSample(32767));
    expect(mulawEncodeSample(-1e9)).toBe(mulawEncodeSample(-32768));
    expect(mulawEncodeSample(Infinity)).toBe(0x80);
    expect(mulawEncodeSample(1000.4)).toBe(mulawEncodeSample(1000));
    expect(mulawEncodeSample(-131.6)).toBe(mulawEncodeSample(-132));
    expect(mulawEncodeSample(Number.NaN)).toBe(MULAW_SILENCE);
  });
});

describe('mulaw: array conversions', () => {
  test('mulawToPcm16 agrees with the per-sample decoder and keeps length', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const pcm = mulawToPcm16(all);
    expect(pcm).toBeInstanceOf(Int16Array);
    expect(Array.from(pcm)).toEqual(Array.from(all, (b) => mulawDecodeSample(b)));
  });

  test('pcm16ToMulaw agrees with the per-sample encoder and returns a Buffer', () => {
    const pcm = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const mulaw = pcm16ToMulaw(pcm);
    expect(Buffer.isBuffer(mulaw)).toBe(true);
    expect(mulaw.length).toBe(pcm.length);
    for (let i = 0; i < pcm.length; i++) {
      if (mulaw[i] !== mulawEncodeSample(pcm[i]!)) throw new Error(`mismatch at sample ${pcm[i]}`);
    }
  });

  test('handles empty input and views into larger buffers', () => {
    expect(mulawToPcm16(new Uint8Array(0))).toHaveLength(0);
    expect(pcm16ToMulaw(new Int16Array(0))).toHaveLength(0);
    const backing = Buffer.from([0x00, 0x80, 0xff, 0x7e]);
    expect(Array.from(mulawToPcm16(backing.subarray(1, 3)))).toEqual([32124, 0]);
  });
});

describe('mulaw: against sox (fixtures made by tests/fixtures/make-fixtures.sh)', () => {
  const pcm = readPcm16le(fixture('sox-sine.pcm16le'));
  const soxMulaw = fixture('sox-sine.ulaw');
  const soxDecoded = readPcm16le(fixture('sox-sine-decoded.pcm16le'));

  test('fixtures line up and cover both extremes', () => {
    expect(soxMulaw.length).toBe(pcm.length);
    expect(soxDecoded.length).toBe(pcm.length);
    expect(Math.max(...pcm)).toBeGreaterThan(32635); // reaches the clip region
    expect(Math.min(...pcm)).toBeLessThan(-32635);
  });

  test('decoding sox μ-law matches sox decoding bit for bit', () => {
    expect(Array.from(mulawToPcm16(soxMulaw))).toEqual(Array.from(soxDecoded));
  });

  test('encoding equals sox byte for byte once the input is pre-rounded to 14 bits as sox does', () => {
    const roundedLikeSox = pcm.map((x) => Math.min(32767, ((x + 2) >> 2) * 4));
    expect(pcm16ToMulaw(roundedLikeSox).equals(soxMulaw)).toBe(true);
  });

  test('without that pre-rounding, differences are rare, at most one level apart, and never closer for sox', () => {
    const ours = pcm16ToMulaw(pcm);
    let differences = 0;
    for (let i = 0; i < pcm.length; i++) {
      const ourByte = ours[i]!;
      const soxByte = soxMulaw[i]!;
      if (ourByte === soxByte) continue;
      differences++;
      const x = pcm[i]!;
      const ourLevel = mulawDecodeSample(ourByte);
      const soxLevel = mulawDecodeSample(soxByte);
      // Adjacent levels: nothing decodable lies strictly between the two.
      expect(LEVELS.filter((l) => l > Math.min(ourLevel, soxLevel) && l < Math.max(ourLevel, soxLevel))).toEqual([]);
      expect(Math.abs(ourLevel - x)).toBeLessThanOrEqual(Math.abs(soxLevel - x));
    }
    expect(differences).toBeGreaterThan(0); // the fixture does exercise the rounding difference
    expect(differences / pcm.length).toBeLessThan(0.02);
  });
});
