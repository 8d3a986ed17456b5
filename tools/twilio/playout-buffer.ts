/**
 * Model of Twilio's outbound playout buffer, with the clock passed in so it can be driven by a timer in the
 * media client and by plain numbers in tests.
 *
 * Twilio appends every outbound `media` payload to one queue and plays it at real time (8 kHz μ-law, so
 * 8 bytes per ms). A `mark` waits in the same queue and is echoed once everything before it has played,
 * at once if nothing is queued. `clear` drops all queued audio and echoes every pending mark.
 *
 *             enqueueAudio                     queue runs dry
 *     idle ────────────────────▶ playing ───────────────────────▶ idle
 *       ▲                          │  clear / halt
 *       └──────────────────────────┘
 *
 * Played position is computed from the start of the current continuous run (bytes = elapsed ms × 8), not
 * by adding up tick lengths, so a late or irregular caller of `advance` cannot make playback drift.
 */

/** Receives everything that happens inside the buffer, synchronously, in playback order. */
export interface PlayoutListener {
  /** Audio began playing after the buffer was idle. */
  playbackStarted(atMs: number): void;
  /** The first byte of the chunk `chunkId` (as passed to `enqueueAudio`) began playing at `atMs`. */
  chunkStarted(chunkId: number, atMs: number): void;
  /** These bytes reached the caller's ear; called in order, never with discarded audio. */
  played(bytes: Buffer): void;
  /** A mark is due for echo: its audio finished at `atMs`, or `clear` flushed it (`cleared: true`). */
  markReached(name: string, atMs: number, cleared: boolean): void;
  /** Playback stopped: the queue ran dry, `clear` emptied it, or the stream ended. */
  playbackEnded(atMs: number, reason: 'drained' | 'cleared' | 'halted'): void;
}

/** Limits of the model; both default to Twilio's values. */
export interface PlayoutOptions {
  /** Bytes consumed per ms of wall time. Default 8 (μ-law at 8000 Hz). */
  bytesPerMs?: number;
  /** Audio beyond this many buffered bytes is discarded. Default 10 min of audio, Twilio's 31931 limit. */
  maxBufferedBytes?: number;
}

type QueueItem = { kind: 'audio'; bytes: Buffer; offset: number; chunkId: number } | { kind: 'mark'; name: string };

/**
 * Twilio's playout queue. All methods take the current time in ms (any monotonic origin) and first bring
 * playback up to that time, so queries and commands always see the buffer as it is "now".
 */
export class PlayoutBuffer {
  /** Playback rate in bytes per ms. */
  readonly bytesPerMs: number;
  /** Cap on buffered audio; see {@link PlayoutOptions.maxBufferedBytes}. */
  readonly maxBufferedBytes: number;
  readonly #listener: PlayoutListener;
  #queue: QueueItem[] = [];
  #queuedBytes = 0;
  /** Start of the current continuous run; undefined while idle (the queue is then empty). */
  #runStartMs: number | undefined;
  #playedInRun = 0;
  #lastMs = Number.NEGATIVE_INFINITY;

  constructor(listener: PlayoutListener, options: PlayoutOptions = {}) {
    this.#listener = listener;
    this.bytesPerMs = options.bytesPerMs ?? 8;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 10 * 60 * 1000 * this.bytesPerMs;
  }

  /** Audio bytes not yet played at `nowMs`. */
  bufferedBytes(nowMs: number): number {
    this.advance(nowMs);
    return this.#queuedBytes;
  }

  /** Milliseconds of audio not yet played at `nowMs`. */
  bufferedMs(nowMs: number): number {
    return this.bufferedBytes(nowMs) / this.bytesPerMs;
  }

  /** Whether audio is playing at `nowMs`. */
  isPlaying(nowMs: number): boolean {
    this.advance(nowMs);
    return this.#runStartMs !== undefined;
  }

  /**
   * Plays everything due up to `nowMs`, echoing marks whose audio has finished. Times earlier than a
   * previous call are treated as that previous time.
   */
  advance(nowMs: number): void {
    const now = Math.max(nowMs, this.#lastMs);
    this.#lastMs = now;
    const runStart = this.#runStartMs;
    if (runStart === undefined) return;
    let budget = Math.floor((now - runStart) * this.bytesPerMs) - this.#playedInRun;
    for (let head = this.#queue[0]; head !== undefined; head = this.#queue[0]) {
      const position = runStart + this.#playedInRun / this.bytesPerMs;
      if (head.kind === 'mark') {
        this.#queue.shift();
        this.#listener.markReached(head.name, position, false);
        continue;
      }
      if (budget <= 0) break;
      if (head.offset === 0) this.#listener.chunkStarted(head.chunkId, position);
      const n = Math.min(budget, head.bytes.length - head.offset);
      this.#listener.played(head.bytes.subarray(head.offset, head.offset + n));
      head.offset += n;
      budget -= n;
      this.#playedInRun += n;
      this.#queuedBytes -= n;
      if (head.offset === head.bytes.length) this.#queue.shift();
    }
    if (this.#queue.length === 0) {
      this.#runStartMs = undefined;
      this.#listener.playbackEnded(runStart + this.#playedInRun / this.bytesPerMs, 'drained');
    }
  }

  /**
   * Appends audio. Starts playback at `nowMs` if idle.
   * @returns how many bytes were discarded because the buffer was full (0 normally).
   */
  enqueueAudio(bytes: Buffer, chunkId: number, nowMs: number): number {
    this.advance(nowMs);
    const room = Math.max(0, this.maxBufferedBytes - this.#queuedBytes);
    const accepted = bytes.length > room ? bytes.subarray(0, room) : bytes;
    if (accepted.length > 0) {
      this.#queue.push({ kind: 'audio', bytes: accepted, offset: 0, chunkId });
      this.#queuedBytes += accepted.length;
      if (this.#runStartMs === undefined) {
        this.#runStartMs = this.#lastMs;
        this.#playedInRun = 0;
        this.#listener.playbackStarted(this.#lastMs);
      }
    }
    return bytes.length - accepted.length;
  }

  /** Queues a mark behind the audio already queued; echoes it at once if nothing is queued. */
  enqueueMark(name: string, nowMs: number): void {
    this.advance(nowMs);
    if (this.#queue.length === 0) this.#listener.markReached(name, this.#lastMs, false);
    else this.#queue.push({ kind: 'mark', name });
  }

  /**
   * Twilio's `clear`: stops playback, drops queued audio, then echoes every pending mark in order.
   * @returns the number of audio bytes dropped and the names of the flushed marks.
   */
  clear(nowMs: number): { discardedBytes: number; marks: string[] } {
    const discardedBytes = this.#drop(nowMs, 'cleared');
    const marks: string[] = [];
    for (const item of this.#queue) if (item.kind === 'mark') marks.push(item.name);
    this.#queue = [];
    for (const name of marks) this.#listener.markReached(name, this.#lastMs, true);
    return { discardedBytes, marks };
  }

  /** The stream ended: drops audio and marks without echoing anything (there is no socket to echo on). */
  halt(nowMs: number): void {
    this.#drop(nowMs, 'halted');
    this.#queue = [];
  }

  #drop(nowMs: number, reason: 'cleared' | 'halted'): number {
    this.advance(nowMs);
    const dropped = this.#queuedBytes;
    this.#queue = this.#queue.filter((item) => item.kind === 'mark');
    this.#queuedBytes = 0;
    if (this.#runStartMs !== undefined) {
      this.#runStartMs = undefined;
      this.#listener.playbackEnded(this.#lastMs, reason);
    }
    return dropped;
  }
}
