/**
 * `npm run smoke`: the checks run in-process against the real gateway (with and without signature
 * enforcement, behind a public origin, behind TLS), against servers broken on purpose one way each,
 * and the CLI runs as a child process exactly as `npm run smoke` starts it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { startGateway, type Harness } from '../helpers/gateway-harness.ts';
import { REPO_ROOT as ROOT } from '../../tools/gateway-child.ts';
import {
  parseSmokeArgs,
  runCli,
  runSmoke,
  STEP_NAMES,
  type SmokeOptions,
  type SmokeReport,
  type StepName,
} from '../../tools/smoke/index.ts';
import { streamUrlProblems } from '../../tools/smoke/stream-url.ts';
import { readStreamTwiml } from '../../tools/twilio/twilio-http.ts';

jest.setTimeout(30_000);

const TOKEN = 'smoke-test-auth-token-0123456789';
const UNSIGNED_STEPS: StepName[] = ['unsigned_incoming_call_refused', 'unsigned_handshake_refused'];
const BASIC_STEPS = STEP_NAMES.filter((n) => !UNSIGNED_STEPS.includes(n));

function options(baseUrl: string, extra: Partial<SmokeOptions> = {}): SmokeOptions {
  return { baseUrl, publicBaseUrl: baseUrl, timeoutMs: 3000, insecure: false, ...extra };
}

function step(report: SmokeReport, name: StepName) {
  const hit = report.steps.find((s) => s.name === name);
  if (!hit) throw new Error(`no step ${name} in ${JSON.stringify(report.steps)}`);
  return hit;
}

/** A readable assertion message: every line the CLI would print. */
function lines(report: SmokeReport): string {
  return report.steps.map((s) => `${s.status} ${s.name}: ${s.detail}`).join('\n');
}

function expectAllPass(report: SmokeReport, names: readonly StepName[]): void {
  expect(lines(report)).toBe(names.map((n) => `pass ${n}: ${step(report, n).detail}`).join('\n'));
  expect(report.ok).toBe(true);
  expect(report.failed).toEqual([]);
}

describe('against the real gateway', () => {
  let h: Harness;
  afterEach(() => h?.stop());

  it('passes every step without a token, and sends Twilio-shaped webhooks', async () => {
    h = await startGateway();
    const report = await runSmoke(options(h.httpBase));
    expectAllPass(report, BASIC_STEPS);
    expect(step(report, 'stream_status').detail).toContain('HTTP/1.1 204 No Content');
    expect(step(report, 'incoming_call').detail).toContain(`<Stream url="wss://127.0.0.1:${h.port}/ws/twilio-media">`);
    expect(step(report, 'handshake_subprotocol').detail).toContain('HTTP/1.1 101 Switching Protocols');
    expect(step(report, 'subprotocol_echo').detail).toBe('Sec-WebSocket-Protocol: audio.twilio.com');
    expect(step(report, 'handshake_plain').detail).toContain('no Sec-WebSocket-Protocol header');
    expect(step(report, 'other_ws_path_refused').detail).toContain('HTTP/1.1 404 Not Found');
    expect(report.notes.join('\n')).toContain('wss:// mapped to ws://');

    const status = h.logs.events('STREAM_STATUS')[0];
    expect(status).toMatchObject({
      streamEvent: 'stream-started',
      streamSid: expect.stringMatching(/^MZ[0-9a-f]{32}$/),
      callSid: expect.stringMatching(/^CA[0-9a-f]{32}$/),
    });
    expect(Number.isNaN(Date.parse(String(status?.timestamp)))).toBe(false);
    expect(h.logs.events('INCOMING_CALL')[0]).toMatchObject({ callSid: status?.callSid, direction: 'inbound' });
  });

  it('with TWILIO_AUTH_TOKEN and --auth-token: signed requests pass, unsigned ones are refused', async () => {
    // A token needs its public origin (the gateway refuses to start without one).
    h = await startGateway({ TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: 'https://gw.example.com' });
    const report = await runSmoke(options(h.httpBase, { authToken: TOKEN, publicBaseUrl: 'https://gw.example.com' }));
    expectAllPass(report, STEP_NAMES);
    expect(step(report, 'unsigned_incoming_call_refused').detail).toContain('HTTP/1.1 403 Forbidden');
    expect(step(report, 'unsigned_handshake_refused').detail).toContain('HTTP/1.1 403 Forbidden');
    // stream_status is 204 whatever the signature, so its signing is only visible in the gateway's log.
    expect(h.logs.events('STREAM_STATUS')).toHaveLength(1);
    expect(h.logs.events('STREAM_STATUS_SIGNATURE_INVALID')).toEqual([]);
  });

  it('with the wrong auth token, fails naming incoming_call and skips what needed its TwiML', async () => {
    h = await startGateway({ TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: 'https://gw.example.com' });
    const report = await runSmoke(
      options(h.httpBase, { authToken: 'not-the-token', publicBaseUrl: 'https://gw.example.com' }),
    );
    expect(report.ok).toBe(false);
    expect(report.failed).toEqual(['incoming_call']);
    expect(step(report, 'incoming_call').detail).toContain('HTTP/1.1 403 Forbidden');
    expect(step(report, 'handshake_subprotocol').status).toBe('skip');
    expect(step(report, 'unsigned_incoming_call_refused').status).toBe('pass');
  });

  it('with --auth-token against a gateway that enforces nothing, fails the refusal steps', async () => {
    h = await startGateway();
    const report = await runSmoke(options(h.httpBase, { authToken: TOKEN }));
    expect(report.failed).toEqual(['unsigned_incoming_call_refused', 'unsigned_handshake_refused']);
    expect(step(report, 'unsigned_incoming_call_refused').detail).toContain('HTTP/1.1 200 OK');
    expect(step(report, 'unsigned_handshake_refused').detail).toContain('HTTP/1.1 101 Switching Protocols');
  });

  it('checks a gateway behind a public origin: connects locally, keeps the public Host and signatures', async () => {
    h = await startGateway({ TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: 'https://gw.example.com' });
    const report = await runSmoke(options(h.httpBase, { authToken: TOKEN, publicBaseUrl: 'https://gw.example.com' }));
    expectAllPass(report, STEP_NAMES);
    expect(step(report, 'stream_url').detail).toContain('wss://gw.example.com/ws/twilio-media');
    expect(report.notes).toEqual([expect.stringContaining(`connect to ws://127.0.0.1:${h.port}`)]);
    expect(report.notes[0]).toContain('Host: gw.example.com');
  });

  it('without --public-base, fails stream_url when the TwiML names another host', async () => {
    h = await startGateway({ PUBLIC_BASE_URL: 'https://gw.example.com' });
    const report = await runSmoke(options(h.httpBase));
    expect(report.failed).toEqual(['stream_url']);
    expect(step(report, 'stream_url').detail).toContain(`host is gw.example.com, expected 127.0.0.1:${h.port}`);
  });
});

describe('over TLS (https/wss)', () => {
  let h: Harness;
  let proxy: tls.Server;
  let base: string;
  beforeAll(async () => {
    h = await startGateway();
    // A TLS terminator that pipes raw bytes, so upgrades pass through like a real load balancer.
    proxy = tls.createServer({ key: TEST_KEY, cert: TEST_CERT }, (client) => {
      const upstream = net.connect(h.port, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    base = `https://localhost:${(proxy.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => proxy.close(r));
    await h.stop();
  });

  it('passes every step over https and wss with --insecure, without mapping the scheme', async () => {
    const report = await runSmoke(options(base, { insecure: true }));
    expectAllPass(report, BASIC_STEPS);
    expect(step(report, 'stream_url').detail).toContain(`wss://localhost:`);
    expect(report.notes).toEqual([]);
  });

  it('verifies certificates by default: a self-signed one fails every step that connects', async () => {
    const report = await runSmoke(options(base));
    expect(report.ok).toBe(false);
    expect(step(report, 'version').detail).toMatch(/self-signed certificate/);
  });

  it('the CLI passes against it when the certificate is trusted (NODE_EXTRA_CA_CERTS), SNI localhost', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-'));
    try {
      fs.writeFileSync(path.join(dir, 'ca.pem'), TEST_CERT);
      const run = await runChild([base], { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') });
      expect(run.stdout).toContain('GO: all 9 steps passed');
      expect(run.code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** What a purpose-broken server gets wrong; everything else it does like the gateway. */
interface FakeSpec {
  /** Path the WebSocket server accepts. Default `/ws/twilio-media`. */
  wsPath?: string;
  /** `ws`'s subprotocol selection; `() => false` never echoes one. */
  handleProtocols?: () => false;
  /** Status of stream_status. Default 204. */
  streamStatus?: number;
  /** The `<Stream url>` to hand out. Default `wss://{Host}/ws/twilio-media`. */
  streamUrl?: (host: string) => string;
  /** Replaces the WebSocket server with raw handling of the upgrade socket. */
  rawUpgrade?: (req: http.IncomingMessage, socket: net.Socket) => void;
}

const fakes: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function fakeGateway(spec: FakeSpec = {}): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    const host = req.headers.host ?? '';
    switch (req.url?.split('?')[0]) {
      case '/version':
        return void res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ deployId: 'fake' }));
      case '/healthz':
        return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      case '/webhook/stream_status':
        return void res.writeHead(spec.streamStatus ?? 204).end();
      case '/webhook/incoming_call': {
        const url = spec.streamUrl?.(host) ?? `wss://${host}/ws/twilio-media`;
        const twiml = `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${url}"/></Connect></Response>`;
        return void res.writeHead(200, { 'Content-Type': 'text/xml' }).end(twiml);
      }
      default:
        res.writeHead(404).end();
    }
  });
  let wss: WebSocketServer | undefined;
  const upgraded = new Set<net.Socket>();
  if (spec.rawUpgrade) {
    server.on('upgrade', (req, socket: net.Socket) => {
      // Read what the client sends after the head (its close frame, its FIN), or the socket never ends.
      upgraded.add(socket.on('error', () => {}).resume());
      spec.rawUpgrade!(req, socket);
    });
  } else
    wss = new WebSocketServer({
      server,
      path: spec.wsPath ?? '/ws/twilio-media',
      ...(spec.handleProtocols ? { handleProtocols: spec.handleProtocols } : {}),
    });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fakes.push({
    close: async () => {
      for (const c of wss?.clients ?? []) c.terminate();
      for (const socket of upgraded) socket.destroy();
      wss?.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  });
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('against purpose-broken servers', () => {
  it('a server that behaves passes (the fake itself is sound)', async () => {
    expectAllPass(await runSmoke(options(await fakeGateway())), BASIC_STEPS);
  });

  it('media WebSocket on the wrong path: the handshake steps fail with the status line', async () => {
    const report = await runSmoke(options(await fakeGateway({ wsPath: '/media' })));
    expect(report.failed).toEqual(['handshake_subprotocol', 'handshake_plain']);
    expect(step(report, 'handshake_subprotocol').detail).toContain('HTTP/1.1 400 Bad Request');
    expect(step(report, 'subprotocol_echo').status).toBe('skip');
  });

  it('no subprotocol echo: fails subprotocol_echo, the 101 itself passes', async () => {
    const report = await runSmoke(options(await fakeGateway({ handleProtocols: () => false })));
    expect(report.failed).toEqual(['subprotocol_echo']);
    expect(step(report, 'subprotocol_echo').detail).toBe(
      'no Sec-WebSocket-Protocol header in the 101; expected Sec-WebSocket-Protocol: audio.twilio.com',
    );
  });

  it('stream_status answering 500 fails that step', async () => {
    const report = await runSmoke(options(await fakeGateway({ streamStatus: 500 })));
    expect(report.failed).toEqual(['stream_status']);
    expect(step(report, 'stream_status').detail).toContain('HTTP/1.1 500 Internal Server Error');
  });

  it.each([
    ['"//" in the path', (host: string) => `wss://${host}//ws/twilio-media`, 'path "//ws/twilio-media" contains "//"'],
    ['a ws:// URL', (host: string) => `ws://${host}/ws/twilio-media`, 'scheme is ws://, expected wss://'],
    ['another host', () => 'wss://elsewhere.example.com/ws/twilio-media', 'host is elsewhere.example.com'],
    ['a query string', (host: string) => `wss://${host}/ws/twilio-media?token=abc`, 'has a query string'],
  ])('a stream URL with %s fails stream_url', async (_what, streamUrl, problem) => {
    const report = await runSmoke(options(await fakeGateway({ streamUrl })));
    expect(report.failed).toContain('stream_url');
    expect(step(report, 'stream_url').detail).toContain(problem);
  });

  it('a 101 with a wrong Sec-WebSocket-Accept fails; a hang-up on an unknown path counts as refused', async () => {
    const base = await fakeGateway({
      rawUpgrade: (req, socket) => {
        if (req.url === '/ws/twilio-media')
          socket.end(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\nSec-WebSocket-Protocol: audio.twilio.com\r\n\r\n',
          );
        else socket.destroy();
      },
    });
    const report = await runSmoke(options(base));
    expect(report.failed).toEqual(['handshake_subprotocol', 'handshake_plain']);
    expect(step(report, 'handshake_subprotocol').detail).toContain('Sec-WebSocket-Accept does not match');
    expect(step(report, 'other_ws_path_refused')).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining('connection closed without a response'),
    });
  });

  it('nothing listening: every step that connects fails with the connection error, no throw', async () => {
    const report = await runSmoke(options(await freePort()));
    expect(report.ok).toBe(false);
    expect(report.failed).toEqual(['version', 'healthz', 'stream_status', 'incoming_call', 'other_ws_path_refused']);
    for (const name of report.failed) expect(step(report, name).detail).toContain('ECONNREFUSED');
    expect(report.steps.filter((s) => s.status === 'skip').map((s) => s.name)).toEqual([
      'stream_url',
      'handshake_subprotocol',
      'subprotocol_echo',
      'handshake_plain',
    ]);
  });

  it('a server that accepts and never answers: steps fail with the time limit', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s.on('error', () => {})));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const report = await runSmoke(
        options(`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { timeoutMs: 200 }),
      );
      expect(step(report, 'version').detail).toBe('no complete response within 200 ms');
      expect(step(report, 'other_ws_path_refused')).toMatchObject({
        status: 'fail',
        detail: 'no response within 200 ms',
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe('the CLI', () => {
  it('prints PASS lines and exits 0 against the real gateway', async () => {
    const h = await startGateway();
    try {
      const run = await runChild([h.httpBase]);
      const out = run.stdout.trim().split('\n');
      for (const name of BASIC_STEPS)
        expect(out).toContainEqual(expect.stringMatching(new RegExp(`^PASS  ${name} +— `)));
      expect(out).toContainEqual(
        expect.stringMatching(/^PASS {2}handshake_subprotocol +— HTTP\/1\.1 101 Switching Protocols/),
      );
      expect(out.at(-1)).toBe('GO: all 9 steps passed');
      expect(run.code).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('exits 1 against a broken server and names the failing step on the last line', async () => {
    const run = await runChild([await fakeGateway({ streamStatus: 500 })]);
    const out = run.stdout.trim().split('\n');
    expect(out).toContainEqual(expect.stringMatching(/^FAIL {2}stream_status +— HTTP\/1\.1 500 Internal Server Error/));
    expect(out.at(-1)).toBe('NO-GO: failed: stream_status');
    expect(run.code).toBe(1);
  });

  it('never prints the auth token', async () => {
    const out: string[] = [];
    await runCli([await freePort(), '--auth-token', TOKEN, '--timeout-ms', '500'], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    expect(out.join('\n')).not.toContain(TOKEN);
  });

  it.each([
    [[]],
    [['http://a', 'http://b']],
    [['ftp://gw.example.com']],
    [['https://gw.example.com/webhook']],
    [['https://gw.example.com', '--timeout-ms', 'soon']],
    [['https://gw.example.com', '--public-base', 'gw.example.com']],
    [['https://gw.example.com', '--auth-token']],
    [['https://gw.example.com', '--what']],
  ])('prints the usage and returns 2 for %j', async (argv) => {
    const err: string[] = [];
    const code = await runCli(argv, { out: () => {}, err: (l) => err.push(l) });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('usage: npm run smoke -- <base-url>');
  });

  it('parses every option', () => {
    expect(
      parseSmokeArgs([
        'http://127.0.0.1:5000/',
        '--auth-token',
        't',
        '--public-base',
        'https://gw.example.com',
        '--timeout-ms',
        '250',
        '--insecure',
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        baseUrl: 'http://127.0.0.1:5000',
        publicBaseUrl: 'https://gw.example.com',
        authToken: 't',
        timeoutMs: 250,
        insecure: true,
      },
    });
    expect(parseSmokeArgs(['https://gw.example.com'])).toEqual({
      kind: 'run',
      options: {
        baseUrl: 'https://gw.example.com',
        publicBaseUrl: 'https://gw.example.com',
        timeoutMs: 5000,
        insecure: false,
      },
    });
  });
});

describe('reading the stream URL', () => {
  it('finds <Stream url> inside <Connect> and decodes entities', () => {
    const xml =
      '<?xml version="1.0"?><Response><Connect action="x"><Stream statusCallback="y" url="wss://h/ws?a=1&amp;b=2"><Parameter name="t" value="v"/></Stream></Connect></Response>';
    expect(readStreamTwiml(xml)).toEqual({
      streamUrl: 'wss://h/ws?a=1&b=2',
      statusCallback: 'y',
      connectAction: 'x',
      parameters: { t: 'v' },
    });
  });

  it('explains what is missing', () => {
    expect(() => readStreamTwiml('<Response><Say>hi</Say></Response>')).toThrow('no <Connect> element');
    expect(() => readStreamTwiml('<Response><Connect><Stream/></Connect></Response>')).toThrow(
      '<Stream> has no url attribute',
    );
    expect(() => readStreamTwiml('<Response><Connect></Connect></Response>')).toThrow('no <Stream> inside <Connect>');
    expect(() => readStreamTwiml('<Other/>')).toThrow('no <Response> element');
    expect(() => readStreamTwiml('not xml')).toThrow(/not well-formed XML/);
  });

  it('accepts a clean wss URL on the expected host and lists every problem otherwise', () => {
    expect(streamUrlProblems('wss://gw.example.com/ws/twilio-media', 'gw.example.com')).toEqual([]);
    expect(streamUrlProblems('ws://other//ws?x=1', 'gw.example.com')).toEqual([
      'scheme is ws://, expected wss://',
      'host is other, expected gw.example.com',
      'path "//ws" contains "//"',
      'has a query string (?x=1), which Twilio drops',
    ]);
    expect(streamUrlProblems('/ws/twilio-media', 'gw.example.com')).toEqual(['not an absolute URL']);
  });
});

/** A local origin where nothing listens (a port that was just free). */
async function freePort(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

/** Runs `node tools/smoke.ts …` as `npm run smoke` does; asynchronous, so in-process servers keep serving. */
function runChild(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['tools/smoke.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Self-signed for localhost and 127.0.0.1, valid 2020–2120; only ever used by this test's TLS proxy.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgp4vk04TmmT7bfv9X
z2D4CDMbJ7q52fR9bLAUAyVa24ehRANCAAQrr4Q2ENfne0DFmm1NPJpqIFtTQH4i
h6mH960/TWLoQyPIreHlJL6L/E1t8IobEsnsA0gLmUTBmGLq4hRmQjah
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBWjCCAQGgAwIBAgIUBTX2iKZ2S9QNmc1BNlm1A+vTpwUwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAx
MDAwMDAwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQrr4Q2ENfne0DFmm1NPJpqIFtTQH4ih6mH960/TWLoQyPIreHlJL6L
/E1t8IobEsnsA0gLmUTBmGLq4hRmQjahoy8wLTAaBgNVHREEEzARgglsb2NhbGhv
c3SHBH8AAAEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAHeu1c
I6WWzqIYgptObLp0s473X416D3LKXTHVZTG0xQIgclfaR2tNw2TTqaTAzbG2fSwJ
pq8vDKcXhZCg5Fa4Kx8=
-----END CERTIFICATE-----
`;
