/**
 * Where Twilio's playback of our audio is, in bytes of μ-law (8 per ms) since the last
 * interruption. Mark echoes confirm positions; a clock runs beside them (playback advances in real
 * time while audio is ahead of it) as a safety net, so a late or lost echo never starves playback.
 * Pure accounting on an injected time: it sends nothing and owns no timer.
 */
import { BYTES_PER_MS } from '../audio/format.ts';

/** The played / heard estimate of one stream, reset at each interruption. */
export class PlaybackPosition {
  #sent = 0;
  #confirmed = 0;
  #clock = 0;
  #clockAt = 0;
  /** When the clock last caught up with everything sent. */
  #clockEndAt = 0;
  #lastEchoAt: number | undefined;

  /** Bytes sent since the last reset. */
  get sent(): number {
    return this.#sent;
  }

  /** The furthest position a mark echo has confirmed as played. */
  get confirmed(): number {
    return this.#confirmed;
  }

  /** Whether every byte sent has been confirmed played (true when nothing was sent). */
  get allConfirmed(): boolean {
    return this.#confirmed >= this.#sent;
  }

  /** `bytes` more audio went out at `now`; if playback had run dry, it restarts with them. */
  sending(bytes: number, now: number): void {
    if (this.#clock >= this.#sent) this.#clockAt = now;
    this.#sent += bytes;
  }

  /** A mark echo at `now` confirms that everything up to `end` has been played. */
  confirm(end: number, now: number): void {
    this.#advanceClock(now);
    this.#confirmed = Math.max(this.#confirmed, end);
    this.#clock = Math.max(this.#clock, this.#confirmed);
    this.#lastEchoAt = now;
  }

  /** How far playback has got by `now`: confirmed by echoes, or further by the clock. */
  played(now: number): number {
    this.#advanceClock(now);
    return Math.max(this.#confirmed, this.#clock);
  }

  /**
   * How far the caller has heard by `now`: the last echoed mark extrapolated by the time since
   * (the clock alone before any echo), never past what was sent.
   */
  heard(now: number): number {
    this.#advanceClock(now);
    if (this.#lastEchoAt === undefined) return Math.min(this.#sent, this.#clock);
    return Math.min(this.#sent, this.#confirmed + (now - this.#lastEchoAt) * BYTES_PER_MS);
  }

  /**
   * Safety net: when the clock says everything sent has played and no echo has come for more than
   * `graceMs`, counts it all as confirmed. @returns whether it did.
   */
  giveUpOnEchoes(now: number, graceMs: number): boolean {
    this.#advanceClock(now);
    const last = Math.max(this.#lastEchoAt ?? 0, this.#clockEndAt);
    if (this.#clock < this.#sent || now - last <= graceMs) return false;
    this.#confirmed = this.#sent;
    return true;
  }

  /** A new generation after a `clear`: positions restart at 0 and no echo has been seen. */
  reset(): void {
    this.#sent = this.#confirmed = this.#clock = 0;
    this.#lastEchoAt = undefined;
  }

  #advanceClock(now: number): void {
    if (this.#clock < this.#sent) {
      this.#clock = Math.min(this.#sent, this.#clock + (now - this.#clockAt) * BYTES_PER_MS);
      if (this.#clock >= this.#sent) this.#clockEndAt = now;
    }
    this.#clockAt = now;
  }
}
