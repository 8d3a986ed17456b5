/**
 * Issue 11, the upgrade listener: every path ends in a 101 or in a real status line and a destroyed
 * socket, whatever is thrown inside, and hostile upgrades leave no descriptor behind.
 */
import http from 'node:http';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import twilio from 'twilio';
import { createLogger, MemoryTransport } from '../../server/logger.ts';
import { LogLimiter } from '../../server/log-limit.ts';
import { upgradeListener, type UpgradeDeps } from '../../media/twilio/upgrade.ts';
import { startGateway, type Harness } from '../helpers/gateway-harness.ts';
import { rawUpgrade } from '../helpers/raw-upgrade.ts';

jest.setTimeout(30_000);

const TOKEN = 'upgrade-test-token-0123456789abcdef';
const PUBLIC = 'https://voice.example.com';

/** Sends raw bytes; resolves with the first status code (undefined if none) and whether the server closed. */
function exchange(port: number, raw: string): Promise<{ status: number | undefined; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ status: status(), closed: false });
    }, 3000);
    const status = () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      return m ? Number(m[1]) : undefined;
    };
    s.on('connect', () => s.write(raw, 'latin1'));
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (status() === 101) {
        clearTimeout(timer);
        s.destroy();
        resolve({ status: 101, closed: false });
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ status: status(), closed: true });
    });
  });
}

const upgrade = (headers: string, path = '/ws/twilio-media') =>
  `GET ${path} HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${headers}\r\n`;

describe('the upgrade listener', () => {
  async function serverWith(deps: Partial<UpgradeDeps>) {
    const mem = new MemoryTransport();
    const logger = createLogger({ level: 'debug', format: 'json', transports: [mem] });
    const limiter = new LogLimiter(logger);
    const server = http.createServer((_q, r) => r.end());
    server.on(
      'upgrade',
      upgradeListener({
        logger,
        limiter,
        authToken: undefined,
        publicBaseUrl: undefined,
        media: { handleUpgrade: () => undefined },
        ...deps,
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      mem,
      port: (server.address() as net.AddressInfo).port,
      stop: async () => {
        limiter.close();
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      },
    };
  }

  it('answers 503 and destroys the socket when anything inside throws, with a coded log line', async () => {
    const s = await serverWith({
      media: {
        handleUpgrade: () => {
          throw new TypeError('Invalid URL');
        },
      },
    });
    try {
      const r = await exchange(s.port, upgrade('Host: a b\r\n'));
      expect(r).toEqual({ status: 503, closed: true });
      expect(s.mem.events('WS_UPGRADE_FAILED')[0]).toMatchObject({ code: 'WS_UPGRADE_FAILED', status: 503 });
    } finally {
      await s.stop();
    }
  });

  it('answers 503 rather than trusting headers when a token comes without a public base URL', async () => {
    const s = await serverWith({ authToken: TOKEN });
    try {
      const sig = twilio.getExpectedTwilioSignature(TOKEN, 'wss://a b/ws/twilio-media', {});
      expect(await exchange(s.port, upgrade(`Host: a b\r\nX-Twilio-Signature: ${sig}\r\n`))).toEqual({
        status: 503,
        closed: true,
      });
    } finally {
      await s.stop();
    }
  });
});

describe('hostile upgrades against a gateway that enforces signatures', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: PUBLIC });
  });
  afterAll(() => h.stop());

  const fds = () => readdirSync('/proc/self/fd').length;
  const connections = () => new Promise<number>((r) => h.gateway.server.getConnections((_e, n) => r(n)));

  it('answers every one with a status line and leaves descriptors at their baseline', async () => {
    const good = twilio.getExpectedTwilioSignature(TOKEN, 'wss://voice.example.com/ws/twilio-media', {});
    const hostile = [
      upgrade('Host: a b\r\nX-Twilio-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n'),
      upgrade('X-Twilio-Signature: AAAA\r\n'),
      upgrade('Host: [::1\r\nX-Twilio-Signature: AAAA\r\n'),
      upgrade(`Host: x\r\nX-Forwarded-Host: a b\r\nX-Twilio-Signature: ${'A'.repeat(8192)}\r\n`),
      upgrade(`Host: x\r\nX-Twilio-Signature: ${good}\r\nSec-WebSocket-Version: 99\r\n`),
      upgrade('Host: x\r\n', '/ws/%'),
      upgrade(`Host: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n`),
    ];
    const before = fds();
    const results = [];
    for (let round = 0; round < 15; round++) {
      results.push(...(await Promise.all(hostile.map((raw) => exchange(h.port, raw)))));
    }
    expect(results.filter((r) => r.status === undefined)).toEqual([]);
    expect(results.filter((r) => !r.closed)).toEqual([]);
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([400, 403, 404, 431]));
    const end = Date.now() + 3000;
    while ((await connections()) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(await connections()).toBe(0);
    expect(fds()).toBeLessThanOrEqual(before + 2);
    expect(h.logs.events('WS_UPGRADE_FAILED')).toEqual([]);
  });

  it('still accepts the upgrade Twilio signs', async () => {
    const sig = twilio.getExpectedTwilioSignature(TOKEN, 'wss://voice.example.com/ws/twilio-media', {});
    expect((await rawUpgrade(h.port, '/ws/twilio-media', { 'X-Twilio-Signature': sig })).status).toBe(101);
  });
});
