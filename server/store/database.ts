/**
 * Opens the call store's database: SQLite in DATA_DIR by default (Node's built-in node:sqlite, no
 * server, no native build), PostgreSQL when DATABASE_URL is `postgres://…` (the `pg` driver's pool).
 * Both are driven through Kysely, so every query in the store is written once; the schema is
 * brought up to date before the store is used.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest, type StoreSchema } from './schema.ts';
import { openSqlite } from './sqlite.ts';

/** Which database is behind the store. */
export type StoreKind = 'sqlite' | 'postgres';

/** An open database with the current schema. */
export interface StoreDatabase {
  readonly db: Kysely<StoreSchema>;
  readonly kind: StoreKind;
  /** Where it is, without credentials (for logs). */
  readonly where: string;
  /** Migrations applied while opening (empty when the schema was current). */
  readonly migrated: readonly string[];
  /** Closes connections. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Directory of the SQLite file (`calls.db`); created when missing. */
  dataDir: string;
  /** `postgres://…` selects PostgreSQL; unset selects SQLite. */
  databaseUrl?: string | undefined;
  /** PostgreSQL pool size (default 5). */
  poolMax?: number;
  /** PostgreSQL: give up connecting after this long (default 5000 ms), so a dead server fails fast. */
  connectTimeoutMs?: number;
  /** PostgreSQL: server-side statement timeout (default 15000 ms). */
  statementTimeoutMs?: number;
}

/** The store could not be opened or answered with an error: reads answer 503, writes are retried. */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** PostgreSQL's int8 (bigint, count(*)) as a JS number: every value stored here is far below 2^53. */
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * Opens the database and applies pending migrations.
 * @throws StoreUnavailableError with a plain sentence (unreachable server, bad credentials,
 *   unwritable DATA_DIR, failed migration); the gateway refuses to start on it.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<StoreDatabase> {
  let db: Kysely<StoreSchema>;
  let kind: StoreKind;
  let where: string;
  if (opts.databaseUrl) {
    kind = 'postgres';
    where = describePostgres(opts.databaseUrl);
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolMax ?? 5,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: opts.statementTimeoutMs ?? 15_000,
      types: pgTypes,
    });
    // An idle client whose server went away emits 'error' on the pool; without a listener that
    // would be an uncaught exception. The next query reconnects (or fails and is retried).
    pool.on('error', () => undefined);
    // The pool removes that listener while a client is checked out; a socket reset in that window
    // would be emitted on the client with no listener. The query in flight still fails (and the
    // writer retries); the broken client is discarded on release.
    pool.on('connect', (client) => client.on('error', () => undefined));
    db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }) });
  } else {
    kind = 'sqlite';
    const file = path.resolve(opts.dataDir, 'calls.db');
    where = file;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      db = openSqlite(file);
    } catch (err) {
      throw new StoreUnavailableError(`cannot open the SQLite call store at ${file}: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }
  let migrated: string[];
  try {
    migrated = await migrateToLatest(db).catch(async (err: unknown) => {
      // Two processes opening one new SQLite file at once: Kysely's SQLite migration lock is
      // per connection, so the second one's insert of the migration row fails. By the time it
      // looks again the first has finished, and nothing is left to apply.
      if (kind !== 'sqlite') throw err;
      await new Promise((r) => setTimeout(r, 250));
      return migrateToLatest(db);
    });
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw new StoreUnavailableError(`cannot prepare the ${kind} call store at ${where}: ${messageOf(err)}`, {
      cause: err,
    });
  }
  let closed = false;
  return {
    db,
    kind,
    where,
    migrated,
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** host:port/database of a PostgreSQL URL, never its password. */
export function describePostgres(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** An error's message, or its code when the driver left the message empty (e.g. ECONNREFUSED). */
export function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return messageOf(err.errors[0]);
  if (err && typeof err === 'object' && 'message' in err) {
    const e = err as { message?: unknown; code?: unknown; name?: unknown };
    return String(e.message || e.code || e.name || 'error');
  }
  return String(err);
}

/**
 * Whether a failed write is the write's own fault (it would fail again on a healthy database), as
 * opposed to the database being down, locked, slow or restarting. Only such writes are ever
 * dropped by the writer; everything else waits and is retried.
 *  - PostgreSQL: SQLSTATE classes 22 (data exception), 23 (integrity constraint), 42 (syntax or
 *    undefined object).
 *  - SQLite: SQLITE_ERROR, SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_RANGE
 *    (primary result codes 1, 18, 19, 20, 25); SQLITE_BUSY/LOCKED/IOERR/FULL are transient.
 *  - A TypeError (a value the driver cannot bind).
 */
export function isPermanentWriteError(err: unknown): boolean {
  if (err instanceof TypeError) return true;
  const e = err as { code?: unknown; errcode?: unknown };
  if (typeof e?.errcode === 'number') return [1, 18, 19, 20, 25].includes(e.errcode & 0xff);
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return /^(22|23|42)/.test(e.code);
  return false;
}
