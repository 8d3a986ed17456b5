/**
 * A scripted {@link SpeechRecognizer} for stage tests: no SDK, no sockets, no wall clock unless a
 * delay is asked for (then `setTimeout`, so jest's fake timers drive it). It keeps the session
 * contract of the Google adapters (the contract suite runs it beside them): events are delivered
 * asynchronously and never after close(); a retryable failure is followed by 'restarted' on a new
 * stream, a fatal one (or too many retryable ones in a row) by exactly one 'failed'; rotation at a
 * quiet moment past 80 % of `streamLimitMs`; hints carried by the next stream, at once with `reopen`.
 *
 * Driven by calls (`session.say('כן')`, `session.final(…)`, `session.fail(err)`) or by a script of
 * steps keyed on the audio time written to the session (8 kHz μ-law: 8 bytes per ms).
 */
import { ProviderError } from '../types.ts';
import type { RecognizerEvent, RecognizerOptions, RecognizerSession, SpeechRecognizer } from '../types.ts';

/** One scripted step, fired once the session has been written `atAudioMs` of audio. */
export type FakeRecognizerStep = { atAudioMs: number } & (
  | { type: 'interim'; text: string; stability?: number }
  | { type: 'final'; text: string; confidence?: number }
  /** Interims with a growing prefix of the words, then the final. */
  | { type: 'say'; text: string; confidence?: number }
  | { type: 'fail'; error: ProviderError }
);

/** Options of {@link FakeRecognizer}; every field has a default. */
export interface FakeRecognizerOptions {
  /** Steps every session plays, in order of `atAudioMs`. Default: none. */
  script?: readonly FakeRecognizerStep[];
  /** Every session fails with this as soon as it starts (e.g. an AUTH error). Default: none. */
  failOnStart?: ProviderError;
  /** Delay before stream number `index` (0-based, per session) is open, ms. Default 0 (open at once). */
  streamDelayMs?: number | ((index: number) => number);
  /** Stream age limit in audio ms: quietMoment() rotates past 80 % of it. Default: never. */
  streamLimitMs?: number;
  /** This many retryable failures in a row end the session with 'failed'. Default 6. */
  maxConsecutiveFailures?: number;
}

/** Counters over every session of one recognizer. */
export interface FakeRecognizerCounters {
  sessions: number;
  streams: number;
  writes: number;
  bytes: number;
}

/** The scripted recognizer. `sessions` holds every session started, in order. */
export class FakeRecognizer implements SpeechRecognizer {
  readonly sessions: FakeRecognizerSession[] = [];
  readonly counters: FakeRecognizerCounters = { sessions: 0, streams: 0, writes: 0, bytes: 0 };
  private readonly opts: FakeRecognizerOptions;

  constructor(opts: FakeRecognizerOptions = {}) {
    this.opts = opts;
  }

  /** Starts a session (recorded in `sessions`); its first stream carries `opts.hints`. */
  start(
    onEvent: (e: RecognizerEvent) => void,
    signal: AbortSignal,
    opts: RecognizerOptions = {},
  ): FakeRecognizerSession {
    const session = new FakeRecognizerSession(this.opts, this.counters, onEvent, signal, opts);
    this.sessions.push(session);
    this.counters.sessions++;
    return session;
  }

  /** The most recent session. Throws when none was started. */
  get last(): FakeRecognizerSession {
    const s = this.sessions.at(-1);
    if (!s) throw new Error('FakeRecognizer: no session started');
    return s;
  }
}

/** One fake session: drive it with the methods below, read what it recorded. */
export class FakeRecognizerSession implements RecognizerSession {
  /** Hints each stream was opened with (index = stream). */
  readonly streamHints: string[][] = [];
  /** Options given to start(). */
  readonly options: RecognizerOptions;
  /** Audio written to this session, ms (all of it, whatever stream was open). */
  audioMs = 0;
  writes = 0;
  quietMoments = 0;
  state: 'opening' | 'open' | 'failed' | 'closed' = 'opening';
  private readonly o: FakeRecognizerOptions;
  private readonly counters: FakeRecognizerCounters;
  private readonly onEvent: (e: RecognizerEvent) => void;
  private readonly signal: AbortSignal;
  private readonly onAbort = (): void => this.close();
  private hints: string[];
  private stepIndex = 0;
  private streamAudioMs = 0;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    o: FakeRecognizerOptions,
    counters: FakeRecognizerCounters,
    onEvent: (e: RecognizerEvent) => void,
    signal: AbortSignal,
    options: RecognizerOptions,
  ) {
    this.o = o;
    this.counters = counters;
    this.onEvent = onEvent;
    this.signal = signal;
    this.options = options;
    this.hints = [...(options.hints ?? [])];
    if (signal.aborted) {
      this.state = 'closed';
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (o.failOnStart) this.failNow(o.failOnStart);
    else this.openStream(undefined);
  }

  /** Streams opened so far (counting one that is still opening). */
  get streams(): number {
    return this.streamHints.length;
  }

  /** Hints the current (latest) stream carries. */
  get currentHints(): string[] {
    return this.streamHints.at(-1) ?? [];
  }

  /** Counts the audio and plays the script steps it reaches. Ignored once failed or closed. */
  write(mulaw: Buffer): void {
    if (this.state === 'failed' || this.state === 'closed' || mulaw.length === 0) return;
    this.writes++;
    this.counters.writes++;
    this.counters.bytes += mulaw.length;
    this.audioMs += mulaw.length / 8;
    this.streamAudioMs += mulaw.length / 8;
    this.playScript();
  }

  /** Rotates when the stream is past 80 % of `streamLimitMs`. */
  quietMoment(): void {
    this.quietMoments++;
    const limit = this.o.streamLimitMs;
    if (this.state === 'open' && limit !== undefined && this.streamAudioMs >= 0.8 * limit) this.rotate();
  }

  /** Next stream carries `hints`; with `reopen` (and a stream open) a new one opens now. */
  setHints(hints: readonly string[], reopen: boolean): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.hints = [...hints];
    if (reopen && this.state === 'open') this.rotate();
  }

  /** No more events; idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
  }

  /** Emits an interim now (when the session is running). */
  interim(text: string, stability = 0.8): void {
    if (this.running()) this.emit({ type: 'interim', text, stability });
  }

  /** Emits a final now (when the session is running). */
  final(text: string, confidence = 0.9): void {
    if (this.running()) this.emit({ type: 'final', text, confidence });
  }

  /** Interims with a growing prefix of the words of `text`, then its final. */
  say(text: string, confidence = 0.9): void {
    const words = text.split(/\s+/).filter(Boolean);
    for (let n = 1; n < words.length; n++) this.interim(words.slice(0, n).join(' '));
    this.final(text, confidence);
  }

  /**
   * Fails the current stream: a retryable error opens a new stream ('restarted', reason 'error'),
   * unless `maxConsecutiveFailures` is reached; anything else ends the session with 'failed'.
   */
  fail(error: ProviderError): void {
    if (!this.running() && this.state !== 'opening') return;
    if (!error.retryable) return this.failNow(error);
    this.failures++;
    if (this.failures >= (this.o.maxConsecutiveFailures ?? 6)) {
      const message = `${error.message} (gave up after ${this.failures} failed streams in a row)`;
      return this.failNow(new ProviderError(error.provider, error.code, message, { retryable: false, cause: error }));
    }
    this.openStream({ type: 'restarted', reason: 'error', streamIndex: this.streams, error });
  }

  private running(): boolean {
    return this.state === 'open';
  }

  private rotate(): void {
    this.failures = 0;
    this.openStream({ type: 'restarted', reason: 'rotation', streamIndex: this.streams });
  }

  /** Opens the next stream after its delay; `event` is announced once it is open. */
  private openStream(event: Extract<RecognizerEvent, { type: 'restarted' }> | undefined): void {
    clearTimeout(this.timer);
    const index = this.streamHints.length;
    this.streamHints.push([...this.hints]);
    this.counters.streams++;
    this.streamAudioMs = 0;
    this.state = 'opening';
    const d = this.o.streamDelayMs;
    const delay = typeof d === 'function' ? d(index) : (d ?? 0);
    const opened = (): void => {
      if (this.state !== 'opening') return;
      this.state = 'open';
      if (event) this.emit(event);
      this.playScript();
    };
    if (delay > 0) this.timer = setTimeout(opened, delay);
    else opened();
  }

  private playScript(): void {
    const script = this.o.script ?? [];
    while (
      this.state === 'open' &&
      this.stepIndex < script.length &&
      this.audioMs >= script[this.stepIndex]!.atAudioMs
    ) {
      const step = script[this.stepIndex++]!;
      if (step.type === 'interim') this.interim(step.text, step.stability);
      else if (step.type === 'final') this.final(step.text, step.confidence);
      else if (step.type === 'say') this.say(step.text, step.confidence);
      else this.fail(step.error);
    }
  }

  private failNow(error: ProviderError): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    clearTimeout(this.timer);
    this.emit({ type: 'failed', error });
  }

  /** Delivers after the current call returns, and never once closed. */
  private emit(e: RecognizerEvent): void {
    void Promise.resolve().then(() => {
      if (this.state !== 'closed') this.onEvent(e);
    });
  }
}
