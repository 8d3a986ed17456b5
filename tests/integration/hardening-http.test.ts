/**
 * Issue 11, plain HTTP: timeouts fit for webhooks (408, one status line per socket), the connection
 * cap, undecodable bodies, forwarded schemes, the metrics token, and a request listener that cannot
 * throw past itself.
 */
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { createLogger, MemoryTransport } from '../../server/logger.ts';
import { LogLimiter } from '../../server/log-limit.ts';
import { createMetrics } from '../../server/metrics.ts';
import { createHttpServer, effectiveMaxConnections } from '../../server/http-server.ts';
import { startGateway, type Harness } from '../helpers/gateway-harness.ts';
import { parseConnectStream } from '../helpers/twiml.ts';

jest.setTimeout(20_000);

/** Polls an async condition until it holds, or fails after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes `data`, keeps the socket open, and reports every status line and when the server closed it. */
function hold(port: number, data: string, trickle?: string): Promise<{ statuses: number[]; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      s.write(data);
      if (trickle) timer = setInterval(() => s.writable && s.write(trickle), 200);
    });
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      resolve({
        statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])),
        closedAfterMs: Date.now() - t0,
      });
    });
  });
}

describe('timeouts fit for webhooks', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' });
  });
  afterAll(() => h.stop());

  it('answers headers that never finish with one 408 and closes, within seconds', async () => {
    const r = await hold(h.port, 'POST /webhook/incoming_call HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n');
    expect(r.statuses).toEqual([408]);
    expect(r.closedAfterMs).toBeLessThan(5000);
  });

  it('closes a connection that never sends a byte with 408', async () => {
    const r = await hold(h.port, '');
    expect(r.statuses).toEqual([408]);
    expect(r.closedAfterMs).toBeLessThan(5000);
  });

  it.each(['/webhook/incoming_call', '/webhook/stream_status'])(
    'answers a body that trickles in on %s with exactly one 408',
    async (path) => {
      const head =
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        'Content-Length: 5000\r\n\r\nCallSid=CA';
      const r = await hold(h.port, head, 'a');
      expect(r.statuses).toEqual([408]);
      expect(r.closedAfterMs).toBeLessThan(6000);
    },
  );

  it('never cuts a media socket: the request timeout ends with the upgrade', async () => {
    const ws = new WebSocket(`${h.wsUrl}`);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const params = parseConnectStream(
      await (
        await fetch(`${h.httpBase}/webhook/incoming_call`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'CallSid=CA7777',
        })
      ).text(),
    ).parameters;
    ws.send(
      JSON.stringify({ event: 'start', streamSid: 'MZlong', start: { callSid: 'CA7777', customParameters: params } }),
    );
    await new Promise((r) => setTimeout(r, 3500));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});

describe('the connection cap', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ MAX_CONNECTIONS: '20' });
  });
  afterAll(() => h.stop());

  const connections = () => new Promise<number>((r) => h.gateway.server.getConnections((_e, n) => r(n)));

  it('holds at most MAX_CONNECTIONS sockets, drops the rest at once, and serves again once they leave', async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(h.port, '127.0.0.1', () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await connections()).toBeLessThanOrEqual(20);
    expect(sockets.filter((s) => s.destroyed || s.readableEnded).length).toBeGreaterThanOrEqual(30);
    const dropped = await h.gateway.metrics.registry.getSingleMetric('voice_http_connections_dropped_total')!.get();
    expect(dropped.values[0]!.value).toBeGreaterThanOrEqual(30);
    for (const s of sockets) s.destroy();
    await until(async () => (await connections()) === 0, 3000, 'sockets gone');
    expect((await fetch(`${h.httpBase}/healthz`)).status).toBe(200);
  });

  it('is lowered under the process descriptor limit, with a warning', () => {
    const mem = new MemoryTransport();
    const logger = createLogger({ level: 'info', format: 'json', transports: [mem] });
    expect(effectiveMaxConnections(2000, 1024, logger)).toBe(1024 - 256);
    expect(mem.events('MAX_CONNECTIONS_LOWERED')).toHaveLength(1);
    expect(effectiveMaxConnections(2000, 20_000, logger)).toBe(2000);
    expect(effectiveMaxConnections(2000, undefined, logger)).toBe(2000);
  });
});

describe('bodies that cannot be decoded', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway();
  });
  afterAll(() => h.stop());

  const garbage = Buffer.from([0x0b, 0x80, 0xff, 0x13, 0x37, 0x00, 0x42, 0x99]);
  it.each([
    ['br', garbage],
    ['gzip', garbage],
    ['deflate', garbage],
    ['gzip', gzipSync(Buffer.from('CallSid=CA1')).subarray(0, 12)],
  ])('get 400, never the apology TwiML, for a corrupt %s body', async (encoding, body) => {
    for (const path of ['/webhook/incoming_call', '/webhook/stream_ended', '/webhook/call_status']) {
      const res = await fetch(`${h.httpBase}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding },
        body,
      });
      expect([path, res.status]).toEqual([path, 400]);
      expect(await res.text()).not.toContain('<Response>');
    }
  });

  it('still decodes a valid gzip body', async () => {
    const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
      body: gzipSync(Buffer.from('CallSid=CA1')),
    });
    expect(res.status).toBe(200);
    expect(parseConnectStream(await res.text()).parameters.call_sid).toBe('CA1');
  });
});

describe('forwarded schemes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway();
  });
  afterAll(() => h.stop());

  it.each(['javascript', 'data', 'ftp', 'javascript, https'])(
    'refuses X-Forwarded-Proto %s from a trusted peer with 400 instead of putting it in TwiML',
    async (proto) => {
      const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': proto },
        body: 'CallSid=CA1',
      });
      expect(res.status).toBe(400);
      expect(await res.text()).not.toContain(proto.split(',')[0]);
    },
  );

  it('still takes https from a trusted peer', async () => {
    const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      body: 'CallSid=CA1',
    });
    expect(parseConnectStream(await res.text()).connectAction).toMatch(/^https:\/\//);
  });
});

describe('METRICS_TOKEN', () => {
  let h: Harness;
  const token = 'metrics-token-0123456789abcdef';
  beforeAll(async () => {
    h = await startGateway({ METRICS_TOKEN: token });
  });
  afterAll(() => h.stop());

  it.each([
    ['no Authorization', undefined],
    ['a wrong token', 'Bearer nope'],
    ['the token as Basic auth', `Basic ${Buffer.from(`x:${token}`).toString('base64')}`],
    ['the token with a suffix', `Bearer ${token}x`],
  ])('answers /metrics with %s by 401', async (_name, auth) => {
    const res = await fetch(`${h.httpBase}/metrics`, { headers: auth ? { authorization: auth } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.text()).not.toContain('voice_');
  });

  it('serves /metrics with the bearer token', async () => {
    const res = await fetch(`${h.httpBase}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('voice_stream_tokens_pending');
  });
});

describe('the request listener', () => {
  it('answers 503 and logs a coded error when the handler throws, and keeps serving', async () => {
    const mem = new MemoryTransport();
    const logger = createLogger({ level: 'debug', format: 'json', transports: [mem] });
    const limiter = new LogLimiter(logger);
    const limits = { headersTimeoutMs: 2000, requestTimeoutMs: 3000, keepAliveTimeoutMs: 5000, maxConnections: 100 };
    let calls = 0;
    const server = createHttpServer({ limits, logger, limiter, metrics: createMetrics() }, (_req, res) => {
      if (calls++ === 0) throw new Error('boom');
      res.end('fine');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const first = await fetch(`http://127.0.0.1:${port}/`);
      expect(first.status).toBe(503);
      expect(mem.events('HTTP_HANDLER_ERROR')[0]).toMatchObject({ code: 'HTTP_HANDLER_FAILED', error: 'boom' });
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('fine');
    } finally {
      limiter.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('answers a malformed request with 400 and an oversized head with 431, once each', async () => {
    const h = await startGateway();
    try {
      const bad = await hold(h.port, 'GARBAGE\r\n\r\n');
      expect(bad.statuses).toEqual([400]);
      const big = await hold(h.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
      expect(big.statuses).toEqual([431]);
    } finally {
      await h.stop();
    }
  });
});
