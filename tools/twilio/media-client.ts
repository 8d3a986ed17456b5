/**
 * Plays Twilio's part of a bidirectional Media Stream over a real WebSocket, for tests and the call
 * simulator: `connected` + `start`, then one 160-byte μ-law frame every 20 ms for the whole call
 * (silence when the caller is quiet), `dtmf`, mark echoes and `stop`, all with Twilio's string counters.
 * Everything the gateway sends back is validated like Twilio would, and its audio is "played" through a
 * real-time model of Twilio's playout buffer, so `heard()` is what the caller would actually have heard.
 *
 *   connect() ── open ──▶ streaming ── stop() / close() / gateway closes ──▶ closed
 *               (sends connected, start;     (frame clock + playout ticks)     (timers stopped,
 *                starts the frame clock)                                        buffer dropped)
 */
import WebSocket from 'ws';
import type { RawData } from 'ws';
import { CallerAudioQueue } from './caller-audio.ts';
import type { SpeechTiming } from './caller-audio.ts';
import { FrameClock } from './frame-clock.ts';
import { handshake } from './handshake.ts';
import {
  resolveClientOptions,
  type ResolvedClientOptions,
  type TwilioMediaClientOptions,
} from './media-client-options.ts';
import { OutboundReceiver } from './outbound-receiver.ts';
import type { RecordedViolation } from './outbound-receiver.ts';
import { Timeline } from './timeline.ts';
import { StreamMessages } from './stream-messages.ts';
import type { ClientEvent, ClientEventDetails, ClientEventKind, CloseInfo, EventOf } from './timeline.ts';
import { BYTES_PER_MS } from '../../media/audio/format.ts';

// One import site for the simulator and tests.
export { TwilioHandshakeError } from './handshake.ts';
export { randomSid } from './twilio-http.ts';
export type { TwilioMediaClientOptions } from './media-client-options.ts';
export type { SpeechTiming } from './caller-audio.ts';
export type { RecordedViolation } from './outbound-receiver.ts';
export type { Violation, ViolationCode } from './outbound-validator.ts';
export type { ClientEvent, ClientEventDetails, ClientEventKind, CloseInfo, EventOf } from './timeline.ts';

/** The caller side of one media stream. Create with {@link TwilioMediaClient.connect}. */
export class TwilioMediaClient {
  /** The stream's id, sent in `start` and expected on everything the gateway sends. */
  readonly streamSid: string;
  /** The call's id, sent in `start` and `stop`. */
  readonly callSid: string;
  /** The account's id, sent in `start` and `stop`. */
  readonly accountSid: string;
  /** Resolves once the socket is closed, with the gateway's close code and reason. Never rejects. */
  readonly closed: Promise<CloseInfo>;
  readonly #ws: WebSocket;
  readonly #options: ResolvedClientOptions;
  readonly #timeline = new Timeline();
  readonly #clock: FrameClock;
  readonly #caller = new CallerAudioQueue();
  readonly #receiver: OutboundReceiver;
  readonly #messages: StreamMessages;
  #resolveClosed: (info: CloseInfo) => void = () => {};
  #t0 = performance.now(); // reset when `start` goes out; set here so handshake failures get sane times
  #started = false;
  #isClosed = false;
  #closingBy: CloseInfo['initiatedBy'] = 'gateway';

  private constructor(url: string, given: TwilioMediaClientOptions) {
    const options = (this.#options = resolveClientOptions(given));
    this.streamSid = options.streamSid;
    this.callSid = options.callSid;
    this.accountSid = options.accountSid;
    this.#messages = new StreamMessages(options);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const hooks = {
      now: () => this.now(),
      timeline: this.#timeline,
      echoMark: (name: string, cleared: boolean) => this.#echoMark(name, cleared),
    };
    this.#receiver = new OutboundReceiver(hooks, this.streamSid, options.playoutTickMs);
    this.#clock = new FrameClock({
      frameMs: options.frameMs,
      maxBurst: options.maxBurstFrames,
      now: () => this.now(),
      onFrame: (index) => this.#sendFrame(index),
      onSkip: (count) => this.#record('frames-skipped', { count }),
    });
    this.#ws = new WebSocket(url, options.protocols, {
      headers: options.headers,
      handshakeTimeout: options.handshakeTimeoutMs,
    });
  }

  /**
   * Opens the media socket like Twilio: upgrade (optional subprotocols and headers), then `connected`
   * and `start`, then the 20 ms frame clock.
   * @throws TwilioHandshakeError if the gateway answers the upgrade with a non-101 status;
   *   the socket's Error for anything else (refused connection, timeout, close during the handshake).
   */
  static async connect(url: string, options: TwilioMediaClientOptions = {}): Promise<TwilioMediaClient> {
    const client = new TwilioMediaClient(url, options);
    await client.#open();
    return client;
  }

  /** Milliseconds since the stream started (`start` was sent); the clock of every time this client reports. */
  now(): number {
    return performance.now() - this.#t0;
  }

  /** Live feed of the timeline: every event so far, then each new one. Returns the unsubscribe function. */
  onEvent(listener: (e: ClientEvent) => void): () => void {
    return this.#timeline.subscribe(listener);
  }

  /** The timeline so far, sorted by `atMs`. */
  get events(): readonly ClientEvent[] {
    return this.#timeline.events;
  }

  /** Everything the gateway sent that Twilio would refuse or that breaks a project rule, in arrival order. */
  get violations(): readonly RecordedViolation[] {
    return this.#receiver.violations;
  }

  /** The subprotocol the gateway selected ('' if none). */
  get protocol(): string {
    return this.#ws.protocol;
  }

  /** The μ-law the caller has heard so far: played audio only, never what `clear` discarded. */
  heard(): Buffer {
    return this.#receiver.heard();
  }

  /** Milliseconds of gateway audio queued and not yet played. */
  bufferedMs(): number {
    return this.#receiver.bufferedMs();
  }

  /** Whether gateway audio is playing right now. */
  isPlaying(): boolean {
    return this.#receiver.isPlaying();
  }

  /**
   * The first gateway audio received at or after `afterMs` (stream time): when it arrived and when its
   * first byte started playing (later if audio was already queued; undefined if not yet played or cleared).
   */
  firstAudioAfter(afterMs: number): { receivedAtMs: number; playStartedAtMs: number | undefined } | undefined {
    return this.#receiver.firstAudioAfter(afterMs);
  }

  /**
   * Resolves with the first event (past or future) of that kind or matching the predicate, considering only
   * events at or after `afterMs`.
   * @throws Error after `timeoutMs` (default 5000), or as soon as the socket closes without a match.
   */
  waitFor<K extends ClientEventKind>(kind: K, timeoutMs?: number, afterMs?: number): Promise<EventOf<K>>;
  waitFor(predicate: (e: ClientEvent) => boolean, timeoutMs?: number, afterMs?: number): Promise<ClientEvent>;
  waitFor(
    match: ClientEventKind | ((e: ClientEvent) => boolean),
    timeoutMs = 5000,
    afterMs = -Infinity,
  ): Promise<ClientEvent> {
    const test = typeof match === 'string' ? (e: ClientEvent) => e.kind === match : match;
    return this.#timeline.waitFor(test, timeoutMs, afterMs, typeof match === 'string' ? match : 'a matching event');
  }

  /**
   * Queues caller speech (raw μ-law 8 kHz) behind anything already queued; it replaces silence in the
   * outgoing frames, padded with silence to a whole frame.
   * @returns stream times the speech occupied on the line, once its last frame has been sent.
   * @throws Error (rejection) if the stream closes before the speech was sent.
   */
  say(mulaw: Buffer): Promise<SpeechTiming> {
    if (this.#isClosed) return Promise.reject(new Error('stream closed; cannot say anything'));
    if (mulaw.length === 0) return Promise.resolve({ startedAtMs: this.now(), endedAtMs: this.now() });
    return this.#caller.push(mulaw);
  }

  /** Sends a `dtmf` event, as Twilio does when the caller presses a key. */
  sendDtmf(digit: string): void {
    const { message, sequenceNumber } = this.#messages.dtmf(digit);
    this.#send(message);
    this.#record('sent-dtmf', { sequenceNumber, digit });
  }

  /** Sends a frame exactly as given, for robustness tests: a string as text, a Buffer as a binary frame. */
  sendRaw(data: string | Buffer): void {
    const binary = typeof data !== 'string';
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(data, { binary });
    this.#record('sent-raw', { bytes: binary ? data.length : Buffer.byteLength(data), binary });
  }

  /** Hangs up like Twilio: sends `stop`, stops the frame clock, then closes the socket with 1000. */
  stop(): Promise<CloseInfo> {
    if (!this.#isClosed && this.#ws.readyState === WebSocket.OPEN) {
      const { message, sequenceNumber } = this.#messages.stop();
      this.#send(message);
      this.#record('sent-stop', { sequenceNumber });
    }
    return this.close(1000);
  }

  /** Closes the socket without `stop` (default code 1000). Idempotent. */
  close(code = 1000, reason = ''): Promise<CloseInfo> {
    this.#clock.stop();
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) {
      this.#closingBy = 'client';
      this.#ws.close(code, reason);
    }
    return this.closed;
  }

  #open(): Promise<void> {
    const ws = this.#ws;
    ws.on('message', (data, isBinary) => this.#onGatewayFrame(data, isBinary));
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    return handshake(
      ws,
      () => this.#begin(),
      (err) => this.#record('error', { message: err.message }),
    );
  }

  #begin(): void {
    this.#t0 = performance.now();
    this.#send(this.#messages.connected());
    this.#send(this.#messages.start(this.#options.customParameters).message);
    this.#started = true;
    this.#record('sent-start', { streamSid: this.streamSid, callSid: this.callSid, protocol: this.#ws.protocol });
    this.#clock.start();
  }

  #sendFrame(index: number): void {
    const { frameMs } = this.#options;
    const timestamp = index * frameMs;
    const { payload, speech } = this.#caller.nextFrame(frameMs * BYTES_PER_MS, timestamp, BYTES_PER_MS);
    const { message, sequenceNumber, chunk } = this.#messages.media(timestamp, payload);
    this.#send(message);
    this.#record('sent-media', { sequenceNumber, chunk, timestamp, speech });
  }

  #onGatewayFrame(data: RawData, isBinary: boolean): void {
    if (this.#isClosed) return;
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.#receiver.receive(raw, isBinary, this.#started);
  }

  #echoMark(name: string, cleared: boolean): void {
    const { message, sequenceNumber } = this.#messages.mark(name);
    // While our close handshake is under way nothing can be sent; an unsent echo is not recorded.
    if (this.#send(message)) this.#record('mark-echoed', { name, sequenceNumber, cleared });
  }

  #onClose(code: number, reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#clock.stop();
    this.#receiver.halt();
    this.#caller.rejectAll(new Error(`stream closed (${code}) before the speech was sent`));
    const info: CloseInfo = { code, reason, initiatedBy: this.#closingBy };
    this.#record('closed', info);
    this.#timeline.end('stream closed');
    this.#resolveClosed(info);
  }

  #send(message: object): boolean {
    if (this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(message));
    return true;
  }

  #record<K extends ClientEventKind>(kind: K, detail: ClientEventDetails[K], atMs = this.now()): void {
    this.#timeline.record(kind, detail, atMs);
  }
}
