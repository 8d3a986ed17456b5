/**
 * Access control for the console and the call API: one guard in front of `/api/*` and
 * `/console*`.
 *
 * With `CONSOLE_TOKEN` set, a request passes with `Authorization: Bearer <token>` or with the
 * session cookie the login form sets. The cookie never holds the token: it holds
 * `v1.<issued>.<nonce>.<mac>`, where `mac` is an HMAC-SHA256 keyed with a key derived from the
 * token, so changing the token ends every session, and a stolen cookie expires after
 * {@link SESSION_MAX_AGE_S}. Every comparison is constant-time over equal-length digests.
 *
 * Without `CONSOLE_TOKEN`, only loopback is answered: the TCP peer's own address decides, never
 * `X-Forwarded-For` or `TRUST_PROXY`, and a request that carries a forwarding header is refused
 * even from loopback, because it came through a proxy (a reverse proxy or tunnel on this machine
 * would otherwise expose the console to whoever reaches the proxy).
 *
 * Denials: 401 (`CONSOLE_AUTH_REQUIRED`, with `WWW-Authenticate: Bearer`) or, for a page the
 * browser navigates to, a 303 to the login form; 403 (`CONSOLE_LOOPBACK_ONLY`) in loopback mode.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../server/logger.ts';
import { ERRORS, httpStatus, type HttpErrorCode } from '../server/errors.ts';

/** Name of the session cookie (Path=/, HttpOnly, SameSite=Strict, Secure over https). */
export const SESSION_COOKIE = 'gw_console_session';
/** Lifetime of a session cookie: 12 hours. */
export const SESSION_MAX_AGE_S = 12 * 60 * 60;
/** Where the login form lives. */
export const LOGIN_PATH = '/console/login';

/** Request headers that show a request was relayed by a proxy. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;
const SESSION_FORMAT = /^v1\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
/** Tolerated clock difference for a session issued "in the future" by another instance. */
const CLOCK_SKEW_S = 60;

/** Options of {@link createConsoleAuth}. */
export interface ConsoleAuthOptions {
  /** `CONSOLE_TOKEN`; undefined = loopback-only mode. */
  token: string | undefined;
  logger: Logger;
  /** Clock in ms (default Date.now), for session expiry. */
  now?: () => number;
  /** The peer address the loopback rule looks at; default: the TCP socket's own remote address. */
  remoteAddressOf?: (req: Request) => string | undefined;
}

/** The console's access rules, shared by the guard and the login form. */
export interface ConsoleAuth {
  /** True when `CONSOLE_TOKEN` is set. */
  readonly tokenRequired: boolean;
  /** The guard for `/api/*` and `/console*`: calls next() or answers 401/403/303 itself. */
  readonly guard: RequestHandler;
  /** Constant-time check of a token typed into the login form. False in loopback mode. */
  checkToken(candidate: string): boolean;
  /** A fresh session value for the cookie. @throws Error in loopback mode (no key to sign with). */
  mintSession(): string;
  /** True for a well-formed, authentic, unexpired session value. */
  verifySession(value: string | undefined): boolean;
  /** The Set-Cookie value that starts a session. */
  sessionCookie(value: string, secure: boolean): string;
  /** The Set-Cookie value that ends it. */
  clearedCookie(secure: boolean): string;
  /** The session cookie's value on a request, if any. */
  sessionOf(req: Request): string | undefined;
}

/** Builds the console's access rules from `CONSOLE_TOKEN`. */
export function createConsoleAuth(opts: ConsoleAuthOptions): ConsoleAuth {
  const now = opts.now ?? Date.now;
  const remoteOf = opts.remoteAddressOf ?? ((req: Request) => req.socket.remoteAddress);
  const token = opts.token;
  // Separate keys for the two uses, both derived from the token: one to compare tokens as equal-length
  // digests, one to sign sessions.
  const compareKey = token === undefined ? undefined : hmac(token, 'gateway-console/compare/v1');
  const sessionKey = token === undefined ? undefined : hmac(token, 'gateway-console/session/v1');

  const checkToken = (candidate: string): boolean => {
    if (!compareKey || !token) return false;
    return timingSafeEqual(hmac(compareKey, candidate), hmac(compareKey, token));
  };

  const mintSession = (): string => {
    if (!sessionKey) throw new Error('console sessions need CONSOLE_TOKEN');
    const payload = `v1.${Math.floor(now() / 1000).toString(36)}.${randomBytes(16).toString('base64url')}`;
    return `${payload}.${hmac(sessionKey, payload).toString('base64url')}`;
  };

  const verifySession = (value: string | undefined): boolean => {
    if (!sessionKey || !value) return false;
    const m = SESSION_FORMAT.exec(value);
    if (!m) return false;
    const payload = value.slice(0, value.lastIndexOf('.'));
    const given = Buffer.from(m[3] ?? '', 'base64url');
    const expected = hmac(sessionKey, payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    const age = now() / 1000 - parseInt(m[1] ?? '', 36);
    return age > -CLOCK_SKEW_S && age < SESSION_MAX_AGE_S;
  };

  const sessionOf = (req: Request) => cookieValue(req.headers.cookie, SESSION_COOKIE);

  const guard: RequestHandler = (req, res, next) => {
    if (!token) {
      const remote = remoteOf(req);
      const forwarded = FORWARDING_HEADERS.some((h) => req.headers[h] !== undefined);
      if (isLoopback(remote) && !forwarded) return next();
      opts.logger.debug('CONSOLE_ACCESS_DENIED', {
        code: 'CONSOLE_LOOPBACK_ONLY',
        path: pathForLog(req),
        remote,
        forwarded,
      });
      return deny(req, res, 'CONSOLE_LOOPBACK_ONLY');
    }
    const bearer = bearerOf(req.headers.authorization);
    if (bearer !== undefined) {
      if (checkToken(bearer)) return next();
      // Credentials presented and wrong: worth a warning (a misconfigured client, or guessing).
      opts.logger.warn('CONSOLE_ACCESS_DENIED', { code: 'CONSOLE_AUTH_REQUIRED', path: pathForLog(req), bearer: true });
      return deny(req, res, 'CONSOLE_AUTH_REQUIRED');
    }
    const session = sessionOf(req);
    if (verifySession(session)) return next();
    opts.logger.debug('CONSOLE_ACCESS_DENIED', {
      code: 'CONSOLE_AUTH_REQUIRED',
      path: pathForLog(req),
      session: session !== undefined,
    });
    if (isPageNavigation(req)) {
      const next = encodeURIComponent(req.originalUrl.split('?')[0] ?? '/console');
      res.set('Cache-Control', 'no-store').redirect(303, `${LOGIN_PATH}?next=${next}`);
      return;
    }
    return deny(req, res, 'CONSOLE_AUTH_REQUIRED');
  };

  return {
    tokenRequired: token !== undefined,
    guard,
    checkToken,
    mintSession,
    verifySession,
    sessionOf,
    sessionCookie: (value, secure) =>
      `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`,
    clearedCookie: (secure) =>
      `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`,
  };
}

/**
 * Answers a refused request: JSON `{ error: { code, message } }` under /api, plain text elsewhere;
 * never cached, never more than the catalogue's summary.
 */
export function sendConsoleError(req: Request, res: Response, code: HttpErrorCode): void {
  const { summary } = ERRORS[code];
  res.status(httpStatus(code)).set('Cache-Control', 'no-store');
  if (req.originalUrl.startsWith('/api/')) res.json({ error: { code, message: summary } });
  else res.type('text/plain').send(summary);
}

function deny(req: Request, res: Response, code: 'CONSOLE_AUTH_REQUIRED' | 'CONSOLE_LOOPBACK_ONLY'): void {
  if (code === 'CONSOLE_AUTH_REQUIRED') res.set('WWW-Authenticate', 'Bearer realm="gateway console"');
  sendConsoleError(req, res, code);
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped form. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), if that is what it is. */
function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  // Any other Authorization scheme counts as a wrong credential, not as none.
  return m ? m[1] : '';
}

/** One cookie's value from a Cookie header (the first one with that name). */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A GET of a console page by a browser (it wants HTML), which is better sent to the login form. */
function isPageNavigation(req: Request): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.originalUrl.startsWith('/console') &&
    !req.originalUrl.startsWith('/console/assets/') &&
    /text\/html/.test(req.headers.accept ?? '')
  );
}

function pathForLog(req: Request): string {
  return (req.originalUrl.split('?')[0] ?? '').slice(0, 200);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
