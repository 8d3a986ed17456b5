/**
 * What the player (./playout.ts) reports about outbound audio: events for the call's bookkeeping
 * (first audio, segments sent and played, drained), what the caller heard of each segment when
 * playback was cut, and a tap that sees every payload for the call recording.
 */

/** What a segment is, for the caller's bookkeeping. */
export interface SegmentMeta {
  replyId: number;
  index: number;
  text: string;
}

/** A segment that was (partly) sent but not confirmed played when an interruption came. */
export interface HeardSegment {
  meta: SegmentMeta;
  totalBytes: number;
  heardBytes: number;
}

/** What happened to outbound audio. */
export type PlayoutEvent =
  | { type: 'first-media'; replyId: number; atMs: number }
  | { type: 'segment-sent'; meta: SegmentMeta; messages: number; bytes: number; atMs: number }
  | { type: 'first-mark'; replyId: number; atMs: number }
  | { type: 'segment-played'; meta: SegmentMeta; atMs: number }
  /** Everything sent so far has been played and nothing is queued. */
  | { type: 'drained'; atMs: number };

/** Sees what goes to Twilio (the call recording's agent channel). Must return quickly and not throw. */
export interface PlayoutTap {
  /** A `media` message with this μ-law went out. */
  sent(mulaw: Buffer): void;
  /** A `clear` went out: Twilio drops whatever it has not played yet. */
  cleared(): void;
}
