/**
 * The call store's two databases for contract tests: every store suite runs once on SQLite (a temp
 * dir) and once on a real PostgreSQL (tests/helpers/postgres.ts). `fresh()` gives a config for a new,
 * empty database each time, so tests never see each other's rows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StoreConfig } from '../../config/config.ts';
import { createLogger, MemoryTransport, type Logger } from '../../server/logger.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/** The names the suites are parameterised with. */
export const BACKENDS = ['sqlite', 'postgres'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** A started backend. */
export interface Backend {
  readonly name: BackendName;
  /** A config for a new empty database (and its own DATA_DIR). */
  fresh(overrides?: Partial<StoreConfig>): Promise<StoreConfig>;
  /** The PostgreSQL server, on the postgres backend. */
  readonly pg: TestPostgres | undefined;
  stop(): Promise<void>;
}

/** Starts a backend (PostgreSQL takes a second or two). */
export async function startBackend(name: BackendName): Promise<Backend> {
  const dirs: string[] = [];
  const pg = name === 'postgres' ? await startPostgres() : undefined;
  let first = true;
  return {
    name,
    pg,
    fresh: async (overrides = {}) => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), `store-${name}-`));
      dirs.push(dataDir);
      let databaseUrl: string | undefined;
      if (pg) {
        databaseUrl = first ? pg.url : await pg.createDatabase();
        first = false;
      }
      return { ...baseConfig(dataDir), databaseUrl, ...overrides };
    },
    stop: async () => {
      await pg?.stop();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}

/** The store settings with their documented defaults, in `dataDir`. */
export function baseConfig(dataDir: string): StoreConfig {
  return {
    dataDir,
    databaseUrl: undefined,
    retentionDays: 30,
    callWebhookUrl: undefined,
    callWebhookMaxAgeS: 86_400,
    webhookSecret: undefined,
    pricesFile: undefined,
    bufferOps: 20_000,
  };
}

/** A logger whose records the test can read. */
export function memoryLogger(): { logger: Logger; logs: MemoryTransport } {
  const logs = new MemoryTransport();
  return { logs, logger: createLogger({ level: 'debug', format: 'json', transports: [logs] }) };
}

/** Polls until `check` resolves truthy, or fails after `timeoutMs` naming `what`. */
export async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
