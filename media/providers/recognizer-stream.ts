/**
 * Continuous recognition for one call over as many provider streams as it takes (Google ends a
 * stream at ~5 minutes, and connections drop). This class owns everything that is not the vendor's
 * wire format: bounded buffering, rotation, restart with backoff (retry.ts `backoffDelay`, the one
 * retry layer), the grace given to a retired stream, and event delivery. A {@link RecognizerDialect}
 * speaks the vendor: it opens a stream with its config, wraps audio in its message shape and
 * translates its responses into {@link RecognizerEvent}s.
 *
 *   start ──client ready──▶ streaming ──error (retryable)──▶ waiting ──backoff──▶ streaming
 *     │  (audio buffered)     │  ▲  │                          (audio buffered)
 *     │                       │  └──┴─ rotation: quietMoment() past 80 % of the limit, the hard
 *     │                       │        limit itself, setHints(…, reopen), or the server ending
 *     │                       │        the stream without error
 *     └─ AUTH ──▶ failed ◀────┴─ non-retryable error, or too many failures in a row
 *   close() / signal abort from any state ──▶ closed (no more events)
 */
import type { RecognizerCall, RecognizerDialect } from './recognizer-dialect.ts';
import { MULAW_BYTES_PER_MS, RecognizerBuffer } from './recognizer-buffer.ts';
import { recognizerStreamDefaults } from './recognizer-options.ts';
import type { RecognizerStreamOptions, RecognizerStreamStats } from './recognizer-options.ts';
import { backoffDelay } from './retry.ts';
import { ProviderError } from './types.ts';
import type { RecognizerEvent, RecognizerSession } from './types.ts';

export type { RecognizerCall, RecognizerDialect, TranscriptEvent } from './recognizer-dialect.ts';

/** One provider stream: `audioMs` written to it, `busy` while backpressured, `retired` once we stopped listening. */
interface Live {
  stream: RecognizerCall;
  index: number;
  openedAt: number;
  audioMs: number;
  busy: boolean;
  retired: boolean;
  hardTimer?: NodeJS.Timeout;
}

/**
 * A running recognition ({@link RecognizerSession}). Events are delivered asynchronously, never
 * from inside write(), quietMoment(), setHints() or close(), and never after close(). `onEvent`
 * must not throw. Failures arrive as one 'failed' event; nothing is thrown.
 */
export class RecognizerStream<Client, Response> implements RecognizerSession {
  private readonly dialect: RecognizerDialect<Client, Response>;
  private readonly limitMs: number;
  private readonly o: Required<RecognizerStreamOptions>;
  private readonly onEvent: (e: RecognizerEvent) => void;
  private readonly signal: AbortSignal;
  private readonly onAbort = (): void => this.close();
  private state: 'starting' | 'streaming' | 'waiting' | 'failed' | 'closed' = 'starting';
  private client: Client | undefined;
  private live: Live | undefined;
  private hints: readonly string[];
  private readonly buffer = new RecognizerBuffer();
  private streamCount = 0;
  private failures = 0;
  private quickEnds = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  /** `limitMs`: a stream's age limit (rotation at 80 % when quiet, forced at 100 %). */
  constructor(
    dialect: RecognizerDialect<Client, Response>,
    limitMs: number,
    opts: RecognizerStreamOptions,
    onEvent: (e: RecognizerEvent) => void,
    signal: AbortSignal,
    hints: readonly string[] = [],
  ) {
    this.dialect = dialect;
    this.limitMs = limitMs;
    this.o = recognizerStreamDefaults(opts);
    this.onEvent = onEvent;
    this.signal = signal;
    this.hints = [...hints];
    if (signal.aborted) {
      this.state = 'closed';
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.begin().catch((err: unknown) => this.fail(this.dialect.classify(err))); // begin() handles its own errors; this catches bugs
  }

  /** Caller audio (8 kHz μ-law). Never throws; dropped once the session failed or closed. */
  write(mulaw: Buffer): void {
    if (this.state === 'failed' || this.state === 'closed' || mulaw.length === 0) return;
    // Hard limit: rotate before this chunk would take the stream past it, whatever is being said.
    // A partial utterance still in the provider's hands is lost then; acceptable only at the hard limit.
    if (this.live && this.ageOf(this.live) >= this.limitMs) this.rotate();
    const live = this.live;
    if (live && !live.busy) this.send(live, mulaw);
    else this.buffer.add(mulaw, live ? this.o.bufferWhileBusyMs : this.o.bufferWhileClosedMs);
  }

  /** Rotates the stream now if it is past 80 % of its limit (cheap otherwise). */
  quietMoment(): void {
    if (this.state === 'streaming' && this.live && this.ageOf(this.live) >= 0.8 * this.limitMs) this.rotate();
  }

  /** Replaces the phrase hints for the next stream; with `reopen`, a new stream carrying them opens now. */
  setHints(hints: readonly string[], reopen: boolean): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.hints = [...hints];
    if (reopen) this.rotate();
  }

  /** Half-closes the current stream, clears timers, drops buffered audio; no events after. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.signal.removeEventListener('abort', this.onAbort);
    this.shutdown();
  }

  /** Counters for logs and tests. */
  stats(): RecognizerStreamStats {
    return { streams: this.streamCount, queuedBytes: this.buffer.bytes, droppedBytes: this.buffer.dropped };
  }

  private async begin(): Promise<void> {
    try {
      this.client = await this.dialect.client();
    } catch (err) {
      return this.fail(this.dialect.classify(err));
    }
    if (this.state === 'starting') this.open();
  }

  /**
   * Opens a stream, makes it the one written to, and flushes buffered audio into it. An SDK that
   * throws instead of opening fails the session (undefined is returned), never the caller.
   */
  private open(): Live | undefined {
    let stream: RecognizerCall;
    try {
      stream = this.dialect.open(this.client!, this.hints);
    } catch (err) {
      this.fail(this.dialect.classify(err));
      return undefined;
    }
    const live: Live = {
      stream,
      index: this.streamCount++,
      openedAt: Date.now(),
      audioMs: 0,
      busy: false,
      retired: false,
    };
    stream.on('data', (r: Response) => this.onData(live, r));
    stream.on('error', (err: unknown) => this.onError(live, err));
    stream.on('end', () => this.onEnd(live));
    live.hardTimer = setTimeout(() => this.live === live && this.rotate(), this.limitMs);
    this.live = live;
    this.state = 'streaming';
    this.flush(live);
    return live;
  }

  private send(live: Live, mulaw: Buffer): void {
    const max = this.dialect.maxAudioBytes;
    for (let at = 0; at < mulaw.length; at += max) {
      const chunk = mulaw.length <= max ? mulaw : mulaw.subarray(at, at + max);
      live.audioMs += chunk.length / MULAW_BYTES_PER_MS;
      if (live.stream.write(this.dialect.audio(chunk))) continue;
      // Backpressure: the chunk is accepted; later audio waits in our bounded queue until 'drain'.
      live.busy = true;
      live.stream.once('drain', () => {
        live.busy = false;
        if (this.live === live && !live.retired) this.flush(live);
      });
      const rest = mulaw.subarray(at + chunk.length);
      if (rest.length > 0) this.buffer.add(rest, this.o.bufferWhileBusyMs, true);
      return;
    }
  }

  private flush(live: Live): void {
    while (!live.busy) {
      const chunk = this.buffer.take();
      if (!chunk) return;
      this.send(live, chunk);
    }
  }

  private onData(live: Live, r: Response): void {
    if (live.retired || this.live !== live) return;
    const out = this.dialect.translate(r);
    if (!Array.isArray(out)) return this.onError(live, out.error);
    for (const e of out) this.emit(e);
  }

  private onError(live: Live, err: unknown): void {
    if (live.retired) return; // a retired stream's late errors (CANCELLED, Audio Timeout…) are expected and not the call's concern
    this.retire(live, false);
    if (this.state !== 'streaming' || this.live !== live) return;
    this.live = undefined;
    const error = this.dialect.classify(err);
    // CANCELLED that we did not ask for means something between us and the provider dropped the call.
    if (!error.retryable && error.code !== 'ABORTED') return this.fail(error);
    if (Date.now() - live.openedAt >= this.o.healthyAfterMs) this.failures = 0;
    this.failures++;
    if (this.failures >= this.o.maxConsecutiveFailures) {
      const vendor = error.vendorCode === undefined ? {} : { vendorCode: error.vendorCode };
      const message = `${error.message} (gave up after ${this.failures} failed streams in a row)`;
      return this.fail(
        new ProviderError(error.provider, error.code, message, { retryable: false, cause: error, ...vendor }),
      );
    }
    const delay = backoffDelay(this.failures, this.o.restartBaseDelayMs, this.o.restartMaxDelayMs);
    this.restartAfter(delay, { type: 'restarted', reason: 'error', streamIndex: this.streamCount, error });
  }

  /** The server closed the stream without an error (e.g. it finished after a half-close): carry on with a fresh one. */
  private onEnd(live: Live): void {
    if (live.retired) return;
    this.retire(live, false);
    if (this.state !== 'streaming' || this.live !== live) return;
    this.live = undefined;
    // A rotation, not a failure; but a server that ends every stream at once must not make us spin.
    const quick = Date.now() - live.openedAt < 1000;
    this.quickEnds = quick ? this.quickEnds + 1 : 0;
    const delay = quick ? backoffDelay(this.quickEnds, this.o.restartBaseDelayMs, this.o.restartMaxDelayMs) : 0;
    this.restartAfter(delay, { type: 'restarted', reason: 'rotation', streamIndex: this.streamCount });
  }

  private restartAfter(delayMs: number, event: Extract<RecognizerEvent, { type: 'restarted' }>): void {
    this.state = 'waiting';
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'waiting') return;
      const live = this.open();
      if (live) this.emit({ ...event, streamIndex: live.index });
    }, delayMs);
  }

  /** New stream first (writes switch to it at once), then the old one is half-closed. */
  private rotate(): void {
    const old = this.live;
    if (!old || this.state !== 'streaming') return;
    const live = this.open();
    if (!live) return; // failed: `old` was retired with everything else
    this.retire(old, true);
    this.emit({ type: 'restarted', reason: 'rotation', streamIndex: live.index });
  }

  /**
   * Stops listening to a stream: results are discarded, errors swallowed (by onError's `retired`
   * check). With `end`, it is half-closed so the server finishes it cleanly, and cancelled if it
   * has not finished within `retireGraceMs`, so no call outlives its session for long.
   */
  private retire(live: Live, end: boolean): void {
    live.retired = true;
    clearTimeout(live.hardTimer);
    live.stream.removeAllListeners('data');
    live.stream.resume(); // keep reading so the call can complete; results go nowhere
    if (!end) return;
    // `cancel` is missing on the stand-in stream a closed client hands out; nothing to cancel then.
    const grace = setTimeout(() => live.stream.cancel?.(), this.o.retireGraceMs);
    grace.unref();
    const done = (): void => clearTimeout(grace);
    live.stream.once('end', done);
    live.stream.once('error', done);
    live.stream.end();
  }

  private fail(error: ProviderError): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.shutdown();
    this.emit({ type: 'failed', error });
  }

  private shutdown(): void {
    clearTimeout(this.restartTimer);
    if (this.live) this.retire(this.live, true);
    this.live = undefined;
    this.buffer.clear();
  }

  /** Stream age: wall-clock or audio time, whichever is further (audio can arrive faster than real time). */
  private ageOf(live: Live): number {
    return Math.max(Date.now() - live.openedAt, live.audioMs);
  }

  private emit(e: RecognizerEvent): void {
    queueMicrotask(() => {
      if (this.state === 'closed') return;
      this.onEvent(e);
    });
  }
}
