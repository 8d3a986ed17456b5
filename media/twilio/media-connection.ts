/**
 * One Twilio media socket. Listeners are attached synchronously on connection (frames that
 * arrive before an `await` would otherwise be lost), each frame is parsed by the codec, and a bad
 * frame is counted and ignored: it never ends the call and never reaches the call handler.
 *
 *   connected ──start──► starting ──token ok──► started ──(stop | close)──► ended
 *       │                   │ frames meanwhile are held (bounded) and replayed once started
 *       ├─ no accepted start within startTimeoutMs: closed 1008 (WS_START_TIMEOUT)
 *       └─ start refused (token, second stream of a live call): closed 1008
 *
 * Bad frames are logged within a per-socket budget (bad-frames.ts), so no client can flood the log.
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../../server/logger.ts';
import type { StreamTokens, TokenVerdict } from './stream-token.ts';
import {
  decodePayload,
  parseInbound,
  paramsForLog as forLog,
  outboundEvent,
  rawToString,
  type InboundMessage,
  type StartMessage,
} from './messages.ts';
import type { CallFactory, CallHandler } from './call-handler.ts';
import { boundParams, STREAM_PARAMS } from './stream-params.ts';
import type { Metrics } from '../../server/metrics.ts';
import { BadFrames } from './bad-frames.ts';
import { closeCode } from '../../server/errors.ts';

/** Frames held while the stream token is being checked (10 s of audio); later ones are dropped. */
const EARLY_FRAMES_MAX = 500;

/** What a connection needs from the media server. */
export interface MediaConnectionDeps {
  logger: Logger;
  tokens: StreamTokens;
  callFactory: CallFactory;
  metrics: Metrics;
  startTimeoutMs: number;
  /** Registers this socket as the stream of `callSid`; false when another live socket already is. */
  claimCall: (callSid: string, conn: MediaConnection) => boolean;
  releaseCall: (callSid: string, conn: MediaConnection) => void;
  /** Called once when the socket has closed. */
  onClosed: (conn: MediaConnection) => void;
}

/** A connected media socket and the call on it. */
export class MediaConnection {
  readonly ws: WebSocket;
  /** Cleared on each ping, set again by the pong: a peer still false at the next ping is dead. */
  alive = true;
  /** When the last ping went out (performance.now()), for the first pong's round trip. */
  pingSentAt: number | undefined;
  #log: Logger;
  readonly #deps: MediaConnectionDeps;
  #state: 'connected' | 'starting' | 'started' | 'ended' = 'connected';
  #streamSid: string | undefined;
  #callSid: string | undefined;
  #handler: CallHandler | undefined;
  #early: InboundMessage[] = [];
  #earlyDropped = 0;
  readonly #bad: BadFrames;
  #pongs = 0;
  readonly #startTimer: NodeJS.Timeout;
  /**
   * How the call ended, for voice_calls_total{outcome}: `completed` (Twilio's stop: the caller hung
   * up), the reason the gateway gave when it ended the call (agent-hangup, transfer,
   * provider-failed, no-answer-from-model…), `rejected`, `dropped` (lost without stop), `shutdown`.
   */
  #outcome: string | undefined;

  constructor(ws: WebSocket, req: IncomingMessage, deps: MediaConnectionDeps) {
    this.ws = ws;
    this.#deps = deps;
    this.#log = deps.logger;
    this.#bad = new BadFrames(deps.metrics);
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('pong', () => this.#onPong());
    ws.on('error', (err) => this.#log.warn('WS_ERROR', { error: err.message }));
    ws.once('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    this.#startTimer = setTimeout(() => this.#startTimedOut(), deps.startTimeoutMs);
    this.#log.info('WS_CONNECTED', {
      remote: req.socket.remoteAddress,
      offeredProtocols: req.headers['sec-websocket-protocol'],
      protocol: ws.protocol || undefined,
      userAgent: req.headers['user-agent'],
    });
  }

  /** Closes the socket with a logged reason (drain, shutdown). */
  close(code: number, reason: string): void {
    this.#outcome ??= 'shutdown';
    this.#log.info('WS_CLOSING', { code, reason });
    this.ws.close(code, reason);
  }

  #onPong(): void {
    this.alive = true;
    // Twilio's ping behaviour is undocumented: the first pong of each call is worth an info line.
    const rttMs = this.pingSentAt === undefined ? undefined : Math.round(performance.now() - this.pingSentAt);
    if (this.#pongs++ === 0) this.#log.info('PONG', { first: true, rttMs });
    else this.#log.debug('PONG', { rttMs });
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.#badFrame('binary', 'binary frame (Twilio only sends text)');
    const parsed = parseInbound(rawToString(data));
    if (!parsed.ok) return this.#badFrame(parsed.reason, parsed.detail);
    this.#deps.metrics.countMessage('in', parsed.message.event);
    this.#onMessage(parsed.message);
  }

  #onMessage(msg: InboundMessage): void {
    const started = process.hrtime.bigint();
    if (msg.event === 'connected') {
      this.#log.debug('WS_TWILIO_CONNECTED', { protocol: msg.protocol, version: msg.version });
      return;
    }
    if (msg.event === 'start') return this.#onStart(msg);
    if (this.#state === 'starting') {
      if (this.#early.length < EARLY_FRAMES_MAX) this.#early.push(msg);
      else this.#earlyDropped++;
      return;
    }
    if (this.#state !== 'started') return this.#badFrame('out-of-order', `${msg.event} before start`);
    if (msg.streamSid !== this.#streamSid) return this.#badFrame('wrong-stream', `${msg.event} for another streamSid`);
    switch (msg.event) {
      case 'media': {
        const mulaw = decodePayload(msg.media.payload);
        if (!mulaw || mulaw.length === 0) return this.#badFrame('bad-payload', 'media payload is not base64 audio');
        this.#call((h) => h.onAudio({ mulaw, timestamp: msg.media.timestamp, chunk: msg.media.chunk }));
        this.#deps.metrics.frameSeconds.inc(Number(process.hrtime.bigint() - started) / 1e9);
        return;
      }
      case 'mark':
        this.#call((h) => h.onMark(msg.mark.name));
        return;
      case 'dtmf':
        this.#call((h) => h.onDtmf(msg.dtmf.digit));
        return;
      case 'stop':
        this.#log.info('WS_STOP', { sequenceNumber: msg.sequenceNumber });
        this.#outcome ??= 'completed';
        this.#state = 'ended';
        this.#call((h) => h.onStop());
        this.#release();
        // Twilio closes after stop; closing too ensures the socket never lingers.
        this.ws.close(closeCode('WS_STREAM_STOPPED'), 'stream stopped');
        return;
    }
  }

  #onStart(msg: StartMessage): void {
    if (this.#state !== 'connected') return this.#badFrame('duplicate-start', 'second start on one socket');
    const { callSid, customParameters } = msg.start;
    this.#log = this.#deps.logger.child({ callSid, streamSid: msg.streamSid });
    if (!this.#deps.claimCall(callSid, this)) {
      this.#log.warn('WS_STREAM_DUPLICATE', { code: 'WS_STREAM_DUPLICATE' });
      return this.#refuse('WS_STREAM_DUPLICATE', 'duplicate_stream', 'call already has a live stream');
    }
    this.#state = 'starting';
    this.#callSid = callSid;
    const { [STREAM_PARAMS.token]: token, ...visibleParams } = customParameters;
    // Frames that arrive while the token is checked are held in #early and replayed in order.
    void this.#deps.tokens
      .consume(token, callSid, boundParams(visibleParams))
      .then((verdict) => this.#afterVerdict(msg, verdict))
      .catch((err: unknown) => {
        this.#log.error('WS_START_FAILED', { code: 'WS_START_FAILED', error: String(err) });
        this.#refuse('WS_START_FAILED', 'token', 'start could not be checked');
      });
  }

  #afterVerdict(msg: StartMessage, verdict: TokenVerdict): void {
    if (this.#state !== 'starting') return; // closed (or timed out) while the store answered
    if (!verdict.ok) {
      this.#log.warn('WS_TOKEN_REJECTED', { code: 'WS_TOKEN_INVALID', reason: verdict.reason });
      return this.#refuse('WS_TOKEN_INVALID', 'token', `stream token ${verdict.reason}`);
    }
    clearTimeout(this.#startTimer);
    const { callSid, customParameters } = msg.start;
    const { [STREAM_PARAMS.token]: _token, ...visibleParams } = customParameters;
    this.#state = 'started';
    this.#streamSid = msg.streamSid;
    this.#deps.metrics.activeCalls.inc();
    this.#log.info('WS_START', {
      tracks: msg.start.tracks,
      mediaFormat: msg.start.mediaFormat,
      customParameters: forLog(visibleParams),
      ...(this.#earlyDropped ? { earlyFramesDropped: this.#earlyDropped } : {}),
    });
    const ws = this.ws;
    const metrics = this.#deps.metrics;
    try {
      this.#handler = this.#deps.callFactory({
        callSid,
        streamSid: msg.streamSid,
        customParameters: Object.freeze(visibleParams),
        logger: this.#log,
        send: (text) => {
          if (ws.readyState !== ws.OPEN) return false;
          ws.send(text);
          metrics.countMessage('out', outboundEvent(text));
          return true;
        },
        bufferedAmount: () => ws.bufferedAmount,
        hangup: (reason) => {
          this.#outcome ??= /^[a-z-]{1,40}$/.test(reason) ? reason : 'hangup';
          this.#log.info('CALL_HANGUP', { reason });
          ws.close(closeCode('CALL_ENDED_BY_AGENT'), reason.slice(0, 100));
        },
      });
    } catch (err) {
      this.#log.error('CALL_HANDLER_ERROR', { error: err instanceof Error ? err.message : String(err) });
    }
    const early = this.#early;
    this.#early = [];
    for (const m of early) if (this.#state === 'started') this.#onMessage(m);
  }

  /** Ends a socket that did not become a call with `code`'s close code (1008), counted by `reason`. */
  #refuse(
    code: 'WS_STREAM_DUPLICATE' | 'WS_START_FAILED' | 'WS_TOKEN_INVALID' | 'WS_START_TIMEOUT',
    reason: 'duplicate_stream' | 'token' | 'start_timeout',
    text: string,
  ): void {
    clearTimeout(this.#startTimer);
    if (this.#state === 'starting' && this.#callSid) this.#deps.releaseCall(this.#callSid, this);
    this.#state = 'ended';
    this.#early = [];
    this.#outcome = 'rejected';
    this.#deps.metrics.wsRefused.inc({ reason });
    this.ws.close(closeCode(code), text);
  }

  #startTimedOut(): void {
    if (this.#state !== 'connected' && this.#state !== 'starting') return;
    this.#log.warn('WS_START_TIMEOUT', {
      code: 'WS_START_TIMEOUT',
      timeoutMs: this.#deps.startTimeoutMs,
      state: this.#state,
    });
    this.#refuse('WS_START_TIMEOUT', 'start_timeout', 'no start in time');
  }

  /** Runs a handler callback; a throwing handler is logged, never allowed to break the socket. */
  #call(fn: (h: CallHandler) => void): void {
    try {
      if (this.#handler) fn(this.#handler);
    } catch (err) {
      this.#log.error('CALL_HANDLER_ERROR', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  #badFrame(reason: string, detail: string): void {
    this.#bad.record(this.#log, reason, detail);
  }

  #release(): void {
    const handler = this.#handler;
    this.#handler = undefined;
    if (!handler) return;
    const report = (err: unknown): void => {
      this.#log.error('CALL_HANDLER_ERROR', { error: err instanceof Error ? err.message : String(err) });
    };
    try {
      Promise.resolve(handler.close()).catch(report);
    } catch (err) {
      report(err);
    }
  }

  #onClose(code: number, reason: string): void {
    clearTimeout(this.#startTimer);
    const wasInCall = this.#streamSid !== undefined;
    if (this.#callSid && (this.#state === 'starting' || wasInCall)) this.#deps.releaseCall(this.#callSid, this);
    this.#state = 'ended';
    this.#early = [];
    this.#release();
    if (wasInCall) {
      this.#deps.metrics.activeCalls.dec();
      this.#deps.metrics.callsTotal.inc({ outcome: this.#outcome ?? 'dropped' });
    } else if (this.#outcome === 'rejected') {
      this.#deps.metrics.callsTotal.inc({ outcome: 'rejected' });
    }
    this.#bad.summarise(this.#log);
    this.#log.info('WS_CLOSED', { code, reason: reason || undefined, badFrames: this.#bad.total || undefined });
    this.#deps.onClosed(this);
  }
}
