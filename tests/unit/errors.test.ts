/**
 * The error catalogue (server/errors.ts) is the only place statuses, close codes and codes are
 * written down: the product sources are scanned for literals that bypass it, the README's
 * `## Errors` table is checked against it, and the provider policy is read from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  clientErrorCode,
  closeCode,
  ERRORS,
  httpStatus,
  isErrorCode,
  statusLine,
  type ErrorCode,
  type ProviderErrorCode,
} from '../../server/errors.ts';
import { ProviderError } from '../../media/providers/types.ts';
import type { SpeechModelErrorCode } from '../../media/audio/speech-detector.ts';

const root = path.resolve(__dirname, '../..');
const CODES = Object.keys(ERRORS) as ErrorCode[];

/** Every speech-model code (the compiler insists on each), as logged by SPEECH_DETECTOR_UNAVAILABLE. */
const SPEECH_MODEL_CODES: Record<SpeechModelErrorCode, true> = {
  RUNTIME_MISSING: true,
  MODEL_MISSING: true,
  MODEL_INVALID: true,
};

/** Product source files (relative paths), the catalogue itself excluded. */
function productFiles(): string[] {
  const out = ['gateway.ts'];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts') && rel !== path.join('server', 'errors.ts')) out.push(rel);
    }
  };
  for (const d of ['server', 'routes', 'media', 'config']) walk(d);
  return out;
}

/** A status or close code written as a number where it is sent, logged or compared as one. */
const HARD_CODED: readonly [string, RegExp][] = [
  ['HTTP status in .status()/.sendStatus()', /\.(?:status|sendStatus)\(\s*[45]\d\d\b/],
  ['HTTP status in writeHead()', /\bwriteHead\(\s*[45]\d\d\b/],
  ['statusCode assignment', /\bstatusCode\s*=\s*\d/],
  ['HTTP status in a field', /\bstatus:\s*[45]\d\d\b/],
  ['raw status line', /HTTP\/1\.[01] [45]\d\d\b/],
  ['HTTP status passed to a helper', /\b(?:sendForm|refuseUpgrade|ApiError|sendConsoleError)\([^)]*\b[45]\d\d\b/],
  ['WebSocket close code', /\bclose(?:All|AllSockets)?\(\s*(?:10(?:0\d|1[0-5])|4\d{3})\b/],
  ['WebSocket close code in a field', /\b(?:wsClose|closeCode):\s*\d/],
];

/** Every `code: '…'` literal that is not a catalogue code, and every hard-coded status, in `text`. */
function violations(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    const at = `${file}:${i + 1}`;
    for (const m of line.matchAll(/\bcode:\s*['"]([A-Z][A-Z0-9_]*)['"]/g)) {
      if (!isErrorCode(m[1]!)) found.push(`${at}: code '${m[1]}' is not in server/errors.ts`);
    }
    for (const [what, re] of HARD_CODED) if (re.test(line)) found.push(`${at}: ${what}: ${line.trim()}`);
  });
  return found;
}

describe('the product sources', () => {
  it('use only catalogue codes and take every error status and close code from the catalogue', () => {
    const files = productFiles();
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((f) => violations(f, fs.readFileSync(path.join(root, f), 'utf8')));
    expect(found).toEqual([]);
  });

  it.each([
    ["logger.warn('X', { code: 'NOT_A_CODE' })", 'not in server/errors.ts'],
    ["res.status(404).send('x')", '.status()'],
    ['res.writeHead(426, {})', 'writeHead'],
    ['res.statusCode = 503;', 'statusCode'],
    ["limiter.log('warn', 'X', { status: 401 })", 'in a field'],
    ['socket.end(`HTTP/1.1 403 Forbidden\\r\\n`)', 'raw status line'],
    ['sendForm(res, 401, next, e)', 'helper'],
    ["new ApiError(400, 'BAD_CURSOR', 'x')", 'helper'],
    ["this.ws.close(1008, 'no')", 'close code'],
    ["deps.closeAllSockets(1001, 'bye')", 'close code'],
  ])('would catch %s', (line, what) => {
    expect(violations('x.ts', line).join()).toContain(what);
  });

  it.each([
    "logger.warn('X', { code: 'WS_TOKEN_INVALID' })",
    "res.status(200).type('text/xml')",
    "res.redirect(303, '/console')",
    'await store.close(1500)',
    "ctx.addIssue({ code: 'custom', message })",
  ])('lets %s through', (line) => {
    expect(violations('x.ts', line)).toEqual([]);
  });
});

describe('the README', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Errors\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \| [^|]+ \|$/gm)].map(
    ([, code, http, close, retryable]) => ({
      code: code!,
      http: http!.trim(),
      close: close!.trim(),
      retry: retryable!,
    }),
  );

  it('has one Errors section', () => {
    expect(start).toBeGreaterThan(0);
    expect(readme.indexOf('\n## Errors\n', start + 1)).toBe(-1);
  });

  it('lists every catalogue code once, and nothing else', () => {
    const listed = rows.map((r) => r.code);
    expect([...listed].sort()).toEqual([...CODES].sort());
  });

  it("gives each code its catalogue status, close code and retryable ('—' where it has none)", () => {
    const expected = (v: number | undefined) => (v === undefined ? '—' : String(v));
    const wrong = rows.filter((r) => {
      const spec: { http?: number; wsClose?: number; retryable: boolean } = ERRORS[r.code as ErrorCode];
      // A status may be followed by a note in brackets, e.g. "404 (405 for other methods)".
      const http = r.http.split(' ')[0];
      return (
        http !== expected(spec.http) ||
        r.close !== expected(spec.wsClose) ||
        r.retry.trim() !== (spec.retryable ? 'yes' : 'no')
      );
    });
    expect(wrong).toEqual([]);
  });
});

describe('the catalogue', () => {
  it('maps helpers to its own values', () => {
    expect(httpStatus('HTTP_UPGRADE_REQUIRED')).toBe(ERRORS.HTTP_UPGRADE_REQUIRED.http);
    expect(closeCode('WS_DRAIN_TIMEOUT')).toBe(ERRORS.WS_DRAIN_TIMEOUT.wsClose);
    expect(statusLine('WS_PATH_UNKNOWN')).toBe(`HTTP/1.1 ${ERRORS.WS_PATH_UNKNOWN.http} Not Found`);
    expect(isErrorCode('toString')).toBe(false);
  });

  it('holds the speech-model codes', () => {
    expect(Object.keys(SPEECH_MODEL_CODES).filter((c) => !isErrorCode(c))).toEqual([]);
  });

  it('classifies client errors by the body parser type, else by a 4xx status', () => {
    expect(clientErrorCode({ type: 'entity.too.large', status: 413 })).toBe('HTTP_BODY_TOO_LARGE');
    expect(clientErrorCode({ type: 'charset.unsupported', status: 415 })).toBe('HTTP_UNSUPPORTED_ENCODING');
    expect(clientErrorCode({ type: 'entity.parse.failed', status: 400 })).toBe('HTTP_BAD_BODY');
    expect(clientErrorCode({ status: 413 })).toBe('HTTP_BODY_TOO_LARGE');
    expect(clientErrorCode({ status: 400 })).toBe('HTTP_BAD_BODY');
    expect(clientErrorCode({ type: 'stream.encoding.set', status: 500 })).toBeUndefined();
    expect(clientErrorCode(new Error('boom'))).toBeUndefined();
    expect(clientErrorCode(null)).toBeUndefined();
  });

  // The provider policy: which failures are worth another try, which end the call at once.
  const RETRYABLE = ['RATE_LIMITED', 'UNAVAILABLE', 'TIMEOUT', 'STREAM_LIMIT'];
  const PERMANENT = ['AUTH', 'BAD_REQUEST', 'QUOTA'];
  const PROVIDER_CODES = CODES.filter((c) => 'permanent' in ERRORS[c]) as ProviderErrorCode[];

  it('holds the provider codes', () => {
    expect([...PROVIDER_CODES].sort()).toEqual(
      [
        'ABORTED',
        'AUTH',
        'BAD_AUDIO',
        'BAD_REQUEST',
        'QUOTA',
        'RATE_LIMITED',
        'STREAM_LIMIT',
        'TIMEOUT',
        'UNAVAILABLE',
        'UNKNOWN',
      ].sort(),
    );
  });

  it.each(PROVIDER_CODES)('gives ProviderError %s its default retryable and permanent', (code) => {
    const err = new ProviderError('stt', code, 'x');
    expect({ retryable: err.retryable, permanent: err.permanent }).toEqual({
      retryable: RETRYABLE.includes(code),
      permanent: PERMANENT.includes(code),
    });
  });

  it('lets a call site override retryable, and a retryable failure is never permanent', () => {
    expect(new ProviderError('llm', 'UNAVAILABLE', 'x', { retryable: false }).retryable).toBe(false);
    expect(new ProviderError('llm', 'AUTH', 'x', { retryable: true }).permanent).toBe(false);
  });
});
