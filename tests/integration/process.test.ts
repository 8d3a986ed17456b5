import net from 'node:net';
import WebSocket from 'ws';
import {
  REPO_ROOT,
  spawnGateway,
  startGatewayChild,
  type GatewayChild,
  type GatewayProcess,
} from '../../tools/gateway-child.ts';
import { parseConnectStream } from '../helpers/twiml.ts';
import {
  startFakeStt,
  startFakeTts,
  startFakeOpenAI,
  type FakeStt,
  type FakeTts,
  type FakeOpenAI,
} from '../../tools/emulators/index.ts';

jest.setTimeout(30_000);

const running: GatewayProcess[] = [];
afterEach(() => {
  for (const g of running.splice(0)) if (!g.hasExited()) g.process.kill('SIGKILL');
});

async function started(env: Record<string, string> = {}): Promise<GatewayChild> {
  const g = await startGatewayChild({ env });
  running.push(g);
  return g;
}

async function openCall(port: number, callSid: string): Promise<WebSocket> {
  const res = await fetch(`http://127.0.0.1:${port}/webhook/incoming_call`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ CallSid: callSid }),
  });
  const params = parseConnectStream(await res.text()).parameters;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/twilio-media`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const streamSid = 'MZ' + callSid.slice(2);
  ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  ws.send(
    JSON.stringify({
      event: 'start',
      sequenceNumber: '1',
      streamSid,
      start: {
        streamSid,
        callSid,
        accountSid: 'AC1',
        tracks: ['inbound'],
        customParameters: params,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    }),
  );
  return ws;
}

describe('start-up', () => {
  it('starts without any credentials and says which providers are not configured', async () => {
    const g = await started();
    const res = await fetch(`http://127.0.0.1:${g.port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    const missing = g.logs.filter((r) => r.message === 'PROVIDER_NOT_CONFIGURED').map((r) => r.provider);
    expect(missing.sort()).toEqual(['google-stt', 'google-tts', 'openai']);
    expect(g.logs.some((r) => r.message === 'TWILIO_SIGNATURES_NOT_ENFORCED')).toBe(true);
    g.signal('SIGTERM');
    expect((await g.exited).code).toBe(0);
  });

  it('refuses a malformed variable with a message naming it and a non-zero exit', async () => {
    const g = spawnGateway({ env: { EOU_MS: 'abc', BARGE_IN: 'perhaps' } });
    running.push(g);
    const { code } = await g.exited;
    expect(code).not.toBe(0);
    expect(g.stderr()).toContain('EOU_MS');
    expect(g.stderr()).toContain('BARGE_IN');
    expect(g.stderr()).toContain('"abc"');
  });

  it('refuses TWILIO_AUTH_TOKEN without PUBLIC_BASE_URL, naming the missing variable', async () => {
    const g = spawnGateway({ env: { TWILIO_AUTH_TOKEN: 'process-test-token-0123456789' } });
    running.push(g);
    const { code } = await g.exited;
    expect(code).not.toBe(0);
    expect(g.stderr()).toContain('PUBLIC_BASE_URL');
    expect(g.stderr()).not.toContain('process-test-token-0123456789');
  });

  it('fails with one clear line naming the port when it is already taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const g = spawnGateway({ env: { PORT: String(port) } });
      running.push(g);
      const { code } = await g.exited;
      expect(code).toBe(1);
      const lines = g.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });
});

describe('request signing to the CRM', () => {
  it('warns once at start-up when requests to the business go out unsigned, and not when they are signed', async () => {
    const unsigned = await started({ CALL_WEBHOOK_URL: 'http://127.0.0.1:9/hook' });
    await unsigned.waitForLog('WEBHOOK_SECRET_NOT_SET', 5000);
    expect(unsigned.logs.filter((r) => r['message'] === 'WEBHOOK_SECRET_NOT_SET')).toHaveLength(1);
    const signed = await started({
      CALL_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
      WEBHOOK_SECRET: 'a-long-enough-secret-123',
    });
    await signed.waitForLog('GATEWAY_LISTENING', 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(signed.logs.some((r) => r['message'] === 'WEBHOOK_SECRET_NOT_SET')).toBe(false);
  });
});

describe('caller numbers in the log', () => {
  const post = (port: number) =>
    fetch(`http://127.0.0.1:${port}/webhook/incoming_call`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: 'CA60000000000000000000000000000001', From: '+972541234987' }),
    });

  it('are masked by default', async () => {
    const g = await started();
    await post(g.port);
    const rec = await g.waitForLog('INCOMING_CALL');
    expect(rec.from).toBe('+972*******87');
    expect(JSON.stringify(g.logs)).not.toContain('541234987');
  });

  it('are kept with LOG_CALLER_NUMBERS=full', async () => {
    const g = await started({ LOG_CALLER_NUMBERS: 'full' });
    await post(g.port);
    expect((await g.waitForLog('INCOMING_CALL')).from).toBe('+972541234987');
  });
});

describe('a dead log reader', () => {
  it('does not stop the gateway from serving or from exiting on SIGTERM', async () => {
    const g = await started();
    const port = g.port;
    g.process.stdout!.destroy(); // whatever read our logs is gone: writes now fail with EPIPE
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/webhook/stream_status`, {
        method: 'POST',
        body: 'StreamEvent=stream-started',
      });
      expect(res.status).toBe(204);
    }
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    g.signal('SIGTERM');
    const { code } = await g.exited;
    expect(code).toBe(0);
  });
});

describe('a call without any provider credentials', () => {
  it('ends cleanly with the error logged once, and the process keeps serving', async () => {
    const g = await started();
    const call = await openCall(g.port, 'CA40000000000000000000000000000001');
    const closed = new Promise<number>((r) => call.once('close', (code) => r(code)));
    call.on('open', () => undefined);
    // Keep sending silence like Twilio until the gateway hangs up.
    const streamSid = 'MZ40000000000000000000000000000001';
    const timer = setInterval(() => {
      if (call.readyState === WebSocket.OPEN)
        call.send(
          JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.alloc(160, 0xff).toString('base64') } }),
        );
    }, 20);
    try {
      expect(await closed).toBe(1000);
    } finally {
      clearInterval(timer);
    }
    const health = await fetch(`http://127.0.0.1:${g.port}/healthz`);
    expect(health.status).toBe(200);
    const failures = g.logs.filter((r) => ['STT_FAILED', 'TTS_UNAVAILABLE', 'LLM_ERROR'].includes(String(r.message)));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.filter((r) => r.message === 'STT_FAILED').length).toBeLessThanOrEqual(1);
    expect(JSON.stringify(failures)).toMatch(/credentials/i);
    expect(g.logs.some((r) => r.message === 'CALL_HANGUP')).toBe(true);
    expect(g.logs.some((r) => r.message === 'UNHANDLED_REJECTION' || r.message === 'UNCAUGHT_EXCEPTION')).toBe(false);
    g.signal('SIGTERM');
    expect((await g.exited).code).toBe(0);
  });
});

describe('drain on SIGTERM', () => {
  let stt: FakeStt;
  let tts: FakeTts;
  let openai: FakeOpenAI;
  let emulators: Record<string, string>;
  beforeAll(async () => {
    [stt, tts, openai] = await Promise.all([startFakeStt(), startFakeTts(), startFakeOpenAI()]);
    emulators = {
      GOOGLE_STT_EMULATOR_HOST: stt.address,
      GOOGLE_TTS_EMULATOR_HOST: tts.address,
      OPENAI_BASE_URL: openai.baseURL,
    };
  });
  afterAll(async () => {
    await Promise.all([stt.close(), tts.close(), openai.close()]);
  });

  it('turns /healthz 503 at once, keeps serving webhooks and upgrades, and exits 0 when the last call ends', async () => {
    const g = await started({ DRAIN_TIMEOUT_MS: '20000', ...emulators });
    const port = g.port;
    const call = await openCall(port, 'CA10000000000000000000000000000001');
    await g.waitForLog('WS_START');

    g.signal('SIGTERM');
    await g.waitForLog('DRAIN_START');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(503);

    // A call already routed here by Twilio still gets its TwiML and its socket.
    const late = await openCall(port, 'CA10000000000000000000000000000002');
    await g.waitForLog('WS_START', 5000, (r) => r.callSid === 'CA10000000000000000000000000000002');
    const status = await fetch(`http://127.0.0.1:${port}/webhook/stream_status`, {
      method: 'POST',
      body: 'StreamEvent=stream-stopped',
    });
    expect(status.status).toBe(204);

    // Calls in progress are not cut.
    await new Promise((r) => setTimeout(r, 500));
    expect(call.readyState).toBe(WebSocket.OPEN);
    expect(g.process.exitCode).toBeNull();

    call.close(1000);
    late.close(1000);
    const { code } = await g.exited;
    expect(code).toBe(0);
    expect(g.logs.some((r) => r.message === 'DRAIN_DONE' && r.why === 'idle')).toBe(true);
  });

  it('closes remaining calls with a logged reason when DRAIN_TIMEOUT_MS passes, then exits 0', async () => {
    const g = await started({ DRAIN_TIMEOUT_MS: '800', ...emulators });
    const call = await openCall(g.port, 'CA20000000000000000000000000000001');
    await g.waitForLog('WS_START');
    const closedCode = new Promise<number>((r) => call.once('close', (code) => r(code)));
    g.signal('SIGTERM');
    expect(await closedCode).toBe(1001);
    expect((await g.exited).code).toBe(0);
    expect(g.logs.some((r) => r.message === 'DRAIN_TIMEOUT')).toBe(true);
    expect(g.logs.some((r) => r.message === 'WS_CLOSING' && r.reason === 'gateway shutting down')).toBe(true);
  });

  it('exits at once on a second signal', async () => {
    const g = await started({ DRAIN_TIMEOUT_MS: '60000', ...emulators });
    const call = await openCall(g.port, 'CA30000000000000000000000000000001');
    await g.waitForLog('WS_START');
    g.signal('SIGTERM');
    await g.waitForLog('DRAIN_START');
    g.signal('SIGINT');
    const { code } = await g.exited;
    expect(code).toBe(1);
    expect(g.logs.some((r) => r.message === 'DRAIN_FORCED')).toBe(true);
    call.terminate();
  });

  it('after an uncaught exception: logged, no new calls (drain), exit once the call in progress ends', async () => {
    const g = await started({
      ...emulators,
      NODE_OPTIONS: `--import=${REPO_ROOT}tests/fixtures/uncaught-fault.mjs`,
    });
    const call = await openCall(g.port, 'CA00000000000000000000000000000fa1');
    await g.waitForLog('WS_START');
    g.signal('SIGUSR2');
    const fault = await g.waitForLog('UNCAUGHT_EXCEPTION', 10_000);
    expect(String(fault['error'])).toContain('injected fault');
    await g.waitForLog('DRAIN_START', 5000, (r) => r['signal'] === 'uncaughtException');
    expect((await fetch(`${g.url}/healthz`)).status).toBe(503);
    await new Promise((r) => setTimeout(r, 500));
    expect(call.readyState).toBe(WebSocket.OPEN); // the call in progress goes on
    expect(g.hasExited()).toBe(false);
    call.close(1000);
    const exit = await g.exited;
    expect(exit.code).toBe(0);
    expect(g.logs.some((r) => r['message'] === 'DRAIN_DONE')).toBe(true);
  });
});
