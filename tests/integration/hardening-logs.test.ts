/**
 * Issue 11, logs that cannot be flooded: every string field cut (with its original length), message
 * fields held to their real shapes before anything is logged, bad frames and unsigned requests within
 * a budget, caller numbers masked.
 */
import WebSocket from 'ws';
import twilio from 'twilio';
import { createLogger, maskNumber, MemoryTransport, LOG_STRING_MAX } from '../../server/logger.ts';
import { LogLimiter } from '../../server/log-limit.ts';
import { parseInbound } from '../../media/twilio/messages.ts';
import { BadFrames } from '../../media/twilio/bad-frames.ts';
import { createMetrics } from '../../server/metrics.ts';
import { startGateway, eventually, type Harness } from '../helpers/gateway-harness.ts';
import { parseConnectStream } from '../helpers/twiml.ts';

jest.setTimeout(20_000);

/** The largest record, as JSON bytes. */
const largest = (records: object[]) => Math.max(0, ...records.map((r) => JSON.stringify(r).length));

function open(h: Harness, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(h.wsUrl, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function twiml(h: Harness, body: Record<string, string>): Promise<Record<string, string>> {
  const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  return parseConnectStream(await res.text()).parameters;
}

describe('the logger', () => {
  const capture = (maskNumbers?: boolean) => {
    const mem = new MemoryTransport();
    const log = createLogger({
      level: 'debug',
      format: 'json',
      transports: [mem],
      ...(maskNumbers === undefined ? {} : { maskNumbers }),
    });
    return { mem, log };
  };

  it('cuts every string field to LOG_STRING_MAX characters and says how long it was', () => {
    const { mem, log } = capture();
    log.info('WS_BAD_MESSAGE', {
      detail: 'a'.repeat(60_000),
      nested: { deep: 'b'.repeat(1000) },
      list: ['c'.repeat(500)],
    });
    const r = mem.records[0]!;
    expect(r.detail).toBe(`${'a'.repeat(LOG_STRING_MAX)}…[60000 chars]`);
    expect((r.nested as { deep: string }).deep).toBe(`${'b'.repeat(LOG_STRING_MAX)}…[1000 chars]`);
    expect((r.list as string[])[0]).toHaveLength(LOG_STRING_MAX + '…[500 chars]'.length);
  });

  it('caps keys, entries, items and nesting', () => {
    const { mem, log } = capture();
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 'v']));
    const deep = { a: { b: { c: { d: { e: { f: 'x'.repeat(100_000) } } } } } };
    log.info('WS_BAD_MESSAGE', {
      many,
      deep,
      items: Array.from({ length: 5000 }, () => 'i'),
      ['K'.repeat(100_000)]: 1,
    });
    expect(largest(mem.records)).toBeLessThan(4096);
    expect(JSON.stringify(mem.records[0])).toContain('[500 keys]');
    expect(JSON.stringify(mem.records[0])).toContain('[5000 items]');
  });

  it('masks phone numbers in number fields by default, and keeps them when told to', () => {
    const masked = capture();
    masked.log.info('INCOMING_CALL', { from: '+972501234567', to: '+97230000001', callSid: 'CA1' });
    expect(masked.mem.records[0]).toMatchObject({ from: '+972*******67', to: '+972******01', callSid: 'CA1' });
    const full = capture(false);
    full.log.info('INCOMING_CALL', { from: '+972501234567' });
    expect(full.mem.records[0]!.from).toBe('+972501234567');
    expect(maskNumber('12345')).toBe('*****');
  });

  it('lets a limited event through `burst` times per window, then counts it in one LOG_SUPPRESSED', () => {
    let now = 0;
    const { mem, log } = capture();
    const limiter = new LogLimiter(log, { burst: 3, windowMs: 1000, now: () => now });
    for (let i = 0; i < 50; i++) limiter.log('warn', 'WS_ERROR', { i });
    now = 1500;
    limiter.log('warn', 'WS_ERROR', { i: 50 });
    limiter.close();
    expect(mem.events('WS_ERROR').map((r) => r.i)).toEqual([0, 1, 2, 50]);
    expect(mem.events('LOG_SUPPRESSED')[0]).toMatchObject({ event: 'WS_ERROR', suppressed: 47, logged: 3 });
  });
});

describe('the bad-frame budget of one socket', () => {
  it('logs 10 frames one by one, then one summary a window after the socket opened, then one at close', () => {
    let now = 50_000; // the process has been up a while: the window starts with the socket, not the process
    const { mem, log } = (() => {
      const m = new MemoryTransport();
      return { mem: m, log: createLogger({ level: 'debug', format: 'json', transports: [m] }) };
    })();
    const bad = new BadFrames(createMetrics(), () => now);
    for (let i = 0; i < 15; i++) bad.record(log, 'not-json', 'frame is not valid JSON');
    expect(mem.events('WS_BAD_MESSAGE')).toHaveLength(10);
    expect(mem.events('WS_BAD_MESSAGES_SUPPRESSED')).toEqual([]);
    now += 10_000;
    bad.record(log, 'binary', 'binary frame');
    expect(mem.events('WS_BAD_MESSAGES_SUPPRESSED')[0]).toMatchObject({
      suppressed: 6,
      reasons: { 'not-json': 5, binary: 1 },
      total: 16,
    });
    bad.record(log, 'binary', 'binary frame');
    bad.summarise(log);
    expect(mem.events('WS_BAD_MESSAGES_SUPPRESSED')[1]).toMatchObject({ suppressed: 1, total: 17 });
  });
});

describe('message fields are held to their real shapes before anything is logged', () => {
  it.each([
    ['a 200 KB DTMF digit', { event: 'dtmf', streamSid: 'MZ1', dtmf: { digit: '7'.repeat(200_000) } }],
    ['a letter that is not a DTMF digit', { event: 'dtmf', streamSid: 'MZ1', dtmf: { digit: 'E' } }],
    [
      'a 200 KB custom parameter name',
      { event: 'start', streamSid: 'MZ1', start: { callSid: 'CA1', customParameters: { ['k'.repeat(200_000)]: 'v' } } },
    ],
    [
      'a parameter whose name and value reach 500 characters',
      { event: 'start', streamSid: 'MZ1', start: { callSid: 'CA1', customParameters: { name: 'v'.repeat(496) } } },
    ],
    [
      '100 custom parameters',
      {
        event: 'start',
        streamSid: 'MZ1',
        start: {
          callSid: 'CA1',
          customParameters: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, 'v'])),
        },
      },
    ],
    ['a 10 KB track name', { event: 'media', streamSid: 'MZ1', media: { track: 't'.repeat(10_000), payload: 'AA==' } }],
  ])('refuses %s as bad-shape with a short detail', (_name, msg) => {
    const r = parseInbound(JSON.stringify(msg));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('bad-shape');
    expect(r.detail.length).toBeLessThanOrEqual(200);
  });

  it.each(['0', '9', '*', '#', 'A', 'D'])('accepts the DTMF digit %s', (digit) => {
    expect(parseInbound(JSON.stringify({ event: 'dtmf', streamSid: 'MZ1', dtmf: { digit } })).ok).toBe(true);
  });

  it('accepts a parameter of 499 characters in all', () => {
    const msg = {
      event: 'start',
      streamSid: 'MZ1',
      start: { callSid: 'CA1', customParameters: { name: 'v'.repeat(495) } },
    };
    expect(parseInbound(JSON.stringify(msg)).ok).toBe(true);
  });
});

describe('a gateway under log amplification', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ LOG_LEVEL: 'info' });
  });
  afterAll(() => h.stop());

  it('logs a 60 KB From briefly and masked', async () => {
    const before = h.logs.records.length;
    await twiml(h, { CallSid: 'CA6100', From: '+' + '9'.repeat(60_000), To: '+97230000001' });
    const rec = h.logs.events('INCOMING_CALL').find((r) => r.callSid === 'CA6100')!;
    expect(String(rec.from)).toMatch(/^\+999\*+/);
    expect(rec.to).toBe('+972******01');
    expect(largest(h.logs.records.slice(before))).toBeLessThan(2048);
  });

  it('logs an 8 KB User-Agent and a 200 KB start parameter name briefly, and starts no call on the latter', async () => {
    const before = h.logs.records.length;
    const params = await twiml(h, { CallSid: 'CA6200' });
    const ws = await open(h, { 'user-agent': 'u'.repeat(8192) });
    ws.send(
      JSON.stringify({
        event: 'start',
        streamSid: 'MZ6200',
        start: { callSid: 'CA6200', customParameters: { ...params, ['k'.repeat(200_000)]: 'v' } },
      }),
    );
    await eventually(() => h.logs.events('WS_BAD_MESSAGE').find((r) => r.reason === 'bad-shape'));
    ws.close();
    expect(largest(h.logs.records.slice(before))).toBeLessThan(2048);
    expect(h.logs.events('WS_START').some((r) => r.callSid === 'CA6200')).toBe(false);
  });

  it('logs the first bad frames of a socket, then only counts them and summarises at close', async () => {
    const before = h.logs.records.length;
    const ws = await open(h);
    for (let i = 0; i < 1000; i++) ws.send(i % 2 ? 'not json' : '{"event":"surprise"}');
    ws.send('{"event":"media","streamSid":"MZ","media":{"payload":"AA=="}}');
    await new Promise((r) => setTimeout(r, 300));
    ws.close();
    const summary = await eventually(() =>
      h.logs.records.slice(before).find((r) => r.message === 'WS_BAD_MESSAGES_SUPPRESSED'),
    );
    const single = h.logs.records.slice(before).filter((r) => r.message === 'WS_BAD_MESSAGE');
    expect(single).toHaveLength(10);
    expect(summary).toMatchObject({ suppressed: 991, total: 1001 });
    expect(summary.reasons).toEqual({ 'not-json': 495, 'unknown-event': 495, 'out-of-order': 1 });
    const bytes = h.logs.records.slice(before).reduce((n, r) => n + JSON.stringify(r).length, 0);
    expect(bytes).toBeLessThan(8192);
    const counted = await h.gateway.metrics.wsBadMessages.get();
    expect(counted.values.reduce((n, v) => n + v.value, 0)).toBeGreaterThanOrEqual(1001);
  });
});

describe('unsigned requests while signatures are enforced', () => {
  let h: Harness;
  const TOKEN = 'log-test-auth-token-0123456789';
  beforeAll(async () => {
    h = await startGateway({ TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: 'https://gw.example.com' });
  });
  afterAll(() => h.stop());

  it('never log the fields of an unsigned stream_status, and log the refusal within a budget', async () => {
    const big = 's'.repeat(20_000);
    const before = h.logs.records.length;
    for (let i = 0; i < 40; i++) {
      await fetch(`${h.httpBase}/webhook/stream_status`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ StreamEvent: big, StreamSid: big, StreamError: big }),
      });
    }
    const records = h.logs.records.slice(before);
    expect(records.filter((r) => r.message === 'STREAM_STATUS')).toEqual([]);
    expect(records.filter((r) => r.message === 'STREAM_STATUS_SIGNATURE_INVALID').length).toBeLessThanOrEqual(20);
    expect(largest(records)).toBeLessThan(512);
    expect(JSON.stringify(records)).not.toContain('sss');
  });

  it('still log a signed stream_status', async () => {
    const params = { StreamEvent: 'stream-started', StreamSid: 'MZsigned' };
    const sig = twilio.getExpectedTwilioSignature(TOKEN, 'https://gw.example.com/webhook/stream_status', params);
    await fetch(`${h.httpBase}/webhook/stream_status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig },
      body: new URLSearchParams(params),
    });
    expect(h.logs.events('STREAM_STATUS').find((r) => r.streamSid === 'MZsigned')).toBeDefined();
  });

  it('log refused upgrades briefly, without the headers that came with them', async () => {
    const before = h.logs.records.length;
    await open(h, { 'user-agent': 'u'.repeat(8000), 'x-forwarded-host': 'h'.repeat(8000) }).catch(() => undefined);
    await eventually(() => h.logs.records.slice(before).find((r) => r.message === 'WS_UPGRADE_REJECTED'));
    expect(largest(h.logs.records.slice(before))).toBeLessThan(512);
  });
});
