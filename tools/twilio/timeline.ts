/**
 * The timeline a media client records: what the caller side sent, what the gateway sent, and what the
 * modelled playout buffer did with it. Tests assert on it (and wait on it); the call simulator prints it.
 */
import type { Violation } from './outbound-validator.ts';

/** Detail carried by each kind of timeline event. */
export interface ClientEventDetails {
  /** `connected` and `start` went out; the stream clock starts here. */
  'sent-start': { streamSid: string; callSid: string; protocol: string };
  /** One inbound frame; `speech` is false for a frame of pure silence. Counters as numbers for convenience. */
  'sent-media': { sequenceNumber: number; chunk: number; timestamp: number; speech: boolean };
  /** A keypad press was sent. */
  'sent-dtmf': { sequenceNumber: number; digit: string };
  /** `stop` was sent (the caller hung up). */
  'sent-stop': { sequenceNumber: number };
  /** A hand-made frame went out through `sendRaw`. */
  'sent-raw': { bytes: number; binary: boolean };
  /** The process stalled; these frames were never sent and `media.timestamp` jumps, as on a congested call. */
  'frames-skipped': { count: number };
  /**
   * A valid `media` arrived. `playStartedAtMs` is filled in when its first byte starts playing and stays
   * undefined if it was cleared first.
   */
  'recv-media': { chunkId: number; bytes: number; playStartedAtMs: number | undefined };
  /** A valid `mark` arrived and was queued behind the audio before it. */
  'recv-mark': { name: string };
  /** A valid `clear` arrived. */
  'recv-clear': Record<string, never>;
  /** A mark echo went out: its audio finished playing, or `cleared` flushed it. */
  'mark-echoed': { name: string; sequenceNumber: number; cleared: boolean };
  /** Playout went from idle to playing. */
  'playback-start': Record<string, never>;
  /** Playout stopped: queue ran dry, `clear`, or the stream ended. */
  'playback-end': { reason: 'drained' | 'cleared' | 'halted' };
  /** What a `clear` threw away. */
  cleared: { discardedBytes: number; marks: string[] };
  /** Something the gateway sent that Twilio would refuse (`dropped`) or that breaks a project rule. */
  violation: Violation & { dropped: boolean };
  /** A socket error after the handshake (a close always follows). */
  error: { message: string };
  /** The socket closed; `code`/`reason` are what the gateway's close frame carried (1006 if none). */
  closed: CloseInfo;
}

/** How the media socket ended. */
export interface CloseInfo {
  code: number;
  reason: string;
  /** Who started the closing handshake. */
  initiatedBy: 'client' | 'gateway';
}

/** Every kind of timeline event. */
export type ClientEventKind = keyof ClientEventDetails;

/**
 * One timeline entry. `atMs` is stream time (ms since `start` was sent). For playback events it is the
 * modelled instant (e.g. when the last byte finished), which can be a few ms before the tick that
 * noticed it; the timeline is kept sorted by `atMs` regardless.
 */
export type ClientEvent = {
  [K in ClientEventKind]: { atMs: number; kind: K; detail: ClientEventDetails[K] };
}[ClientEventKind];

/** The timeline entry type for one kind, e.g. `EventOf<'mark-echoed'>`. */
export type EventOf<K extends ClientEventKind> = Extract<ClientEvent, { kind: K }>;

interface Waiter {
  test: (e: ClientEvent) => boolean;
  label: string;
  resolve: (e: ClientEvent) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Event list kept sorted by `atMs`, plus promises waiting for a matching event. Waits are settled from
 * `record` itself (no polling), and every wait's timer is cleared when it settles so none keeps Node alive.
 */
export class Timeline {
  readonly #events: ClientEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #listeners = new Set<(e: ClientEvent) => void>();
  #endedBecause: string | undefined;

  /**
   * Calls `listener` with every event already recorded, then with each new one as it is recorded.
   * Returns the unsubscribe function. A listener that throws is dropped, never breaks the timeline.
   */
  subscribe(listener: (e: ClientEvent) => void): () => void {
    const unsubscribe = () => void this.#listeners.delete(listener);
    try {
      for (const e of this.#events) listener(e);
    } catch {
      return unsubscribe; // a broken observer must not break the call it observes
    }
    this.#listeners.add(listener);
    return unsubscribe;
  }

  /** All events so far, sorted by `atMs`. */
  get events(): readonly ClientEvent[] {
    return this.#events;
  }

  /**
   * Adds an event at its `atMs` position (playback events carry the modelled instant, which may precede
   * the last entry) and settles the waits it matches.
   */
  record<K extends ClientEventKind>(kind: K, detail: ClientEventDetails[K], atMs: number): void {
    const event = { atMs, kind, detail } as EventOf<K>;
    let i = this.#events.length;
    while (i > 0 && (this.#events[i - 1]?.atMs ?? 0) > atMs) i--;
    this.#events.splice(i, 0, event);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        this.#listeners.delete(listener); // a broken observer must not break the call it observes
      }
    }
    for (const waiter of this.#waiters) {
      if (!waiter.test(event)) continue;
      this.#settle(waiter);
      waiter.resolve(event);
    }
  }

  /**
   * The first event, past or future, at or after `afterMs` that passes `test`.
   * @param label what is awaited, for error messages.
   * @throws Error (rejection) after `timeoutMs`, or once {@link end} says no more events will come.
   */
  waitFor(test: (e: ClientEvent) => boolean, timeoutMs: number, afterMs: number, label: string): Promise<ClientEvent> {
    const wanted = (e: ClientEvent): boolean => e.atMs >= afterMs && test(e);
    const past = this.#events.find(wanted);
    if (past !== undefined) return Promise.resolve(past);
    if (this.#endedBecause !== undefined) return Promise.reject(new Error(`${this.#endedBecause} before ${label}`));
    return new Promise<ClientEvent>((resolve, reject) => {
      const waiter: Waiter = {
        test: wanted,
        label,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** No more events will be recorded: fails every pending wait and every later unmatched one. */
  end(because: string): void {
    this.#endedBecause = because;
    for (const waiter of this.#waiters) {
      this.#settle(waiter);
      waiter.reject(new Error(`${because} before ${waiter.label}`));
    }
  }

  #settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
  }
}
