/**
 * The console's pages and files. Every page is the same small HTML shell; the browser modules in
 * ./static/ read the path and draw the list or a call from the JSON API. The files are read once at
 * start-up and served from memory under `/console/assets/<version>/`, where the version is a hash
 * of their contents: a URL never changes meaning, so the files are cached for a year (`immutable`)
 * and a new deploy is picked up by the shell (`no-cache`, revalidated on every load).
 *
 * Every response carries a strict Content-Security-Policy: scripts, styles and media from this
 * origin only, no inline code, and Trusted Types enforced, so the page cannot be made to parse
 * data as HTML even by a bug in it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Router, type Request, type Response } from 'express';
import { sendConsoleError } from '../console-auth.ts';

/** Policy of the console's pages and files. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers on every console response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
});

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** A CallSid as the page accepts it in its path (Twilio's are CA + 32 hex digits). */
const CALL_SID_PATH = /^[A-Za-z0-9_-]{1,64}$/;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Options of {@link consolePages}. */
export interface ConsolePagesOptions {
  /** Show the "Log out" button (only meaningful with CONSOLE_TOKEN). */
  logout: boolean;
  /** Directory of the browser files (default: ./static next to this module). */
  staticDir?: URL;
}

/** The console's pages and assets, to be mounted at `/console` behind the guard. */
export interface ConsolePages {
  readonly router: Router;
  /** Content hash of the files, part of their URLs. */
  readonly version: string;
}

/**
 * Loads the browser files and builds the router: `GET /` and `GET /calls/:callSid` (the shell),
 * `GET /assets/<version>/<file>`. Anything else under /console is 404.
 * @throws Error at start-up when the static directory or the shell is missing.
 */
export function consolePages(opts: ConsolePagesOptions): ConsolePages {
  const dir = opts.staticDir ?? new URL('./static/', import.meta.url);
  const assets = new Map<string, Asset>();
  const hash = createHash('sha256');
  let shellTemplate: string | undefined;
  for (const name of readdirSync(dir).sort()) {
    const body = readFileSync(new URL(name, dir));
    if (name === 'shell.html') {
      shellTemplate = body.toString('utf8');
      continue;
    }
    const type = TYPES[extname(name)];
    if (!type) continue;
    hash.update(name).update('\0').update(body).update('\0');
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, type, etag });
  }
  if (!shellTemplate) throw new Error(`console shell.html missing in ${dir.pathname}`);
  const version = hash.digest('hex').slice(0, 12);
  const logout =
    '<form method="post" action="/console/logout" class="logout"><button type="submit">Log out</button></form>';
  const shell = shellTemplate
    .replaceAll('{{assets}}', `/console/assets/${version}`)
    .replace('{{logout}}', opts.logout ? logout : '');

  const router = Router({ caseSensitive: true, strict: false });
  router.use((_req, res, next) => {
    res.set(SECURITY_HEADERS);
    next();
  });
  const sendShell = (_req: Request, res: Response) => {
    res.status(200).type('html').set('Cache-Control', 'private, no-cache').send(shell);
  };
  router.get('/', sendShell);
  router.get('/calls/:callSid', (req, res) => {
    if (!CALL_SID_PATH.test(String(req.params.callSid))) return sendConsoleError(req, res, 'CONSOLE_NOT_FOUND');
    sendShell(req, res);
  });
  router.get('/assets/:version/:name', (req, res) => {
    const asset = req.params.version === version ? assets.get(String(req.params.name)) : undefined;
    if (!asset) return sendConsoleError(req, res, 'CONSOLE_NOT_FOUND');
    res
      .status(200)
      .set({ 'Content-Type': asset.type, ETag: asset.etag, 'Cache-Control': 'private, max-age=31536000, immutable' })
      .send(asset.body);
  });
  router.use((req, res) => sendConsoleError(req, res, 'CONSOLE_NOT_FOUND'));
  return { router, version };
}
