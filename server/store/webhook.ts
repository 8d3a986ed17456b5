/**
 * The post-call webhook's delivery worker. It polls the outbox, claims due rows with a lease, and
 * POSTs each call's record (the `GET /api/calls/{callSid}` document, built when it is sent, so a
 * retry carries everything the store has by then) to CALL_WEBHOOK_URL:
 *
 *   Content-Type: application/json
 *   Idempotency-Key: <callSid>                    (the same on every attempt: receivers drop repeats)
 *   X-Gateway-Timestamp / X-Gateway-Signature     (server/signing.ts, keyed with WEBHOOK_SECRET)
 *
 * A 2xx answer is delivery. Anything else (another status, a timeout, a network error) is retried
 * 1 s later, then 2 s, 4 s… until CALL_WEBHOOK_MAX_AGE_S after the call ended, then given up.
 * Logs: WEBHOOK_DELIVERED, WEBHOOK_RETRY, WEBHOOK_GAVE_UP.
 */
import type { Kysely } from 'kysely';
import type { Logger } from '../logger.ts';
import { signatureHeaders } from '../signing.ts';
import { messageOf } from './database.ts';
import { claimDue, markDelivered, markFailed, nextAttemptAt, releaseLease, type OutboxRow } from './outbox.ts';
import type { StoreReader } from './reader.ts';
import type { StoreSchema } from './schema.ts';
import { sleep } from './sleep.ts';

/** Options of {@link WebhookWorker}. */
export interface WebhookWorkerOptions {
  db: Kysely<StoreSchema>;
  reader: StoreReader;
  logger: Logger;
  /** CALL_WEBHOOK_URL. */
  url: string;
  /** WEBHOOK_SECRET; unset = unsigned requests. */
  secret: string | undefined;
  /** CALL_WEBHOOK_MAX_AGE_S: give up this long after the call ended. */
  maxAgeS: number;
  /** Lease owner name (unique per process). */
  owner: string;
  /** How often due rows are looked for (default 1000 ms). */
  pollMs?: number;
  /** Per-request timeout (default 10000 ms). */
  timeoutMs?: number;
  /** First retry delay, doubling after (default 1000 ms). */
  baseDelayMs?: number;
  /** Parallel deliveries (default 4). */
  concurrency?: number;
  /** Clock for scheduling (default Date.now); signatures always use the real clock. */
  now?: () => number;
}

/** Delivers the outbox. Call {@link start}; {@link close} stops it and gives back open leases. */
export class WebhookWorker {
  readonly #o: Required<WebhookWorkerOptions>;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #pass: Promise<number> | undefined;

  constructor(opts: WebhookWorkerOptions) {
    this.#o = { pollMs: 1000, timeoutMs: 10_000, baseDelayMs: 1000, concurrency: 4, now: Date.now, ...opts };
  }

  /** Starts polling. Idempotent. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Delivers everything due now (joins a pass already running). @returns attempts made. */
  runOnce(): Promise<number> {
    this.#pass ??= this.#deliverDue().finally(() => (this.#pass = undefined));
    return this.#pass;
  }

  /** Stops polling and aborts requests in flight (their rows are released, not counted). Idempotent. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    await this.#pass;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      await this.runOnce();
      await sleep(this.#o.pollMs, signal);
    }
  }

  async #deliverDue(): Promise<number> {
    let attempts = 0;
    const lane = async () => {
      while (!this.#abort.signal.aborted) {
        let row: OutboxRow | undefined;
        try {
          row = await claimDue(this.#o.db, this.#o.owner, this.#o.now(), this.#o.timeoutMs + 20_000);
        } catch (err) {
          this.#o.logger.warn('WEBHOOK_OUTBOX_UNAVAILABLE', { error: messageOf(err) });
          return;
        }
        if (!row) return;
        attempts++;
        await this.#deliver(row).catch((err: unknown) =>
          this.#o.logger.error('WEBHOOK_WORKER_ERROR', { callSid: row.call_sid, error: messageOf(err) }),
        );
      }
    };
    await Promise.all(Array.from({ length: this.#o.concurrency }, lane));
    return attempts;
  }

  async #deliver(row: OutboxRow): Promise<void> {
    const { db, owner, logger } = this.#o;
    const callSid = row.call_sid;
    const attempt = row.attempts + 1;
    const document = await this.#o.reader.getCall(callSid);
    if (!document) {
      await markFailed(db, row, owner, this.#o.now(), {
        status: null,
        error: 'call record missing',
        nextAt: undefined,
      });
      logger.error('WEBHOOK_GAVE_UP', { callSid, attempts: attempt, reason: 'call record missing' });
      return;
    }
    const body = JSON.stringify(document);
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(this.#o.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Idempotency-Key': callSid,
          ...signatureHeaders(this.#o.secret, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.timeoutMs)]),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
    } catch (err) {
      if (this.#abort.signal.aborted) {
        await releaseLease(db, callSid, owner).catch(() => undefined);
        return;
      }
      // Duck-typed: the abort reason is a DOMException, which need not be an Error of this realm.
      const timedOut = (err as { name?: unknown })?.name === 'TimeoutError';
      error = timedOut ? `timeout after ${this.#o.timeoutMs} ms` : causeOf(err);
    }
    const now = this.#o.now();
    if (status !== null && status >= 200 && status < 300) {
      await markDelivered(db, row, owner, now, status);
      logger.info('WEBHOOK_DELIVERED', { callSid, attempts: attempt, status, ms: Date.now() - started });
      return;
    }
    error ??= `HTTP ${status}`;
    const deadline = Number(row.ended_at) + this.#o.maxAgeS * 1000;
    const nextAt = nextAttemptAt(attempt, now, deadline, this.#o.baseDelayMs);
    await markFailed(db, row, owner, now, { status, error, nextAt });
    if (nextAt === undefined) {
      logger.error('WEBHOOK_GAVE_UP', { callSid, attempts: attempt, status, error, maxAgeS: this.#o.maxAgeS });
    } else {
      logger.warn('WEBHOOK_RETRY', { callSid, attempt, status, error, retryInMs: nextAt - now });
    }
  }
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, socket hang up…). */
function causeOf(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  return cause ? `${messageOf(err)}: ${messageOf(cause)}` : messageOf(err);
}
