/**
 * The read API over a real store (SQLite and PostgreSQL), through a real Express app with
 * supertest: list (order, paging, live flag, bad parameters), detail, 404s, the recording with
 * byte ranges, the guard, and 503 JSON without a stack trace when the store fails.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { apiRoutes, localOnly } from '../../routes/api.ts';
import { openStore, type CallStore } from '../../server/store/store.ts';
import { BACKENDS, baseConfig, startBackend, memoryLogger, type Backend } from '../helpers/store-backends.ts';
import { startGateway } from '../helpers/gateway-harness.ts';

jest.setTimeout(60_000);

const NOW = Date.UTC(2026, 2, 10, 9, 0, 0);
const allow: express.RequestHandler = (_req, _res, next) => next();

describe.each(BACKENDS)('read API on %s', (backend) => {
  let b: Backend;
  let store: CallStore;
  let app: express.Express;
  let logs: ReturnType<typeof memoryLogger>['logs'];
  const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(96, 7)]);

  beforeAll(async () => {
    b = await startBackend(backend);
    const mem = memoryLogger();
    logs = mem.logs;
    store = await openStore(await b.fresh(), mem.logger, { startWorkers: false, now: () => NOW });
    app = express();
    app.use(apiRoutes({ reader: store.reader, guard: allow, logger: mem.logger }));
    const w = store.writer;
    // Five ended calls a minute apart, two of them at the same second (ties break by callSid).
    const starts = [NOW - 5 * 60_000, NOW - 4 * 60_000, NOW - 3 * 60_000, NOW - 3 * 60_000, NOW - 2 * 60_000];
    starts.forEach((startedAt, i) => {
      const callSid = `CA${i}`;
      w.enqueue({
        kind: 'call.start',
        callSid,
        streamSid: `MZ${i}`,
        agentId: 'clinic',
        from: '+972501234567',
        to: '+97231234567',
        startedAt,
      });
      for (let t = 0; t < i; t++) w.enqueue({ kind: 'turn', callSid, index: t, callerText: `שאלה ${t}` });
      w.enqueue({ kind: 'call.end', callSid, endedAt: startedAt + 30_000, endReason: 'caller-hangup' });
    });
    w.enqueue({
      kind: 'call.start',
      callSid: 'CAlive',
      streamSid: 'MZlive',
      agentId: 'clinic',
      from: '+972509999999',
      to: '+97231234567',
      startedAt: NOW - 10_000,
    });
    w.enqueue({
      kind: 'turn',
      callSid: 'CAlive',
      index: 0,
      callerText: 'אני רוצה לקבוע תור ל-3 בצהריים',
      agentText: 'בשמחה',
      heardText: 'בשמחה',
      interrupted: false,
      startedAt: NOW - 8000,
      latency: { sttFinalMs: 210, firstMediaMs: 640 },
    });
    w.enqueue({
      kind: 'tool',
      callSid: 'CAlive',
      callId: 'call_1',
      turnIndex: 0,
      name: 'book_slot',
      arguments: { time: '15:00' },
      outcome: 'ok',
      status: 200,
      ms: 120,
      at: NOW - 7000,
    });
    w.enqueue({ kind: 'event', callSid: 'CAlive', t: 2500, at: NOW - 7500, type: 'barge_in', data: { heardMs: 800 } });
    w.enqueue({
      kind: 'usage',
      callSid: 'CAlive',
      sttSeconds: 12,
      ttsChars: 40,
      ttsVoice: 'he-IL-Wavenet-A',
      llmInputTokens: 900,
      llmOutputTokens: 30,
      llmModel: 'gpt-4o-mini',
    });
    w.enqueue({ kind: 'call.recording', callSid: 'CAlive', recordingPath: 'CAlive.wav' });
    w.enqueue({ kind: 'call.recording', callSid: 'CA1', recordingPath: 'missing.wav' });
    await writeFile(path.join(store.recordingsDir, 'CAlive.wav'), wav);
    expect(await w.drain()).toBe(0);
  });
  afterAll(async () => {
    await store?.close(1000);
    await b?.stop();
  });

  it('lists calls newest first with turn counts, live calls included', async () => {
    const res = await request(app).get('/api/calls');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.calls.map((c: { callSid: string }) => c.callSid)).toEqual([
      'CAlive',
      'CA4',
      'CA3',
      'CA2',
      'CA1',
      'CA0',
    ]);
    expect(res.body.calls[0]).toEqual({
      callSid: 'CAlive',
      agentId: 'clinic',
      from: '+972509999999',
      to: '+97231234567',
      startedAt: new Date(NOW - 10_000).toISOString(),
      endedAt: null,
      durationMs: null,
      endReason: null,
      turnCount: 1,
      live: true,
    });
    expect(res.body.calls[1]).toMatchObject({
      callSid: 'CA4',
      turnCount: 4,
      live: false,
      durationMs: 30_000,
      endReason: 'caller-hangup',
    });
    expect(res.body.nextBefore).toBeNull();
  });

  it('pages with limit and a callSid cursor, or an ISO time', async () => {
    const first = await request(app).get('/api/calls?limit=2');
    expect(first.body.calls.map((c: { callSid: string }) => c.callSid)).toEqual(['CAlive', 'CA4']);
    expect(first.body.nextBefore).toBe('CA4');
    const second = await request(app).get(`/api/calls?limit=2&before=${first.body.nextBefore}`);
    expect(second.body.calls.map((c: { callSid: string }) => c.callSid)).toEqual(['CA3', 'CA2']);
    const third = await request(app).get(`/api/calls?limit=2&before=${second.body.nextBefore}`);
    expect(third.body.calls.map((c: { callSid: string }) => c.callSid)).toEqual(['CA1', 'CA0']);
    const byTime = await request(app).get(`/api/calls?before=${new Date(NOW - 3 * 60_000).toISOString()}`);
    expect(byTime.body.calls.map((c: { callSid: string }) => c.callSid)).toEqual(['CA1', 'CA0']);
  });

  it.each([
    ['limit=0', 'BAD_LIMIT'],
    ['limit=201', 'BAD_LIMIT'],
    ['limit=ten', 'BAD_LIMIT'],
    ['limit=1&limit=2', 'BAD_LIMIT'],
    ['before=yesterday%20noon', 'BAD_CURSOR'],
    ['before=2026-13-45T99:00:00Z', 'BAD_CURSOR'],
    ['before=CAnot-a-call', 'BAD_CURSOR'],
  ])('answers 400 JSON for %s', async (query, code) => {
    const res = await request(app).get(`/api/calls?${query}`);
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/json');
    expect(res.body.error.code).toBe(code);
  });

  it('answers one call with its turns, tool calls, events and priced usage', async () => {
    const res = await request(app).get('/api/calls/CAlive');
    expect(res.status).toBe(200);
    expect(res.body.call).toEqual({
      callSid: 'CAlive',
      streamSid: 'MZlive',
      agentId: 'clinic',
      from: '+972509999999',
      to: '+97231234567',
      startedAt: new Date(NOW - 10_000).toISOString(),
      endedAt: null,
      durationMs: null,
      endReason: null,
      live: true,
      recording: true,
    });
    expect(res.body.turns).toEqual([
      {
        index: 0,
        callerText: 'אני רוצה לקבוע תור ל-3 בצהריים',
        agentText: 'בשמחה',
        heardText: 'בשמחה',
        interrupted: false,
        startedAt: new Date(NOW - 8000).toISOString(),
        latency: {
          sttFinalMs: 210,
          committedMs: null,
          llmRequestMs: null,
          firstTokenMs: null,
          firstSentenceMs: null,
          ttsStartMs: null,
          ttsDoneMs: null,
          firstMediaMs: 640,
          firstMarkMs: null,
          overheadMs: null,
        },
      },
    ]);
    expect(res.body.toolCalls).toEqual([
      {
        callId: 'call_1',
        turnIndex: 0,
        name: 'book_slot',
        arguments: { time: '15:00' },
        outcome: 'ok',
        status: 200,
        ms: 120,
        at: new Date(NOW - 7000).toISOString(),
      },
    ]);
    expect(res.body.events).toEqual([
      { t: 2500, at: new Date(NOW - 7500).toISOString(), type: 'barge_in', data: { heardMs: 800 } },
    ]);
    expect(res.body.usage).toEqual({
      sttSeconds: 12,
      ttsChars: 40,
      llmInputTokens: 900,
      llmOutputTokens: 30,
      costUsd: 0.005113, // 12/60 × 0.024 + 40e-6 × 4 + 900e-6 × 0.15 + 30e-6 × 0.6
      unpriced: [],
    });
  });

  it('answers 404 JSON for an unknown call, its recording, and unknown /api paths', async () => {
    for (const url of [
      '/api/calls/CAnope',
      '/api/calls/CAnope/recording',
      '/api/calls/CA1/recording',
      '/api/nothing',
    ]) {
      const res = await request(app).get(url);
      expect([url, res.status, res.type]).toEqual([url, 404, 'application/json']);
      expect(res.body.error.code).toMatch(/NOT_FOUND/);
    }
    const bad = await request(app).get('/api/calls/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(bad.text).not.toMatch(/at .*\.ts/);
  });

  it('streams the recording as audio/wav, with byte ranges', async () => {
    const whole = await request(app).get('/api/calls/CAlive/recording').buffer(true).parse(binary);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('audio/wav');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(Buffer.compare(whole.body as Buffer, wav)).toBe(0);

    const part = await request(app)
      .get('/api/calls/CAlive/recording')
      .set('Range', 'bytes=4-9')
      .buffer(true)
      .parse(binary);
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 4-9/${wav.length}`);
    expect(Buffer.compare(part.body as Buffer, wav.subarray(4, 10))).toBe(0);

    const tail = await request(app)
      .get('/api/calls/CAlive/recording')
      .set('Range', 'bytes=-4')
      .buffer(true)
      .parse(binary);
    expect(Buffer.compare(tail.body as Buffer, wav.subarray(-4))).toBe(0);

    const outside = await request(app).get('/api/calls/CAlive/recording').set('Range', 'bytes=5000-');
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${wav.length}`);
  });

  it('puts every route behind the guard', async () => {
    const deny: express.RequestHandler = (_req, res) => void res.status(401).json({ error: { code: 'UNAUTHORIZED' } });
    const guarded = express().use(apiRoutes({ reader: store.reader, guard: deny, logger: memoryLogger().logger }));
    for (const url of ['/api/calls', '/api/calls/CAlive', '/api/calls/CAlive/recording', '/api/other']) {
      expect((await request(guarded).get(url)).status).toBe(401);
    }
  });

  it('answers 503 JSON without a stack trace when the store fails', async () => {
    const { logger } = memoryLogger();
    const broken = await openStore(await b.fresh(), logger, { startWorkers: false });
    await broken.database.close();
    const app2 = express().use(apiRoutes({ reader: broken.reader, guard: allow, logger }));
    for (const url of ['/api/calls', '/api/calls/CA1', '/api/calls/CA1/recording']) {
      const res = await request(app2).get(url);
      expect([url, res.status]).toEqual([url, 503]);
      expect(res.body).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: expect.any(String) } });
      expect(res.text).not.toMatch(/\.ts:\d+|node_modules|Error:/);
    }
    await broken.close(100);
    expect(logs.events('API_INTERNAL_ERROR')).toEqual([]);
  });
});

/** A supertest body parser that keeps the raw bytes (the response is a stream in Node). */
function binary(res: request.Response, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}

describe('the API in the gateway', () => {
  it('is served under /api when the gateway has a store, to loopback peers only by default', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'api-gw-'));
    const { logger } = memoryLogger();
    const store = await openStore(baseConfig(dataDir), logger, { startWorkers: false });
    const h = await startGateway({}, { store });
    try {
      store.writer.enqueue({
        kind: 'call.start',
        callSid: 'CAgw',
        streamSid: 'MZgw',
        agentId: 'a',
        from: '+1',
        to: '+2',
        startedAt: NOW,
      });
      expect(await store.writer.drain()).toBe(0);
      const res = await request(h.gateway.server).get('/api/calls');
      expect(res.status).toBe(200);
      expect(res.body.calls.map((c: { callSid: string }) => c.callSid)).toEqual(['CAgw']);
      expect((await request(h.gateway.server).get('/api/calls/CAnope')).status).toBe(404);
    } finally {
      await h.stop();
      await store.close(1000);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses peers that are not loopback (by socket address, not by header)', () => {
    const answer = (remoteAddress: string) => {
      let status = 0;
      let passed = false;
      const res = { status: (s: number) => ((status = s), res), set: () => res, json: () => res };
      const req = { socket: { remoteAddress }, headers: { 'x-forwarded-for': '127.0.0.1' } };
      localOnly(req as never, res as never, () => (passed = true));
      return passed ? 'next' : status;
    };
    expect(answer('127.0.0.1')).toBe('next');
    expect(answer('::1')).toBe('next');
    expect(answer('::ffff:127.0.0.1')).toBe('next');
    expect(answer('10.0.0.5')).toBe(403);
    expect(answer('::ffff:192.0.2.1')).toBe(403);
  });
});
