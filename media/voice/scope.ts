/**
 * One cancellation tree per call. A scope owns an AbortSignal, the timers and the promises started
 * under it; aborting a scope aborts its children, clears its timers and makes every later timer or
 * task a no-op, and `settled()` waits until everything started under it has finished.
 *
 *   call ──► conversation ──► turn (the caller's open turn: grace, EOU and DTMF timers)
 *     │           └─────────► reply (model request, tool calls, syntheses, playout)
 *     └────► ending (the apology and the hang-up safety timer)
 *
 * Ending a call aborts the conversation scope, so a pending grace timer can no longer commit a
 * turn and no model request can start on an ending call: the race is impossible by construction.
 */
import type { Clock, TimerHandle } from './clock.ts';

/** A node of the cancellation tree. */
export class Scope {
  readonly #controller = new AbortController();
  readonly #clock: Clock;
  readonly #parent: Scope | undefined;
  readonly #children = new Set<Scope>();
  readonly #timers = new Set<TimerHandle>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #onError: (err: unknown) => void;
  /** Aborted with this scope or any ancestor. */
  readonly signal: AbortSignal;

  /** A root scope; `onError` hears about tasks that rejected (they should not: stages catch their own). */
  constructor(clock: Clock, onError: (err: unknown) => void, parent?: Scope) {
    this.#clock = clock;
    this.#onError = onError;
    this.#parent = parent;
    this.signal = parent ? AbortSignal.any([parent.signal, this.#controller.signal]) : this.#controller.signal;
    this.signal.addEventListener('abort', () => this.#onAbort(), { once: true });
  }

  /** A child scope, aborted with this one. */
  child(): Scope {
    const child = new Scope(this.#clock, this.#onError, this);
    if (this.aborted) return child;
    this.#children.add(child);
    return child;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  /** Aborts this scope and its descendants. Idempotent. */
  abort(): void {
    if (!this.#controller.signal.aborted) this.#controller.abort();
  }

  /** Runs `fn` after `ms` unless the scope is aborted first. Returns a canceller. */
  timeout(fn: () => void, ms: number): () => void {
    if (this.aborted) return () => undefined;
    const handle = this.#clock.setTimeout(() => {
      this.#timers.delete(handle);
      if (!this.aborted) fn();
    }, ms);
    this.#timers.add(handle);
    return () => {
      if (this.#timers.delete(handle)) this.#clock.clearTimeout(handle);
    };
  }

  /** Starts `task` with this scope's signal and tracks it until it settles; a rejection is reported, never thrown. */
  run(task: (signal: AbortSignal) => Promise<unknown>): void {
    if (this.aborted) return;
    const p = task(this.signal).catch((err: unknown) => this.#onError(err));
    this.#pending.add(p);
    void p.finally(() => {
      this.#pending.delete(p);
      this.#detachIfDone();
    });
  }

  /** Resolves once every task of this scope and its descendants has settled. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0 || this.#children.size > 0) {
      await Promise.allSettled([...this.#pending, ...[...this.#children].map((c) => c.settled())]);
      for (const c of this.#children) if (c.aborted && c.#idle) this.#children.delete(c);
      if (!this.aborted) break; // a live scope may keep starting work; callers abort before waiting
    }
  }

  get #idle(): boolean {
    return this.#pending.size === 0 && this.#children.size === 0;
  }

  #onAbort(): void {
    for (const handle of this.#timers) this.#clock.clearTimeout(handle);
    this.#timers.clear();
    this.#detachIfDone();
  }

  /** An aborted scope with nothing left running leaves its parent's set, so long calls do not accumulate scopes. */
  #detachIfDone(): void {
    if (this.aborted && this.#idle && this.#parent) {
      this.#parent.#children.delete(this);
      this.#parent.#detachIfDone();
    }
  }
}
