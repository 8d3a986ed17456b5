import request from 'supertest';
import twilio from 'twilio';
import { startGateway, type Harness } from '../helpers/gateway-harness.ts';
import { parseConnectStream, parseTwiml } from '../helpers/twiml.ts';

const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
const CALL = {
  CallSid: 'CA0123456789abcdef0123456789abcdef',
  From: '+972501234567',
  To: '+972722000000',
  CallStatus: 'ringing',
};
const NO_CACHE = 'no-store, no-cache, must-revalidate, max-age=0';

describe('webhooks without a Twilio auth token', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ DEPLOY_ID: 'deploy-42', BODY_LIMIT_BYTES: '4096' });
  });
  afterAll(() => h.stop());

  it('answers /healthz with 200 ok as text', async () => {
    const res = await request(h.gateway.server).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/plain');
    expect(res.text).toBe('ok');
  });

  it('answers /version with the deploy id, package version, start time and Node version', async () => {
    const res = await request(h.gateway.server).get('/version');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      deployId: 'deploy-42',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      startedAt: expect.any(String),
      node: process.version,
    });
    expect(Number.isNaN(Date.parse(res.body.startedAt))).toBe(false);
  });

  it('serves Prometheus metrics at /metrics', async () => {
    const res = await request(h.gateway.server).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/text\/plain/);
    for (const name of [
      'voice_active_calls',
      'voice_calls_total',
      'voice_turn_latency_ms',
      'voice_barge_ins_total',
      'voice_provider_errors_total',
      'voice_ws_messages_total',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(res.text).toContain(name);
    }
  });

  describe('stream_status answers 204 with no-cache headers whatever arrives', () => {
    const shapes: Array<[string, (r: request.Test) => request.Test]> = [
      [
        'Twilio form body',
        (r) =>
          r.type('form').send({
            StreamEvent: 'stream-started',
            StreamSid: 'MZ1',
            CallSid: 'CA1',
            AccountSid: 'AC1',
            Timestamp: '2026-01-01T00:00:00Z',
          }),
      ],
      [
        'a stream-error form body',
        (r) =>
          r.type('form').send({
            StreamEvent: 'stream-error',
            StreamSid: 'MZ2',
            StreamError: 'Stream - WebSocket - Handshake Error',
          }),
      ],
      [
        'JSON',
        (r) =>
          r
            .set('Content-Type', 'application/json')
            .send(JSON.stringify({ StreamEvent: 'stream-stopped', StreamSid: 'MZ3' })),
      ],
      ['an empty body', (r) => r],
      ['malformed JSON', (r) => r.set('Content-Type', 'application/json').send('{"StreamEvent": "stream-st')],
      [
        'a wrong content type',
        (r) => r.set('Content-Type', 'application/octet-stream').send(Buffer.from([0, 1, 2, 255])),
      ],
      ['text/plain garbage', (r) => r.set('Content-Type', 'text/plain').send('%%%===&&&')],
      ['a body far over the limit', (r) => r.type('form').send('StreamEvent=stream-started&x=' + 'a'.repeat(200_000))],
      [
        'an invalid charset',
        (r) => r.set('Content-Type', 'application/x-www-form-urlencoded; charset=klingon').send('a=b'),
      ],
    ];
    it.each(shapes)('%s', async (_name, build) => {
      const res = await build(request(h.gateway.server).post('/webhook/stream_status'));
      expect(res.status).toBe(204);
      expect(res.headers['cache-control']).toBe(NO_CACHE);
      expect(res.headers['pragma']).toBe('no-cache');
      expect(res.text).toBe('');
    });

    it('for GET with the fields in the query', async () => {
      const res = await request(h.gateway.server).get(
        '/webhook/stream_status?StreamEvent=stream-started&StreamSid=MZget',
      );
      expect(res.status).toBe(204);
      expect(h.logs.events('STREAM_STATUS').some((r) => r.streamSid === 'MZget')).toBe(true);
    });
  });

  it('logs STREAM_STATUS with the parsed fields', async () => {
    await request(h.gateway.server).post('/webhook/stream_status').type('form').send({
      StreamEvent: 'stream-error',
      StreamSid: 'MZlogged',
      CallSid: 'CAlogged',
      StreamError: '31920 handshake',
    });
    const rec = h.logs.events('STREAM_STATUS').find((r) => r.streamSid === 'MZlogged');
    expect(rec).toMatchObject({ streamEvent: 'stream-error', callSid: 'CAlogged', streamError: '31920 handshake' });
  });

  it('returns Connect/Stream TwiML with absolute URLs, the call sid and a token parameter', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('Host', 'gw.example.com')
      .set('X-Forwarded-Proto', 'https')
      .type('form')
      .send(CALL);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/xml');
    const s = parseConnectStream(res.text);
    expect(s.streamUrl).toBe('wss://gw.example.com/ws/twilio-media');
    expect(s.connectAction).toBe('https://gw.example.com/webhook/stream_ended');
    expect(s.statusCallback).toBe('https://gw.example.com/webhook/stream_status');
    for (const url of [s.streamUrl, s.connectAction!, s.statusCallback!]) {
      const u = new URL(url);
      expect(u.pathname).not.toContain('//');
      expect(u.search).toBe('');
    }
    expect(s.parameters.call_sid).toBe(CALL.CallSid);
    expect(s.parameters.token).toMatch(/^[A-Za-z0-9_.-]{20,}$/);
  });

  it('issues a different token for every call', async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await request(h.gateway.server).post('/webhook/incoming_call').type('form').send(CALL);
      tokens.add(parseConnectStream(res.text).parameters.token!);
    }
    expect(tokens.size).toBe(3);
  });

  it('uses plain http and the Host header when no proxy headers are present', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('Host', 'localhost:5000')
      .type('form')
      .send(CALL);
    const s = parseConnectStream(res.text);
    expect(s.streamUrl).toBe('wss://localhost:5000/ws/twilio-media');
    expect(s.connectAction).toBe('http://localhost:5000/webhook/stream_ended');
  });

  it('uses X-Forwarded-Host from a trusted proxy', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('Host', 'internal:8080')
      .set('X-Forwarded-Host', 'public.example.org')
      .set('X-Forwarded-Proto', 'https')
      .type('form')
      .send(CALL);
    expect(parseConnectStream(res.text).streamUrl).toBe('wss://public.example.org/ws/twilio-media');
  });

  it('XML-escapes values that came from the request', async () => {
    const tricky = 'CA"<&>\'x';
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .type('form')
      .send({ ...CALL, CallSid: tricky });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('"<&>');
    expect(parseConnectStream(res.text).parameters.call_sid).toBe(tricky);
  });

  it('refuses a Host header that is not a host name with 400', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('Host', 'evil.com/x?y')
      .type('form')
      .send(CALL);
    expect(res.status).toBe(400);
  });

  it('answers stream_ended with TwiML that hangs up', async () => {
    const res = await request(h.gateway.server).post('/webhook/stream_ended').type('form').send(CALL);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/xml');
    const doc = parseTwiml(res.text);
    expect(doc.Response).toHaveProperty('Hangup');
  });

  it('answers call_status with 204 and logs CALL_STATUS', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/call_status')
      .type('form')
      .send({ ...CALL, CallStatus: 'completed', CallDuration: '42', SequenceNumber: '3' });
    expect(res.status).toBe(204);
    const rec = h.logs.events('CALL_STATUS').at(-1);
    expect(rec).toMatchObject({
      callSid: CALL.CallSid,
      callStatus: 'completed',
      callDuration: '42',
      sequenceNumber: '3',
    });
  });

  it('answers 413 when a body is over the limit', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .type('form')
      .send('CallSid=CA1&x=' + 'a'.repeat(10_000));
    expect(res.status).toBe(413);
    expect(res.text).not.toMatch(/at \w+ \(/); // no stack trace
  });

  it('answers 400, not 500, to malformed JSON on a TwiML webhook', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('Content-Type', 'application/json')
      .send('{bad');
    expect(res.status).toBe(400);
    expect(res.text).not.toMatch(/SyntaxError|at \w+ \(/);
  });

  it('answers 404 for unknown routes and 426 for plain HTTP on the WebSocket path', async () => {
    expect((await request(h.gateway.server).get('/nope')).status).toBe(404);
    expect((await request(h.gateway.server).get('/ws/twilio-media')).status).toBe(426);
    expect((await request(h.gateway.server).post('/ws/anything')).status).toBe(426);
  });

  it('answers 405 to other methods on TwiML webhooks', async () => {
    expect((await request(h.gateway.server).put('/webhook/incoming_call')).status).toBe(405);
  });
});

describe('webhook signatures with TWILIO_AUTH_TOKEN set', () => {
  let h: Harness;
  const PUBLIC = 'https://gw.example.com';
  beforeAll(async () => {
    h = await startGateway({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_BASE_URL: PUBLIC + '/' });
  });
  afterAll(() => h.stop());

  const sign = (url: string, params: Record<string, string>) =>
    twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);

  it.each(['/webhook/incoming_call', '/webhook/stream_ended', '/webhook/call_status'])(
    'accepts %s signed by the twilio helper for PUBLIC_BASE_URL + path',
    async (path) => {
      const res = await request(h.gateway.server)
        .post(path)
        .set('X-Twilio-Signature', sign(PUBLIC + path, CALL))
        .type('form')
        .send(CALL);
      expect([200, 204]).toContain(res.status);
    },
  );

  it.each(['/webhook/incoming_call', '/webhook/stream_ended', '/webhook/call_status'])(
    'refuses %s without a signature (403)',
    async (path) => {
      const res = await request(h.gateway.server).post(path).type('form').send(CALL);
      expect(res.status).toBe(403);
    },
  );

  it('refuses a wrong signature (403)', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('X-Twilio-Signature', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')
      .type('form')
      .send(CALL);
    expect(res.status).toBe(403);
  });

  it('refuses a signature computed for another URL (403)', async () => {
    const sig = sign('https://other.example.com/webhook/incoming_call', CALL);
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('X-Twilio-Signature', sig)
      .type('form')
      .send(CALL);
    expect(res.status).toBe(403);
  });

  it('refuses a signature over different parameters (403)', async () => {
    const sig = sign(PUBLIC + '/webhook/incoming_call', CALL);
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('X-Twilio-Signature', sig)
      .type('form')
      .send({ ...CALL, From: '+15550000000' });
    expect(res.status).toBe(403);
  });

  it('builds TwiML URLs from PUBLIC_BASE_URL whatever Host says', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('Host', 'internal:8080')
      .set('X-Twilio-Signature', sign(PUBLIC + '/webhook/incoming_call', CALL))
      .type('form')
      .send(CALL);
    const s = parseConnectStream(res.text);
    expect(s.streamUrl).toBe('wss://gw.example.com/ws/twilio-media');
    expect(s.statusCallback).toBe('https://gw.example.com/webhook/stream_status');
  });

  it('still answers stream_status 204 with a bad or missing signature, and logs a warning', async () => {
    const before = h.logs.events('STREAM_STATUS_SIGNATURE_INVALID').length;
    const bad = await request(h.gateway.server)
      .post('/webhook/stream_status')
      .set('X-Twilio-Signature', 'nope')
      .type('form')
      .send({ StreamSid: 'MZ9' });
    const none = await request(h.gateway.server).post('/webhook/stream_status').type('form').send({ StreamSid: 'MZ9' });
    expect(bad.status).toBe(204);
    expect(none.status).toBe(204);
    expect(h.logs.events('STREAM_STATUS_SIGNATURE_INVALID').length).toBe(before + 2);
  });

  it('accepts a correctly signed stream_status without a warning', async () => {
    const params = { StreamSid: 'MZok', StreamEvent: 'stream-started' };
    const before = h.logs.events('STREAM_STATUS_SIGNATURE_INVALID').length;
    const res = await request(h.gateway.server)
      .post('/webhook/stream_status')
      .set('X-Twilio-Signature', sign(PUBLIC + '/webhook/stream_status', params))
      .type('form')
      .send(params);
    expect(res.status).toBe(204);
    expect(h.logs.events('STREAM_STATUS_SIGNATURE_INVALID').length).toBe(before);
  });

  it('never writes the auth token to the log, even when a request carries it', async () => {
    await request(h.gateway.server)
      .post('/webhook/stream_status')
      .type('form')
      .send({ StreamError: `leak ${AUTH_TOKEN}` });
    await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('X-Twilio-Signature', AUTH_TOKEN)
      .type('form')
      .send(CALL);
    expect(JSON.stringify(h.logs.records)).not.toContain(AUTH_TOKEN);
  });
});

describe('webhook signatures behind a TLS-terminating proxy', () => {
  let h: Harness;
  const url = 'https://gw.example.com/webhook/incoming_call';
  beforeAll(async () => {
    h = await startGateway({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_BASE_URL: 'https://gw.example.com' });
  });
  afterAll(() => h.stop());

  it('validates against the https PUBLIC_BASE_URL whatever scheme the proxy reports', async () => {
    for (const proto of [undefined, 'http', 'https']) {
      const req = request(h.gateway.server)
        .post('/webhook/incoming_call')
        .set('Host', 'internal:8080')
        .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, CALL));
      if (proto) req.set('X-Forwarded-Proto', proto);
      const res = await req.type('form').send(CALL);
      expect(res.status).toBe(200);
    }
  });

  it.each([
    ['Host', { Host: 'other.example.com' }],
    ['X-Forwarded-Host', { 'X-Forwarded-Host': 'other.example.com', 'X-Forwarded-Proto': 'https' }],
  ])('refuses a signature made for another host even when %s claims it (403)', async (_name, headers) => {
    const other = 'https://other.example.com/webhook/incoming_call';
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set(headers)
      .set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(AUTH_TOKEN, other, CALL))
      .type('form')
      .send(CALL);
    expect(res.status).toBe(403);
  });
});

describe('proxy headers from an untrusted peer', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ TRUST_PROXY: 'false' });
  });
  afterAll(() => h.stop());

  it('are ignored when TRUST_PROXY=false', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/incoming_call')
      .set('Host', 'direct.example.com')
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'spoofed.example.com')
      .type('form')
      .send(CALL);
    const s = parseConnectStream(res.text);
    expect(s.connectAction).toBe('http://direct.example.com/webhook/stream_ended');
  });
});
