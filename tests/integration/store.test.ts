/**
 * The call store's contract, run on SQLite and on a real PostgreSQL: migrations, batched ordered
 * writes, drain, live calls, ending decisions and single-use tokens across instances, usage.
 */
import { openStore, type CallStore, type OpenStoreOptions } from '../../server/store/store.ts';
import { migrateToLatest } from '../../server/store/schema.ts';
import { EndingInvalidError, MemoryCallEndings, type CallEndings } from '../../server/store/endings.ts';
import { MemoryUsedTokens } from '../../server/store/tokens.ts';
import { parseConfig, ConfigError, type StoreConfig } from '../../config/config.ts';
import { BACKENDS, startBackend, memoryLogger, until, type Backend } from '../helpers/store-backends.ts';

jest.setTimeout(60_000);

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const start = (callSid: string, startedAt = T0) =>
  ({
    kind: 'call.start',
    callSid,
    streamSid: `MZ${callSid}`,
    agentId: 'main',
    from: '+972501234567',
    to: '+97231234567',
    startedAt,
  }) as const;

describe.each(BACKENDS)('call store on %s', (backend) => {
  let b: Backend;
  const open: CallStore[] = [];
  beforeAll(async () => {
    b = await startBackend(backend);
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close(1000);
  });
  afterAll(async () => {
    await b?.stop();
  });

  async function openOn(config: StoreConfig, opts: OpenStoreOptions = {}) {
    const { logger, logs } = memoryLogger();
    const store = await openStore(config, logger, { startWorkers: false, ...opts });
    open.push(store);
    return { store, logs };
  }

  it('applies its migrations once: a second open and a second run change nothing, data stays', async () => {
    const config = await b.fresh();
    const { store: first } = await openOn(config);
    expect(first.database.migrated).toEqual(['0001_call_store']);
    expect(first.kind).toBe(backend);
    first.writer.enqueue(start('CA-migrate'));
    await first.close();

    const { store: second } = await openOn(config);
    expect(second.database.migrated).toEqual([]);
    expect(await migrateToLatest(second.database.db)).toEqual([]);
    expect((await second.reader.getCall('CA-migrate'))?.call.from).toBe('+972501234567');
  });

  it('writes ops in batches, in order, after they were enqueued (a later turn upsert completes an earlier one)', async () => {
    const { store } = await openOn(await b.fresh(), { writer: { flushIntervalMs: 300 } });
    const w = store.writer;
    w.enqueue(start('CA-order'));
    w.enqueue({ kind: 'turn', callSid: 'CA-order', index: 0, callerText: 'שלום', startedAt: T0 + 1000 });
    w.enqueue({ kind: 'turn', callSid: 'CA-order', index: 0, agentText: 'היי, במה אפשר לעזור?' });
    w.enqueue({
      kind: 'turn',
      callSid: 'CA-order',
      index: 0,
      callerText: 'שלום, אני רוצה לקבוע תור',
      heardText: 'היי, במה',
      interrupted: true,
      latency: { sttFinalMs: 120, firstTokenMs: 400, firstMediaMs: null },
    });
    for (let i = 0; i < 40; i++) {
      w.enqueue({ kind: 'event', callSid: 'CA-order', t: 2000 + i, at: T0 + 2000 + i, type: 'tick', data: { i } });
    }
    // Nothing is written on enqueue: the media path never waits for the database.
    expect(await store.reader.getCall('CA-order')).toBeUndefined();
    await until(() => w.stats.written === 44, 'the batch to be written');
    expect(w.stats.batches).toBe(1);

    const doc = await store.reader.getCall('CA-order');
    expect(doc?.turns).toEqual([
      {
        index: 0,
        callerText: 'שלום, אני רוצה לקבוע תור',
        agentText: 'היי, במה אפשר לעזור?',
        heardText: 'היי, במה',
        interrupted: true,
        startedAt: new Date(T0 + 1000).toISOString(),
        latency: expect.objectContaining({ sttFinalMs: 120, firstTokenMs: 400, firstMediaMs: null, ttsDoneMs: null }),
      },
    ]);
    expect(doc?.events.map((e) => (e.data as { i: number }).i)).toEqual([...Array(40).keys()]);
  });

  it('drain writes everything buffered before close, and a new store reads it', async () => {
    const config = await b.fresh();
    const { store } = await openOn(config, { writer: { flushIntervalMs: 60_000 } });
    store.writer.enqueue(start('CA-drain'));
    for (let i = 0; i < 5; i++)
      store.writer.enqueue({ kind: 'turn', callSid: 'CA-drain', index: i, callerText: `t${i}` });
    store.writer.enqueue({ kind: 'call.end', callSid: 'CA-drain', endedAt: T0 + 65_000, endReason: 'caller-hangup' });
    expect(store.writer.stats.written).toBe(0);
    expect(await store.close()).toBe(0);

    const { store: again } = await openOn(config);
    const doc = await again.reader.getCall('CA-drain');
    expect(doc?.turns.map((t) => t.callerText)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(doc?.call).toMatchObject({
      endedAt: new Date(T0 + 65_000).toISOString(),
      durationMs: 65_000,
      endReason: 'caller-hangup',
    });
  });

  it('counts a malformed op instead of throwing, and writes the rest', async () => {
    const { store, logs } = await openOn(await b.fresh(), { writer: { flushIntervalMs: 50 } });
    store.writer.enqueue(start('CA-bad'));
    expect(() => store.writer.enqueue({ kind: 'turn', callSid: 'CA-bad', index: -1 })).not.toThrow();
    expect(() => store.writer.enqueue({ kind: 'nope' } as never)).not.toThrow();
    expect(() => store.writer.enqueue(null as never)).not.toThrow();
    await until(() => store.writer.stats.written === 1, 'the valid op');
    expect(store.writer.stats.invalid).toBe(3);
    expect(logs.events('STORE_OP_INVALID')[0]).toMatchObject({ dropped: { 'invalid:turn': 1 } });
  });

  it('shows a call as live while its writer heartbeats, and not once it ended or its process is gone', async () => {
    let clock = T0;
    const config = await b.fresh();
    const opts = { now: () => clock, writer: { flushIntervalMs: 20, heartbeatMs: 1000 } };
    const { store } = await openOn(config, opts);
    store.writer.enqueue(start('CA-live', clock));
    store.writer.enqueue(start('CA-done', clock));
    store.writer.enqueue({ kind: 'call.end', callSid: 'CA-done', endedAt: clock + 10, endReason: 'agent-hangup' });
    await until(() => store.writer.stats.written === 3, 'the calls');
    const live = async (sid: string) => (await store.reader.listCalls(10))?.find((c) => c.callSid === sid)?.live;
    expect(await live('CA-live')).toBe(true);
    expect(await live('CA-done')).toBe(false);

    // Ten heartbeats later the call is still live: the writer refreshed it.
    clock += 10_000;
    await until(async () => await live('CA-live'), 'the heartbeat to refresh the call');

    // The process goes away without ending the call: three heartbeats later it is no longer live.
    await store.writer.close();
    clock += 3001;
    expect(await live('CA-live')).toBe(false);
  });

  it('accumulates usage and prices it', async () => {
    const { store } = await openOn(await b.fresh(), { writer: { flushIntervalMs: 20 } });
    store.writer.enqueue(start('CA-usage'));
    store.writer.enqueue({
      kind: 'usage',
      callSid: 'CA-usage',
      sttSeconds: 30,
      ttsChars: 400_000,
      ttsVoice: 'he-IL-Wavenet-A',
    });
    store.writer.enqueue({
      kind: 'usage',
      callSid: 'CA-usage',
      sttSeconds: 30,
      llmInputTokens: 1_000_000,
      llmOutputTokens: 500_000,
      llmModel: 'gpt-4o-mini',
    });
    await until(() => store.writer.stats.written === 3, 'the usage');
    const usage = (await store.reader.getCall('CA-usage'))?.usage;
    // 1 min × 0.024 + 0.4 M chars × 4 + 1 M × 0.15 + 0.5 M × 0.6
    expect(usage).toEqual({
      sttSeconds: 60,
      ttsChars: 400_000,
      llmInputTokens: 1_000_000,
      llmOutputTokens: 500_000,
      costUsd: 0.024 + 1.6 + 0.15 + 0.3,
      unpriced: [],
    });
  });

  describe('ending decisions', () => {
    const transfer = (expiresAt: number) => ({
      action: 'transfer' as const,
      target: { number: '+97231234567', sendDigits: 'ww123' },
      callerId: '+97231234500',
      summary: 'לקוח שרוצה לקבוע תור',
      expiresAt,
    });

    async function contract(a: CallEndings, b2: CallEndings) {
      await a.put('CA-end-1', transfer(Date.now() + 60_000));
      expect(await b2.get('CA-end-1')).toEqual(transfer(expect.any(Number) as unknown as number));
      await a.put('CA-end-2', { action: 'hangup', expiresAt: Date.now() - 1 });
      expect(await b2.get('CA-end-2')).toBeUndefined();
      expect(await b2.get('CA-unknown')).toBeUndefined();
      await expect(a.put('CA-end-3', { action: 'transfer', expiresAt: Date.now() + 60_000 })).rejects.toThrow(
        EndingInvalidError,
      );
      await expect(
        a.put('CA-end-3', { ...transfer(Date.now() + 60_000), target: { number: '0501234567' } }),
      ).rejects.toThrow(/E\.164/);
      await expect(a.put('CA-end-3', { action: 'explode' as never, expiresAt: Date.now() + 60_000 })).rejects.toThrow(
        /action/,
      );
      expect(await b2.get('CA-end-3')).toBeUndefined();
      // A new decision replaces the old one.
      await a.put('CA-end-1', { action: 'apology', expiresAt: Date.now() + 60_000 });
      expect((await b2.get('CA-end-1'))?.action).toBe('apology');
    }

    it('are read by another store instance (any instance answers <Connect action>)', async () => {
      const config = await b.fresh();
      const { store: a } = await openOn(config);
      const { store: other } = await openOn(config);
      await contract(a.endings, other.endings);
    });

    it('behave the same in memory', async () => {
      const mem = new MemoryCallEndings();
      await contract(mem, mem);
    });
  });

  describe('stream tokens', () => {
    it('are accepted once across instances and after reopening, never when expired', async () => {
      const config = await b.fresh();
      const { store: a } = await openOn(config);
      const { store: other } = await openOn(config);
      const exp = Date.now() + 60_000;
      expect(await a.tokens.consumeToken('tok-1', exp)).toBe(true);
      expect(await other.tokens.consumeToken('tok-1', exp)).toBe(false);
      expect(await a.tokens.consumeToken('tok-1', exp)).toBe(false);
      expect(await a.tokens.consumeToken('tok-past', Date.now() - 1)).toBe(false);

      const racers = await Promise.all([
        ...Array.from({ length: 5 }, () => a.tokens.consumeToken('tok-race', exp)),
        ...Array.from({ length: 5 }, () => other.tokens.consumeToken('tok-race', exp)),
      ]);
      expect(racers.filter(Boolean)).toHaveLength(1);

      await a.close();
      await other.close();
      const { store: reopened } = await openOn(config);
      expect(await reopened.tokens.consumeToken('tok-1', exp)).toBe(false);
      expect(await reopened.tokens.consumeToken('tok-2', exp)).toBe(true);
    });

    it('in memory: once per process', async () => {
      const mem = new MemoryUsedTokens();
      const exp = Date.now() + 60_000;
      expect(await mem.consumeToken('x', exp)).toBe(true);
      expect(await mem.consumeToken('x', exp)).toBe(false);
      expect(await mem.consumeToken('y', Date.now() - 1)).toBe(false);
    });
  });
});

describe('store settings', () => {
  it('have documented defaults', () => {
    expect(parseConfig({}).store).toEqual({
      dataDir: './data',
      databaseUrl: undefined,
      retentionDays: 30,
      callWebhookUrl: undefined,
      callWebhookMaxAgeS: 86_400,
      webhookSecret: undefined,
      pricesFile: undefined,
      bufferOps: 20_000,
    });
  });

  it('accept only a postgres:// DATABASE_URL, and never echo it back', () => {
    expect(parseConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/calls' }).store.databaseUrl).toBe(
      'postgresql://u:p@db:5432/calls',
    );
    for (const bad of ['mysql://u:secretpw@db/calls', 'sqlite:./x.db', './calls.db']) {
      let err: unknown;
      try {
        parseConfig({ DATABASE_URL: bad, CALL_WEBHOOK_URL: 'ftp://x', CALL_WEBHOOK_MAX_AGE_S: '0' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toEqual([
        expect.stringMatching(/^DATABASE_URL: expected a PostgreSQL URL/),
        expect.stringMatching(/^CALL_WEBHOOK_URL: expected an absolute http\(s\) URL/),
        expect.stringMatching(/^CALL_WEBHOOK_MAX_AGE_S: expected at least 1/),
      ]);
      expect(problems.join()).not.toContain('secretpw');
    }
  });
});
