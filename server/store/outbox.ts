/**
 * The post-call webhook outbox: one row per ended call (written in the same transaction as the
 * call's end), claimed with a lease so that two instances do not send the same row at once, and
 * finished as delivered or given up. A worker that dies mid-delivery leaves a lease that expires,
 * after which any instance takes the row again: delivery is at least once.
 *
 *   pending ──claim (lease)──► POST ──2xx──► delivered
 *      ▲                         │ other status, timeout, network
 *      └── next_attempt_at ◄─────┤ (1 s, doubling, capped at the deadline)
 *                                └─ deadline (ended_at + max age) passed ──► gave_up
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { StoreSchema, WebhookOutboxTable } from './schema.ts';

/** A claimed row. */
export type OutboxRow = WebhookOutboxTable;

/** Takes the most overdue pending row whose lease is free, leasing it to `owner` until now + leaseMs. */
export async function claimDue(
  db: Kysely<StoreSchema>,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<OutboxRow | undefined> {
  const free = (eb: ExpressionBuilder<StoreSchema, 'webhook_outbox'>) =>
    eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]);
  const due = db
    .selectFrom('webhook_outbox')
    .select('call_sid')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where(free)
    .orderBy('next_attempt_at')
    .limit(1);
  // The conditions are repeated on the UPDATE itself: under PostgreSQL's READ COMMITTED, a second
  // instance that picked the same row waits for the first's update, re-checks these on the new row
  // version, and finds the lease taken.
  return db
    .updateTable('webhook_outbox')
    .set({ lease_owner: owner, lease_until: now + leaseMs })
    .where('call_sid', 'in', due)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where(free)
    .returningAll()
    .executeTakeFirst();
}

/** Marks a claimed row delivered. */
export async function markDelivered(
  db: Kysely<StoreSchema>,
  row: OutboxRow,
  owner: string,
  now: number,
  status: number,
): Promise<void> {
  await db
    .updateTable('webhook_outbox')
    .set({
      status: 'delivered',
      attempts: row.attempts + 1,
      last_status: status,
      last_error: null,
      done_at: now,
      lease_owner: null,
      lease_until: null,
    })
    .where('call_sid', '=', row.call_sid)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Records a failed attempt: schedules the next one, or gives up when `nextAt` is undefined. */
export async function markFailed(
  db: Kysely<StoreSchema>,
  row: OutboxRow,
  owner: string,
  now: number,
  failure: { status: number | null; error: string | null; nextAt: number | undefined },
): Promise<void> {
  await db
    .updateTable('webhook_outbox')
    .set({
      status: failure.nextAt === undefined ? 'gave_up' : 'pending',
      attempts: row.attempts + 1,
      next_attempt_at: failure.nextAt ?? row.next_attempt_at,
      last_status: failure.status,
      last_error: failure.error?.slice(0, 500) ?? null,
      done_at: failure.nextAt === undefined ? now : null,
      lease_owner: null,
      lease_until: null,
    })
    .where('call_sid', '=', row.call_sid)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Gives a lease back without counting an attempt (the worker is shutting down). */
export async function releaseLease(db: Kysely<StoreSchema>, callSid: string, owner: string): Promise<void> {
  await db
    .updateTable('webhook_outbox')
    .set({ lease_owner: null, lease_until: null })
    .where('call_sid', '=', callSid)
    .where('lease_owner', '=', owner)
    .execute();
}

/**
 * When the next attempt is due after `attempts` failed ones (1 s, 2 s, 4 s…), or undefined when
 * the deadline has passed. The last attempt is made at the deadline itself.
 */
export function nextAttemptAt(attempts: number, now: number, deadline: number, baseMs = 1000): number | undefined {
  if (now >= deadline) return undefined;
  const delay = baseMs * 2 ** Math.min(Math.max(0, attempts - 1), 40);
  return Math.min(now + delay, deadline);
}
