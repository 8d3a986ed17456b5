/**
 * Outbound audio to Twilio. Segments (one sentence each) are cut into `media` messages and a
 * `mark` follows every ~200 ms of audio, so the echoes tell us what the caller has actually heard.
 *
 * Twilio plays whatever it has buffered; we keep that buffer short — about LEAD_MS ahead of the
 * playback position (./playback-position.ts: mark echoes, with a clock as a safety net) — so a
 * barge-in `clear` drops little and stops the agent at once.
 *
 * Positions are in bytes of μ-law (8 bytes per ms) since the last interruption ("generation").
 * Echoes of marks sent before a `clear` come back at once and mean "discarded", not "played";
 * the generation in each mark name tells them apart.
 */
import { formatClear, formatMark, formatMedia } from '../twilio/messages.ts';
import { BYTES_PER_MS } from '../audio/format.ts';
import { PlaybackPosition } from './playback-position.ts';
import type { HeardSegment, PlayoutEvent, PlayoutTap, SegmentMeta } from './playout-events.ts';
import { heardSegments, newSegment, rewind, unheardRest, type Segment } from './playout-segments.ts';

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
  readonly #position = new PlaybackPosition();
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
    this.#queue.push(newSegment(meta, mulaw));
    this.#pump();
    this.#ensureTimer();
  }

  /** True while audio is queued or (by marks or clock) still playing at Twilio. */
  get playing(): boolean {
    return this.#queue.length > 0 || this.#position.played(this.#o.now()) < this.#position.sent;
  }

  /**
   * Barge-in: sends `clear`, drops everything queued, and reports how much of each unfinished
   * segment the caller heard (from the last echoed mark, extrapolated by the time since).
   */
  interrupt(): HeardSegment[] {
    const heard = this.#paused ?? heardSegments(this.#inFlight, this.#position.heard(this.#o.now()));
    if (!this.#paused && (this.#position.sent > 0 || this.#queue.length > 0)) this.#clear();
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
    const heardPos = this.#position.heard(this.#o.now());
    const heard = heardSegments(this.#inFlight, heardPos);
    const unheard = unheardRest(this.#inFlight, heardPos);
    const untouched = this.#queue.filter((s) => s.start < 0);
    if (this.#position.sent > 0 || this.#queue.length > 0) this.#clear();
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
    if (first && first.from > 0) rewind(first, repeatMs);
    this.#pump();
    this.#ensureTimer();
  }

  /** True between pause() and resume()/interrupt(). */
  get paused(): boolean {
    return this.#paused !== undefined;
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
    this.#position.reset();
    this.#sinceMark = 0;
    this.#stopTimer();
  }

  /** A mark echo from Twilio. */
  onMark(name: string): void {
    const entry = this.#marks.get(name);
    if (!entry) return; // an echo of a mark from before a clear: discarded, not played
    this.#marks.delete(name);
    const now = this.#o.now();
    this.#position.confirm(entry.end, now);
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

  #pump(): void {
    if (this.#closed || this.#paused) return;
    const lead = this.#o.leadMs * BYTES_PER_MS;
    const chunk = this.#o.chunkMs * BYTES_PER_MS;
    const position = this.#position;
    while (this.#queue.length > 0 && position.sent - position.played(this.#o.now()) < lead) {
      if (this.#o.bufferedAmount() > this.#o.maxSocketBuffer) break;
      const seg = this.#queue[0]!;
      const now = this.#o.now();
      if (seg.start < 0) {
        seg.start = position.sent;
        this.#inFlight.push(seg);
      }
      const piece = seg.audio.subarray(seg.sentBytes, seg.sentBytes + chunk);
      if (!this.#o.send(formatMedia(this.#o.streamSid, piece))) return this.close();
      position.sending(piece.length, now);
      this.#o.tap?.sent(piece);
      seg.sentBytes += piece.length;
      seg.messages++;
      this.#sinceMark += piece.length;
      if (!this.#repliesWithMedia.has(seg.meta.replyId)) {
        this.#repliesWithMedia.add(seg.meta.replyId);
        this.#o.onEvent({ type: 'first-media', replyId: seg.meta.replyId, atMs: now });
      }
      const ended = seg.sentBytes >= seg.audio.length;
      if (ended || this.#sinceMark >= this.#o.markEveryMs * BYTES_PER_MS) {
        const name = `${this.#generation}.${++this.#markSeq}`;
        this.#marks.set(name, { end: position.sent, segment: seg });
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
      const done = seg.sentBytes >= seg.audio.length && seg.start + seg.audio.length <= this.#position.confirmed;
      if (!done) break;
      this.#inFlight.shift();
      this.#o.onEvent({ type: 'segment-played', meta: seg.meta, atMs: now });
    }
    const everythingPlayed = this.#position.allConfirmed && this.#position.sent > 0;
    if (this.#queue.length === 0 && this.#inFlight.length === 0 && everythingPlayed) {
      this.#stopTimer();
      this.#o.onEvent({ type: 'drained', atMs: now });
    }
  }

  #tick(): void {
    const now = this.#o.now();
    this.#pump();
    // Safety net: echoes still missing well after the clock says everything played count as played.
    if (
      this.#queue.length === 0 &&
      this.#inFlight.length > 0 &&
      this.#position.giveUpOnEchoes(now, LOST_ECHO_GRACE_MS)
    ) {
      this.#settle(now);
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
