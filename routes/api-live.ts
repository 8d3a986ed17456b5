/**
 * `GET /api/calls/live`: live call changes as Server-Sent Events, for the console's list.
 *
 *   retry: 3000                      ← how long a browser waits before reconnecting
 *   : connected                      ← comments (lines starting with ':') are ignored by clients
 *
 *   event: call                      ← one per call summary: first every call live right now,
 *   data: {"callSid":"CA…",…}          then each start, change (turn count) and end as it happens
 *
 *   : keep-alive                     ← every keepAliveMs, so proxies and the browser keep the line
 *
 * A client that does not read is never waited for: each write goes into that response's own
 * buffer, and once more than `maxBufferedBytes` sit there unsent the client is dropped
 * (`CONSOLE_LIVE_DROPPED`) and its browser reconnects and reloads the list. The number of open
 * streams is capped (`maxClients`, then 503 `CONSOLE_LIVE_FULL`). No event ids: a reconnecting
 * client reloads `GET /api/calls` rather than replaying what it missed.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { CallFeed, CallSummary } from '../server/call-feed.ts';
import type { Logger } from '../server/logger.ts';
import { sendConsoleError } from './console-auth.ts';

/** Options of {@link liveCallsEndpoint}. */
export interface LiveCallsOptions {
  feed: CallFeed;
  logger: Logger;
  /** Interval of keep-alive comments, ms (default 15000). */
  keepAliveMs?: number;
  /** Most streams open at once (default 50); more get 503. */
  maxClients?: number;
  /** Unsent bytes a client may accumulate before it is dropped (default 262144). */
  maxBufferedBytes?: number;
  /** Reconnection delay suggested to browsers, ms (default 3000). */
  retryMs?: number;
}

/** The endpoint and its handle. */
export interface LiveCalls {
  /** The Express handler for `GET /api/calls/live` (put the console guard in front of it). */
  readonly handler: RequestHandler;
  /** Streams open right now. */
  readonly clients: number;
  /** Ends every open stream and refuses new ones (503), e.g. when the gateway drains. Idempotent. */
  close(): void;
}

/** Builds the live-calls SSE endpoint over a {@link CallFeed}. */
export function liveCallsEndpoint(opts: LiveCallsOptions): LiveCalls {
  const keepAliveMs = opts.keepAliveMs ?? 15_000;
  const maxClients = opts.maxClients ?? 50;
  const maxBuffered = opts.maxBufferedBytes ?? 262_144;
  const retryMs = opts.retryMs ?? 3000;
  const open = new Set<() => void>(); // each stream's idempotent close
  let closed = false;

  const handler = (req: Request, res: Response): void => {
    if (closed || open.size >= maxClients) {
      opts.logger.warn('CONSOLE_LIVE_REFUSED', { code: 'CONSOLE_LIVE_FULL', clients: open.size, closing: closed });
      res.set('Retry-After', '5');
      return sendConsoleError(req, res, 'CONSOLE_LIVE_FULL');
    }
    if (req.method === 'HEAD') {
      // Nothing would ever be sent on a HEAD stream: answer its headers and finish.
      res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' }).end();
      return;
    }
    // Read before anything is written, so a failing feed is a clean 500 rather than a broken stream.
    const current = opts.feed.liveCalls();
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // nginx and some other proxies buffer responses unless told not to.
      'X-Accel-Buffering': 'no',
    });
    req.socket.setNoDelay(true);

    let ended = false;
    let unsubscribe = () => {};
    const timer = setInterval(() => write(': keep-alive\n\n'), keepAliveMs);
    const end = (destroy: boolean) => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      unsubscribe();
      open.delete(stop);
      if (destroy) res.destroy();
      else res.end();
      opts.logger.debug('CONSOLE_LIVE_CLOSED', { clients: open.size });
    };
    const stop = () => end(false);
    const write = (chunk: string): void => {
      if (ended) return;
      if (res.writableLength + Buffer.byteLength(chunk) > maxBuffered) {
        opts.logger.warn('CONSOLE_LIVE_DROPPED', {
          code: 'CONSOLE_LIVE_SLOW_CLIENT',
          bufferedBytes: res.writableLength,
          maxBufferedBytes: maxBuffered,
        });
        return end(true);
      }
      res.write(chunk);
    };
    const send = (summary: CallSummary) => write(`event: call\ndata: ${JSON.stringify(summary)}\n\n`);

    open.add(stop);
    res.on('close', () => end(true));
    res.on('error', () => end(true));
    write(`retry: ${retryMs}\n: connected\n\n`);
    for (const summary of current) send(summary);
    unsubscribe = opts.feed.subscribe(send);
    opts.logger.debug('CONSOLE_LIVE_OPENED', { clients: open.size });
  };

  return {
    handler,
    get clients() {
      return open.size;
    },
    close() {
      closed = true;
      for (const stop of [...open]) stop();
    },
  };
}
