/**
 * The media client's WebSocket handshake: waits for the socket to open, and tells a refused
 * upgrade (the gateway answered with an HTTP status instead of 101) apart from a socket error.
 */
import type WebSocket from 'ws';

/** `connect` failed because the gateway answered the upgrade with this HTTP status instead of 101. */
export class TwilioHandshakeError extends Error {
  /** The HTTP status the gateway answered with (e.g. 403 for a bad signature). */
  readonly statusCode: number;
  constructor(statusCode: number) {
    super(`gateway refused the WebSocket upgrade with HTTP ${statusCode}`);
    this.name = 'TwilioHandshakeError';
    this.statusCode = statusCode;
  }
}

/**
 * Resolves once `ws` is open, after calling `onOpen` (which can send at once); later socket errors
 * go to `onLateError`.
 * @throws TwilioHandshakeError (rejection) if the gateway answers the upgrade with a non-101 status;
 *   the socket's Error for anything else (refused connection, timeout, close during the handshake).
 */
export function handshake(ws: WebSocket, onOpen: () => void, onLateError: (err: Error) => void): Promise<void> {
  let refusedWith: number | undefined;
  ws.on('unexpected-response', (_req, res) => {
    refusedWith = res.statusCode ?? 0;
    res.resume();
    ws.terminate(); // ws leaves the failed handshake to us once we listen for this event
  });
  return new Promise<void>((resolve, reject) => {
    let open = false;
    ws.once('open', () => {
      ws.on('error', onLateError);
      open = true;
      onOpen();
      resolve();
    });
    ws.once('error', (err) => {
      if (open) return;
      reject(refusedWith === undefined ? err : new TwilioHandshakeError(refusedWith));
    });
  });
}
