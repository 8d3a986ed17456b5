/**
 * The media WebSocket server: a `ws` server in noServer mode (it never binds a port; the upgrade
 * listener hands it upgrades it has already routed and authenticated), a bounded frame size, the
 * subprotocol rule, a heartbeat that terminates peers that stop answering pings, and the register of
 * live calls that keeps a call to one stream.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../server/logger.ts';
import type { StreamTokens } from './stream-token.ts';
import { MediaConnection } from './media-connection.ts';
import type { CallFactory } from './call-handler.ts';
import type { Metrics } from '../../server/metrics.ts';

/** The only subprotocol the gateway ever chooses (when offered); others are never echoed. */
export const TWILIO_SUBPROTOCOL = 'audio.twilio.com';

/** Options of {@link MediaServer}. */
export interface MediaServerOptions {
  logger: Logger;
  tokens: StreamTokens;
  callFactory: CallFactory;
  metrics: Metrics;
  /** Largest accepted frame (default 256 KiB; Twilio's frames are well under 1 KiB). */
  maxPayload: number;
  /** Ping period; a peer that has not ponged by the next ping is terminated. */
  pingIntervalMs: number;
  /** A socket that has not started a call this long after connecting is closed (1008). */
  startTimeoutMs: number;
}

/** Accepts media sockets and keeps track of them. */
export class MediaServer {
  readonly #wss: WebSocketServer;
  readonly #opts: MediaServerOptions;
  readonly #connections = new Set<MediaConnection>();
  /** CallSid → the connection that holds its stream (starting or started). */
  readonly #calls = new Map<string, MediaConnection>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(opts: MediaServerOptions) {
    this.#opts = opts;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayload,
      clientTracking: false,
      perMessageDeflate: false,
      handleProtocols: chooseProtocol,
    });
    this.#heartbeat = setInterval(() => this.#ping(), opts.pingIntervalMs);
    this.#heartbeat.unref();
  }

  /** Completes an upgrade already routed and authenticated by the caller. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        const conn = new MediaConnection(ws, req, {
          logger: this.#opts.logger,
          tokens: this.#opts.tokens,
          callFactory: this.#opts.callFactory,
          metrics: this.#opts.metrics,
          startTimeoutMs: this.#opts.startTimeoutMs,
          claimCall: (callSid, c) => this.#claim(callSid, c),
          releaseCall: (callSid, c) => {
            if (this.#calls.get(callSid) === c) this.#calls.delete(callSid);
          },
          onClosed: (c) => this.#connections.delete(c),
        });
        this.#connections.add(conn);
      } catch (err) {
        this.#opts.logger.error('WS_CONNECTION_FAILED', {
          code: 'WS_CONNECTION_FAILED',
          error: err instanceof Error ? err.message : String(err),
        });
        ws.terminate();
      }
    });
  }

  /** Open media sockets, calls or not. */
  get openSockets(): number {
    return this.#connections.size;
  }

  /** Sockets that carry a call (accepted, or being checked): what a drain waits for. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /** Closes every open socket with a logged reason. */
  closeAll(code: number, reason: string): void {
    for (const conn of this.#connections) conn.close(code, reason);
  }

  /** Stops the heartbeat and terminates whatever is still open. */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const conn of this.#connections) conn.ws.terminate();
  }

  /** Registers `conn` as the stream of `callSid`; false when another live socket already is. */
  #claim(callSid: string, conn: MediaConnection): boolean {
    const holder = this.#calls.get(callSid);
    if (holder && holder !== conn) return false;
    this.#calls.set(callSid, conn);
    return true;
  }

  #ping(): void {
    for (const conn of this.#connections) {
      if (!conn.alive) {
        this.#opts.logger.warn('WS_PONG_TIMEOUT', { code: 'WS_PONG_TIMEOUT' });
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.pingSentAt = performance.now();
      this.#opts.logger.debug('PING');
      conn.ws.ping();
    }
  }
}

/**
 * `audio.twilio.com` when offered (alone or among others); otherwise no protocol at all, so nothing a
 * client offers is ever echoed back (`ws` then completes the upgrade without the header).
 */
function chooseProtocol(offered: Set<string>): string | false {
  return offered.has(TWILIO_SUBPROTOCOL) ? TWILIO_SUBPROTOCOL : false;
}
