/**
 * The call's event bus: every stage hands its output to `emit`, and every subscriber sees every
 * event, one at a time, in one order. Delivery is synchronous and never re-entrant: an event
 * emitted while another is being delivered waits in the queue, so each stage handles one event
 * to completion before the next, and the order is the same on every run.
 *
 * Priority (events.ts): system events (`interrupt`, `error`, `end`) are delivered before queued
 * data events, and an `interrupt` drops the queued sentences, audio and playout events of the reply
 * it cuts. A subscriber that throws is reported and skipped; the others still get the event.
 */
import { flushedBy, isSystemEvent, type CallEvent } from './events.ts';

/** Something that handles call events (a stage's one way in, or an observer). */
export type Subscriber = (e: CallEvent) => void;

/** Most events waiting at once; only a stage stuck in an emit loop could get near it. */
const MAX_QUEUED = 10_000;

/** Options of {@link CallBus}. */
export interface CallBusOptions {
  /** Told when a subscriber throws (the event still reaches the other subscribers). */
  onSubscriberError: (err: unknown, e: CallEvent) => void;
  /** Told when the queue is full and an event is dropped. */
  onOverflow?: (e: CallEvent) => void;
}

/** One call's bus. */
export class CallBus {
  readonly #subscribers: Subscriber[] = [];
  readonly #queue: CallEvent[] = [];
  readonly #opts: CallBusOptions;
  #dispatching = false;
  #closed = false;

  constructor(opts: CallBusOptions) {
    this.#opts = opts;
  }

  /** Adds a subscriber; subscribers are called in the order they subscribed. */
  subscribe(fn: Subscriber): void {
    this.#subscribers.push(fn);
  }

  /** Queues `e` by its priority and delivers everything queued unless a delivery is already running. */
  emit = (e: CallEvent): void => {
    if (this.#closed) return;
    if (this.#queue.length >= MAX_QUEUED) return this.#opts.onOverflow?.(e);
    if (isSystemEvent(e)) {
      if (e.type === 'interrupt') this.#flush(e);
      const firstData = this.#queue.findIndex((q) => !isSystemEvent(q));
      this.#queue.splice(firstData === -1 ? this.#queue.length : firstData, 0, e);
    } else {
      this.#queue.push(e);
    }
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) this.#deliver(next);
    } finally {
      this.#dispatching = false;
    }
  };

  /** Stops delivery: queued and later events are dropped. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
  }

  #deliver(e: CallEvent): void {
    for (const fn of this.#subscribers) {
      if (this.#closed) return;
      try {
        fn(e);
      } catch (err) {
        this.#opts.onSubscriberError(err, e);
      }
    }
  }

  #flush(interrupt: Extract<CallEvent, { type: 'interrupt' }>): void {
    for (let i = this.#queue.length - 1; i >= 0; i--)
      if (flushedBy(interrupt, this.#queue[i]!)) this.#queue.splice(i, 1);
  }
}
