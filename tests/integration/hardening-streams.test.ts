/**
 * Issue 11, media sockets and stream tokens: a socket must become a call quickly, only calls hold a
 * drain, pending tokens are bounded, a call has one stream, replays and future-dated or pre-restart
 * tokens are refused, and the start waits for the used-token store without losing frames.
 */
import WebSocket from 'ws';
import { StreamTokens } from '../../media/twilio/stream-token.ts';
import { MemoryUsedTokens, type UsedTokens } from '../../server/used-tokens.ts';
import type { CallFactory } from '../../media/twilio/call-handler.ts';
import { startGateway, eventually, type Harness } from '../helpers/gateway-harness.ts';
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

const SECRET = 'hardening-secret-0123456789abcdef';
const PUBLIC = 'https://voice.example.com';

async function twiml(h: Harness, callSid: string): Promise<Record<string, string>> {
  const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ CallSid: callSid }),
  });
  return parseConnectStream(await res.text()).parameters;
}

function open(h: Harness): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(h.wsUrl);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The close code, or -2 (socket then terminated) when it is still open after `withinMs`. */
function closed(ws: WebSocket, withinMs = 5000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve({ code: -1, reason: '' });
    const timer = setTimeout(() => {
      resolve({ code: -2, reason: 'still open' });
      ws.terminate();
    }, withinMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

const start = (callSid: string, streamSid: string, customParameters: Record<string, string>) =>
  JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { callSid, customParameters } });
const media = (streamSid: string, seq: number) =>
  JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.alloc(160, seq).toString('base64') } });

/** A call factory that records what each call received. */
function recorder() {
  const calls = new Map<string, { frames: number[]; stopped: boolean }>();
  const factory: CallFactory = (ctx) => {
    const rec = { frames: [] as number[], stopped: false };
    calls.set(ctx.streamSid, rec);
    return {
      onAudio: (f) => rec.frames.push(f.mulaw[0]!),
      onMark: () => undefined,
      onDtmf: () => undefined,
      onStop: () => (rec.stopped = true),
      close: () => undefined,
    };
  };
  return { calls, factory };
}

describe('a socket must become a call quickly', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ WS_START_TIMEOUT_MS: '1000', DRAIN_TIMEOUT_MS: '20000' });
  });
  afterAll(() => h.stop());

  it('closes a socket without start after WS_START_TIMEOUT_MS with 1008 and WS_START_TIMEOUT', async () => {
    const ws = await open(h);
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    const t0 = Date.now();
    const { code } = await closed(ws);
    expect(code).toBe(1008);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(h.logs.events('WS_START_TIMEOUT')[0]).toMatchObject({ code: 'WS_START_TIMEOUT', timeoutMs: 1000 });
  });

  it('keeps a socket that started in time open past the timeout', async () => {
    const params = await twiml(h, 'CA5100');
    const ws = await open(h);
    ws.send(start('CA5100', 'MZ5100', params));
    await new Promise((r) => setTimeout(r, 1800));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await closed(ws);
  });
});

describe('the drain', () => {
  it('is not held by sockets that never started a call', async () => {
    const h = await startGateway({ DRAIN_TIMEOUT_MS: '20000' });
    try {
      const idle = await Promise.all([open(h), open(h), open(h)]);
      const t0 = Date.now();
      h.gateway.drain.onSignal('SIGTERM');
      await eventually(() => h.exits.length > 0, 5000, 'the drain to finish');
      expect(h.exits).toEqual([0]);
      expect(Date.now() - t0).toBeLessThan(2000);
      for (const ws of idle) ws.terminate();
    } finally {
      await h.stop();
    }
  });

  it('is held by pending TwiML hand-outs only for the stream-start window, even while more arrive', async () => {
    const h = await startGateway({ DRAIN_TIMEOUT_MS: '20000', STREAM_START_WINDOW_MS: '1500' });
    const trickle = setInterval(() => void twiml(h, `CA52${Date.now()}`).catch(() => undefined), 200);
    try {
      await twiml(h, 'CA5200');
      const t0 = Date.now();
      h.gateway.drain.onSignal('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      expect(h.exits).toEqual([]); // the hand-out still holds it
      await eventually(() => h.exits.length > 0, 5000, 'the drain to finish');
      expect(h.exits).toEqual([0]);
      expect(Date.now() - t0).toBeLessThan(3500);
    } finally {
      clearInterval(trickle);
      await h.stop();
    }
  });
});

describe('stream tokens', () => {
  it('are capped, counted in voice_stream_tokens_pending and swept after the window', async () => {
    const h = await startGateway({ STREAM_TOKENS_MAX_PENDING: '5', STREAM_START_WINDOW_MS: '1000' });
    const gauge = async () => (await h.gateway.metrics.streamTokensPending.get()).values[0]?.value;
    try {
      for (let i = 0; i < 12; i++) await twiml(h, `CA53${i}`);
      expect(await gauge()).toBe(5);
      expect(h.gateway.tokens.pending).toBe(5);
      await until(async () => (await gauge()) === 0, 3000, 'the sweep');
    } finally {
      await h.stop();
    }
  });

  it('give a call one stream: a second stream for a live CallSid is refused with 1008 and the first runs on', async () => {
    const rec = recorder();
    const h = await startGateway({}, { callFactory: rec.factory });
    try {
      const a = await twiml(h, 'CA5400');
      const b = await twiml(h, 'CA5400'); // Twilio re-requested the webhook, or an attacker replayed it
      const first = await open(h);
      first.send(start('CA5400', 'MZfirst', a));
      await eventually(() => h.logs.events('WS_START').find((r) => r.streamSid === 'MZfirst'));
      const second = await open(h);
      second.send(start('CA5400', 'MZsecond', b));
      expect((await closed(second)).code).toBe(1008);
      expect(h.logs.events('WS_STREAM_DUPLICATE')).toHaveLength(1);
      first.send(media('MZfirst', 7));
      await eventually(() => rec.calls.get('MZfirst')?.frames.includes(7), 2000, 'the first call to get audio');
      expect(first.readyState).toBe(WebSocket.OPEN);
      expect(rec.calls.has('MZsecond')).toBe(false);

      // After the first stream ended, the replayed hand-out still buys nothing.
      first.close();
      await closed(first);
      const third = await open(h);
      third.send(start('CA5400', 'MZthird', b));
      expect((await closed(third)).code).toBe(1008);
      expect(h.logs.events('WS_TOKEN_REJECTED').at(-1)).toMatchObject({ reason: 'call-streamed' });
    } finally {
      await h.stop();
    }
  });

  it('refuse a token dated beyond the allowed clock skew', async () => {
    const h = await startGateway({ TWILIO_AUTH_TOKEN: SECRET, PUBLIC_BASE_URL: PUBLIC });
    const mint = new StreamTokens({ secret: SECRET, now: () => Date.now() + 3_600_000 });
    try {
      // An unsigned upgrade is refused with a token set: bypass it by talking to the media server's checks directly.
      const verdict = await h.gateway.tokens.consume(mint.issue('CA5500'), 'CA5500');
      expect(verdict).toEqual({ ok: false, reason: 'future' });
    } finally {
      mint.close();
      await h.stop();
    }
  });

  it('issued before a restart are refused by the new process when the used-token store is process-local', async () => {
    const first = await startGateway({ TWILIO_AUTH_TOKEN: SECRET, PUBLIC_BASE_URL: PUBLIC });
    let token: string;
    try {
      token = first.gateway.tokens.issue('CA5600');
      expect(await first.gateway.tokens.consume(token, 'CA5600')).toEqual({ ok: true });
    } finally {
      await first.stop();
    }
    await new Promise((r) => setTimeout(r, 20));
    const restarted = await startGateway({ TWILIO_AUTH_TOKEN: SECRET, PUBLIC_BASE_URL: PUBLIC });
    try {
      expect(await restarted.gateway.tokens.consume(token, 'CA5600')).toEqual({ ok: false, reason: 'before-start' });
      const fresh = restarted.gateway.tokens.issue('CA5601');
      expect(await restarted.gateway.tokens.consume(fresh, 'CA5601')).toEqual({ ok: true });
    } finally {
      await restarted.stop();
    }
  });

  it('used on one instance are refused on another that shares a durable store', async () => {
    const memory = new MemoryUsedTokens();
    const shared: UsedTokens = { durable: true, consume: (id, exp) => memory.consume(id, exp) };
    const a = await startGateway({ TWILIO_AUTH_TOKEN: SECRET, PUBLIC_BASE_URL: PUBLIC }, { usedTokens: shared });
    const b = await startGateway({ TWILIO_AUTH_TOKEN: SECRET, PUBLIC_BASE_URL: PUBLIC }, { usedTokens: shared });
    try {
      const token = a.gateway.tokens.issue('CA5700');
      expect(await a.gateway.tokens.consume(token, 'CA5700')).toEqual({ ok: true });
      expect(await b.gateway.tokens.consume(token, 'CA5700')).toEqual({ ok: false, reason: 'reused' });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('the start', () => {
  it('waits for a slow used-token store without losing the frames that arrive meanwhile', async () => {
    const memory = new MemoryUsedTokens();
    let answered = 0;
    const slow: UsedTokens = {
      consume: (id, exp) =>
        new Promise((resolve) =>
          setTimeout(() => {
            answered++;
            resolve(memory.consume(id, exp));
          }, 300),
        ),
    };
    const rec = recorder();
    const h = await startGateway({}, { callFactory: rec.factory, usedTokens: slow });
    try {
      const params = await twiml(h, 'CA5800');
      const ws = await open(h);
      ws.send(start('CA5800', 'MZslow', params));
      for (let i = 1; i <= 10; i++) ws.send(media('MZslow', i));
      ws.send(JSON.stringify({ event: 'stop', streamSid: 'MZslow' }));
      expect((await closed(ws)).code).toBe(1000);
      expect(answered).toBeGreaterThanOrEqual(1);
      expect(rec.calls.get('MZslow')).toEqual({ frames: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], stopped: true });
    } finally {
      await h.stop();
    }
  });

  it('is refused (1008), never accepted, when the store fails', async () => {
    const h = await startGateway({}, { usedTokens: { consume: () => Promise.reject(new Error('database down')) } });
    try {
      const params = await twiml(h, 'CA5900');
      const ws = await open(h);
      ws.send(start('CA5900', 'MZfail', params));
      expect((await closed(ws)).code).toBe(1008);
      expect(h.logs.events('WS_TOKEN_REJECTED')[0]).toMatchObject({ reason: 'store-failed' });
      expect(h.logs.events('WS_START')).toEqual([]);
    } finally {
      await h.stop();
    }
  });
});
