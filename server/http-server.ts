/**
 * The gateway's `http.Server` with limits fit for webhooks on the open internet: headers within a
 * few seconds, a whole request within a few more (checked every second, not every 30 s as Node's
 * default), a cap on open connections below the process's descriptor limit, exactly one real status
 * line for every malformed or timed-out request (408 for timeouts, 431 for oversized headers, 400
 * otherwise; never a second response on a socket whose response already started), and a request
 * listener that cannot throw past itself.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Logger } from './logger.ts';
import type { LogLimiter } from './log-limit.ts';
import type { Metrics } from './metrics.ts';
import { httpStatus, statusLine, type HttpErrorCode } from './errors.ts';

/** The limits, from the configuration. */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

/** Descriptors kept free for everything that is not a client connection (provider sockets, files). */
export const DESCRIPTOR_RESERVE = 256;

/** What the server needs around it. */
export interface HttpServerDeps {
  limits: HttpLimits;
  logger: Logger;
  limiter: LogLimiter;
  metrics: Metrics;
  /** The open-files limit of this process; default: read from /proc/self/limits (Linux). */
  descriptorLimit?: number | undefined;
}

/**
 * Creates the server around `handler`.
 * Logs `MAX_CONNECTIONS_LOWERED` when the configured cap does not fit under the descriptor limit.
 */
export function createHttpServer(deps: HttpServerDeps, handler: http.RequestListener): http.Server {
  const { limits, logger, limiter, metrics } = deps;
  const server = http.createServer({ connectionsCheckingInterval: 1000, requireHostHeader: true }, (req, res) => {
    try {
      handler(req, res);
    } catch (err) {
      logger.error('HTTP_HANDLER_ERROR', {
        code: 'HTTP_HANDLER_FAILED',
        error: err instanceof Error ? err.message : String(err),
      });
      if (res.headersSent) res.destroy();
      else
        res
          .writeHead(httpStatus('HTTP_HANDLER_FAILED'), { 'Content-Type': 'text/plain', Connection: 'close' })
          .end('service unavailable\n');
    }
  });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // Longer than common load-balancer idle timeouts (60 s), so the LB never reuses a socket we closed.
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = effectiveMaxConnections(
    limits.maxConnections,
    deps.descriptorLimit ?? descriptorLimit(),
    logger,
  );
  server.on('drop', (data?: { remoteAddress?: string }) => {
    metrics.connectionsDropped.inc();
    limiter.log('warn', 'HTTP_CONNECTION_DROPPED', {
      code: 'HTTP_TOO_MANY_CONNECTIONS',
      remote: data?.remoteAddress,
      maxConnections: server.maxConnections,
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, limiter));
  return server;
}

/** Node's parser and timeout errors, by their `code`; any other is a malformed request. */
const CLIENT_ERRORS: Readonly<Record<string, HttpErrorCode>> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP_REQUEST_TIMEOUT',
  HPE_HEADER_OVERFLOW: 'HTTP_HEADERS_TOO_LARGE',
};

/**
 * Node's own answer to a request it could not parse or that took too long, with a log line: one
 * status line, and only when no response has started on the socket; then the socket is destroyed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, limiter: LogLimiter): void {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return void socket.destroy();
  const code = (err.code !== undefined && CLIENT_ERRORS[err.code]) || 'HTTP_MALFORMED_REQUEST';
  // `reason` is Node's own code (HPE_INVALID_METHOD…); `code` is always the catalogue's.
  limiter.log('debug', 'HTTP_CLIENT_ERROR', { code, status: httpStatus(code), reason: err.code });
  const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
  // A response the app started writing must not get a second status line after it; one it has not
  // started is abandoned (the socket is destroyed below, so nothing of it can follow ours).
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(`${statusLine(code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

/** The soft open-files limit from /proc/self/limits; undefined where that cannot be read. */
export function descriptorLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `configured`, lowered to leave {@link DESCRIPTOR_RESERVE} descriptors free under `limit`. */
export function effectiveMaxConnections(configured: number, limit: number | undefined, logger: Logger): number {
  if (limit === undefined || configured <= limit - DESCRIPTOR_RESERVE) return configured;
  const lowered = Math.max(10, limit - DESCRIPTOR_RESERVE);
  logger.warn('MAX_CONNECTIONS_LOWERED', {
    configured,
    maxConnections: lowered,
    descriptorLimit: limit,
    detail: `MAX_CONNECTIONS must leave ${DESCRIPTOR_RESERVE} descriptors free under the process limit`,
  });
  return lowered;
}
