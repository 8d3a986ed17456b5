/**
 * The writer while its database is unreachable: ops wait in the bounded buffer and are all written
 * when it returns (below the cap), the least valuable are dropped and counted above it, and one
 * write the database refuses for good does not hold the others back.
 *
 * "Unreachable" is real on each backend: PostgreSQL is reached through a TCP relay the test cuts
 * (connections reset, new ones refused); SQLite is held by another connection's exclusive lock.
 */
import net from 'node:net';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openStore, type CallStore } from '../../server/store/store.ts';
import type { StoreConfig } from '../../config/config.ts';
import { BACKENDS, startBackend, memoryLogger, until, type Backend } from '../helpers/store-backends.ts';
import type { MemoryTransport } from '../../server/logger.ts';

jest.setTimeout(90_000);

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

/** Breaks and restores a store's access to its database. */
interface Outage {
  config: StoreConfig;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL behind a relay: `cut` resets every connection and refuses new ones. */
async function relayOutage(config: StoreConfig): Promise<Outage> {
  const target = new URL(config.databaseUrl as string);
  let down = false;
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    if (down) return client.resetAndDestroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const via = new URL(target);
  via.port = String((relay.address() as net.AddressInfo).port);
  return {
    config: { ...config, databaseUrl: via.toString() },
    cut: async () => {
      down = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    restore: async () => {
      down = false;
    },
    close: () => new Promise<void>((r) => relay.close(() => r())),
  };
}

/** SQLite held by another connection's exclusive transaction: writes get SQLITE_BUSY. */
async function lockOutage(config: StoreConfig): Promise<Outage> {
  let holder: DatabaseSync | undefined;
  return {
    config,
    cut: async () => {
      holder = new DatabaseSync(path.resolve(config.dataDir, 'calls.db'));
      holder.exec('BEGIN EXCLUSIVE');
    },
    restore: async () => {
      holder?.exec('COMMIT');
      holder?.close();
      holder = undefined;
    },
    close: async () => holder?.close(),
  };
}

describe.each(BACKENDS)('store writer with the database down, on %s', (backend) => {
  let b: Backend;
  let store: CallStore | undefined;
  let outage: Outage | undefined;
  beforeAll(async () => {
    b = await startBackend(backend);
  });
  afterEach(async () => {
    await outage?.restore();
    await store?.close(1000);
    await outage?.close();
    store = outage = undefined;
  });
  afterAll(async () => {
    await b?.stop();
  });

  async function setUp(bufferOps: number): Promise<{ store: CallStore; outage: Outage; logs: MemoryTransport }> {
    const config = await b.fresh({ bufferOps });
    outage = backend === 'postgres' ? await relayOutage(config) : await lockOutage(config);
    const { logger, logs } = memoryLogger();
    store = await openStore(outage.config, logger, {
      startWorkers: false,
      writer: { flushIntervalMs: 50, retry: { initialMs: 50, maxMs: 400 } },
    });
    return { store, outage, logs };
  }

  it('keeps every op below the cap while the database is down and writes them when it returns', async () => {
    const { store, outage, logs } = await setUp(200);
    await outage.cut();
    store.writer.enqueue({
      kind: 'call.start',
      callSid: 'CA-down',
      streamSid: 'MZ1',
      agentId: 'a',
      from: '+1',
      to: '+2',
      startedAt: T0,
    });
    for (let i = 0; i < 60; i++)
      store.writer.enqueue({ kind: 'turn', callSid: 'CA-down', index: i, callerText: `turn ${i}` });
    for (let i = 0; i < 100; i++)
      store.writer.enqueue({ kind: 'event', callSid: 'CA-down', t: i, at: T0 + i, type: 'tick' });
    await until(() => logs.events('STORE_WRITE_FAILED').length >= 2, 'failed write attempts');
    expect(store.writer.stats).toMatchObject({ buffered: 161, written: 0, failing: true, dropped: {} });

    await outage.restore();
    await until(() => store.writer.stats.written === 161, 'the buffer to be written after the outage');
    expect(logs.events('STORE_RECOVERED')).toHaveLength(1);
    const doc = await store.reader.getCall('CA-down');
    expect(doc?.turns).toHaveLength(60);
    expect(doc?.events.map((e) => e.t)).toEqual([...Array(100).keys()]);
    expect(store.writer.stats.dropped).toEqual({});
  });

  it('drops the least valuable ops first above the cap, counts them and logs STORE_DROPPED', async () => {
    const { store, outage, logs } = await setUp(100);
    await outage.cut();
    store.writer.enqueue({
      kind: 'call.start',
      callSid: 'CA-full',
      streamSid: 'MZ2',
      agentId: 'a',
      from: '+1',
      to: '+2',
      startedAt: T0,
    });
    for (let i = 0; i < 150; i++)
      store.writer.enqueue({ kind: 'event', callSid: 'CA-full', t: i, at: T0 + i, type: 'tick' });
    for (let i = 0; i < 30; i++)
      store.writer.enqueue({ kind: 'turn', callSid: 'CA-full', index: i, callerText: `turn ${i}` });
    expect(store.writer.stats.buffered).toBe(100);
    expect(store.writer.stats.dropped).toEqual({ event: 81 });
    expect(logs.events('STORE_DROPPED')[0]).toMatchObject({ dropped: { event: 1 }, buffered: 100 });

    await outage.restore();
    await until(() => store.writer.stats.written === 100, 'the buffer to be written');
    const doc = await store.reader.getCall('CA-full');
    expect(doc?.turns).toHaveLength(30);
    // Events 99–149 found the buffer full of equally worthless events and were dropped on arrival;
    // each turn then pushed out the oldest waiting event (0–29). Events 30–98 remain.
    expect(doc?.events.map((e) => e.t)).toEqual(Array.from({ length: 69 }, (_, i) => 30 + i));
  });

  it('drain waits for the database within its timeout and reports what is left', async () => {
    const { store, outage, logs } = await setUp(200);
    await outage.cut();
    store.writer.enqueue({
      kind: 'call.start',
      callSid: 'CA-late',
      streamSid: 'MZ3',
      agentId: 'a',
      from: '+1',
      to: '+2',
      startedAt: T0,
    });
    expect(await store.writer.drain(300)).toBe(1);
    expect(logs.events('STORE_DRAIN_INCOMPLETE')).toEqual([expect.objectContaining({ left: 1 })]);
    setTimeout(() => void outage.restore(), 300);
    expect(await store.writer.drain(10_000)).toBe(0);
    expect((await store.reader.getCall('CA-late'))?.call.streamSid).toBe('MZ3');
  });

  if (backend === 'postgres') {
    it('drops only the op PostgreSQL refuses for good (a NUL character) and writes the rest of its batch', async () => {
      const { store, logs } = await setUp(200);
      store.writer.enqueue({
        kind: 'call.start',
        callSid: 'CA-nul',
        streamSid: 'MZ4',
        agentId: 'a',
        from: '+1',
        to: '+2',
        startedAt: T0,
      });
      store.writer.enqueue({ kind: 'event', callSid: 'CA-nul', t: 1, at: T0, type: 'before' });
      store.writer.enqueue({ kind: 'event', callSid: 'CA-nul', t: 2, at: T0, type: 'bad\u0000type' });
      store.writer.enqueue({ kind: 'event', callSid: 'CA-nul', t: 3, at: T0, type: 'after' });
      await until(
        () => store.writer.stats.rejected === 1 && store.writer.stats.buffered === 0,
        'the bad op to be dropped',
      );
      expect(store.writer.stats.written).toBe(3);
      expect((await store.reader.getCall('CA-nul'))?.events.map((e) => e.type)).toEqual(['before', 'after']);
      expect(logs.events('STORE_OP_REJECTED')).toEqual([expect.objectContaining({ kind: 'event', callSid: 'CA-nul' })]);
    });
  }
});
