/**
 * One Twilio media socket. Listeners are attached synchronously on connection (frames that
 * arrive before an `await` would otherwise be lost), each frame is parsed by the codec, and a bad
 * frame is logged and ignored: it never ends the call and never reaches the call handler.
 *
 *   connected ──► started ──(stop | close)──► ended
 *       │            │
 *       └─ media/mark before start: ignored (logged)
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../../server/logger.ts';
import type { StreamTokens } from './stream-token.ts';
import { decodePayload, parseInbound, type StartMessage } from './messages.ts';
import type { CallFactory, CallHandler } from './call-handler.ts';
import { boundParams, STREAM_PARAMS } from './stream-params.ts';
import type { Metrics } from '../../server/metrics.ts';

/** How many bad frames of one call are logged one by one before only every 100th is. */
const BAD_FRAME_LOG_LIMIT = 10;

/** What a connection needs from the media server. */
export interface MediaConnectionDeps {
  logger: Logger;
  tokens: StreamTokens;
  callFactory: CallFactory;
  metrics: Metrics;
  /** Called once when the socket has closed. */
  onClosed: (conn: MediaConnection) => void;
}

/** A connected media socket and the call on it. */
export class MediaConnection {
  readonly ws: WebSocket;
  /** Cleared on each ping, set again by the pong: a peer still false at the next ping is dead. */
  alive = true;
  #log: Logger;
  readonly #deps: MediaConnectionDeps;
  #state: 'connected' | 'started' | 'ended' = 'connected';
  #streamSid: string | undefined;
  #handler: CallHandler | undefined;
  #badFrames = 0;
  #outcome: 'completed' | 'hangup' | 'rejected' | 'dropped' | 'shutdown' | undefined;

  constructor(ws: WebSocket, req: IncomingMessage, deps: MediaConnectionDeps) {
    this.ws = ws;
    this.#deps = deps;
    this.#log = deps.logger;
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
      this.#log.debug('PONG');
    });
    ws.on('error', (err) => this.#log.warn('WS_ERROR', { error: err.message }));
    ws.once('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
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

  #onFrame(data: RawData, isBinary: boolean): void {
    const started = process.hrtime.bigint();
    if (isBinary) return this.#bad('binary', 'binary frame (Twilio only sends text)');
    const parsed = parseInbound(rawToString(data));
    if (!parsed.ok) return this.#bad(parsed.reason, parsed.detail);
    const msg = parsed.message;
    this.#deps.metrics.countMessage('in', msg.event);
    if (msg.event === 'connected') {
      this.#log.debug('WS_TWILIO_CONNECTED', { protocol: msg.protocol, version: msg.version });
      return;
    }
    if (msg.event === 'start') return this.#onStart(msg);
    if (this.#state !== 'started') return this.#bad('out-of-order', `${msg.event} before start`);
    if (msg.streamSid !== this.#streamSid) return this.#bad('wrong-stream', `${msg.event} for another streamSid`);
    switch (msg.event) {
      case 'media': {
        const mulaw = decodePayload(msg.media.payload);
        if (!mulaw || mulaw.length === 0) return this.#bad('bad-payload', 'media payload is not base64 audio');
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
        this.ws.close(1000, 'stream stopped');
        return;
    }
  }

  #onStart(msg: StartMessage): void {
    if (this.#state !== 'connected') return this.#bad('duplicate-start', 'second start on one socket');
    const { callSid, customParameters } = msg.start;
    const { [STREAM_PARAMS.token]: token, ...visibleParams } = customParameters;
    const verdict = this.#deps.tokens.consume(token, callSid, boundParams(visibleParams));
    this.#log = this.#deps.logger.child({ callSid, streamSid: msg.streamSid });
    if (!verdict.ok) {
      this.#state = 'ended';
      this.#outcome = 'rejected';
      this.#log.warn('WS_TOKEN_REJECTED', { code: 'WS_TOKEN_INVALID', reason: verdict.reason });
      this.ws.close(1008, `stream token ${verdict.reason}`);
      return;
    }
    this.#state = 'started';
    this.#streamSid = msg.streamSid;
    this.#deps.metrics.activeCalls.inc();
    this.#log.info('WS_START', {
      tracks: msg.start.tracks,
      mediaFormat: msg.start.mediaFormat,
      customParameters: visibleParams,
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
          this.#outcome ??= 'hangup';
          this.#log.info('CALL_HANGUP', { reason });
          ws.close(1000, reason.slice(0, 100));
        },
      });
    } catch (err) {
      this.#log.error('CALL_HANDLER_ERROR', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Runs a handler callback; a throwing handler is logged, never allowed to break the socket. */
  #call(fn: (h: CallHandler) => void): void {
    try {
      if (this.#handler) fn(this.#handler);
    } catch (err) {
      this.#log.error('CALL_HANDLER_ERROR', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  #bad(reason: string, detail: string): void {
    this.#badFrames++;
    if (this.#badFrames <= BAD_FRAME_LOG_LIMIT || this.#badFrames % 100 === 0) {
      this.#log.warn('WS_BAD_MESSAGE', { code: 'WS_BAD_MESSAGE', reason, detail, count: this.#badFrames });
    }
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
    const wasInCall = this.#streamSid !== undefined;
    this.#state = 'ended';
    this.#release();
    if (wasInCall) {
      this.#deps.metrics.activeCalls.dec();
      this.#deps.metrics.callsTotal.inc({ outcome: this.#outcome ?? 'dropped' });
    } else if (this.#outcome === 'rejected') {
      this.#deps.metrics.callsTotal.inc({ outcome: 'rejected' });
    }
    this.#log.info('WS_CLOSED', { code, reason: reason || undefined, badFrames: this.#badFrames || undefined });
    this.#deps.onClosed(this);
  }
}

/** The `event` of a message formatted by twilio-messages.ts (`{"event":"media",…`). */
function outboundEvent(text: string): string {
  const end = text.indexOf('"', 10);
  return end > 10 ? text.slice(10, end) : 'unknown';
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
