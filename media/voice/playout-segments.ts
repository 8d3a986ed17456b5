/**
 * The player's segments: one sentence of μ-law each, with how much of it has gone out and where
 * it starts in the current generation's byte positions (pure bookkeeping). A segment
 * cut by a pause is re-queued as the unheard rest of the same sentence, so `from` can be past 0.
 */
import { BYTES_PER_MS } from '../audio/format.ts';
import type { HeardSegment, SegmentMeta } from './playout-events.ts';

/** A queued or in-flight segment. */
export interface Segment {
  meta: SegmentMeta;
  /** The whole sentence's audio. */
  full: Buffer;
  /** Where this piece starts in `full` (after a pause it resumes mid-sentence). */
  from: number;
  /** `full` from `from` on: what this segment sends. */
  audio: Buffer;
  /** Generation position of its first byte, once sending started; -1 before. */
  start: number;
  sentBytes: number;
  messages: number;
}

/** A segment of the whole sentence `mulaw`, nothing sent yet. */
export function newSegment(meta: SegmentMeta, mulaw: Buffer): Segment {
  return { meta, full: mulaw, from: 0, audio: mulaw, start: -1, sentBytes: 0, messages: 0 };
}

/** Bytes of `s`'s whole sentence the caller has heard when playback is at `heardPos`. */
function heardBytesOf(s: Segment, heardPos: number): number {
  return s.from + Math.max(0, Math.min(s.sentBytes, heardPos - s.start));
}

/** How much of each in-flight segment the caller has heard when playback is at `heardPos`. */
export function heardSegments(inFlight: readonly Segment[], heardPos: number): HeardSegment[] {
  return inFlight.map((s) => ({ meta: s.meta, totalBytes: s.full.length, heardBytes: heardBytesOf(s, heardPos) }));
}

/** What the caller has not heard of each in-flight segment, as fresh unsent segments (heard ones vanish). */
export function unheardRest(inFlight: readonly Segment[], heardPos: number): Segment[] {
  return inFlight.flatMap((s) => {
    const from = heardBytesOf(s, heardPos);
    return from < s.full.length
      ? [{ ...s, from, audio: s.full.subarray(from), start: -1, sentBytes: 0, messages: 0 }]
      : [];
  });
}

/** Moves an unsent segment's start back by up to `ms` of its sentence (never before its beginning). */
export function rewind(s: Segment, ms: number): void {
  s.from = Math.max(0, s.from - Math.round(ms) * BYTES_PER_MS);
  s.audio = s.full.subarray(s.from);
}
