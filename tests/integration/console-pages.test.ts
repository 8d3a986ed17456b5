/**
 * How the console's pages and files are served: content types, caching, security headers, the
 * versioned asset URLs, 404s, and internal failures answered without a stack trace.
 */
import request from 'supertest';
import { startConsoleStub, type ConsoleStub } from '../helpers/console-stub.ts';

describe('console pages and files', () => {
  let stub: ConsoleStub;
  let assets: string;
  beforeAll(async () => {
    stub = await startConsoleStub();
    const shell = await request(stub.server).get('/console');
    assets = /href="(\/console\/assets\/[0-9a-f]{12})\/console\.css"/.exec(shell.text)![1]!;
  });
  afterAll(() => stub.close());

  it('serves one HTML shell for the list and for every call page, revalidated on each load', async () => {
    const list = await request(stub.server).get('/console');
    const call = await request(stub.server).get('/console/calls/CAa1b2c3d4e5f60718293a4b5c6d7e8f90');
    for (const res of [list, call]) {
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('private, no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).toContain("require-trusted-types-for 'script'");
      expect(res.text).toContain(`<script type="module" src="${assets}/app.js"></script>`);
    }
    expect(call.text).toBe(list.text);
  });

  it('serves the modules and the stylesheet with their types, cached for a year under a content-hash URL', async () => {
    const js = await request(stub.server).get(`${assets}/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(js.text).toContain("from './list.js'");
    const css = await request(stub.server).get(`${assets}/console.css`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const again = await request(stub.server).get(`${assets}/app.js`).set('If-None-Match', js.headers.etag!);
    expect(again.status).toBe(304);
  });

  it('answers 404 for another version, an unknown file, the shell template, a bad CallSid or another path', async () => {
    for (const path of [
      '/console/assets/000000000000/app.js',
      `${assets}/nope.js`,
      `${assets}/shell.html`,
      `${assets}/..%2Fpages.ts`,
      '/console/calls/CA%3Cscript%3E',
      '/console/elsewhere',
    ]) {
      const res = await request(stub.server).get(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('answers an internal failure with a bare 500, logged with its code, never the error or a stack', async () => {
    stub.feed.liveCalls = () => {
      throw new Error('secret detail at /srv/gateway/server/call-feed.ts:42');
    };
    const res = await request(stub.server).get('/api/calls/live');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'CONSOLE_INTERNAL', message: 'internal error' } });
    expect(res.text).not.toMatch(/secret|call-feed|\n\s+at /);
    expect(stub.logs.events('CONSOLE_INTERNAL_ERROR')).toEqual([
      expect.objectContaining({ level: 'error', code: 'CONSOLE_INTERNAL', path: '/api/calls/live' }),
    ]);
  });
});
