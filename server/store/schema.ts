/**
 * The call store's schema: the table types Kysely checks queries against, and the migrations that
 * create them. One schema for SQLite and PostgreSQL, written with Kysely's schema builder so the
 * same code creates both; column types are the portable subset (text, integer, bigint, double
 * precision, boolean), times are epoch milliseconds in bigint columns (no timezone or driver date
 * conversion to get wrong), and JSON is stored as text.
 *
 * Migrations run at start-up through Kysely's Migrator with an in-code provider (no migration files
 * to ship next to a bundled build); applying them twice is a no-op, and the Migrator's own lock keeps
 * two instances starting at once from racing.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/** calls: one row per call, written at start, heartbeated while live, completed at the end. */
export interface CallsTable {
  call_sid: string;
  stream_sid: string;
  agent_id: string;
  from_number: string;
  to_number: string;
  started_at: number;
  ended_at: number | null;
  duration_ms: number | null;
  end_reason: string | null;
  recording_path: string | null;
  instance: string;
  last_seen_at: number;
}

/** turns: upserted by (call_sid, turn_index); a turn is written early and completed later. */
export interface TurnsTable {
  call_sid: string;
  turn_index: number;
  caller_text: string | null;
  agent_text: string | null;
  heard_text: string | null;
  interrupted: boolean | number;
  started_at: number | null;
  /** JSON object of latency components (ms or null). */
  latency: string | null;
}

/** tool_calls: one row per (call_sid, call_id). */
export interface ToolCallsTable {
  call_sid: string;
  call_id: string;
  turn_index: number;
  name: string;
  /** JSON. */
  arguments: string;
  outcome: string;
  status: number | null;
  ms: number;
  at: number;
}

/** events: notable moments; `event_id` is unique per writer so a retried batch cannot duplicate. */
export interface EventsTable {
  event_id: string;
  call_sid: string;
  t: number;
  at: number;
  type: string;
  /** JSON. */
  data: string | null;
}

/** usage: accumulated per call. */
export interface UsageTable {
  call_sid: string;
  stt_seconds: number;
  tts_chars: number;
  llm_input_tokens: number;
  llm_output_tokens: number;
  tts_voice: string | null;
  llm_model: string | null;
}

/** call_endings: what `<Connect action>` answers, readable by any instance. */
export interface CallEndingsTable {
  call_sid: string;
  action: string;
  target_number: string | null;
  send_digits: string | null;
  caller_id: string | null;
  summary: string | null;
  expires_at: number;
}

/** used_tokens: stream tokens already consumed, kept until they expire. */
export interface UsedTokensTable {
  token_id: string;
  expires_at: number;
}

/** webhook_outbox: one post-call webhook per call, delivered at least once. */
export interface WebhookOutboxTable {
  call_sid: string;
  ended_at: number;
  status: 'pending' | 'delivered' | 'gave_up';
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  done_at: number | null;
}

/** The whole database, as Kysely sees it. */
export interface StoreSchema {
  calls: CallsTable;
  turns: TurnsTable;
  tool_calls: ToolCallsTable;
  events: EventsTable;
  usage: UsageTable;
  call_endings: CallEndingsTable;
  used_tokens: UsedTokensTable;
  webhook_outbox: WebhookOutboxTable;
}

/** Tables that hold a call's record, deleted together by retention. */
export const CALL_TABLES = ['turns', 'tool_calls', 'events', 'usage', 'call_endings', 'webhook_outbox'] as const;

const init: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('calls')
      .ifNotExists()
      .addColumn('call_sid', 'text', (c) => c.primaryKey())
      .addColumn('stream_sid', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('from_number', 'text', (c) => c.notNull())
      .addColumn('to_number', 'text', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('ended_at', 'bigint')
      .addColumn('duration_ms', 'bigint')
      .addColumn('end_reason', 'text')
      .addColumn('recording_path', 'text')
      .addColumn('instance', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('calls_started_at')
      .ifNotExists()
      .on('calls')
      .columns(['started_at', 'call_sid'])
      .execute();

    await db.schema
      .createTable('turns')
      .ifNotExists()
      .addColumn('call_sid', 'text', (c) => c.notNull())
      .addColumn('turn_index', 'integer', (c) => c.notNull())
      .addColumn('caller_text', 'text')
      .addColumn('agent_text', 'text')
      .addColumn('heard_text', 'text')
      .addColumn('interrupted', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('started_at', 'bigint')
      .addColumn('latency', 'text')
      .addPrimaryKeyConstraint('turns_pk', ['call_sid', 'turn_index'])
      .execute();

    await db.schema
      .createTable('tool_calls')
      .ifNotExists()
      .addColumn('call_sid', 'text', (c) => c.notNull())
      .addColumn('call_id', 'text', (c) => c.notNull())
      .addColumn('turn_index', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('arguments', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('status', 'integer')
      .addColumn('ms', 'bigint', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('tool_calls_pk', ['call_sid', 'call_id'])
      .execute();

    await db.schema
      .createTable('events')
      .ifNotExists()
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('call_sid', 'text', (c) => c.notNull())
      .addColumn('t', 'bigint', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('data', 'text')
      .execute();
    await db.schema.createIndex('events_call').ifNotExists().on('events').columns(['call_sid', 't']).execute();

    await db.schema
      .createTable('usage')
      .ifNotExists()
      .addColumn('call_sid', 'text', (c) => c.primaryKey())
      .addColumn('stt_seconds', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('tts_chars', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('llm_input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('llm_output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('tts_voice', 'text')
      .addColumn('llm_model', 'text')
      .execute();

    await db.schema
      .createTable('call_endings')
      .ifNotExists()
      .addColumn('call_sid', 'text', (c) => c.primaryKey())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_number', 'text')
      .addColumn('send_digits', 'text')
      .addColumn('caller_id', 'text')
      .addColumn('summary', 'text')
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('used_tokens')
      .ifNotExists()
      .addColumn('token_id', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('used_tokens_expiry').ifNotExists().on('used_tokens').column('expires_at').execute();

    await db.schema
      .createTable('webhook_outbox')
      .ifNotExists()
      .addColumn('call_sid', 'text', (c) => c.primaryKey())
      .addColumn('ended_at', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('done_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('webhook_outbox_due')
      .ifNotExists()
      .on('webhook_outbox')
      .columns(['status', 'next_attempt_at'])
      .execute();
  },
  async down(db: Kysely<any>) {
    for (const table of ['webhook_outbox', 'used_tokens', 'call_endings', 'usage', 'events', 'tool_calls', 'turns']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
    await db.schema.dropTable('calls').ifExists().execute();
  },
};

/** Every migration, by name; names sort in the order they apply. Never edit one that shipped. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({ '0001_call_store': init });

const provider: MigrationProvider = { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) };

/**
 * Brings the database to the latest schema. Idempotent: already-applied migrations are skipped.
 * @returns names of the migrations applied now (empty when the schema was current).
 * @throws Error naming the failed migration (the database is left as the migration's own
 *   transaction leaves it: PostgreSQL rolls DDL back; SQLite migrations are written to be re-runnable).
 */
export async function migrateToLatest(db: Kysely<StoreSchema>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'store_migrations',
    migrationLockTableName: 'store_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(unknown)';
    throw new Error(`store migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Liveness probe used to tell "database down" from "this write is bad". */
export async function ping(db: Kysely<StoreSchema>): Promise<void> {
  await sql`select 1`.execute(db);
}
