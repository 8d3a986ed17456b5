/**
 * The error catalogue on the wire: representative call sites answer, refuse and close with the
 * catalogue's status, status line and close code, and log its code (server/errors.ts).
 */
import net from 'node:net';
import express from 'express';
import request from 'supertest';
import WebSocket from 'ws';
import { ERRORS, statusLine } from '../../server/errors.ts';
import { Drain } from '../../server/drain.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';
import { healthRoutes } from '../../routes/health.ts';
import { apiRoutes } from '../../routes/api.ts';
import type { CallFactory } from '../../media/twilio/call-handler.ts';
import { startGateway, eventually, type Harness } from '../helpers/gateway-harness.ts';
import { rawUpgrade } from '../helpers/raw-upgrade.ts';
import { parseConnectStream } from '../helpers/twiml.ts';

jest.setTimeout(20_000);

const METRICS_TOKEN = 'metrics-token-errors-0123456789';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The agent hangs up on the first audio frame it hears. */
const hangsUpOnAudio: CallFactory = (ctx) => ({
  onAudio: () => ctx.hangup('agent-hangup'),
  onMark: () => undefined,
  onDtmf: () => undefined,
  onStop: () => undefined,
  close: () => undefined,
});

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

const start = (callSid: string, streamSid: string, customParameters: Record<string, string>) =>
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

const media = (streamSid: string) =>
  JSON.stringify({
    event: 'media',
    sequenceNumber: '2',
    streamSid,
    media: { track: 'inbound', chunk: '1', timestamp: '0', payload: Buffer.alloc(160, 0xff).toString('base64') },
  });

/** A call's socket after a real TwiML hand-out, started and accepted. */
async function startedCall(h: Harness, callSid: string, streamSid: string): Promise<WebSocket> {
  const twiml = await fetch(`${h.httpBase}/webhook/incoming_call`, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ CallSid: callSid }),
  });
  const ws = await open(h.wsUrl);
  ws.send(start(callSid, streamSid, parseConnectStream(await twiml.text()).parameters));
  await eventually(() => h.logs.events('WS_START').find((r) => r.streamSid === streamSid));
  return ws;
}

/** The first line a raw request gets back. */
function firstLine(port: number, raw: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(raw));
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
  });
}

describe('the gateway answers with the catalogue', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({ METRICS_TOKEN, WS_START_TIMEOUT_MS: '1000' }, { callFactory: hangsUpOnAudio });
  });
  afterAll(() => h.stop());

  it('plain HTTP on /ws/*: HTTP_UPGRADE_REQUIRED', async () => {
    expect((await fetch(`${h.httpBase}/ws/twilio-media`)).status).toBe(ERRORS.HTTP_UPGRADE_REQUIRED.http);
  });

  it('an unknown route: HTTP_NOT_FOUND; another method on a webhook: HTTP_METHOD_NOT_ALLOWED', async () => {
    expect((await fetch(`${h.httpBase}/nowhere`)).status).toBe(ERRORS.HTTP_NOT_FOUND.http);
    const put = await fetch(`${h.httpBase}/webhook/incoming_call`, { method: 'PUT' });
    expect(put.status).toBe(ERRORS.HTTP_METHOD_NOT_ALLOWED.http);
  });

  it('/metrics without the token: METRICS_UNAUTHORIZED', async () => {
    expect((await fetch(`${h.httpBase}/metrics`)).status).toBe(ERRORS.METRICS_UNAUTHORIZED.http);
    expect(h.logs.events('METRICS_UNAUTHORIZED').at(-1)).toMatchObject({
      code: 'METRICS_UNAUTHORIZED',
      status: ERRORS.METRICS_UNAUTHORIZED.http,
    });
  });

  it('incoming_call with a bad scheme or CallSid: HTTP_BAD_HOST, HTTP_BAD_CALL_SID, each logged with its code', async () => {
    const badHost = await fetch(`${h.httpBase}/webhook/incoming_call`, {
      method: 'POST',
      headers: { ...FORM, 'x-forwarded-proto': 'ftp' },
      body: 'CallSid=CA1',
    });
    expect(badHost.status).toBe(ERRORS.HTTP_BAD_HOST.http);
    expect(h.logs.events('INCOMING_CALL_BAD_HOST').at(-1)).toMatchObject({ code: 'HTTP_BAD_HOST' });

    const badSid = await fetch(`${h.httpBase}/webhook/incoming_call`, {
      method: 'POST',
      headers: FORM,
      body: `CallSid=${'C'.repeat(65)}`,
    });
    expect(badSid.status).toBe(ERRORS.HTTP_BAD_CALL_SID.http);
    expect(h.logs.events('INCOMING_CALL_BAD_SID').at(-1)).toMatchObject({ code: 'HTTP_BAD_CALL_SID' });
  });

  it('a body in an unknown encoding: HTTP_UNSUPPORTED_ENCODING, with its summary as the body', async () => {
    const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
      method: 'POST',
      headers: { ...FORM, 'content-encoding': 'klingon' },
      body: 'CallSid=CA1',
    });
    expect(res.status).toBe(ERRORS.HTTP_UNSUPPORTED_ENCODING.http);
    expect(await res.text()).toBe(ERRORS.HTTP_UNSUPPORTED_ENCODING.summary);
    expect(h.logs.events('HTTP_BAD_REQUEST').at(-1)).toMatchObject({
      code: 'HTTP_UNSUPPORTED_ENCODING',
      status: ERRORS.HTTP_UNSUPPORTED_ENCODING.http,
    });
  });

  it('a request Node cannot parse: the status line of HTTP_MALFORMED_REQUEST, logged with its code', async () => {
    expect(await firstLine(h.port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')).toBe(
      statusLine('HTTP_MALFORMED_REQUEST'),
    );
    const logged = await eventually(() => h.logs.events('HTTP_CLIENT_ERROR').at(-1));
    expect(logged).toMatchObject({ code: 'HTTP_MALFORMED_REQUEST', reason: expect.stringMatching(/^HPE_/) });
  });

  it('an upgrade on an unknown path: the status line of WS_PATH_UNKNOWN', async () => {
    const res = await rawUpgrade(h.port, '/ws/elsewhere');
    expect(res.statusLine).toBe(statusLine('WS_PATH_UNKNOWN'));
    expect(res.status).toBe(ERRORS.WS_PATH_UNKNOWN.http);
  });

  it('a start without a token: closed with WS_TOKEN_INVALID', async () => {
    const ws = await open(h.wsUrl);
    ws.send(start('CA10000000000000000000000000000001', 'MZerr1', {}));
    expect(await closed(ws)).toBe(ERRORS.WS_TOKEN_INVALID.wsClose);
  });

  it('no start in time: closed with WS_START_TIMEOUT, logged with its code', async () => {
    const ws = await open(h.wsUrl);
    expect(await closed(ws)).toBe(ERRORS.WS_START_TIMEOUT.wsClose);
    expect(h.logs.events('WS_START_TIMEOUT').at(-1)).toMatchObject({ code: 'WS_START_TIMEOUT' });
  });

  it("Twilio's stop: closed with WS_STREAM_STOPPED; the agent hanging up: CALL_ENDED_BY_AGENT", async () => {
    const stopped = await startedCall(h, 'CA10000000000000000000000000000002', 'MZerr2');
    stopped.send(JSON.stringify({ event: 'stop', sequenceNumber: '2', streamSid: 'MZerr2', stop: {} }));
    expect(await closed(stopped)).toBe(ERRORS.WS_STREAM_STOPPED.wsClose);

    const hungUp = await startedCall(h, 'CA10000000000000000000000000000003', 'MZerr3');
    hungUp.send(media('MZerr3'));
    expect(await closed(hungUp)).toBe(ERRORS.CALL_ENDED_BY_AGENT.wsClose);
  });
});

describe('routes and the drain answer with the catalogue', () => {
  it('/healthz while draining: HTTP_DRAINING', async () => {
    const app = express().use(healthRoutes({ isDraining: () => true, deployId: 'd', startedAt: new Date() }));
    expect((await request(app).get('/healthz')).status).toBe(ERRORS.HTTP_DRAINING.http);
  });

  it('the API: CALL_NOT_FOUND, and NOT_FOUND with the status of HTTP_METHOD_NOT_ALLOWED to a PUT', async () => {
    const logger = createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] });
    const reader = {
      listCalls: () => Promise.resolve([]),
      getCall: () => Promise.resolve(undefined),
      recordingPath: () => Promise.resolve(undefined),
    };
    const app = express().use(apiRoutes({ reader, guard: (_req, _res, next) => next(), logger }));
    const missing = await request(app).get('/api/calls/CA10000000000000000000000000000004');
    expect([missing.status, missing.body.error.code]).toEqual([ERRORS.CALL_NOT_FOUND.http, 'CALL_NOT_FOUND']);
    const put = await request(app).put('/api/nowhere');
    expect([put.status, put.body.error.code]).toEqual([ERRORS.HTTP_METHOD_NOT_ALLOWED.http, 'NOT_FOUND']);
  });

  it('the drain timeout closes what is left with WS_DRAIN_TIMEOUT', async () => {
    const logs = new MemoryTransport();
    const codes: number[] = [];
    const exited = new Promise<number>((resolve) => {
      const drain = new Drain({
        logger: createLogger({ level: 'info', format: 'json', transports: [logs] }),
        timeoutMs: 50,
        pollMs: 10,
        activeCalls: () => 1,
        openSockets: () => (codes.length ? 0 : 1),
        pendingStreams: () => 0,
        pendingHoldMs: 0,
        closeAllSockets: (code) => codes.push(code),
        shutdown: () => Promise.resolve(),
        exit: resolve,
      });
      drain.begin('SIGTERM');
    });
    expect(await exited).toBe(0);
    expect(codes).toEqual([ERRORS.WS_DRAIN_TIMEOUT.wsClose]);
    expect(logs.events('DRAIN_TIMEOUT')[0]).toMatchObject({ code: 'WS_DRAIN_TIMEOUT' });
  });
});
