/**
 * Graceful shutdown. On the first SIGTERM/SIGINT the gateway starts draining: `/healthz` turns
 * 503 so the load balancer stops sending calls, but webhooks and media upgrades that still arrive
 * are served (a caller is never dropped because of a deploy). The process exits 0 once no call is
 * left — including streams whose TwiML was just handed out and whose socket is on its way — or
 * when the drain timeout passes, after closing the remaining sockets with a logged reason.
 * A second signal exits at once.
 *
 * Only calls hold a drain: a socket that never sent `start` does not, and TwiML hand-outs whose
 * socket has not come hold it for at most `pendingHoldMs` after the signal (the stream-start
 * window), so neither idle sockets nor a trickle of webhooks can keep the process alive.
 *
 *   running ──signal──► draining ──(no calls | timeout)──► stopped (exit 0)
 *                          └──second signal──► exit 1
 */
import type { Logger } from './logger.ts';
import { closeCode } from './errors.ts';

/** What the drain controls. */
export interface DrainDeps {
  logger: Logger;
  timeoutMs: number;
  /** Calls in progress (sockets with a started or starting call). */
  activeCalls: () => number;
  /** Open media sockets, calls or not (for the log). */
  openSockets: () => number;
  /** TwiML handed out recently whose socket has not started yet. */
  pendingStreams: () => number;
  /** How long after the signal pending hand-outs may still hold the drain. */
  pendingHoldMs: number;
  closeAllSockets: (code: number, reason: string) => void;
  /** Stops accepting connections and releases the server. */
  shutdown: () => Promise<void>;
  exit: (code: number) => void;
  /** How often the drain re-checks for remaining calls (default 200 ms). */
  pollMs?: number;
}

/** Drain state machine, driven by signals. */
export class Drain {
  readonly #deps: DrainDeps;
  #draining = false;
  #finished = false;

  constructor(deps: DrainDeps) {
    this.#deps = deps;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Handles a termination signal. */
  onSignal(signal: string): void {
    if (this.#draining) {
      this.#deps.logger.warn('DRAIN_FORCED', { signal, openSockets: this.#deps.openSockets() });
      this.#deps.exit(1);
      return;
    }
    this.begin(signal);
  }

  /**
   * Starts draining for `reason` (a signal, or `uncaughtException`: the process is in an unknown
   * state, so it takes no new calls and exits once the calls in progress end). A no-op when a
   * drain is already running.
   */
  begin(reason: string): void {
    if (this.#draining) return;
    const signal = reason;
    this.#draining = true;
    this.#deps.logger.info('DRAIN_START', {
      signal,
      activeCalls: this.#deps.activeCalls(),
      openSockets: this.#deps.openSockets(),
      pendingStreams: this.#deps.pendingStreams(),
      timeoutMs: this.#deps.timeoutMs,
    });
    void this.#run();
  }

  async #run(): Promise<void> {
    const started = Date.now();
    const deadline = started + this.#deps.timeoutMs;
    const pendingUntil = started + this.#deps.pendingHoldMs;
    const pollMs = this.#deps.pollMs ?? 200;
    while (Date.now() < deadline) {
      const pending = Date.now() < pendingUntil ? this.#deps.pendingStreams() : 0;
      if (this.#deps.activeCalls() === 0 && pending === 0) return this.#finish('idle');
      await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    }
    const open = this.#deps.openSockets();
    if (open > 0) {
      this.#deps.logger.warn('DRAIN_TIMEOUT', {
        code: 'WS_DRAIN_TIMEOUT',
        activeCalls: this.#deps.activeCalls(),
        openSockets: open,
      });
      this.#deps.closeAllSockets(closeCode('WS_DRAIN_TIMEOUT'), 'gateway shutting down');
      // Give the close handshakes a moment so each call logs its own WS_CLOSED.
      const until = Date.now() + 1000;
      while (this.#deps.openSockets() > 0 && Date.now() < until) await sleep(50);
    }
    return this.#finish('timeout');
  }

  async #finish(why: 'idle' | 'timeout'): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    try {
      await this.#deps.shutdown();
    } catch (err) {
      this.#deps.logger.error('DRAIN_SHUTDOWN_ERROR', { error: String(err) });
    }
    this.#deps.logger.info('DRAIN_DONE', { why });
    this.#deps.exit(0);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
