/**
 * The `upgrade` listener of the gateway's server: routes WebSocket upgrades by path and checks
 * Twilio's signature before `ws` sees them. Every path through it ends in one of two ways: the media
 * server takes the socket (101), or the socket gets a real status line and is destroyed — 404 for an
 * unknown path, 403 for a bad signature, 503 for anything unexpected (logged as `WS_UPGRADE_FAILED`).
 * No exception can leave a socket unanswered and open.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../server/logger.ts';
import type { LogLimiter } from '../../server/log-limit.ts';
import { isValidUpgradeSignature } from './upgrade-signature.ts';
import { MEDIA_PATH } from './stream-params.ts';
import type { MediaServer } from './media-server.ts';
import { httpStatus, statusLine, statusText, type HttpErrorCode } from '../../server/errors.ts';

/** What the listener needs. */
export interface UpgradeDeps {
  logger: Logger;
  /** Budget for refusal logs, which strangers can trigger at will. */
  limiter: LogLimiter;
  /** When set, upgrades must be signed by Twilio for `publicBaseUrl`. */
  authToken: string | undefined;
  publicBaseUrl: string | undefined;
  media: Pick<MediaServer, 'handleUpgrade'>;
}

/** How long a refused socket may take to flush its status line before it is destroyed anyway. */
const REFUSE_FLUSH_MS = 2000;

/** Builds the listener for `server.on('upgrade', …)`. */
export function upgradeListener(deps: UpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', (err) => deps.logger.debug('WS_UPGRADE_SOCKET_ERROR', { error: err.message }));
    try {
      route(deps, req, socket, head);
    } catch (err) {
      deps.logger.error('WS_UPGRADE_FAILED', {
        code: 'WS_UPGRADE_FAILED',
        status: httpStatus('WS_UPGRADE_FAILED'),
        error: err instanceof Error ? err.message : String(err),
      });
      refuseUpgrade(socket, 'WS_UPGRADE_FAILED');
    }
  };
}

function route(deps: UpgradeDeps, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const path = pathOf(req.url);
  if (path !== MEDIA_PATH && path !== `${MEDIA_PATH}/`) {
    deps.limiter.log('warn', 'WS_UPGRADE_REJECTED', {
      code: 'WS_PATH_UNKNOWN',
      path,
      status: httpStatus('WS_PATH_UNKNOWN'),
    });
    return refuseUpgrade(socket, 'WS_PATH_UNKNOWN');
  }
  if (deps.authToken) {
    // The configuration refuses a token without a public base URL; this is the last line of defence.
    if (!deps.publicBaseUrl) throw new Error('TWILIO_AUTH_TOKEN is set without PUBLIC_BASE_URL');
    if (!isValidUpgradeSignature(deps.authToken, req, deps.publicBaseUrl)) {
      deps.limiter.log('warn', 'WS_UPGRADE_REJECTED', {
        code: 'WS_SIGNATURE_INVALID',
        status: httpStatus('WS_SIGNATURE_INVALID'),
        signed: typeof req.headers['x-twilio-signature'] === 'string',
      });
      return refuseUpgrade(socket, 'WS_SIGNATURE_INVALID');
    }
  }
  deps.media.handleUpgrade(req, socket, head);
}

/**
 * Writes `code`'s real HTTP status line on a socket that will not be upgraded (its reason phrase as
 * the body), then destroys it.
 */
export function refuseUpgrade(socket: Duplex, code: HttpErrorCode): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${statusText(code)}\n`;
  const timer = setTimeout(() => socket.destroy(), REFUSE_FLUSH_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('finish', () => socket.destroy());
  socket.end(
    `${statusLine(code)}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The path of a request target, without its query. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}
