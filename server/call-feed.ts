/**
 * The live call feed: a call's list-item summary is published when the call starts, when it
 * changes (a turn completes) and when it ends, and every subscriber (the console's Server-Sent
 * Events stream) hears it at once. Publishing is synchronous and never throws, so the voice
 * pipeline can call it from its own event handlers without awaiting anything: a listener that
 * fails is logged and skipped, and listeners never queue work here (each SSE client has its own
 * bounded buffer, see routes/api-live.ts).
 *
 *   voice pipeline ──publish(summary)──► MemoryCallFeed ──listener(summary)──► SSE clients
 *                                          └─ keeps the summaries of live calls, for new subscribers
 */
import type { Logger } from './logger.ts';

/**
 * One call as the list shows it; the same shape as an item of `GET /api/calls`. Times are ISO
 * strings; `live` is true until the call has ended.
 */
export interface CallSummary {
  readonly callSid: string;
  readonly agentId: string | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly endReason: string | null;
  readonly turnCount: number;
  readonly live: boolean;
}

/** Receives every published summary, in publication order. */
export type CallFeedListener = (summary: CallSummary) => void;

/** What the console's live endpoint needs from a source of call changes. */
export interface CallFeed {
  /** Adds a listener; returns its (idempotent) unsubscribe function. */
  subscribe(listener: CallFeedListener): () => void;
  /** Summaries of the calls currently live (least recently changed first), so a new subscriber starts complete. */
  liveCalls(): CallSummary[];
}

/** Options of {@link MemoryCallFeed}. */
export interface MemoryCallFeedOptions {
  /** Where a failing listener is reported (`CALL_FEED_LISTENER_FAILED`); default: nowhere. */
  logger?: Logger;
  /**
   * Most live calls remembered for new subscribers (default 1000); beyond it the oldest is
   * forgotten, so a call whose end is never published cannot grow memory without bound.
   */
  maxLive?: number;
}

/** The in-process {@link CallFeed}; the gateway feeds it from the voice pipeline's call events. */
export class MemoryCallFeed implements CallFeed {
  readonly #listeners = new Set<CallFeedListener>();
  readonly #live = new Map<string, CallSummary>();
  readonly #maxLive: number;
  readonly #logger: Logger | undefined;

  constructor(opts: MemoryCallFeedOptions = {}) {
    this.#maxLive = Math.max(1, opts.maxLive ?? 1000);
    this.#logger = opts.logger;
  }

  /** Number of current subscribers (for tests and metrics). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  subscribe(listener: CallFeedListener): () => void {
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const entry: CallFeedListener = (s) => listener(s);
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  liveCalls(): CallSummary[] {
    return [...this.#live.values()];
  }

  /**
   * Tells every subscriber about a new or changed call. A summary with `live: false` also drops
   * the call from {@link liveCalls}. Never throws; the summary is frozen before it is shared.
   */
  publish(summary: CallSummary): void {
    const frozen = Object.freeze({ ...summary });
    if (frozen.live) {
      this.#live.delete(frozen.callSid); // re-insert: Map order is then "least recently changed first"
      this.#live.set(frozen.callSid, frozen);
      while (this.#live.size > this.#maxLive) {
        const oldest = this.#live.keys().next();
        if (oldest.done) break;
        this.#live.delete(oldest.value);
      }
    } else {
      this.#live.delete(frozen.callSid);
    }
    for (const listener of [...this.#listeners]) {
      try {
        listener(frozen);
      } catch (err) {
        this.#logger?.error('CALL_FEED_LISTENER_FAILED', { callSid: frozen.callSid, error: String(err) });
      }
    }
  }
}
