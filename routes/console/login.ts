/**
 * The console's login form: `GET /console/login` shows it, `POST /console/login` with the
 * `CONSOLE_TOKEN` sets the session cookie and sends the browser back where it was going,
 * `POST /console/logout` clears the cookie. Without `CONSOLE_TOKEN` there is nothing to log into:
 * all three send the browser to `/console` (which answers loopback only).
 *
 * Form posts from another site are refused (`Sec-Fetch-Site`), so a page elsewhere can neither
 * log a browser in with a token of its choosing nor log it out.
 */
import { createHash } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { Logger } from '../../server/logger.ts';
import { httpStatus } from '../../server/errors.ts';
import { LOGIN_PATH, sendConsoleError, type ConsoleAuth } from '../console-auth.ts';

/** Most bytes a login form body may have. */
const LOGIN_BODY_LIMIT = 4096;
/**
 * Where the browser may be sent after logging in: console pages only (no other host, no dot
 * segments, no percent-encoding that could hide one).
 */
const SAFE_NEXT = /^\/console(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~-]+)*\/?$/;

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh}
main{width:min(22rem,90vw)}label{display:block;margin:.75rem 0 .25rem}
input{font:inherit;width:100%;padding:.4rem}button{font:inherit;margin-top:1rem;padding:.4rem 1rem}
.error{color:#b3261e;font-weight:600}:focus-visible{outline:3px solid #0b5fff;outline-offset:2px}`;
const LOGIN_CSP = [
  "default-src 'none'",
  'img-src data:',
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Options of {@link loginRoutes}. */
export interface LoginOptions {
  auth: ConsoleAuth;
  logger: Logger;
}

/** The login and logout routes, mounted at the application's root. */
export function loginRoutes(opts: LoginOptions): Router {
  const { auth, logger } = opts;
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: LOGIN_BODY_LIMIT, parameterLimit: 8 });

  router.get(LOGIN_PATH, (req, res) => {
    const next = safeNext(req.query.next);
    if (!auth.tokenRequired) return redirect(res, '/console');
    if (auth.verifySession(auth.sessionOf(req))) return redirect(res, next);
    sendForm(res, 200, next, undefined);
  });

  router.post(LOGIN_PATH, refuseCrossSite, form, (req, res) => {
    if (!auth.tokenRequired) return redirect(res, '/console');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    if (!token || !auth.checkToken(token)) {
      logger.warn('CONSOLE_LOGIN_FAILED', { code: 'CONSOLE_AUTH_REQUIRED', remote: req.socket.remoteAddress });
      return sendForm(
        res,
        httpStatus('CONSOLE_AUTH_REQUIRED'),
        next,
        token ? 'That token is not right.' : 'Enter the console token.',
      );
    }
    logger.info('CONSOLE_LOGIN', { remote: req.socket.remoteAddress });
    res.set('Set-Cookie', auth.sessionCookie(auth.mintSession(), req.secure));
    redirect(res, next);
  });

  router.post('/console/logout', refuseCrossSite, (req, res) => {
    if (!auth.tokenRequired) return redirect(res, '/console');
    logger.info('CONSOLE_LOGOUT', { remote: req.socket.remoteAddress });
    res.set('Set-Cookie', auth.clearedCookie(req.secure));
    redirect(res, LOGIN_PATH);
  });
  return router;
}

/** A browser tells where a form post comes from; another site's posts are refused. */
function refuseCrossSite(req: Request, res: Response, next: () => void): void {
  const site = req.get('sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') return sendConsoleError(req, res, 'CONSOLE_CROSS_SITE');
  next();
}

function safeNext(value: unknown): string {
  return typeof value === 'string' && SAFE_NEXT.test(value) ? value : '/console';
}

function redirect(res: Response, to: string): void {
  res.set('Cache-Control', 'no-store').redirect(303, to);
}

function sendForm(res: Response, status: number, next: string, error: string | undefined): void {
  const html = `<!doctype html>
<html lang="en" dir="ltr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · Voice gateway console</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><main><h1>Voice gateway console</h1>
<form method="post" action="${LOGIN_PATH}">
${error ? `<p class="error" role="alert" id="login-error">${escapeHtml(error)}</p>` : ''}
<label for="token">Console token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus${error ? ' aria-describedby="login-error"' : ''}>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<button type="submit">Log in</button>
</form></main></body></html>`;
  res
    .status(status)
    .set({
      'Content-Security-Policy': LOGIN_CSP,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    })
    .type('html')
    .send(html);
}

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
