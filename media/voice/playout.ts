/**
 * Outbound audio to Twilio. Segments (one sentence each) are cut into `media` messages and a
 * `mark` follows every ~200 ms of audio, so the echoes tell us what the caller has actually heard.
 *
 * Twilio plays whatever it has buffered; we keep that buffer short — about LEAD_MS ahead of the
 * playback position — so a barge-in `clear` drops little and stops the agent at once. The playback
 * position comes from the mark echoes; a clock runs beside them as a safety net, so a late or lost
 * echo never starves playback.
 *
 * Positions are in bytes of μ-law (8 bytes per ms) since the last interruption ("generation").
 * Echoes of marks sent before a `clear` come back at once and mean "discarded", not "played";
 * the generation in each mark name tells them apart.
 */
import { formatClear, formatMark, formatMedia } from '../twilio/messages.ts';
import { BYTES_PER_MS } from '../audio/format.ts';

/** What a segment is, for the caller's bookkeeping. */
export interface SegmentMeta {
  replyId: number;
  index: number;
  text: string;
}

/** What happened to outbound audio. */
export type PlayoutEvent =
  | { type: 'first-media'; replyId: number; atMs: number }
  | { type: 'segment-sent'; meta: SegmentMeta; messages: number; bytes: number; atMs: number }
  | { type: 'first-mark'; replyId: number; atMs: number }
  | { type: 'segment-played'; meta: SegmentMeta; atMs: number }
  /** Everything sent so far has been played and nothing is queued. */
  | { type: 'drained'; atMs: number };

/** A segment that was (partly) sent but not confirmed played when an interruption came. */
export interface HeardSegment {
  meta: SegmentMeta;
  totalBytes: number;
  heardBytes: number;
}

/** Sees what goes to Twilio (the call recording's agent channel). Must return quickly and not throw. */
export interface PlayoutTap {
  /** A `media` message with this μ-law went out. */
  sent(mulaw: Buffer): void;
  /** A `clear` went out: Twilio drops whatever it has not played yet. */
  cleared(): void;
}

/** Options of {@link Player}. */
export interface PlayerOptions {
  streamSid: string;
  /** Sends one text frame; false when the socket is gone. */
  send: (text: string) => boolean;
  onEvent: (e: PlayoutEvent) => void;
  /** Bytes the socket has not written yet; sending pauses above `maxSocketBuffer`. */
  bufferedAmount?: () => number;
  now?: () => number;
  /** Audio kept buffered at Twilio ahead of playback (default 1000 ms). */
  leadMs?: number;
  /** Audio per `media` message (default 100 ms). */
  chunkMs?: number;
  /** Audio between marks (default 200 ms). */
  markEveryMs?: number;
  /** Pump period (default 20 ms). */
  tickMs?: number;
  maxSocketBuffer?: number;
  tap?: PlayoutTap;
}

interface Segment {
  meta: SegmentMeta;
  /** The whole sentence's audio. */
  full: Buffer;
  /** Where this piece starts in `full` (after a pause it resumes mid-sentence). */
  from: number;
  /** `full` from `from` on: what this segment sends. */
  audio: Buffer;
  /** Generation position of its first byte, once sending started. */
  start: number;
  sentBytes: number;
  messages: number;
}

/** How long after the clock's end missing echoes are given up on. */
const LOST_ECHO_GRACE_MS = 2000;

/** Sends audio to one Twilio stream and tracks what has been played. */
export class Player {
  readonly #o: Required<Omit<PlayerOptions, 'bufferedAmount' | 'tap'>> & {
    bufferedAmount: () => number;
    tap?: PlayoutTap;
  };
  #generation = 0;
  #markSeq = 0;
  readonly #queue: Segment[] = [];
  /** Segments with audio sent and not yet confirmed played, oldest first. */
  #inFlight: Segment[] = [];
  /** mark name → the position it confirms and the segment whose audio precedes it */
  #marks = new Map<string, { end: number; segment: Segment }>();
  #sent = 0;
  #confirmed = 0;
  #clock = 0;
  #clockAt = 0;
  /** When the clock last caught up with everything sent. */
  #clockEndAt = 0;
  #lastEchoAt: number | undefined;
  #sinceMark = 0;
  #repliesWithMedia = new Set<number>();
  #repliesWithMark = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** What the caller had heard when playout paused; nothing is sent until resume(). */
  #paused: HeardSegment[] | undefined;

  constructor(opts: PlayerOptions) {
    this.#o = {
      leadMs: 1000,
      chunkMs: 100,
      markEveryMs: 200,
      tickMs: 20,
      maxSocketBuffer: 256 * 1024,
      now: () => performance.now(),
      bufferedAmount: () => 0,
      ...opts,
    };
  }

  /** Queues a segment behind whatever is queued. */
  enqueue(meta: SegmentMeta, mulaw: Buffer): void {
    if (this.#closed || mulaw.length === 0) return;
    this.#queue.push({ meta, full: mulaw, from: 0, audio: mulaw, start: -1, sentBytes: 0, messages: 0 });
    this.#pump();
    this.#ensureTimer();
  }

  /** True while audio is queued or (by marks or clock) still playing at Twilio. */
  get playing(): boolean {
    return this.#queue.length > 0 || this.#playedEstimate() < this.#sent;
  }

  /**
   * Barge-in: sends `clear`, drops everything queued, and reports how much of each unfinished
   * segment the caller heard (from the last echoed mark, extrapolated by the time since).
   */
  interrupt(): HeardSegment[] {
    const heard = this.#paused ?? this.#heardSegments(this.#heardPosition());
    if (!this.#paused && (this.#sent > 0 || this.#queue.length > 0)) this.#clear();
    this.#paused = undefined;
    this.#queue.length = 0;
    this.#reset();
    return heard;
  }

  /**
   * Stops the agent for a moment (the caller may only be acknowledging): sends `clear` and keeps
   * everything not yet heard, so resume() can go on from where the caller stopped hearing.
   * Returns what was heard, as interrupt() does. A second pause is a no-op.
   */
  pause(): HeardSegment[] {
    if (this.#paused) return this.#paused;
    const heardPos = this.#heardPosition();
    const heard = this.#heardSegments(heardPos);
    const unheard = this.#inFlight.flatMap((s) => {
      const from = s.from + Math.max(0, Math.min(s.sentBytes, heardPos - s.start));
      return from < s.full.length
        ? [{ ...s, from, audio: s.full.subarray(from), start: -1, sentBytes: 0, messages: 0 }]
        : [];
    });
    const untouched = this.#queue.filter((s) => s.start < 0);
    if (this.#sent > 0 || this.#queue.length > 0) this.#clear();
    this.#reset();
    // The queue is rebuilt from what was not heard: keeping the old one would play it all again.
    this.#queue.length = 0;
    this.#queue.push(...unheard, ...untouched);
    this.#paused = heard;
    return heard;
  }

  /**
   * Goes on after a pause, repeating up to `repeatMs` of the sentence that was cut so the caller
   * hears it whole (at most one short repeated fragment).
   */
  resume(repeatMs: number): void {
    if (!this.#paused) return;
    this.#paused = undefined;
    const first = this.#queue[0];
    if (first && first.from > 0) {
      first.from = Math.max(0, first.from - Math.round(repeatMs) * BYTES_PER_MS);
      first.audio = first.full.subarray(first.from);
    }
    this.#pump();
    this.#ensureTimer();
  }

  /** True between pause() and resume()/interrupt(). */
  get paused(): boolean {
    return this.#paused !== undefined;
  }

  #heardSegments(heardPos: number): HeardSegment[] {
    return this.#inFlight.map((s) => ({
      meta: s.meta,
      totalBytes: s.full.length,
      heardBytes: s.from + Math.max(0, Math.min(s.sentBytes, heardPos - s.start)),
    }));
  }

  #clear(): void {
    this.#o.send(formatClear(this.#o.streamSid));
    this.#o.tap?.cleared();
  }

  /** A new generation: echoes of marks sent so far mean "discarded", and positions restart at 0. */
  #reset(): void {
    this.#generation++;
    this.#inFlight = [];
    this.#marks.clear();
    this.#sent = this.#confirmed = this.#clock = this.#sinceMark = 0;
    this.#lastEchoAt = undefined;
    this.#stopTimer();
  }

  /** A mark echo from Twilio. */
  onMark(name: string): void {
    const entry = this.#marks.get(name);
    if (!entry) return; // an echo of a mark from before a clear: discarded, not played
    this.#marks.delete(name);
    const now = this.#o.now();
    this.#advanceClock(now);
    this.#confirmed = Math.max(this.#confirmed, entry.end);
    this.#clock = Math.max(this.#clock, this.#confirmed);
    this.#lastEchoAt = now;
    const seg = entry.segment;
    if (!this.#repliesWithMark.has(seg.meta.replyId)) {
      this.#repliesWithMark.add(seg.meta.replyId);
      this.#o.onEvent({ type: 'first-mark', replyId: seg.meta.replyId, atMs: now });
    }
    this.#settle(now);
    this.#pump();
  }

  /** Stops the pump; nothing more is sent. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#stopTimer();
  }

  #playedEstimate(): number {
    this.#advanceClock(this.#o.now());
    return Math.max(this.#confirmed, this.#clock);
  }

  #heardPosition(): number {
    const now = this.#o.now();
    this.#advanceClock(now);
    if (this.#lastEchoAt === undefined) return Math.min(this.#sent, this.#clock);
    return Math.min(this.#sent, this.#confirmed + (now - this.#lastEchoAt) * BYTES_PER_MS);
  }

  /** The clock: playback advances in real time while there is audio ahead of it. */
  #advanceClock(now: number): void {
    if (this.#clock < this.#sent) {
      this.#clock = Math.min(this.#sent, this.#clock + (now - this.#clockAt) * BYTES_PER_MS);
      if (this.#clock >= this.#sent) this.#clockEndAt = now;
    }
    this.#clockAt = now;
  }

  #pump(): void {
    if (this.#closed || this.#paused) return;
    const lead = this.#o.leadMs * BYTES_PER_MS;
    const chunk = this.#o.chunkMs * BYTES_PER_MS;
    while (this.#queue.length > 0 && this.#sent - this.#playedEstimate() < lead) {
      if (this.#o.bufferedAmount() > this.#o.maxSocketBuffer) break;
      const seg = this.#queue[0]!;
      const now = this.#o.now();
      if (seg.start < 0) {
        seg.start = this.#sent;
        this.#inFlight.push(seg);
      }
      const piece = seg.audio.subarray(seg.sentBytes, seg.sentBytes + chunk);
      if (this.#clock >= this.#sent) this.#clockAt = now; // playback (re)starts with this audio
      if (!this.#o.send(formatMedia(this.#o.streamSid, piece))) return this.close();
      this.#o.tap?.sent(piece);
      seg.sentBytes += piece.length;
      seg.messages++;
      this.#sent += piece.length;
      this.#sinceMark += piece.length;
      if (!this.#repliesWithMedia.has(seg.meta.replyId)) {
        this.#repliesWithMedia.add(seg.meta.replyId);
        this.#o.onEvent({ type: 'first-media', replyId: seg.meta.replyId, atMs: now });
      }
      const ended = seg.sentBytes >= seg.audio.length;
      if (ended || this.#sinceMark >= this.#o.markEveryMs * BYTES_PER_MS) {
        const name = `${this.#generation}.${++this.#markSeq}`;
        this.#marks.set(name, { end: this.#sent, segment: seg });
        this.#o.send(formatMark(this.#o.streamSid, name));
        this.#sinceMark = 0;
      }
      if (ended) {
        this.#queue.shift();
        this.#o.onEvent({
          type: 'segment-sent',
          meta: seg.meta,
          messages: seg.messages,
          bytes: seg.audio.length,
          atMs: now,
        });
      }
    }
  }

  /** Reports segments confirmed played, and `drained` once nothing is left. */
  #settle(now: number): void {
    while (this.#inFlight.length > 0) {
      const seg = this.#inFlight[0]!;
      const done = seg.sentBytes >= seg.audio.length && seg.start + seg.audio.length <= this.#confirmed;
      if (!done) break;
      this.#inFlight.shift();
      this.#o.onEvent({ type: 'segment-played', meta: seg.meta, atMs: now });
    }
    if (this.#queue.length === 0 && this.#inFlight.length === 0 && this.#confirmed >= this.#sent && this.#sent > 0) {
      this.#stopTimer();
      this.#o.onEvent({ type: 'drained', atMs: now });
    }
  }

  #tick(): void {
    const now = this.#o.now();
    this.#pump();
    // Safety net: echoes still missing well after the clock says everything played count as played.
    if (this.#queue.length === 0 && this.#inFlight.length > 0) {
      this.#advanceClock(now);
      const last = Math.max(this.#lastEchoAt ?? 0, this.#clockEndAt);
      if (this.#clock >= this.#sent && now - last > LOST_ECHO_GRACE_MS) {
        this.#confirmed = this.#sent;
        this.#settle(now);
      }
    }
    if (this.#queue.length === 0 && this.#inFlight.length === 0) this.#stopTimer();
  }

  #ensureTimer(): void {
    if (this.#timer || this.#closed || this.#paused) return;
    this.#timer = setInterval(() => this.#tick(), this.#o.tickMs);
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
