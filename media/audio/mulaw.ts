/**
 * G.711 μ-law, the codec of Twilio Media Streams (8 kHz, one byte per sample).
 *
 * The classic 16-bit formulation (bias 0x84, magnitude clipped at 32635). The encoder puts a
 * sample in the interval around each decoded level: inside a segment the thresholds sit midway
 * between neighbouring levels (ties go away from zero); at the seven segment edges the threshold
 * is the edge itself, so there the error can reach half the coarser step. x and -x get
 * mirror-image codes.
 *
 * Decoding is bit-exact with sox. sox's encoder (SoX 14.4.2, checked by feeding it all 65,536
 * values) first rounds to 14 bits, (x + 2) >> 2, then encodes; so for 381 inputs within 2 of a
 * threshold it picks the neighbouring level, always further from the input, and for -1 and -2
 * it writes 0xFF where we write 0x7F (both decode to 0). tests/mulaw.test.ts pins this down
 * against a sox-made fixture.
 */

/** The μ-law code for silence (positive zero); fill value for padding outbound frames. */
export const MULAW_SILENCE = 0xff;

const BIAS = 0x84;
const CLIP = 32635;

/** Expands one code by the G.711 formula; only used to build the table below. */
function decodeByFormula(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Compresses one in-range integer sample; only used to build the table below. */
function encodeByFormula(sample: number): number {
  let sign = 0;
  let magnitude = sample;
  if (magnitude < 0) {
    sign = 0x80;
    magnitude = -magnitude;
  }
  if (magnitude > CLIP) magnitude = CLIP;
  magnitude += BIAS; // now in [0x84, 0x7fff], so the top set bit is bit 7..14
  const exponent = 24 - Math.clz32(magnitude); // bit 7 → 0 … bit 14 → 7
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

// Both directions are table lookups because they run on every 20 ms frame of every call.
// The encode table costs 64 KiB once and makes pcm16ToMulaw a single indexed read per sample.
const DECODE = new Int16Array(256);
for (let b = 0; b < 256; b++) DECODE[b] = decodeByFormula(b);
const ENCODE = new Uint8Array(65536); // indexed by the sample's 16-bit two's-complement pattern
for (let s = -32768; s <= 32767; s++) ENCODE[s & 0xffff] = encodeByFormula(s);

/** Decodes one μ-law byte (only the low 8 bits are used) to a PCM16 value in [-32124, 32124]. */
export function mulawDecodeSample(byte: number): number {
  return DECODE[byte & 0xff]!;
}

/**
 * Encodes one PCM16 sample. Out-of-range values are clamped to [-32768, 32767],
 * fractions are rounded and NaN counts as 0, so callers mixing or scaling audio
 * in floating point can pass their result straight in.
 */
export function mulawEncodeSample(sample: number): number {
  const s = sample >= 32767 ? 32767 : sample <= -32768 ? -32768 : Math.round(sample) || 0;
  return ENCODE[s & 0xffff]!;
}

/** Decodes a μ-law buffer to a new PCM16 array of the same length. */
export function mulawToPcm16(mulaw: Uint8Array): Int16Array {
  const out = new Int16Array(mulaw.length);
  for (let i = 0; i < mulaw.length; i++) out[i] = DECODE[mulaw[i]!]!;
  return out;
}

/** Encodes PCM16 samples to a new μ-law Buffer of the same length (ready for base64). */
export function pcm16ToMulaw(pcm: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = ENCODE[pcm[i]! & 0xffff]!;
  return out;
}
