/**
 * The writer's heartbeat: the calls started through one writer and not yet ended, whose
 * `last_seen_at` it refreshes every `heartbeatMs` inside its batch transaction. A call seen within
 * {@link LIVE_HEARTBEATS} heartbeats is "live" in the API; one whose gateway died stops being
 * refreshed and so stops being live.
 */
import type { Transaction } from 'kysely';
import type { StoreOp } from './records.ts';
import type { StoreSchema } from './schema.ts';

/** How a call's liveness is judged: seen within this many heartbeats. */
export const LIVE_HEARTBEATS = 3;
/** Most open calls tracked; beyond it the oldest is forgotten (it then ages out of "live"). */
const MAX_OPEN_CALLS = 10_000;
/** Calls per UPDATE … WHERE call_sid IN (…). */
const SIDS_PER_UPDATE = 500;

/** Open calls and when their last_seen_at was last refreshed. */
export class Heartbeat {
  readonly #open = new Set<string>();
  readonly #everyMs: number;
  readonly #now: () => number;
  #last = 0;

  /** @param everyMs refresh period; @param now clock of record times. */
  constructor(everyMs: number, now: () => number) {
    this.#everyMs = everyMs;
    this.#now = now;
  }

  /** Follows a (validated) op: `call.start` opens its call, `call.end` closes it. */
  track(op: StoreOp): void {
    if (op.kind === 'call.start') {
      if (this.#open.size >= MAX_OPEN_CALLS) this.#open.delete(this.#open.values().next().value as string);
      this.#open.add(op.callSid);
    } else if (op.kind === 'call.end') {
      this.#open.delete(op.callSid);
    }
  }

  /** Whether a refresh is due: calls are open and the period has passed since the last one. */
  get due(): boolean {
    return this.#open.size > 0 && this.#now() - this.#last >= this.#everyMs;
  }

  /** The calls a batch should refresh now: all open ones when due, else none. */
  callsDue(): string[] {
    return this.due ? [...this.#open] : [];
  }

  /**
   * Sets `last_seen_at = now` on those of `callSids` that have not ended, within `trx`.
   * @throws whatever the driver throws (the batch fails with it).
   */
  async refresh(trx: Transaction<StoreSchema>, callSids: readonly string[], now: number): Promise<void> {
    for (let i = 0; i < callSids.length; i += SIDS_PER_UPDATE) {
      await trx
        .updateTable('calls')
        .set({ last_seen_at: now })
        .where('call_sid', 'in', callSids.slice(i, i + SIDS_PER_UPDATE))
        .where('ended_at', 'is', null)
        .execute();
    }
  }

  /** The batch that refreshed calls at `now` committed. */
  committed(callSids: readonly string[], now: number): void {
    if (callSids.length > 0) this.#last = now;
  }
}
