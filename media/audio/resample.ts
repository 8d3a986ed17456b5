/**
 * Sample-rate conversion for caller audio (any rate → Twilio's 8 kHz). Pure functions over float
 * samples on the PCM16 scale.
 *
 * Downsampling low-passes first, otherwise everything above the new Nyquist frequency folds back
 * into the voice band as aliasing (a 6 kHz tone at 48 kHz would come out as a 2 kHz whistle). The
 * filter is a Blackman-windowed sinc evaluated only at the input positions the interpolation reads,
 * so a long filter stays cheap. Upsampling needs no filter: linear interpolation is enough for a test
 * caller.
 */

/** Where the low-pass sits, as a fraction of the target rate: 3.6 kHz at 8 kHz, under the 4 kHz Nyquist. */
const CUTOFF_OF_TARGET = 0.45;
/**
 * Filter half-length in periods of the cutoff. A Blackman window's transition is about 5.5 / taps wide,
 * so 12 periods each side keep the band from 3.2 kHz up mostly intact and stop it by 4 kHz.
 */
const HALF_PERIODS = 12;

/**
 * Converts mono samples from `fromRate` to `toRate` Hz. The result has `round(n × toRate / fromRate)`
 * samples. Returns a copy when the rates are equal.
 * @throws RangeError if a rate is not a positive finite number.
 */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(fromRate > 0 && Number.isFinite(fromRate)) || !(toRate > 0 && Number.isFinite(toRate))) {
    throw new RangeError(`sample rates must be positive (got ${fromRate} → ${toRate})`);
  }
  if (fromRate === toRate) return input.slice();
  const sampleAt =
    fromRate > toRate ? lowPassAt(input, (CUTOFF_OF_TARGET * toRate) / fromRate) : (j: number) => input[j] ?? 0;
  const length = Math.round((input.length * toRate) / fromRate);
  const out = new Float32Array(length);
  const step = fromRate / toRate;
  const last = input.length - 1;
  for (let i = 0; i < length; i++) {
    const pos = i * step;
    const j = Math.floor(pos);
    const frac = pos - j;
    const a = sampleAt(j);
    // Hold the last sample instead of interpolating towards the zeros past the end.
    out[i] = frac === 0 || j >= last ? a : a + (sampleAt(j + 1) - a) * frac;
  }
  return out;
}

/**
 * A low-pass FIR over `input`, evaluated lazily at one index at a time (zeros outside the signal).
 * @param cutoff cutoff frequency as a fraction of the input rate, in (0, 0.5).
 */
export function lowPassAt(input: Float32Array, cutoff: number): (index: number) => number {
  const half = Math.ceil(HALF_PERIODS / cutoff);
  const taps = new Float32Array(2 * half + 1);
  let sum = 0;
  for (let k = -half; k <= half; k++) {
    const sinc = k === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * k) / (Math.PI * k);
    const x = (Math.PI * k) / half;
    const blackman = 0.42 + 0.5 * Math.cos(x) + 0.08 * Math.cos(2 * x);
    const tap = sinc * blackman;
    taps[k + half] = tap;
    sum += tap;
  }
  for (let k = 0; k < taps.length; k++) taps[k] = taps[k]! / sum; // unity gain at DC
  const cache = new Map<number, number>(); // each index is read twice (as j + 1, then as j)
  return (index) => {
    const hit = cache.get(index);
    if (hit !== undefined) return hit;
    const from = Math.max(0, index - half);
    const to = Math.min(input.length - 1, index + half);
    let acc = 0;
    for (let n = from; n <= to; n++) acc += taps[n - index + half]! * input[n]!;
    if (cache.size > 4) cache.clear();
    cache.set(index, acc);
    return acc;
  };
}
