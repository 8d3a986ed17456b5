/**
 * The post-call webhook against a receiver that fails on purpose: retries with backoff, timeouts
 * and resets, survival across a restart of the store and its worker, leases between two
 * instances, and giving up after the max age. The receiver checks what a CRM would check: the
 * signature over the raw body and the Idempotency-Key.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore, type CallStore, type OpenStoreOptions } from '../../server/store/store.ts';
import { verifySignature, SIGNATURE_HEADERS } from '../../server/signing.ts';
import type { StoreConfig } from '../../config/config.ts';
import type { MemoryTransport } from '../../server/logger.ts';
import { BACKENDS, startBackend, memoryLogger, until, type Backend } from '../helpers/store-backends.ts';

jest.setTimeout(90_000);

const SECRET = 'whsec-test-0123456789';
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

type Answer = number | 'hang' | 'reset';
interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  raw: string;
  signed: boolean;
}

/** A CRM endpoint: answers with `script` in turn (the last answer repeats) and records each request. */
async function startReceiver(script: Answer[]) {
  const received: Received[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const signed = verifySignature(
        SECRET,
        {
          timestamp: req.headers[SIGNATURE_HEADERS.timestamp] as string | undefined,
          signature: req.headers[SIGNATURE_HEADERS.signature] as string | undefined,
        },
        raw,
      );
      received.push({ at: Date.now(), headers: req.headers, raw, signed });
      const answer = script[Math.min(n++, script.length - 1)] as Answer;
      if (answer === 'hang') return;
      if (answer === 'reset') return void req.socket.resetAndDestroy();
      res.writeHead(answer, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/calls`,
    received,
    set script(s: Answer[]) {
      script = s;
      n = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe.each(BACKENDS)('post-call webhook on %s', (backend) => {
  let b: Backend;
  const stores: CallStore[] = [];
  const receivers: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    b = await startBackend(backend);
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close(1000);
    for (const r of receivers.splice(0)) await r.close();
  });
  afterAll(async () => {
    await b?.stop();
  });

  async function receiver(script: Answer[]) {
    const r = await startReceiver(script);
    receivers.push(r);
    return r;
  }

  async function open(
    config: StoreConfig,
    opts: OpenStoreOptions = {},
  ): Promise<{ store: CallStore; logs: MemoryTransport }> {
    const { logger, logs } = memoryLogger();
    const store = await openStore(config, logger, {
      writer: { flushIntervalMs: 20 },
      webhook: { pollMs: 20, baseDelayMs: 100, timeoutMs: 300 },
      ...opts,
    });
    stores.push(store);
    return { store, logs };
  }

  function endCall(store: CallStore, callSid: string, endedAt = Date.now()) {
    store.writer.enqueue({
      kind: 'call.start',
      callSid,
      streamSid: `MZ-${callSid}`,
      agentId: 'main',
      from: '+972501234567',
      to: '+97231234567',
      startedAt: endedAt - 30_000,
    });
    store.writer.enqueue({ kind: 'turn', callSid, index: 0, callerText: 'שלום', agentText: 'שלום לך' });
    store.writer.enqueue({ kind: 'call.end', callSid, endedAt, endReason: 'caller-hangup' });
  }

  const outboxRow = (store: CallStore, callSid: string) =>
    store.database.db.selectFrom('webhook_outbox').selectAll().where('call_sid', '=', callSid).executeTakeFirst();

  it('retries a failing receiver with doubling delays, then delivers the signed record once it answers 2xx', async () => {
    const crm = await receiver([500, 503, 200]);
    const { store, logs } = await open(await b.fresh({ callWebhookUrl: crm.url, webhookSecret: SECRET }));
    endCall(store, 'CA-retry');
    await until(() => logs.events('WEBHOOK_DELIVERED').length === 1, 'delivery');

    expect(crm.received).toHaveLength(3);
    const gaps = crm.received.slice(1).map((r, i) => r.at - (crm.received[i] as Received).at);
    expect(gaps[0]).toBeGreaterThanOrEqual(90); // 100 ms
    expect(gaps[1]).toBeGreaterThanOrEqual(190); // 200 ms
    expect(logs.events('WEBHOOK_RETRY').map((r) => [r.attempt, r.status])).toEqual([
      [1, 500],
      [2, 503],
    ]);
    expect(logs.events('WEBHOOK_DELIVERED')[0]).toMatchObject({ callSid: 'CA-retry', attempts: 3, status: 200 });
    const doc = await store.reader.getCall('CA-retry');
    for (const r of crm.received) {
      expect(r.signed).toBe(true);
      expect(r.headers['idempotency-key']).toBe('CA-retry');
      expect(r.headers['content-type']).toBe('application/json');
      expect(JSON.parse(r.raw)).toEqual(doc);
    }
    expect(await outboxRow(store, 'CA-retry')).toMatchObject({ status: 'delivered', attempts: 3, last_status: 200 });
  });

  it('retries after a timeout and a connection reset', async () => {
    const crm = await receiver(['hang', 'reset', 204]);
    const { store, logs } = await open(await b.fresh({ callWebhookUrl: crm.url, webhookSecret: SECRET }));
    endCall(store, 'CA-net');
    await until(() => logs.events('WEBHOOK_DELIVERED').length === 1, 'delivery', 20_000);
    const errors = logs.events('WEBHOOK_RETRY').map((r) => String(r.error));
    expect(errors[0]).toMatch(/timeout after 300 ms/);
    expect(errors[1]).toMatch(/fetch failed/);
    expect(crm.received).toHaveLength(3);
  });

  it('survives a restart: a new store and worker pick up the undelivered row and deliver it', async () => {
    const crm = await receiver([503]);
    const config = await b.fresh({ callWebhookUrl: crm.url, webhookSecret: SECRET });
    const first = await open(config, { webhook: { pollMs: 20, baseDelayMs: 300, timeoutMs: 300 } });
    endCall(first.store, 'CA-restart');
    await until(() => first.logs.events('WEBHOOK_RETRY').length >= 1, 'a failed attempt');
    await first.store.close();
    const attemptsBefore = crm.received.length;
    expect(await (async () => (await openRowOnly(config))?.status)()).toBe('pending');

    crm.script = [200];
    const second = await open(config);
    await until(() => second.logs.events('WEBHOOK_DELIVERED').length === 1, 'delivery by the new instance');
    expect(crm.received.length).toBe(attemptsBefore + 1);
    const last = crm.received.at(-1) as Received;
    expect(last.signed).toBe(true);
    expect(last.headers['idempotency-key']).toBe('CA-restart');
    expect(JSON.parse(last.raw).call.callSid).toBe('CA-restart');
    expect(await outboxRow(second.store, 'CA-restart')).toMatchObject({ status: 'delivered' });

    async function openRowOnly(c: StoreConfig) {
      const { store } = await open(c, { startWorkers: false });
      const row = await outboxRow(store, 'CA-restart');
      await store.close();
      return row;
    }
  });

  it('sends each call once when two instances deliver the same outbox (leases)', async () => {
    const crm = await receiver([200]);
    const config = await b.fresh({ callWebhookUrl: crm.url, webhookSecret: SECRET });
    const a = await open(config, { startWorkers: false });
    const other = await open(config, { startWorkers: false });
    const sids = Array.from({ length: 6 }, (_, i) => `CA-lease-${i}`);
    for (const sid of sids) endCall(a.store, sid);
    expect(await a.store.writer.drain()).toBe(0);
    await Promise.all([a.store.webhook?.runOnce(), other.store.webhook?.runOnce(), a.store.webhook?.runOnce()]);
    const keys = crm.received.map((r) => r.headers['idempotency-key']).sort();
    expect(keys).toEqual([...sids].sort());
  });

  it('gives up once the max age after the call has passed (1 s, 2 s, 4 s… before that)', async () => {
    const crm = await receiver([500]);
    let clock = T0;
    const config = await b.fresh({ callWebhookUrl: crm.url, webhookSecret: SECRET, callWebhookMaxAgeS: 60 });
    const { store, logs } = await open(config, {
      startWorkers: false,
      now: () => clock,
      webhook: { timeoutMs: 2000 },
    });
    endCall(store, 'CA-old', clock);
    expect(await store.writer.drain()).toBe(0);
    const worker = store.webhook;
    if (!worker) throw new Error('no webhook worker');

    const nextAt: number[] = [];
    for (const step of [0, 1000, 2000, 4000]) {
      clock += step;
      expect(await worker.runOnce()).toBe(1);
      nextAt.push(Number((await outboxRow(store, 'CA-old'))?.next_attempt_at) - clock);
    }
    expect(nextAt).toEqual([1000, 2000, 4000, 8000]);
    // Not due yet: nothing is sent.
    expect(await worker.runOnce()).toBe(0);

    clock = T0 + 60_000;
    expect(await worker.runOnce()).toBe(1);
    expect(await outboxRow(store, 'CA-old')).toMatchObject({ status: 'gave_up', attempts: 5, last_status: 500 });
    expect(logs.events('WEBHOOK_GAVE_UP')).toEqual([expect.objectContaining({ callSid: 'CA-old', attempts: 5 })]);
    clock += 3_600_000;
    expect(await worker.runOnce()).toBe(0);
    expect(crm.received).toHaveLength(5);
  });

  it('queues nothing when no webhook URL is configured', async () => {
    const { store } = await open(await b.fresh());
    expect(store.webhook).toBeUndefined();
    endCall(store, 'CA-none');
    expect(await store.writer.drain()).toBe(0);
    expect(await outboxRow(store, 'CA-none')).toBeUndefined();
    expect((await store.reader.getCall('CA-none'))?.call.endReason).toBe('caller-hangup');
  });
});
