import WebSocket from 'ws';
import twilio from 'twilio';
import { startGateway, eventually, type Harness } from '../helpers/gateway-harness.ts';
import { rawUpgrade } from '../helpers/raw-upgrade.ts';
import { parseConnectStream } from '../helpers/twiml.ts';

const AUTH_TOKEN = 'media-test-token-fedcba9876543210';

/** Asks the gateway for TwiML the way Twilio does and returns the stream parameters. */
async function twimlParams(
  h: Harness,
  callSid: string,
  headers: Record<string, string> = {},
): Promise<Record<string, string>> {
  const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ CallSid: callSid, From: '+972500000000' }),
  });
  return parseConnectStream(await res.text()).parameters;
}

function open(url: string, opts: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, opts);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve({ code: -1, reason: 'already closed' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

const startMsg = (callSid: string, streamSid: string, customParameters: Record<string, string>) =>
  JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid,
    start: {
      streamSid,
      accountSid: 'AC00000000000000000000000000000000',
      callSid,
      tracks: ['inbound'],
      customParameters,
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
  });

const mediaMsg = (streamSid: string, seq: number) =>
  JSON.stringify({
    event: 'media',
    sequenceNumber: String(seq),
    streamSid,
    media: {
      track: 'inbound',
      chunk: String(seq - 1),
      timestamp: String((seq - 2) * 20),
      payload: Buffer.alloc(160, 0xff).toString('base64'),
    },
  });

describe('media socket handshake', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway();
  });
  afterAll(() => h.stop());

  it('answers 101 and echoes audio.twilio.com when the client offers it', async () => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media', { 'Sec-WebSocket-Protocol': 'audio.twilio.com' });
    expect(res.statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(res.headers['sec-websocket-protocol']).toBe('audio.twilio.com');
  });

  it('picks audio.twilio.com when it is offered among other protocols', async () => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media', { 'Sec-WebSocket-Protocol': 'chat, audio.twilio.com' });
    expect(res.status).toBe(101);
    expect(res.headers['sec-websocket-protocol']).toBe('audio.twilio.com');
  });

  it.each(['chat', 'chat, superchat', 'javascript'])(
    'answers 101 without echoing an offered protocol other than audio.twilio.com (%s)',
    async (offer) => {
      const res = await rawUpgrade(h.port, '/ws/twilio-media', { 'Sec-WebSocket-Protocol': offer });
      expect(res.status).toBe(101);
      expect(res.headers).not.toHaveProperty('sec-websocket-protocol');
    },
  );

  it('answers 101 without a protocol header when none is offered', async () => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media');
    expect(res.status).toBe(101);
    expect(res.headers).not.toHaveProperty('sec-websocket-protocol');
  });

  it('accepts the path with a trailing slash and ignores a query string', async () => {
    expect((await rawUpgrade(h.port, '/ws/twilio-media/')).status).toBe(101);
    expect((await rawUpgrade(h.port, '/ws/twilio-media?x=1')).status).toBe(101);
  });

  it.each(['/ws/other', '/', '/webhook/incoming_call', '/ws/twilio-media/extra', '/ws/twilio-mediax'])(
    'refuses an upgrade on %s with a real 404 status line and closes the socket',
    async (path) => {
      const res = await rawUpgrade(h.port, path);
      expect(res.statusLine).toBe('HTTP/1.1 404 Not Found');
      expect(res.closed).toBe(true);
    },
  );
});

describe('media socket signatures', () => {
  let h: Harness;
  const PUBLIC = 'https://voice.example.com';
  beforeAll(async () => {
    h = await startGateway({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_BASE_URL: PUBLIC });
  });
  afterAll(() => h.stop());

  const sig = (url: string) => twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, {});

  it('refuses an unsigned upgrade with 403 and closes the socket', async () => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media');
    expect(res.statusLine).toBe('HTTP/1.1 403 Forbidden');
    expect(res.closed).toBe(true);
  });

  it('refuses an upgrade signed for another host (403)', async () => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media', {
      'X-Twilio-Signature': sig('wss://elsewhere.example/ws/twilio-media'),
    });
    expect(res.status).toBe(403);
  });

  it('accepts an upgrade signed for wss://<PUBLIC_BASE_URL host>/ws/twilio-media (101)', async () => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media', {
      'X-Twilio-Signature': sig('wss://voice.example.com/ws/twilio-media'),
    });
    expect(res.status).toBe(101);
  });

  it('accepts the trailing-slash form of the signed URL (101)', async () => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media', {
      'X-Twilio-Signature': sig('wss://voice.example.com/ws/twilio-media/'),
    });
    expect(res.status).toBe(101);
  });

  it.each([
    ['Host', { Host: 'elsewhere.example' }],
    ['X-Forwarded-Host', { 'X-Forwarded-Host': 'elsewhere.example', 'X-Forwarded-Proto': 'https' }],
  ])('never lets %s choose what is validated (403 for a signature made for that host)', async (_name, headers) => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media', {
      ...headers,
      'X-Twilio-Signature': sig('wss://elsewhere.example/ws/twilio-media'),
    });
    expect(res.status).toBe(403);
  });

  it('refuses an upgrade signed for the address it was reached at, when that is not the public one', async () => {
    const res = await rawUpgrade(h.port, '/ws/twilio-media', {
      'X-Twilio-Signature': sig(`wss://127.0.0.1:${h.port}/ws/twilio-media`),
    });
    expect(res.status).toBe(403);
  });
});

describe('media socket messages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ WS_PING_INTERVAL_MS: '200' });
  });
  afterAll(() => h.stop());

  it('logs WS_CONNECTED, WS_START without the token, WS_STOP and WS_CLOSED with its code', async () => {
    const callSid = 'CA11111111111111111111111111111111';
    const params = await twimlParams(h, callSid);
    const ws = await open(h.wsUrl);
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(startMsg(callSid, 'MZstart1', { ...params, lang: 'he' }));
    ws.send(mediaMsg('MZstart1', 2));
    const start = await eventually(() => h.logs.events('WS_START').find((r) => r.callSid === callSid));
    expect(start).toMatchObject({ streamSid: 'MZstart1', customParameters: { call_sid: callSid, lang: 'he' } });
    expect(start.customParameters).not.toHaveProperty('token');
    ws.send(JSON.stringify({ event: 'stop', sequenceNumber: '3', streamSid: 'MZstart1', stop: { callSid } }));
    const { code } = await closed(ws);
    expect(code).toBe(1000);
    await eventually(() => h.logs.events('WS_STOP').find((r) => r.callSid === callSid));
    const closedRec = await eventually(() => h.logs.events('WS_CLOSED').find((r) => r.callSid === callSid));
    expect(closedRec.code).toBe(1000);
    expect(JSON.stringify(h.logs.records)).not.toContain(params.token!);
  });

  it('counts messages and ended calls in the metrics', async () => {
    const value = async (name: string, labels: Record<string, string>) => {
      const metric = h.gateway.metrics.registry.getSingleMetric(name);
      const data = await metric!.get();
      return data.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
    };
    const before = {
      media: await value('voice_ws_messages_total', { direction: 'in', event: 'media' }),
      completed: await value('voice_calls_total', { outcome: 'completed' }),
    };
    const callSid = 'CA55555555555555555555555555555555';
    const params = await twimlParams(h, callSid);
    const ws = await open(h.wsUrl);
    ws.send(startMsg(callSid, 'MZmetrics', params));
    for (let i = 2; i < 7; i++) ws.send(mediaMsg('MZmetrics', i));
    ws.send(JSON.stringify({ event: 'stop', sequenceNumber: '7', streamSid: 'MZmetrics', stop: { callSid } }));
    await closed(ws);
    await eventually(() => h.logs.events('WS_CLOSED').some((r) => r.callSid === callSid));
    expect(await value('voice_ws_messages_total', { direction: 'in', event: 'media' })).toBe(before.media + 5);
    expect(await value('voice_calls_total', { outcome: 'completed' })).toBe(before.completed + 1);
    expect(await value('voice_active_calls', {})).toBe(0);
  });

  it('ignores bad frames and keeps the call going', async () => {
    const callSid = 'CA22222222222222222222222222222222';
    const params = await twimlParams(h, callSid);
    const ws = await open(h.wsUrl);
    const before = h.logs.events('WS_BAD_MESSAGE').length;
    ws.send(mediaMsg('MZbad', 2)); // media before start
    ws.send('not json at all');
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    ws.send(JSON.stringify({ event: 'surprise', streamSid: 'MZbad' }));
    ws.send(startMsg(callSid, 'MZbad', params));
    ws.send(JSON.stringify({ event: 'media', streamSid: 'MZbad', media: { payload: '***' } }));
    ws.send(JSON.stringify({ event: 'media', streamSid: 'MZbad' }));
    ws.send(mediaMsg('MZother', 3)); // wrong stream
    ws.send(startMsg(callSid, 'MZbad', params)); // duplicate start
    ws.send(mediaMsg('MZbad', 4));
    await eventually(() => h.logs.events('WS_BAD_MESSAGE').length >= before + 8, 3000, 'eight bad-message logs');
    expect(ws.readyState).toBe(ws.OPEN);
    const reasons = h.logs
      .events('WS_BAD_MESSAGE')
      .slice(before)
      .map((r) => r.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'out-of-order',
        'not-json',
        'binary',
        'unknown-event',
        'bad-payload',
        'bad-shape',
        'wrong-stream',
        'duplicate-start',
      ]),
    );
    expect(h.logs.events('WS_START').some((r) => r.callSid === callSid)).toBe(true);
    ws.send(JSON.stringify({ event: 'stop', sequenceNumber: '9', streamSid: 'MZbad', stop: { callSid } }));
    await closed(ws);
    // Rejected frames never reach the call: of all the media above, only MZbad's frame 4 was audio.
    const summary = await eventually(() => h.logs.events('CALL_AUDIO_SUMMARY').find((r) => r.callSid === callSid));
    expect(summary).toMatchObject({ frames: 1, bytes: 160 });
  });

  it('never hands the call a frame or a key of another stream, and says so', async () => {
    const callSid = 'CA2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a';
    const params = await twimlParams(h, callSid);
    const ws = await open(h.wsUrl);
    ws.send(startMsg(callSid, 'MZmine', params));
    await eventually(() => h.logs.events('WS_START').find((r) => r.callSid === callSid));
    const before = h.logs.events('WS_BAD_MESSAGE').length;
    ws.send(mediaMsg('MZtheirs', 2));
    ws.send(
      JSON.stringify({
        event: 'dtmf',
        streamSid: 'MZtheirs',
        sequenceNumber: '3',
        dtmf: { track: 'inbound_track', digit: '7' },
      }),
    );
    ws.send(mediaMsg('MZmine', 4));
    await eventually(() => h.logs.events('WS_BAD_MESSAGE').length >= before + 2, 3000, 'two wrong-stream logs');
    ws.send(JSON.stringify({ event: 'stop', sequenceNumber: '5', streamSid: 'MZmine', stop: { callSid } }));
    await closed(ws);
    const summary = await eventually(() => h.logs.events('CALL_AUDIO_SUMMARY').find((r) => r.callSid === callSid));
    expect(summary).toMatchObject({ frames: 1 });
    expect(h.logs.events('DTMF').filter((r) => r.callSid === callSid)).toEqual([]);
    expect(
      h.logs
        .events('WS_BAD_MESSAGE')
        .slice(before)
        .map((r) => r.reason),
    ).toEqual(['wrong-stream', 'wrong-stream']);
  });

  it('closes the socket with 1008 when the stream token is missing, forged or reused', async () => {
    const callSid = 'CA33333333333333333333333333333333';
    const params = await twimlParams(h, callSid);

    const missing = await open(h.wsUrl);
    missing.send(startMsg(callSid, 'MZtok1', {}));
    expect((await closed(missing)).code).toBe(1008);

    const forged = await open(h.wsUrl);
    forged.send(startMsg(callSid, 'MZtok2', { token: params.token!.slice(0, -3) + 'AAA' }));
    expect((await closed(forged)).code).toBe(1008);

    const otherCall = await open(h.wsUrl);
    otherCall.send(startMsg('CA99999999999999999999999999999999', 'MZtok3', params));
    expect((await closed(otherCall)).code).toBe(1008);

    const good = await open(h.wsUrl);
    good.send(startMsg(callSid, 'MZtok4', params));
    await eventually(() => h.logs.events('WS_START').find((r) => r.streamSid === 'MZtok4'));
    good.close();
    await closed(good);
    const reused = await open(h.wsUrl);
    reused.send(startMsg(callSid, 'MZtok5', params));
    expect((await closed(reused)).code).toBe(1008);

    const reasons = h.logs.events('WS_TOKEN_REJECTED').map((r) => r.reason);
    expect(reasons).toEqual(expect.arrayContaining(['missing', 'forged', 'reused']));
  });

  it('keeps one call unaffected while another sends garbage', async () => {
    const a = await twimlParams(h, 'CA44444444444444444444444444444444');
    const good = await open(h.wsUrl);
    good.send(startMsg('CA44444444444444444444444444444444', 'MZgood', a));
    const noisy = await open(h.wsUrl);
    for (let i = 0; i < 500; i++) noisy.send(i % 2 ? '{"event":' : Buffer.alloc(10));
    for (let i = 2; i < 20; i++) good.send(mediaMsg('MZgood', i));
    await new Promise((r) => setTimeout(r, 200));
    expect(good.readyState).toBe(good.OPEN);
    expect(noisy.readyState).toBe(noisy.OPEN);
    good.close();
    noisy.close();
    await Promise.all([closed(good), closed(noisy)]);
  });

  it('refuses frames over maxPayload by closing only that socket (1009)', async () => {
    const big = await open(h.wsUrl);
    const other = await open(h.wsUrl);
    big.send('x'.repeat(h.config.wsMaxPayloadBytes + 10));
    expect((await closed(big)).code).toBe(1009);
    expect(other.readyState).toBe(other.OPEN);
    other.close();
    await closed(other);
  });

  it('pings peers, keeps those that answer and terminates those that do not', async () => {
    const answering = await open(h.wsUrl);
    let pings = 0;
    answering.on('ping', () => pings++);
    const silent = await open(h.wsUrl, { autoPong: false });
    const silentClosed = closed(silent);
    const result = await silentClosed;
    expect(result.code).toBe(1006); // terminated, no close frame
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(answering.readyState).toBe(answering.OPEN);
    expect(h.logs.events('WS_PONG_TIMEOUT').length).toBeGreaterThanOrEqual(1);
    // Twilio's ping behaviour is undocumented: the first pong of a socket is logged at info, the rest at debug.
    await eventually(() => h.logs.events('PONG').some((r) => r.level === 'debug'), 2000, 'a later pong at debug');
    const pongs = h.logs.events('PONG');
    expect(pongs.filter((r) => r.level === 'info').length).toBeGreaterThanOrEqual(1);
    expect(pongs.filter((r) => r.level === 'info').every((r) => r.first === true)).toBe(true);
    answering.close();
    await closed(answering);
  });
});
