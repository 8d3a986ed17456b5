/**
 * The store writer: the only way records reach the database, and never on the media path.
 * `enqueue(op)` validates and buffers (it never blocks, never throws); a loop writes the buffer in
 * batches, one transaction per batch, at least every `flushIntervalMs`. A process lost abruptly
 * loses at most that interval of records.
 *
 *   enqueue ─► OpBuffer (bounded, value-ordered drops) ─► batch ─► transaction ─► commit
 *                   ▲                                       │ fails, database unreachable
 *                   └──── put back, retry with backoff ◄────┘ (STORE_WRITE_FAILED … STORE_RECOVERED)
 *                                                           │ fails, database reachable
 *                                                           └─► ops one by one; one that keeps failing
 *                                                               is dropped (STORE_OP_REJECTED)
 *
 * While calls started through this writer are open, their `last_seen_at` is refreshed every
 * `heartbeatMs` (heartbeat.ts), which is what makes a call "live" in the API. What it counts and
 * drops is in writer-stats.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger.ts';
import { applyOp, type ApplyContext } from './apply.ts';
import { OpBuffer, type Queued } from './buffer.ts';
import { isPermanentWriteError, messageOf } from './database.ts';
import { Heartbeat } from './heartbeat.ts';
import { validateOp, type StoreOp } from './records.ts';
import { ping, type StoreSchema } from './schema.ts';
import { sleep } from './sleep.ts';
import { WriterCounters, type DropReason, type WriterStats } from './writer-stats.ts';

/** Options of {@link StoreWriter}. */
export interface StoreWriterOptions {
  db: Kysely<StoreSchema>;
  logger: Logger;
  /** Which gateway process this is (calls.instance). */
  instance: string;
  /** Whether an ended call queues its post-call webhook. */
  outbox: boolean;
  /** Buffer cap in ops (default 20000). */
  capOps?: number;
  /** Longest time an op waits before its batch is written (default 500 ms). */
  flushIntervalMs?: number;
  /** Ops per transaction (default 500). */
  batchMaxOps?: number;
  /** Refresh of open calls' last_seen_at (default 10000 ms; a call is live for 3× that). */
  heartbeatMs?: number;
  /** Backoff after a failed batch: from `initialMs` doubling to `maxMs` (default 250 ms → 30 s). */
  retry?: { initialMs?: number; maxMs?: number };
  /** Clock for record times (default Date.now). */
  now?: () => number;
}

const SINGLE_OP_TRIES = 3;

/** Batches store writes off the media path. */
export class StoreWriter {
  readonly #o: Required<Omit<StoreWriterOptions, 'retry'>> & { retryInitialMs: number; retryMaxMs: number };
  readonly #buffer: OpBuffer;
  readonly #abort = new AbortController();
  readonly #idPrefix = randomBytes(6).toString('base64url');
  readonly #heartbeat: Heartbeat;
  readonly #counters: WriterCounters;
  #seq = 0;
  #wake: (() => void) | undefined;
  #pass: Promise<boolean> | undefined;
  #loop: Promise<void>;
  #closed = false;
  // failure state
  #failing = false;
  #failedSince = 0;
  #attempts = 0;
  #isolate = 0;
  #singleFailures = 0;

  constructor(opts: StoreWriterOptions) {
    this.#o = {
      db: opts.db,
      logger: opts.logger,
      instance: opts.instance,
      outbox: opts.outbox,
      capOps: opts.capOps ?? 20_000,
      flushIntervalMs: opts.flushIntervalMs ?? 500,
      batchMaxOps: opts.batchMaxOps ?? 500,
      heartbeatMs: opts.heartbeatMs ?? 10_000,
      now: opts.now ?? Date.now,
      retryInitialMs: opts.retry?.initialMs ?? 250,
      retryMaxMs: opts.retry?.maxMs ?? 30_000,
    };
    this.#buffer = new OpBuffer(this.#o.capOps);
    this.#heartbeat = new Heartbeat(this.#o.heartbeatMs, this.#o.now);
    this.#counters = new WriterCounters(this.#o.logger);
    this.#loop = this.#run();
  }

  /** Buffers a write. Never throws and never waits; a bad or unwanted op is counted and logged. */
  enqueue(op: StoreOp): void {
    try {
      if (this.#closed) return this.#countDrop(op.kind, 'closed');
      const v = validateOp(op);
      if (!v.ok) return this.#countDrop(String((op as { kind?: unknown })?.kind ?? 'unknown'), 'invalid', v.problem);
      const valid = v.op;
      this.#heartbeat.track(valid);
      const r = this.#buffer.push({ op: valid, seq: ++this.#seq });
      if (r.dropped) this.#countDrop(r.dropped, 'full');
      if (!this.#failing && this.#buffer.waiting >= this.#o.batchMaxOps) this.#wake?.();
    } catch (err) {
      this.#countDrop('unknown', 'invalid', messageOf(err));
    }
  }

  /** Current counters. */
  get stats(): WriterStats {
    return this.#counters.snapshot(this.#buffer.size, this.#failing);
  }

  /**
   * Writes everything buffered now, retrying within `timeoutMs` (default 5000) if the database
   * fails. @returns how many ops are still unwritten (0 = all flushed).
   */
  async drain(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buffer.size > 0) {
      const ok = await this.#runPass();
      if (ok && this.#buffer.size === 0) break;
      const left = deadline - Date.now();
      if (left <= 0) break;
      if (!ok) await this.#sleep(Math.min(this.#backoffMs(), left), false);
    }
    const left = this.#buffer.size;
    if (left > 0) this.#o.logger.error('STORE_DRAIN_INCOMPLETE', { left, timeoutMs });
    return left;
  }

  /** Drains (see {@link drain}), then stops the loop. Idempotent; later enqueues are dropped. */
  async close(timeoutMs = 5000): Promise<number> {
    if (this.#closed) return this.#buffer.size;
    const left = await this.drain(timeoutMs);
    this.#closed = true;
    this.#abort.abort();
    await this.#loop;
    return left;
  }

  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      await this.#sleep(this.#failing ? this.#backoffMs() : this.#o.flushIntervalMs);
      if (this.#abort.signal.aborted) break;
      await this.#runPass();
      this.#counters.flushLogs(this.#buffer.size);
    }
  }

  /** One pass (joined if one is running): writes batches until the buffer is empty or one fails. */
  #runPass(): Promise<boolean> {
    this.#pass ??= this.#writeAll().finally(() => (this.#pass = undefined));
    return this.#pass;
  }

  async #writeAll(): Promise<boolean> {
    try {
      while (this.#buffer.waiting > 0 || this.#heartbeat.due) {
        const batch = this.#buffer.take(this.#isolate > 0 ? 1 : this.#o.batchMaxOps);
        if (!(await this.#writeBatch(batch))) return false;
      }
      return true;
    } catch (err) {
      this.#o.logger.error('STORE_WRITER_ERROR', { error: messageOf(err) });
      return false;
    }
  }

  async #writeBatch(batch: readonly Queued[]): Promise<boolean> {
    const now = this.#o.now();
    const heartbeat = this.#heartbeat.callsDue();
    let current: Queued | undefined;
    const ctx: ApplyContext = {
      instance: this.#o.instance,
      outbox: this.#o.outbox,
      now,
      eventId: () => `${this.#idPrefix}-${current?.seq ?? 0}`,
    };
    try {
      await this.#o.db.transaction().execute(async (trx) => {
        for (const q of batch) {
          current = q;
          await applyOp(trx, q.op, ctx);
        }
        await this.#heartbeat.refresh(trx, heartbeat, now);
      });
    } catch (err) {
      return this.#onBatchFailed(batch, err);
    }
    this.#buffer.commit();
    this.#heartbeat.committed(heartbeat, now);
    this.#counters.committed(batch.length);
    if (this.#isolate > 0) this.#isolate -= batch.length;
    this.#singleFailures = 0;
    if (this.#failing) {
      this.#o.logger.info('STORE_RECOVERED', {
        downMs: Date.now() - this.#failedSince,
        attempts: this.#attempts,
        buffered: this.#buffer.size,
      });
      this.#failing = false;
      this.#attempts = 0;
    }
    return true;
  }

  async #onBatchFailed(batch: readonly Queued[], err: unknown): Promise<boolean> {
    const reachable = await ping(this.#o.db).then(
      () => true,
      () => false,
    );
    // Only a write the database itself refuses (constraint, bad value) is looked for and dropped;
    // a locked, slow or restarting database keeps every op and is retried.
    const refused = reachable && isPermanentWriteError(err);
    if (refused && batch.length > 1) {
      // The database answers but refused the batch: find the op it refuses by writing one at a time.
      this.#buffer.putBack();
      this.#isolate = batch.length;
      return true;
    }
    if (refused && batch.length === 1 && ++this.#singleFailures >= SINGLE_OP_TRIES) {
      const [q] = batch as [Queued];
      this.#buffer.discardInFlight(q);
      this.#buffer.commit();
      this.#counters.rejected();
      this.#isolate = Math.max(0, this.#isolate - 1);
      this.#singleFailures = 0;
      this.#o.logger.error('STORE_OP_REJECTED', { kind: q.op.kind, callSid: q.op.callSid, error: messageOf(err) });
      return true;
    }
    this.#buffer.putBack();
    if (!this.#failing) {
      this.#failing = true;
      this.#failedSince = Date.now();
    }
    this.#attempts++;
    this.#o.logger.warn('STORE_WRITE_FAILED', {
      attempt: this.#attempts,
      buffered: this.#buffer.size,
      reachable,
      refused,
      retryInMs: this.#backoffMs(),
      error: messageOf(err),
    });
    return false;
  }

  #backoffMs(): number {
    const exp = this.#o.retryInitialMs * 2 ** Math.max(0, this.#attempts - 1);
    return Math.min(this.#o.retryMaxMs, exp);
  }

  #countDrop(kind: string, why: DropReason, problem?: string): void {
    this.#counters.drop(kind, why, this.#buffer.size, problem);
  }

  /** Waits `ms`, or until close; `wakeable` sleeps also end when a full batch is waiting. */
  #sleep(ms: number, wakeable = true): Promise<void> {
    return sleep(ms, this.#abort.signal, wakeable ? (wake) => (this.#wake = wake) : undefined);
  }
}
