/**
 * Small statistics for the benchmark: nearest-rank percentiles over raw samples. Raw samples, not
 * histograms, because a level has at most a few hundred turns and exact tails matter more than memory.
 */

/** Percentiles of a sample set, rounded to 0.01; `n` is 0 and every value null when there were no samples. */
export interface Summary {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** Nearest-rank percentile (`p` in 0–100) of ascending-sorted values; undefined for no values. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Summarises samples; non-finite values are ignored. */
export function summarize(values: Iterable<number>): Summary {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  const at = (p: number) => round(percentile(sorted, p));
  const mean = sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : undefined;
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: at(100), mean: round(mean) };
}

/** Rounds to two decimals; undefined (and non-finite) becomes null so JSON keeps the key. */
export function round(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : Math.round(v * 100) / 100;
}

/** Largest number of intervals open at the same instant (an interval ending as another starts does not overlap). */
export function peakOverlap(intervals: ReadonlyArray<{ start: number; end: number }>): number {
  const edges = intervals.flatMap((i) => [
    { at: i.start, d: 1 },
    { at: i.end, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (open += e.d));
  return peak;
}
