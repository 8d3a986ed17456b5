/**
 * Puts the console on a router: the login form, the live stream, the pages, and the error answers
 * for all of them. The call API itself (`/api/calls…`) is another module; give it the returned
 * `guard` so `/api/*` and `/console*` share one access rule, and mount it after this one, so that
 * `GET /api/calls/live` is not taken for a CallSid.
 *
 *   const consoleRoutes = mountConsole(app, { token: config.consoleToken, logger, feed });
 *   app.use(apiRouter({ guard: consoleRoutes.guard, … }));
 *   drain: consoleRoutes.live.close()
 */
import type { ErrorRequestHandler, RequestHandler, Router } from 'express';
import type { CallFeed } from '../../server/call-feed.ts';
import type { Logger } from '../../server/logger.ts';
import { clientErrorCode, httpStatus } from '../../server/errors.ts';
import { createConsoleAuth, sendConsoleError, type ConsoleAuth, type ConsoleAuthOptions } from '../console-auth.ts';
import { liveCallsEndpoint, type LiveCalls, type LiveCallsOptions } from '../api-live.ts';
import { loginRoutes } from './login.ts';
import { consolePages } from './pages.ts';

/** What the console needs. */
export interface ConsoleDeps {
  /** `CONSOLE_TOKEN` (config.consoleToken); undefined = loopback only. */
  token: string | undefined;
  logger: Logger;
  feed: CallFeed;
  /** Limits of the live stream (see {@link LiveCallsOptions}); defaults suit production. */
  live?: Omit<LiveCallsOptions, 'feed' | 'logger'>;
  /** Test seams of the guard (clock, peer address). */
  auth?: Pick<ConsoleAuthOptions, 'now' | 'remoteAddressOf'>;
}

/** What {@link mountConsole} hands back to the process wiring. */
export interface ConsoleRoutes {
  /** The one guard for `/api/*` and `/console*`. */
  readonly guard: RequestHandler;
  readonly auth: ConsoleAuth;
  /** The live stream, to close on drain. */
  readonly live: LiveCalls;
}

/**
 * Mounts `GET|POST /console/login`, `POST /console/logout`, `GET /api/calls/live` and
 * `/console…` on `router`, with an error handler that answers those paths without a stack trace.
 * @throws Error when the console's files are missing (a broken install), at start-up.
 */
export function mountConsole(router: Router, deps: ConsoleDeps): ConsoleRoutes {
  const auth = createConsoleAuth({ token: deps.token, logger: deps.logger, ...deps.auth });
  const live = liveCallsEndpoint({ feed: deps.feed, logger: deps.logger, ...deps.live });
  const pages = consolePages({ logout: auth.tokenRequired });

  router.use(loginRoutes({ auth, logger: deps.logger }));
  router.get('/api/calls/live', auth.guard, live.handler);
  router.use('/console', auth.guard, pages.router);
  router.use(['/console', '/api'], consoleErrors(deps.logger));
  return { guard: auth.guard, auth, live };
}

/**
 * The error answer under /console and /api: the client's mistakes (a bad body, a badly encoded
 * path) get their 4xx, everything else a bare 500; never a stack trace, never the error's text.
 */
function consoleErrors(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const path = (req.originalUrl.split('?')[0] ?? '').slice(0, 200);
    const type = (err as { type?: unknown } | null)?.type;
    // The body parser names its errors by `type`; the router marks a badly encoded path with status 400.
    const client = clientErrorCode(err);
    if (res.headersSent) {
      logger.error('HTTP_ERROR_AFTER_HEADERS', { code: 'CONSOLE_INTERNAL', path, error: String(err) });
      res.destroy();
      return;
    }
    if (client) {
      logger.debug('CONSOLE_BAD_REQUEST', { code: client, path, status: httpStatus(client), reason: type });
      res.status(httpStatus(client)).set('Cache-Control', 'no-store').type('text/plain').send('bad request');
      return;
    }
    logger.error('CONSOLE_INTERNAL_ERROR', { code: 'CONSOLE_INTERNAL', path, error: String(err) });
    sendConsoleError(req, res, 'CONSOLE_INTERNAL');
  };
}
