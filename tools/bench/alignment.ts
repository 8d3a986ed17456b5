/**
 * Which parts of a reply the caller heard, and in what order: the audio the caller heard is matched
 * against the same reply heard whole (the reference), byte for byte, as runs ("segments") of the
 * reference. A reply paused and resumed cleanly is two segments, the second starting where the
 * first ended (or a little before: a repeated fragment); audio that is no part of the reply (an
 * answer to the caller's words) matches nothing. Pure.
 *
 * Matching: the heard audio is walked in 20 ms blocks. A block that continues the current segment
 * extends it; otherwise every place the block occurs in the reference is a candidate, and the one
 * that matches furthest ahead wins (a periodic sound, such as the emulator's tone, repeats every
 * 250 ms to 1 s, and only the right place keeps matching past the next change). A new segment is
 * then extended backwards, byte by byte, to where it really begins. Blocks of one repeated byte
 * (digital silence) prove nothing and are never used to start a segment.
 */

/** 20 ms of 8 kHz μ-law. */
const BLOCK = 160;
/** Most places a block is looked for (a block of a periodic sound occurs every period). */
const MAX_CANDIDATES = 16;

/** One run of the reference heard in one piece. */
export interface Segment {
  /** Where it starts in the heard audio, bytes. */
  heardAt: number;
  /** Where it starts in the reference, bytes. */
  refAt: number;
  bytes: number;
}

/** What the caller heard of the reference. */
export interface Alignment {
  /** In heard order. */
  segments: Segment[];
  /** Reference bytes heard at least once. */
  coveredBytes: number;
  /** Reference bytes heard more than once (total of all segments − covered). */
  repeatedBytes: number;
  /** Heard bytes matching no part of the reference (another reply), silence blocks excepted. */
  otherBytes: number;
}

const matchLength = (a: Buffer, ai: number, b: Buffer, bi: number): number => {
  let n = 0;
  while (ai + n < a.length && bi + n < b.length && a[ai + n] === b[bi + n]) n++;
  return n;
};

const uniform = (b: Buffer): boolean => b.every((x) => x === b[0]);

/** Aligns `heard` against `ref` (both raw μ-law). */
export function alignHeard(heard: Buffer, ref: Buffer): Alignment {
  const segments: Segment[] = [];
  const silent = new Uint8Array(heard.length); // 1 = a silence block not placed in a segment
  let i = 0;
  while (i < heard.length) {
    const block = heard.subarray(i, Math.min(heard.length, i + BLOCK));
    if (uniform(block)) silent.fill(1, i, i + block.length);
    if (block.length < BLOCK || uniform(block)) {
      i += block.length; // too short or too plain to place on its own
      continue;
    }
    let best: { refAt: number; length: number } | undefined;
    for (let at = ref.indexOf(block), n = 0; at >= 0 && n < MAX_CANDIDATES; at = ref.indexOf(block, at + 1), n++) {
      const length = matchLength(heard, i, ref, at);
      if (!best || length > best.length) best = { refAt: at, length };
    }
    if (!best) {
      i += BLOCK;
      continue;
    }
    // The segment may begin before this block: walk back over bytes not yet placed.
    const last = segments.at(-1);
    const floor = last ? last.heardAt + last.bytes : 0;
    let back = 0;
    while (i - back > floor && best.refAt - back > 0 && heard[i - back - 1] === ref[best.refAt - back - 1]) back++;
    segments.push({ heardAt: i - back, refAt: best.refAt - back, bytes: best.length + back });
    i += best.length;
  }
  const total = segments.reduce((t, s) => t + s.bytes, 0);
  for (const s of segments) silent.fill(0, s.heardAt, s.heardAt + s.bytes);
  const silentLeft = silent.reduce((t, x) => t + x, 0);
  const covered = coverage(segments);
  return {
    segments,
    coveredBytes: covered,
    repeatedBytes: total - covered,
    otherBytes: heard.length - total - silentLeft,
  };
}

/** Length of the union of the segments' reference ranges. */
function coverage(segments: readonly Segment[]): number {
  const ranges = segments.map((s) => [s.refAt, s.refAt + s.bytes] as const).sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let end = -1;
  for (const [from, to] of ranges) {
    if (to <= end) continue;
    covered += to - Math.max(from, end);
    end = to;
  }
  return covered;
}
