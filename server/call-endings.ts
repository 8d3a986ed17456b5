/**
 * How a call the gateway closed should go on: Twilio requests `<Connect action>`
 * (`/webhook/stream_ended`) right after the media socket closes, possibly on another instance, and
 * that route answers from the decision stored here. One small interface, so the in-memory version
 * can be replaced by the call store's (any instance reads what another wrote).
 */

/** What `<Connect action>` does next. */
export type EndingDecision =
  /** The agent ended the call normally: `<Hangup/>`. */
  | { action: 'hangup'; reason?: string }
  /** Hand the caller to a person: `<Dial>` the number (with digits after answer), optionally whisper a summary first. */
  | { action: 'transfer'; number: string; sendDigits?: string; callerId?: string; summary?: string; target: string }
  /**
   * The call could not be served. `heard`: the caller heard the apology already; otherwise Twilio
   * says it. Then FALLBACK_NUMBER is dialled when set.
   */
  | { action: 'apology'; heard: boolean };

/** Where endings are kept. */
export interface CallEndings {
  put(callSid: string, decision: EndingDecision): Promise<void>;
  get(callSid: string): Promise<EndingDecision | undefined>;
}

/** Options of {@link MemoryCallEndings}. */
export interface MemoryCallEndingsOptions {
  /** How long a decision is kept (default 10 minutes: Twilio asks within seconds). */
  ttlMs?: number;
  /** Most decisions kept (oldest dropped first). Default 10,000. */
  maxEntries?: number;
  now?: () => number;
}

/** Decisions in this process's memory, expiring; enough for one instance. */
export class MemoryCallEndings implements CallEndings {
  readonly #entries = new Map<string, { decision: EndingDecision; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: MemoryCallEndingsOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.#max = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  put(callSid: string, decision: EndingDecision): Promise<void> {
    this.#entries.delete(callSid);
    this.#entries.set(callSid, { decision, expiresAt: this.#now() + this.#ttlMs });
    this.#sweep();
    return Promise.resolve();
  }

  get(callSid: string): Promise<EndingDecision | undefined> {
    const entry = this.#entries.get(callSid);
    if (!entry || entry.expiresAt <= this.#now()) return Promise.resolve(undefined);
    return Promise.resolve(entry.decision);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [sid, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size <= this.#max) break; // insertion order: oldest first
      this.#entries.delete(sid);
    }
  }
}
