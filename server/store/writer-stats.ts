/**
 * What the store writer counts: ops written, transactions committed, ops dropped (buffer full,
 * invalid, writer closed) or rejected by the database. Drops are also logged, summarised
 * (STORE_DROPPED, STORE_OP_INVALID: one line per interval at most), since they can come by the
 * thousand when the database is down.
 */
import type { Logger } from '../logger.ts';
import { LogSummary } from './log-summary.ts';

/** Counters of the writer, for tests and logs. */
export interface WriterStats {
  buffered: number;
  written: number;
  /** Ops dropped because the buffer was full, by kind. */
  dropped: Record<string, number>;
  /** Ops refused by validation. */
  invalid: number;
  /** Ops the database kept refusing while reachable. */
  rejected: number;
  /** Transactions committed. */
  batches: number;
  failing: boolean;
}

/** Why an op never reached the database without being tried. */
export type DropReason = 'full' | 'invalid' | 'closed';

/** The writer's counters and its summarised drop logs. */
export class WriterCounters {
  #written = 0;
  #batches = 0;
  #invalid = 0;
  #rejected = 0;
  readonly #dropped: Record<string, number> = {};
  readonly #dropLog: LogSummary;
  readonly #invalidLog: LogSummary;

  constructor(logger: Logger) {
    this.#dropLog = new LogSummary(logger, 'STORE_DROPPED');
    this.#invalidLog = new LogSummary(logger, 'STORE_OP_INVALID');
  }

  /**
   * Counts a dropped op under its kind (`invalid:<kind>`, `closed:<kind>` for those reasons) and
   * logs it, summarised; an invalid op also counts in `invalid`. `buffered` is the buffer's size.
   */
  drop(kind: string, why: DropReason, buffered: number, problem?: string): void {
    if (why === 'invalid') this.#invalid++;
    const key = why === 'full' ? kind : `${why}:${kind}`;
    this.#dropped[key] = (this.#dropped[key] ?? 0) + 1;
    (why === 'invalid' ? this.#invalidLog : this.#dropLog).count(key, buffered, problem);
  }

  /** A transaction of `ops` ops committed (an empty one, heartbeat only, is not a batch). */
  committed(ops: number): void {
    this.#written += ops;
    if (ops > 0) this.#batches++;
  }

  /** The database kept refusing one op while reachable; it was dropped. */
  rejected(): void {
    this.#rejected++;
  }

  /** Logs drops counted since the last summary line, if its interval has passed. */
  flushLogs(buffered: number): void {
    this.#dropLog.flush(buffered);
    this.#invalidLog.flush(buffered);
  }

  /** The counters now, with the buffer's size and whether writes are failing. */
  snapshot(buffered: number, failing: boolean): WriterStats {
    return {
      buffered,
      written: this.#written,
      dropped: { ...this.#dropped },
      invalid: this.#invalid,
      rejected: this.#rejected,
      batches: this.#batches,
      failing,
    };
  }
}
