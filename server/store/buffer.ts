/**
 * The writer's bounded buffer. Ops wait here, in arrival order, until a batch takes them; a batch
 * that fails goes back to the front, so order is kept across retries. The cap counts every op the
 * buffer holds, including the batch being written.
 *
 * When full, the least valuable op goes (see OP_VALUE): the oldest waiting op of the lowest value
 * present, or the newcomer itself when nothing waiting is worth less. Ops of the batch in flight
 * are never dropped: they may already be committed.
 */
import { OP_VALUE, type StoreOp, type StoreOpKind } from './records.ts';

/** An op with what the writer attached to it at enqueue. */
export interface Queued {
  readonly op: StoreOp;
  /** Writer-unique sequence number (event ids, ordering checks). */
  readonly seq: number;
}

/** Outcome of {@link OpBuffer.push}: what, if anything, was dropped to make room. */
export type PushResult = { dropped: undefined } | { dropped: StoreOpKind };

/** Bounded FIFO with value-ordered eviction. */
export class OpBuffer {
  readonly #cap: number;
  #waiting: Queued[] = [];
  #inFlight: Queued[] = [];
  /** Waiting ops per value, to find the lowest present without a scan. */
  readonly #perValue = new Map<number, number>();

  /** @param cap maximum ops held (waiting + in flight), at least 1. */
  constructor(cap: number) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`buffer cap must be a positive integer (got ${cap})`);
    this.#cap = cap;
  }

  /** Ops held (waiting + in flight). */
  get size(): number {
    return this.#waiting.length + this.#inFlight.length;
  }

  /** Ops waiting for a batch. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Adds an op, dropping the least valuable one when full. */
  push(q: Queued): PushResult {
    if (this.size < this.#cap) {
      this.#add(q);
      return { dropped: undefined };
    }
    const value = OP_VALUE[q.op.kind];
    const lowest = this.#lowestWaitingValue();
    if (lowest === undefined || lowest >= value) return { dropped: q.op.kind };
    const i = this.#waiting.findIndex((w) => OP_VALUE[w.op.kind] === lowest);
    const [victim] = this.#waiting.splice(i, 1) as [Queued];
    this.#count(lowest, -1);
    this.#add(q);
    return { dropped: victim.op.kind };
  }

  /** Takes up to `max` waiting ops as the batch in flight. @throws Error when one is already in flight. */
  take(max: number): readonly Queued[] {
    if (this.#inFlight.length > 0) throw new Error('a batch is already in flight');
    this.#inFlight = this.#waiting.slice(0, max);
    this.#waiting = this.#waiting.slice(this.#inFlight.length);
    for (const q of this.#inFlight) this.#count(OP_VALUE[q.op.kind], -1);
    return this.#inFlight;
  }

  /** The batch in flight was written: forget it. */
  commit(): void {
    this.#inFlight = [];
  }

  /** The batch in flight failed: put it back in front of the waiting ops, in its order. */
  putBack(): void {
    for (const q of this.#inFlight) this.#count(OP_VALUE[q.op.kind], 1);
    this.#waiting = this.#inFlight.concat(this.#waiting);
    this.#inFlight = [];
  }

  /** Removes one op of the batch in flight (a write the database refuses for good). */
  discardInFlight(q: Queued): void {
    this.#inFlight = this.#inFlight.filter((x) => x !== q);
  }

  #add(q: Queued): void {
    this.#waiting.push(q);
    this.#count(OP_VALUE[q.op.kind], 1);
  }

  #count(value: number, delta: number): void {
    const n = (this.#perValue.get(value) ?? 0) + delta;
    if (n === 0) this.#perValue.delete(value);
    else this.#perValue.set(value, n);
  }

  #lowestWaitingValue(): number | undefined {
    let lowest: number | undefined;
    for (const v of this.#perValue.keys()) if (lowest === undefined || v < lowest) lowest = v;
    return lowest;
  }
}
