/**
 * Retention on SQLite and PostgreSQL: calls older than RETENTION_DAYS go with everything recorded
 * about them and their recording files; newer calls, and files outside the recordings dir, stay.
 */
import { mkdir, utimes, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import { openStore, type CallStore } from '../../server/store/store.ts';
import { BACKENDS, startBackend, memoryLogger, type Backend } from '../helpers/store-backends.ts';

jest.setTimeout(60_000);

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const exists = (f: string) =>
  access(f).then(
    () => true,
    () => false,
  );

describe.each(BACKENDS)('retention on %s', (backend) => {
  let b: Backend;
  let store: CallStore | undefined;
  beforeAll(async () => {
    b = await startBackend(backend);
  });
  afterEach(async () => {
    await store?.close(1000);
    store = undefined;
  });
  afterAll(async () => {
    await b?.stop();
  });

  function record(s: CallStore, callSid: string, startedAt: number, recordingPath: string | null) {
    const w = s.writer;
    w.enqueue({ kind: 'call.start', callSid, streamSid: 'MZ', agentId: 'a', from: '+1', to: '+2', startedAt });
    w.enqueue({ kind: 'turn', callSid, index: 0, callerText: 'שלום' });
    w.enqueue({
      kind: 'tool',
      callSid,
      callId: 'c1',
      turnIndex: 0,
      name: 'book',
      arguments: { day: 'א' },
      outcome: 'ok',
      status: 200,
      ms: 80,
      at: startedAt + 5,
    });
    w.enqueue({ kind: 'event', callSid, t: 10, at: startedAt + 10, type: 'barge_in' });
    w.enqueue({ kind: 'usage', callSid, sttSeconds: 3 });
    w.enqueue({ kind: 'call.end', callSid, endedAt: startedAt + 60_000, endReason: 'caller-hangup', recordingPath });
  }

  it('deletes calls older than RETENTION_DAYS with their rows and recordings, and keeps the rest', async () => {
    const config = await b.fresh({ retentionDays: 30, callWebhookUrl: 'http://127.0.0.1:9/unused' });
    const { logger, logs } = memoryLogger();
    store = await openStore(config, logger, { startWorkers: false, now: () => NOW });
    const rec = store.recordingsDir;
    await mkdir(path.join(rec, '2026-04'), { recursive: true });
    const oldFile = path.join(rec, '2026-04', 'CA-old.wav');
    const newFile = path.join(rec, 'CA-new.wav');
    const orphan = path.join(rec, 'stray-old.wav');
    const outside = path.join(config.dataDir, 'outside.wav');
    for (const f of [oldFile, newFile, orphan, outside]) await writeFile(f, 'RIFF');
    const longAgo = new Date(NOW - 40 * DAY);
    await utimes(orphan, longAgo, longAgo);
    await utimes(outside, longAgo, longAgo);

    record(store, 'CA-old', NOW - 31 * DAY, '2026-04/CA-old.wav');
    record(store, 'CA-escape', NOW - 31 * DAY, '../outside.wav');
    record(store, 'CA-new', NOW - 29 * DAY, 'CA-new.wav');
    await store.endings.put('CA-new', { action: 'hangup', expiresAt: NOW - 1000 }); // expired: swept too
    expect(await store.writer.drain()).toBe(0);

    const result = await store.retention.sweep();
    expect(result).toEqual({ calls: 2, recordings: 2, endings: 1, tokens: 0 });
    expect(logs.events('RETENTION_SWEEP')).toEqual([expect.objectContaining({ calls: 2, recordings: 2 })]);

    expect(await store.reader.getCall('CA-old')).toBeUndefined();
    expect(await store.reader.getCall('CA-escape')).toBeUndefined();
    const db = store.database.db;
    for (const table of ['turns', 'tool_calls', 'events', 'usage', 'webhook_outbox', 'call_endings'] as const) {
      const left = await db.selectFrom(table).select('call_sid').execute();
      expect([table, left.map((r) => r.call_sid)]).toEqual([table, table === 'call_endings' ? [] : ['CA-new']]);
    }
    expect(await exists(oldFile)).toBe(false);
    expect(await exists(orphan)).toBe(false);
    expect(await exists(newFile)).toBe(true);
    expect(await exists(outside)).toBe(true); // a stored path never reaches outside the recordings dir
    const kept = await store.reader.getCall('CA-new');
    expect(kept?.call.recording).toBe(true);
    expect(kept?.turns).toHaveLength(1);
  });

  it('keeps everything with RETENTION_DAYS=0', async () => {
    const config = await b.fresh({ retentionDays: 0 });
    const { logger } = memoryLogger();
    store = await openStore(config, logger, { startWorkers: false, now: () => NOW });
    record(store, 'CA-ancient', NOW - 3650 * DAY, null);
    expect(await store.writer.drain()).toBe(0);
    expect(await store.retention.sweep()).toMatchObject({ calls: 0 });
    expect(await store.reader.getCall('CA-ancient')).toBeDefined();
  });
});
