/**
 * The media WebSocket server: a `ws` server in noServer mode (it never binds a port; gateway.ts
 * hands it upgrades it has already routed and authenticated), a bounded frame size, the
 * subprotocol rule, and a heartbeat that terminates peers that stop answering pings.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../server/logger.ts';
import type { StreamTokens } from './stream-token.ts';
import { MediaConnection } from './media-connection.ts';
import type { CallFactory } from './call-handler.ts';
import type { Metrics } from '../../server/metrics.ts';

/** The subprotocol some Twilio clients offer; echoed when offered, never required. */
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
}

/** Accepts media sockets and keeps track of them. */
export class MediaServer {
  readonly #wss: WebSocketServer;
  readonly #opts: MediaServerOptions;
  readonly #connections = new Set<MediaConnection>();
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
      const conn = new MediaConnection(ws, req, {
        logger: this.#opts.logger,
        tokens: this.#opts.tokens,
        callFactory: this.#opts.callFactory,
        metrics: this.#opts.metrics,
        onClosed: (c) => this.#connections.delete(c),
      });
      this.#connections.add(conn);
    });
  }

  /** Open media sockets (a call in progress is one socket). */
  get openSockets(): number {
    return this.#connections.size;
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

  #ping(): void {
    for (const conn of this.#connections) {
      if (!conn.alive) {
        this.#opts.logger.warn('WS_PONG_TIMEOUT', { code: 'WS_PONG_TIMEOUT' });
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      this.#opts.logger.debug('PING');
      conn.ws.ping();
    }
  }
}

/**
 * `audio.twilio.com` when offered (alone or among others); otherwise the first offered protocol,
 * so a client that insists on its own still connects. With nothing offered, no header is sent.
 */
function chooseProtocol(offered: Set<string>): string | false {
  if (offered.has(TWILIO_SUBPROTOCOL)) return TWILIO_SUBPROTOCOL;
  const first = offered.values().next();
  return first.done ? false : first.value;
}
