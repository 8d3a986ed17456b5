/**
 * The 20 ms heartbeat of Twilio's inbound stream: calls `onFrame` once per frame for as long as it runs,
 * whether or not anyone is speaking.
 *
 * Frame k carries the audio of [k·frameMs, (k+1)·frameMs) and can only leave once it has been captured,
 * so it is due at (k+1)·frameMs on the stream clock. Each timer is set against that absolute schedule,
 * so lateness in one tick is never carried into the next (no drift). After a stall, at most `maxBurst`
 * overdue frames are sent back to back and older ones are skipped, the way a congested call loses audio
 * (the gap shows up as a jump in `media.timestamp`).
 */

/** Settings of a {@link FrameClock}. */
export interface FrameClockOptions {
  /** Frame duration in ms. */
  frameMs: number;
  /** Most overdue frames sent at once after a stall. */
  maxBurst: number;
  /** Stream clock in ms; frame k is due when it reaches (k+1)·frameMs. */
  now: () => number;
  /** Sends frame `index`, whose audio starts at `index × frameMs` on the stream clock. */
  onFrame: (index: number) => void;
  /** `count` overdue frames were dropped instead of being sent. */
  onSkip: (count: number) => void;
}

/** Drift-free frame scheduler. `start` once; `stop` is idempotent and final. */
export class FrameClock {
  readonly #options: FrameClockOptions;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: FrameClockOptions) {
    this.#options = options;
  }

  /** Starts ticking; frame 0 is due one frame after the stream clock's zero. */
  start(): void {
    if (!this.#stopped && this.#timer === undefined) this.#schedule();
  }

  /** Stops for good; no `onFrame` call happens after this returns. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const { frameMs, now } = this.#options;
    const delay = Math.max(0, (this.#next + 1) * frameMs - now());
    this.#timer = setTimeout(() => this.#tick(), delay);
  }

  #tick(): void {
    const { frameMs, maxBurst, now, onFrame, onSkip } = this.#options;
    const due = Math.floor(now() / frameMs) - this.#next;
    if (due > maxBurst) {
      this.#next += due - maxBurst;
      onSkip(due - maxBurst);
    }
    for (let i = 0; i < Math.min(due, maxBurst) && !this.#stopped; i++) onFrame(this.#next++);
    if (!this.#stopped) this.#schedule();
  }
}
