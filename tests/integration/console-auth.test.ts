/**
 * The console's guard over real sockets: bearer token, session cookie from the login form, wrong
 * and forged credentials, loopback-only mode seen from a real non-loopback address, and error
 * answers without stack traces.
 */
import http from 'node:http';
import { networkInterfaces } from 'node:os';
import request from 'supertest';
import { parseConfig, ConfigError } from '../../config/config.ts';
import { SESSION_COOKIE, SESSION_MAX_AGE_S } from '../../routes/console-auth.ts';
import { startConsoleStub, type ConsoleStub } from '../helpers/console-stub.ts';

const TOKEN = 'console-test-token-0123456789abcdef';
const SID = 'CAa1b2c3d4e5f60718293a4b5c6d7e8f90';

/** The session cookie's `name=value` from a Set-Cookie answer. */
function sessionFrom(res: request.Response): string {
  const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = set.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
  return cookie.split(';')[0]!;
}

/** Asserts a body carries no stack trace or internal file path. */
function expectNoStack(res: request.Response): void {
  const text = res.text ?? '';
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|Error:/);
}

describe('console guard with CONSOLE_TOKEN', () => {
  let stub: ConsoleStub;
  let clock = Date.now();
  beforeAll(async () => {
    stub = await startConsoleStub({ token: TOKEN, auth: { now: () => clock } });
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    clock = Date.now();
  });

  const login = (token: string, extra: Record<string, string> = {}) =>
    request(stub.server)
      .post('/console/login')
      .type('form')
      .send({ token, next: `/console/calls/${SID}`, ...extra });

  it('answers 401 with a JSON error and WWW-Authenticate to an API request without credentials', async () => {
    stub.apiRequests.length = 0; // what other tests let through does not count here
    for (const path of ['/api/calls', `/api/calls/${SID}`, '/api/calls/live']) {
      const res = await request(stub.server).get(path);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="gateway console"');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: { code: 'CONSOLE_AUTH_REQUIRED', message: expect.any(String) } });
    }
    expect(stub.apiRequests).toEqual([]);
  });

  it('sends a browser asking for a console page to the login form, and answers other requests 401', async () => {
    const page = await request(stub.server).get(`/console/calls/${SID}`).set('Accept', 'text/html');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe(`/console/login?next=${encodeURIComponent(`/console/calls/${SID}`)}`);
    const asset = await request(stub.server).get('/console/assets/x/app.js');
    expect(asset.status).toBe(401);
    expect(asset.type).toBe('text/plain');
  });

  it('lets a request with the right bearer token through', async () => {
    const res = await request(stub.server).get('/api/calls').set('Authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body.calls.map((c: { callSid: string }) => c.callSid)).toContain(SID);
    const page = await request(stub.server).get('/console').set('Authorization', `bearer ${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
  });

  it('refuses a wrong bearer token, a prefix of the right one, and another scheme', async () => {
    for (const auth of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, 'Bearer', `Bearer  `]) {
      const res = await request(stub.server).get('/api/calls').set('Authorization', auth);
      expect([auth, res.status]).toEqual([auth, 401]);
    }
    expect(stub.logs.events('CONSOLE_ACCESS_DENIED').filter((r) => r.level === 'warn').length).toBeGreaterThan(0);
    // The token never reaches the log, not even a wrong one that contains it.
    expect(JSON.stringify(stub.logs.records)).not.toContain(TOKEN);
  });

  it('shows the login form, refuses a wrong token with 401 and no cookie', async () => {
    const form = await request(stub.server).get('/console/login?next=/console/calls/' + SID);
    expect(form.status).toBe(200);
    expect(form.text).toContain('name="token"');
    expect(form.text).toContain(`value="/console/calls/${SID}"`);
    expect(form.headers['content-security-policy']).toContain("default-src 'none'");
    const wrong = await login('definitely-not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.text).toContain('That token is not right.');
    expect(stub.logs.events('CONSOLE_LOGIN_FAILED').length).toBeGreaterThan(0);
  });

  it('logs in with the token: an HttpOnly SameSite=Strict cookie that is not the token, then back where the user was going', async () => {
    const res = await login(TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/console/calls/${SID}`);
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]!;
    expect(setCookie).toMatch(/; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain('Secure');
    expect(setCookie).not.toContain(TOKEN);
    const cookie = sessionFrom(res);
    const api = await request(stub.server).get(`/api/calls/${SID}`).set('Cookie', cookie);
    expect(api.status).toBe(200);
    expect(api.body.call.callSid).toBe(SID);
    const logged = await request(stub.server).get('/console/login').set('Cookie', cookie);
    expect([logged.status, logged.headers.location]).toEqual([303, '/console']);
  });

  it('marks the cookie Secure when the request came over https through a trusted proxy', async () => {
    const res = await login(TOKEN).set('X-Forwarded-Proto', 'https');
    expect(([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]).toMatch(/; Secure$/);
  });

  it('refuses a forged, tampered or expired session cookie', async () => {
    const good = sessionFrom(await login(TOKEN));
    const value = good.slice(SESSION_COOKIE.length + 1);
    const last = value.at(-2) === 'A' ? 'B' : 'A';
    const forged = [
      `${SESSION_COOKIE}=${TOKEN}`,
      `${SESSION_COOKIE}=${value.slice(0, -2)}${last}${value.at(-1)}`,
      `${SESSION_COOKIE}=${value.replace(/^v1\.[0-9a-z]+\./, `v1.${Math.floor(clock / 1000 + 100).toString(36)}.`)}`,
      `${SESSION_COOKIE}=`,
    ];
    for (const cookie of forged) {
      const res = await request(stub.server).get('/api/calls').set('Cookie', cookie);
      expect([cookie, res.status]).toEqual([cookie, 401]);
    }
    expect((await request(stub.server).get('/api/calls').set('Cookie', good)).status).toBe(200);
    clock += (SESSION_MAX_AGE_S + 1) * 1000;
    expect((await request(stub.server).get('/api/calls').set('Cookie', good)).status).toBe(401);
  });

  it('refuses a session issued more than a minute in the future (another clock, or a forgery)', async () => {
    clock = Date.now() + 5 * 60_000;
    const early = sessionFrom(await login(TOKEN));
    clock = Date.now();
    expect((await request(stub.server).get('/api/calls').set('Cookie', early)).status).toBe(401);
    clock = Date.now() + 30_000;
    const skewed = sessionFrom(await login(TOKEN));
    clock = Date.now();
    expect((await request(stub.server).get('/api/calls').set('Cookie', skewed)).status).toBe(200);
  });

  it('does not accept a session signed for another token', async () => {
    const other = await startConsoleStub({ token: `${TOKEN}-rotated` });
    try {
      const cookie = sessionFrom(await login(TOKEN));
      expect((await request(other.server).get('/api/calls').set('Cookie', cookie)).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('refuses cross-site form posts and never redirects off the console', async () => {
    const cross = await login(TOKEN).set('Sec-Fetch-Site', 'cross-site');
    expect(cross.status).toBe(403);
    expect(cross.headers['set-cookie']).toBeUndefined();
    for (const next of [
      '//evil.example/console',
      'https://evil.example/',
      '/console/../api',
      '/console/%2e%2e/api',
      '/\\evil.example',
    ]) {
      const res = await login(TOKEN, { next });
      expect([next, res.headers.location]).toEqual([next, '/console']);
    }
  });

  it('logs out by clearing the cookie', async () => {
    const res = await request(stub.server).post('/console/logout').set('Sec-Fetch-Site', 'same-origin');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console/login');
    expect(([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]).toMatch(
      new RegExp(`^${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`),
    );
  });

  it('answers bad requests without a stack trace', async () => {
    const badPath = await request(stub.server).get('/console/calls/%E0%A4%A').set('Authorization', `Bearer ${TOKEN}`);
    expect(badPath.status).toBe(400);
    expectNoStack(badPath);
    const huge = await login('x'.repeat(10_000));
    expect(huge.status).toBe(413);
    expectNoStack(huge);
    const broken = await request(stub.server)
      .post('/console/login')
      .set('Content-Type', 'application/x-www-form-urlencoded; charset=klingon')
      .send('token=x');
    expect(broken.status).toBe(415);
    expectNoStack(broken);
  });
});

describe('console guard without CONSOLE_TOKEN (loopback only)', () => {
  let stub: ConsoleStub;
  beforeAll(async () => {
    stub = await startConsoleStub({ host: '0.0.0.0' });
  });
  afterAll(() => stub.close());

  it('answers loopback', async () => {
    const api = await request(stub.server).get('/api/calls');
    expect(api.status).toBe(200);
    const page = await request(stub.server).get('/console');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('Log out');
  });

  it('refuses loopback requests that came through a proxy (forwarding headers), whatever they claim', async () => {
    for (const [name, value] of [
      ['X-Forwarded-For', '127.0.0.1'],
      ['Forwarded', 'for=127.0.0.1'],
      ['X-Real-IP', '127.0.0.1'],
    ] as const) {
      const res = await request(stub.server).get('/api/calls').set(name, value);
      expect([name, res.status]).toEqual([name, 403]);
      expect(res.body.error.code).toBe('CONSOLE_LOOPBACK_ONLY');
    }
  });

  // A real TCP connection to this machine's own non-loopback address: the server sees that address.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  (external ? it : it.skip)(
    `answers 403 to a request from a non-loopback address (${external ?? 'none here'})`,
    async () => {
      const answered = stub.apiRequests.length;
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.get({ host: external, port: stub.port, path: '/api/calls', localAddress: external }, (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe('CONSOLE_LOOPBACK_ONLY');
      expect(stub.apiRequests.length).toBe(answered);
    },
  );

  it('answers 403 to a non-loopback peer given at the guard’s boundary, for pages, files and the live stream', async () => {
    const outside = await startConsoleStub({ auth: { remoteAddressOf: () => '203.0.113.9' } });
    try {
      for (const path of ['/console', '/console/calls/' + SID, '/api/calls', '/api/calls/live']) {
        const res = await request(outside.server).get(path).set('Accept', 'text/html');
        expect([path, res.status]).toEqual([path, 403]);
        expectNoStack(res);
      }
      expect(outside.apiRequests).toEqual([]);
    } finally {
      await outside.close();
    }
  });

  it('sends the login form and logout to the console: there is nothing to log into', async () => {
    const res = await request(stub.server).get('/console/login');
    expect([res.status, res.headers.location]).toEqual([303, '/console']);
  });
});

describe('CONSOLE_TOKEN setting', () => {
  it('is optional, and refused when short or with spaces, without echoing it', () => {
    expect(parseConfig({}).consoleToken).toBeUndefined();
    expect(parseConfig({ CONSOLE_TOKEN: TOKEN }).consoleToken).toBe(TOKEN);
    for (const bad of ['short-token', 'has spaces in the middle of it']) {
      let error: unknown;
      try {
        parseConfig({ CONSOLE_TOKEN: bad });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems[0]).toMatch(/^CONSOLE_TOKEN: /);
      expect((error as ConfigError).message).not.toContain(bad);
    }
  });
});
