/**
 * Continuous Google Speech-to-Text v1 recognition for one call, over as many gRPC streams as it
 * takes (Google ends a stream at ~305 s, and connections drop).
 *
 *   start ──client ready──▶ streaming ──error (retryable)──▶ waiting ──backoff──▶ streaming
 *     │  (audio buffered)     │  ▲  │                          (audio buffered)
 *     │                       │  └──┴─ rotation: quietMoment() past 80 % of the limit, the hard
 *     │                       │        limit itself, or Google ending the stream without error
 *     └─ AUTH ──▶ failed ◀────┴─ non-retryable error, or too many failures in a row
 *   close() / signal abort from any state ──▶ closed (no more events)
 *
 * Uses the raw `_streamingRecognize()` call (we write `{ streamingConfig }` first, then
 * `{ audioContent }`) rather than the `streamingRecognize()` helper, because the raw stream has
 * `cancel()`: the helper's `destroy()` does not cancel the gRPC call, so a half-closed stream that
 * Google never finishes could live on until its 83-minute deadline; here it is cancelled after a
 * grace period. Its `write()` also reports the gRPC stream's own backpressure, not a wrapper's.
 */
import type { SpeechClient, protos } from '@google-cloud/speech';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromGrpcError } from './errors.ts';
import { backoffDelay } from './retry.ts';
import { ProviderError } from './types.ts';
import type { RecognizerEvent, RecognizerSession, SpeechRecognizer } from './types.ts';

type StreamingConfig = protos.google.cloud.speech.v1.IStreamingRecognitionConfig;
type StreamingResponse = protos.google.cloud.speech.v1.IStreamingRecognizeResponse;
type GrpcStream = ReturnType<SpeechClient['_streamingRecognize']>;

/** 8 kHz μ-law: one byte per sample. */
const BYTES_PER_MS = 8;

/** Tuning; every field has a default suited to phone calls. */
export interface GoogleSttOptions {
  /** First restart delay after a stream error, before jitter. Default 100. */
  restartBaseDelayMs?: number;
  /** Longest restart delay. Default 2000. */
  restartMaxDelayMs?: number;
  /** This many stream failures in a row end recognition with 'failed'. Default 6. */
  maxConsecutiveFailures?: number;
  /** A stream that lived this long before failing resets the failure count. Default 10000. */
  healthyAfterMs?: number;
  /** Audio kept while no stream is open (start-up, restart backoff): the newest this many ms. Default 2000. */
  bufferWhileClosedMs?: number;
  /** Audio kept while the open stream is backpressured: the newest this many ms. Default 5000. */
  bufferWhileBusyMs?: number;
  /** A retired (half-closed) stream Google has not finished after this long is cancelled. Default 5000. */
  retireGraceMs?: number;
}

/** The recognition config sent as the first message of every stream. */
export function sttStreamingConfig(config: VoiceConfig): StreamingConfig {
  return {
    config: {
      encoding: 'MULAW',
      sampleRateHertz: 8000,
      languageCode: config.sttLanguage,
      enableAutomaticPunctuation: true,
      ...(config.sttModel ? { model: config.sttModel } : {}),
    },
    interimResults: true,
  };
}

/**
 * Google STT behind the {@link SpeechRecognizer} seam. Sessions share the process's SpeechClient
 * (from {@link ProviderClients}); each session owns its streams. Failures reach `onEvent` as a
 * 'failed' event carrying a ProviderError (AUTH, BAD_REQUEST, UNKNOWN, or the last retryable error
 * once `maxConsecutiveFailures` is reached); nothing is thrown.
 */
export class GoogleSpeechRecognizer implements SpeechRecognizer {
  private readonly clients: ProviderClients;
  private readonly config: VoiceConfig;
  private readonly opts: Required<GoogleSttOptions>;

  constructor(clients: ProviderClients, config: VoiceConfig, opts: GoogleSttOptions = {}) {
    this.clients = clients;
    this.config = config;
    this.opts = {
      restartBaseDelayMs: 100,
      restartMaxDelayMs: 2000,
      maxConsecutiveFailures: 6,
      healthyAfterMs: 10_000,
      bufferWhileClosedMs: 2000,
      bufferWhileBusyMs: 5000,
      retireGraceMs: 5000,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    };
  }

  /** Opens a session at once; audio written before its first stream is ready is buffered. */
  start(onEvent: (e: RecognizerEvent) => void, signal: AbortSignal): GoogleRecognizerSession {
    return new GoogleRecognizerSession(
      this.clients,
      sttStreamingConfig(this.config),
      this.config.sttStreamLimitMs,
      this.opts,
      onEvent,
      signal,
    );
  }
}

/** One provider stream: `audioMs` written to it, `busy` while backpressured, `retired` once we stopped listening. */
interface Live {
  stream: GrpcStream;
  index: number;
  openedAt: number;
  audioMs: number;
  busy: boolean;
  retired: boolean;
  hardTimer?: NodeJS.Timeout;
}

/** Counters for logs and tests. */
export interface SttSessionStats {
  /** Streams opened so far. */
  streams: number;
  /** Audio waiting for a stream, bytes. */
  queuedBytes: number;
  /** Audio dropped because a buffer was full, bytes. */
  droppedBytes: number;
}

/**
 * A running recognition ({@link RecognizerSession}). Events are delivered asynchronously, never
 * from inside write(), quietMoment() or close(), and never after close(). `onEvent` must not throw.
 */
export class GoogleRecognizerSession implements RecognizerSession {
  private readonly clients: ProviderClients;
  private readonly streamingConfig: StreamingConfig;
  private readonly limitMs: number;
  private readonly o: Required<GoogleSttOptions>;
  private readonly onEvent: (e: RecognizerEvent) => void;
  private readonly signal: AbortSignal;
  private readonly onAbort = (): void => this.close();
  private state: 'starting' | 'streaming' | 'waiting' | 'failed' | 'closed' = 'starting';
  private client: SpeechClient | undefined;
  private live: Live | undefined;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private droppedBytes = 0;
  private streamCount = 0;
  private failures = 0;
  private quickEnds = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    clients: ProviderClients,
    streamingConfig: StreamingConfig,
    limitMs: number,
    o: Required<GoogleSttOptions>,
    onEvent: (e: RecognizerEvent) => void,
    signal: AbortSignal,
  ) {
    this.clients = clients;
    this.streamingConfig = streamingConfig;
    this.limitMs = limitMs;
    this.o = o;
    this.onEvent = onEvent;
    this.signal = signal;
    if (signal.aborted) {
      this.state = 'closed';
      return;
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.begin().catch((err: unknown) => this.fail(fromGrpcError('stt', err))); // begin() handles its own errors; this catches bugs
  }

  /** Caller audio (8 kHz μ-law). Never throws; dropped once the session failed or closed. */
  write(mulaw: Buffer): void {
    if (this.state === 'failed' || this.state === 'closed' || mulaw.length === 0) return;
    // Hard limit: rotate before this chunk would take the stream past it, whatever is being said.
    // A partial utterance still in Google's hands is lost then; acceptable only at the hard limit.
    if (this.live && this.ageOf(this.live) >= this.limitMs) this.rotate();
    const live = this.live;
    if (live && !live.busy) this.send(live, mulaw);
    else this.enqueue(mulaw, live ? this.o.bufferWhileBusyMs : this.o.bufferWhileClosedMs);
  }

  /** Rotates the stream now if it is past 80 % of STT_STREAM_LIMIT_MS (cheap otherwise). */
  quietMoment(): void {
    if (this.state === 'streaming' && this.live && this.ageOf(this.live) >= 0.8 * this.limitMs) this.rotate();
  }

  /** Half-closes the current stream, clears timers, drops buffered audio; no events after. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.signal.removeEventListener('abort', this.onAbort);
    this.shutdown();
  }

  /** Counters for logs and tests. */
  stats(): SttSessionStats {
    return { streams: this.streamCount, queuedBytes: this.queuedBytes, droppedBytes: this.droppedBytes };
  }

  private async begin(): Promise<void> {
    try {
      this.client = await this.clients.speech();
    } catch (err) {
      return this.fail(fromGrpcError('stt', err));
    }
    if (this.state === 'starting') this.open();
  }

  /** Opens a stream, makes it the one written to, and flushes buffered audio into it. */
  private open(): Live {
    const stream = this.client!._streamingRecognize({ retry: { retryCodes: [] } }); // no gax retry: this class is the retry layer
    const live: Live = {
      stream,
      index: this.streamCount++,
      openedAt: Date.now(),
      audioMs: 0,
      busy: false,
      retired: false,
    };
    stream.on('data', (r: StreamingResponse) => this.onData(live, r));
    stream.on('error', (err: unknown) => this.onError(live, err));
    stream.on('end', () => this.onEnd(live));
    stream.write({ streamingConfig: this.streamingConfig });
    live.hardTimer = setTimeout(() => this.live === live && this.rotate(), this.limitMs);
    this.live = live;
    this.state = 'streaming';
    this.flush(live);
    return live;
  }

  private send(live: Live, mulaw: Buffer): void {
    live.audioMs += mulaw.length / BYTES_PER_MS;
    if (live.stream.write({ audioContent: mulaw })) return;
    // Backpressure: the chunk is accepted; later audio waits in our bounded queue until 'drain'.
    live.busy = true;
    live.stream.once('drain', () => {
      live.busy = false;
      if (this.live === live && !live.retired) this.flush(live);
    });
  }

  private flush(live: Live): void {
    while (this.queue.length > 0 && !live.busy) {
      const chunk = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      this.send(live, chunk);
    }
  }

  /** Queues audio, keeping only the newest `capMs`; older audio is dropped and counted. */
  private enqueue(mulaw: Buffer, capMs: number): void {
    const cap = capMs * BYTES_PER_MS;
    this.queue.push(mulaw);
    this.queuedBytes += mulaw.length;
    while (this.queuedBytes > cap && this.queue.length > 0) {
      const oldest = this.queue[0]!;
      const excess = this.queuedBytes - cap;
      const cut = Math.min(excess, oldest.length);
      if (cut === oldest.length) this.queue.shift();
      else this.queue[0] = oldest.subarray(cut);
      this.queuedBytes -= cut;
      this.droppedBytes += cut;
    }
  }

  private onData(live: Live, r: StreamingResponse): void {
    if (live.retired || this.live !== live) return;
    if (r.error && r.error.code)
      return this.onError(live, { code: r.error.code, details: r.error.message ?? '', message: r.error.message ?? '' });
    const results = r.results ?? [];
    for (const res of results) {
      if (!res.isFinal) continue;
      const alt = res.alternatives?.[0];
      this.emit({ type: 'final', text: (alt?.transcript ?? '').trim(), confidence: alt?.confidence ?? 0 });
    }
    // Google sends the settled part first and the volatile tail after it: the current hypothesis
    // is all interim results joined; its stability is that of the leading part.
    const interims = results.filter((res) => !res.isFinal);
    const text = interims
      .map((res) => (res.alternatives?.[0]?.transcript ?? '').trim())
      .filter(Boolean)
      .join(' ');
    if (text) this.emit({ type: 'interim', text, stability: interims[0]?.stability ?? 0 });
  }

  private onError(live: Live, err: unknown): void {
    if (live.retired) return; // a retired stream's late errors (CANCELLED, Audio Timeout…) are expected and not the call's concern
    this.retire(live, false);
    if (this.state !== 'streaming' || this.live !== live) return;
    this.live = undefined;
    const error = fromGrpcError('stt', err);
    // CANCELLED that we did not ask for means something between us and Google dropped the call.
    if (!error.retryable && error.code !== 'ABORTED') return this.fail(error);
    if (Date.now() - live.openedAt >= this.o.healthyAfterMs) this.failures = 0;
    this.failures++;
    if (this.failures >= this.o.maxConsecutiveFailures) {
      const vendor = error.vendorCode === undefined ? {} : { vendorCode: error.vendorCode };
      return this.fail(
        new ProviderError(
          'stt',
          error.code,
          `${error.message} (gave up after ${this.failures} failed streams in a row)`,
          { retryable: false, cause: error, ...vendor },
        ),
      );
    }
    this.restartAfter(backoffDelay(this.failures, this.o.restartBaseDelayMs, this.o.restartMaxDelayMs), {
      type: 'restarted',
      reason: 'error',
      streamIndex: this.streamCount,
      error,
    });
  }

  /** Google closed the stream without an error (e.g. it finished after a half-close): carry on with a fresh one. */
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
      this.emit({ ...event, streamIndex: live.index });
    }, delayMs);
  }

  /** New stream first (writes switch to it at once), then the old one is half-closed. */
  private rotate(): void {
    const old = this.live;
    if (!old || this.state !== 'streaming') return;
    const live = this.open();
    this.retire(old, true);
    this.emit({ type: 'restarted', reason: 'rotation', streamIndex: live.index });
  }

  /**
   * Stops listening to a stream: results are discarded, errors swallowed (by onError's `retired`
   * check). With `end`, it is half-closed so Google finishes it cleanly, and cancelled if it has
   * not finished within `retireGraceMs`, so no call outlives its session for long.
   */
  private retire(live: Live, end: boolean): void {
    live.retired = true;
    clearTimeout(live.hardTimer);
    live.stream.removeAllListeners('data');
    live.stream.resume(); // keep reading so the call can complete; results go nowhere
    if (!end) return;
    // `cancel` is missing on the stand-in stream a closed client hands out; nothing to cancel then.
    const grace = setTimeout(
      () => (live.stream.cancel as (() => void) | undefined)?.call(live.stream),
      this.o.retireGraceMs,
    );
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
    this.queue = [];
    this.queuedBytes = 0;
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
