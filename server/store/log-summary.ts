/**
 * A summarised log line for a condition that can repeat thousands of times a second (dropped or
 * invalid store writes): counts by key, one line per interval at most.
 */
import type { Logger } from '../logger.ts';
import type { LogEvent } from '../log-events.ts';

/**
 * One log line per `everyMs` (default 5 s) at most for a repeated condition: the first occurrence is
 * logged at once, later ones are counted and summarised by the next line (or by `flush`).
 */
export class LogSummary {
  readonly #logger: Logger;
  readonly #event: LogEvent;
  #pending: Record<string, number> = {};
  #pendingProblem: string | undefined;
  #last = Number.NEGATIVE_INFINITY;
  readonly #everyMs: number;

  constructor(logger: Logger, event: LogEvent, everyMs = 5000) {
    this.#logger = logger;
    this.#event = event;
    this.#everyMs = everyMs;
  }

  /** Counts one occurrence under `key`; logs now if the interval has passed. */
  count(key: string, buffered: number, problem?: string): void {
    this.#pending[key] = (this.#pending[key] ?? 0) + 1;
    this.#pendingProblem ??= problem;
    this.flush(buffered);
  }

  /** Logs the counts gathered since the last line, if any and if the interval has passed. */
  flush(buffered: number): void {
    if (Object.keys(this.#pending).length === 0 || Date.now() - this.#last < this.#everyMs) return;
    this.#last = Date.now();
    this.#logger.warn(this.#event, {
      dropped: this.#pending,
      buffered,
      ...(this.#pendingProblem ? { problem: this.#pendingProblem } : {}),
    });
    this.#pending = {};
    this.#pendingProblem = undefined;
  }
}
