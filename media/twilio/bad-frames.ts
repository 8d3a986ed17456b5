/**
 * The log budget of one media socket for frames it ignores: the first few are logged one by one
 * (`WS_BAD_MESSAGE`), the rest are counted by reason and summarised (`WS_BAD_MESSAGES_SUPPRESSED`) at
 * most once per {@link BAD_SUMMARY_MS} and once more when the socket closes. Every one is counted in
 * `voice_ws_bad_messages_total{reason}`, logged or not.
 */
import type { Logger } from '../../server/logger.ts';
import type { Metrics } from '../../server/metrics.ts';

/** Bad frames of one socket logged one by one before they are only counted. */
export const BAD_FRAME_LOG_LIMIT = 10;
/** Shortest gap between two summaries of suppressed bad frames on one socket. */
export const BAD_SUMMARY_MS = 10_000;

/** Counts and logs the bad frames of one socket. */
export class BadFrames {
  #total = 0;
  #suppressed = 0;
  #reasons: Record<string, number> = {};
  #summarisedAt = 0;
  readonly #metrics: Metrics;
  readonly #now: () => number;

  constructor(metrics: Metrics, now: () => number = () => performance.now()) {
    this.#metrics = metrics;
    this.#now = now;
    // The first summary comes a window after the socket opened (or at its close), not at once.
    this.#summarisedAt = now();
  }

  /** All bad frames so far. */
  get total(): number {
    return this.#total;
  }

  /** One ignored frame: `reason` is a short code, `detail` never contains the frame's content. */
  record(log: Logger, reason: string, detail: string): void {
    this.#total++;
    this.#metrics.wsBadMessages.inc({ reason });
    if (this.#total <= BAD_FRAME_LOG_LIMIT) {
      log.warn('WS_BAD_MESSAGE', { code: 'WS_BAD_MESSAGE', reason, detail, count: this.#total });
      return;
    }
    this.#suppressed++;
    this.#reasons[reason] = (this.#reasons[reason] ?? 0) + 1;
    if (this.#now() - this.#summarisedAt >= BAD_SUMMARY_MS) this.summarise(log);
  }

  /** Logs what was suppressed since the last summary, if anything (also called on close). */
  summarise(log: Logger): void {
    if (this.#suppressed === 0) return;
    log.warn('WS_BAD_MESSAGES_SUPPRESSED', {
      code: 'WS_BAD_MESSAGE',
      suppressed: this.#suppressed,
      reasons: this.#reasons,
      total: this.#total,
    });
    this.#suppressed = 0;
    this.#reasons = {};
    this.#summarisedAt = this.#now();
  }
}
