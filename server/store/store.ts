/**
 * The call store, assembled: the database (SQLite or PostgreSQL, migrated), the batched writer the
 * voice pipeline enqueues to, the reader behind the API, ending decisions, used stream tokens, the
 * post-call webhook worker and retention. `openStore` at start-up, `close` before exit (it drains
 * the writer first, so nothing buffered is lost on a clean shutdown).
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { StoreConfig } from '../../config/config.ts';
import type { Logger } from '../logger.ts';
import { loadPrices, type PriceTable } from './costs.ts';
import { openDatabase, type StoreDatabase, type StoreKind } from './database.ts';
import { StoreCallEndings, type CallEndings } from './endings.ts';
import { LIVE_HEARTBEATS } from './heartbeat.ts';
import { StoreReader } from './reader.ts';
import { recordingsDirOf } from './recordings.ts';
import { Retention } from './retention.ts';
import { StoreUsedTokens, type UsedTokens } from './tokens.ts';
import { WebhookWorker, type WebhookWorkerOptions } from './webhook.ts';
import { StoreWriter, type StoreWriterOptions } from './writer.ts';

/** An open call store. */
export interface CallStore {
  readonly kind: StoreKind;
  /** Where the data is (file path or postgres://host:port/db, no credentials). */
  readonly where: string;
  /** This process's name in calls.instance and webhook leases. */
  readonly instance: string;
  readonly database: StoreDatabase;
  readonly writer: StoreWriter;
  readonly reader: StoreReader;
  readonly endings: CallEndings;
  readonly tokens: UsedTokens;
  readonly prices: PriceTable;
  /** DATA_DIR/recordings (created at open). */
  readonly recordingsDir: string;
  /** The webhook worker, when CALL_WEBHOOK_URL is set. */
  readonly webhook: WebhookWorker | undefined;
  readonly retention: Retention;
  /**
   * Drains the writer (within `drainTimeoutMs`, default 5000), stops the workers and closes the
   * database. Idempotent. @returns ops left unwritten (0 normally).
   */
  close(drainTimeoutMs?: number): Promise<number>;
}

/** Options of {@link openStore} (tests and tools tune timings here). */
export interface OpenStoreOptions {
  instance?: string;
  now?: () => number;
  writer?: Partial<Pick<StoreWriterOptions, 'flushIntervalMs' | 'batchMaxOps' | 'heartbeatMs' | 'retry'>>;
  webhook?: Partial<Pick<WebhookWorkerOptions, 'pollMs' | 'timeoutMs' | 'baseDelayMs' | 'concurrency'>>;
  retentionEveryMs?: number;
  /** Start the webhook worker and retention timers (default true). */
  startWorkers?: boolean;
}

/**
 * Opens the store described by `config`.
 * @throws PricesFileError (bad PRICES_FILE) or StoreUnavailableError (database cannot be opened or
 *   migrated); the gateway does not start on either.
 */
export async function openStore(config: StoreConfig, logger: Logger, opts: OpenStoreOptions = {}): Promise<CallStore> {
  const prices = loadPrices(config.pricesFile);
  const recordingsDir = recordingsDirOf(config.dataDir);
  mkdirSync(recordingsDir, { recursive: true });
  const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const { db } = database;
  const now = opts.now ?? Date.now;
  const instance = opts.instance ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const heartbeatMs = opts.writer?.heartbeatMs ?? 10_000;

  const writer = new StoreWriter({
    db,
    logger,
    instance,
    outbox: config.callWebhookUrl !== undefined,
    capOps: config.bufferOps,
    now,
    ...opts.writer,
    heartbeatMs,
  });
  const reader = new StoreReader({ db, prices, recordingsDir, liveWindowMs: LIVE_HEARTBEATS * heartbeatMs, now });
  const webhook = config.callWebhookUrl
    ? new WebhookWorker({
        db,
        reader,
        logger,
        url: config.callWebhookUrl,
        secret: config.webhookSecret,
        maxAgeS: config.callWebhookMaxAgeS,
        owner: instance,
        now,
        ...opts.webhook,
      })
    : undefined;
  const retention = new Retention({
    db,
    logger,
    retentionDays: config.retentionDays,
    recordingsDir,
    now,
    ...(opts.retentionEveryMs ? { everyMs: opts.retentionEveryMs } : {}),
  });
  if (opts.startWorkers ?? true) {
    webhook?.start();
    retention.start();
  }
  logger.info('STORE_OPEN', {
    kind: database.kind,
    where: database.where,
    migrated: database.migrated,
    webhook: webhook !== undefined,
    retentionDays: config.retentionDays,
  });

  let closing: Promise<number> | undefined;
  const close = (drainTimeoutMs = 5000): Promise<number> => {
    closing ??= (async () => {
      const left = await writer.close(drainTimeoutMs);
      await webhook?.close();
      await retention.close();
      await database.close();
      logger.info('STORE_CLOSED', { left });
      return left;
    })();
    return closing;
  };

  return {
    kind: database.kind,
    where: database.where,
    instance,
    database,
    writer,
    reader,
    endings: new StoreCallEndings(db, now),
    tokens: new StoreUsedTokens(db, now),
    prices,
    recordingsDir,
    webhook,
    retention,
    close,
  };
}
