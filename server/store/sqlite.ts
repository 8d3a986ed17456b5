/**
 * Kysely over Node's built-in `node:sqlite` (`DatabaseSync`). Kysely's SqliteDialect expects a
 * better-sqlite3-like database; this adapter is that shape: `prepare()` returns a statement that
 * says whether it reads (it has result columns, which covers `insert … returning` too) and runs
 * with an array of parameters. Booleans become 0/1 and `undefined` becomes NULL, the two values
 * Kysely may pass that `node:sqlite` refuses to bind.
 *
 * node:sqlite is synchronous: each statement runs on the event loop. Statements here are small
 * (batched upserts of a second of a call's records), the file runs in WAL mode with
 * synchronous=NORMAL (a commit does not wait for fsync of the main file), and prepared statements
 * are cached, so a batch costs a few milliseconds at most.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { StoreSchema } from './schema.ts';

/** How many distinct SQL texts keep their prepared statement (Kysely's SQL texts repeat). */
const STATEMENT_CACHE = 200;

/**
 * How long a write waits for another connection's lock before SQLITE_BUSY. Short, because the
 * wait blocks the event loop; the writer retries a failed batch anyway. SQLite is meant for one
 * gateway process: several instances share PostgreSQL.
 */
const BUSY_TIMEOUT_MS = 200;

/** Opens (creating when missing) the SQLite file and returns a Kysely instance on it. */
export function openSqlite(file: string): Kysely<StoreSchema> {
  const raw = new DatabaseSync(file);
  raw.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS};`);
  return new Kysely<StoreSchema>({ dialect: new SqliteDialect({ database: new NodeSqliteDatabase(raw) }) });
}

/** The better-sqlite3-like face Kysely's SqliteDialect calls. */
export class NodeSqliteDatabase implements SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  close(): void {
    this.#cache.clear();
    if (this.#db.isOpen) this.#db.close();
  }

  prepare(sql: string): SqliteStatement {
    let stmt = this.#cache.get(sql);
    if (stmt) {
      // Re-insert: the Map's order is the least-recently-used order.
      this.#cache.delete(sql);
    } else {
      stmt = this.#db.prepare(sql);
      if (this.#cache.size >= STATEMENT_CACHE) this.#cache.delete(this.#cache.keys().next().value as string);
    }
    this.#cache.set(sql, stmt);
    return new NodeSqliteStatement(stmt);
  }
}

class NodeSqliteStatement implements SqliteStatement {
  readonly #stmt: StatementSync;
  readonly reader: boolean;

  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
    this.reader = stmt.columns().length > 0;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#stmt.all(...bind(parameters));
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#stmt.run(...bind(parameters));
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#stmt.iterate(...bind(parameters));
  }
}

function bind(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((p): SQLInputValue => {
    if (p === undefined || p === null) return null;
    if (typeof p === 'boolean') return p ? 1 : 0;
    if (typeof p === 'number' || typeof p === 'bigint' || typeof p === 'string') return p;
    if (ArrayBuffer.isView(p)) return p as SQLInputValue;
    throw new TypeError(`cannot bind a ${typeof p} as an SQLite parameter`);
  });
}
