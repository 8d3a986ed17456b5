/**
 * Rate limits for log events that strangers can trigger at will (unsigned requests, refused
 * upgrades, malformed HTTP): the first `burst` records of an event in each window are logged, the
 * rest are only counted, and one `LOG_SUPPRESSED` record per event and window says how many were
 * left out. A flood then costs a few lines a window instead of one line a request.
 */
import type { Logger } from './logger.ts';
import type { LogEvent } from './log-events.ts';

/** Options of {@link LogLimiter}. */
export interface LogLimiterOptions {
  /** Records of one event logged per window (default 20). */
  burst?: number;
  /** Window length (default 10 s). */
  windowMs?: number;
  now?: () => number;
}

interface Window {
  startedAt: number;
  logged: number;
  suppressed: number;
}

/** Per-event log budget. Call {@link close} to stop its timer (it logs what is still suppressed). */
export class LogLimiter {
  readonly #logger: Logger;
  readonly #burst: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();
  readonly #timer: NodeJS.Timeout;

  constructor(logger: Logger, opts: LogLimiterOptions = {}) {
    this.#logger = logger;
    this.#burst = opts.burst ?? 20;
    this.#windowMs = opts.windowMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
    this.#timer = setInterval(() => this.#flush(false), this.#windowMs);
    this.#timer.unref();
  }

  /** True when a record of `event` may be logged now; false when it is counted instead. */
  allow(event: string): boolean {
    const now = this.#now();
    let w = this.#windows.get(event);
    if (!w || now - w.startedAt >= this.#windowMs) {
      if (w) this.#summarise(event, w);
      w = { startedAt: now, logged: 0, suppressed: 0 };
      this.#windows.set(event, w);
    }
    if (w.logged < this.#burst) {
      w.logged++;
      return true;
    }
    w.suppressed++;
    return false;
  }

  /** Logs `event` at `level` with `fields` if the budget allows (a level that is off costs nothing). */
  log(level: 'info' | 'warn' | 'debug', event: LogEvent, fields: Record<string, unknown>): void {
    if (!this.#logger.isLevelEnabled(level)) return;
    if (this.allow(event)) this.#logger[level](event, fields);
  }

  /** Stops the timer and reports what is still suppressed. Idempotent. */
  close(): void {
    clearInterval(this.#timer);
    this.#flush(true);
  }

  #flush(all: boolean): void {
    const now = this.#now();
    for (const [event, w] of this.#windows) {
      if (!all && now - w.startedAt < this.#windowMs) continue;
      this.#summarise(event, w);
      this.#windows.delete(event);
    }
  }

  #summarise(event: string, w: Window): void {
    if (w.suppressed === 0) return;
    this.#logger.warn('LOG_SUPPRESSED', {
      event,
      suppressed: w.suppressed,
      logged: w.logged,
      windowMs: this.#windowMs,
    });
    w.suppressed = 0;
  }
}
