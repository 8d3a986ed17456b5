/**
 * Retention and housekeeping, on a timer: calls that started more than RETENTION_DAYS ago are
 * deleted with their turns, tool calls, events, usage, ending and webhook row, and their recording
 * files; recording files older than that with no call left are deleted too. Expired ending
 * decisions and used stream tokens are swept on the same pass. RETENTION_DAYS=0 keeps calls
 * forever (the other sweeps still run).
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger.ts';
import { messageOf } from './database.ts';
import { recordingFile } from './recordings.ts';
import { CALL_TABLES, type StoreSchema } from './schema.ts';
import { TOKEN_SKEW_MS } from './tokens.ts';

/** Options of {@link Retention}. */
export interface RetentionOptions {
  db: Kysely<StoreSchema>;
  logger: Logger;
  /** RETENTION_DAYS; 0 keeps calls. */
  retentionDays: number;
  /** DATA_DIR/recordings. */
  recordingsDir: string;
  /** Time between sweeps (default 1 hour); the first runs at start. */
  everyMs?: number;
  now?: () => number;
}

/** What one sweep removed. */
export interface SweepResult {
  calls: number;
  recordings: number;
  endings: number;
  tokens: number;
}

const DAY_MS = 86_400_000;
const CHUNK = 200;

/** Periodic deletion of old records. */
export class Retention {
  readonly #o: Required<RetentionOptions>;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SweepResult | undefined> | undefined;

  constructor(opts: RetentionOptions) {
    this.#o = { everyMs: 3_600_000, now: Date.now, ...opts };
  }

  /** Sweeps now and then every `everyMs`. Idempotent. */
  start(): void {
    if (this.#timer || this.#abort.signal.aborted) return;
    const tick = () => void this.sweep();
    this.#timer = setInterval(tick, this.#o.everyMs);
    this.#timer.unref();
    tick();
  }

  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  /** One sweep (joined if one is running). Failures are logged (RETENTION_FAILED), never thrown. */
  sweep(): Promise<SweepResult | undefined> {
    this.#running ??= this.#sweep()
      .catch((err: unknown) => {
        this.#o.logger.error('RETENTION_FAILED', { error: messageOf(err) });
        return undefined;
      })
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(): Promise<SweepResult> {
    const { db, logger } = this.#o;
    const now = this.#o.now();
    const result: SweepResult = { calls: 0, recordings: 0, endings: 0, tokens: 0 };
    if (this.#o.retentionDays > 0) {
      const cutoff = now - this.#o.retentionDays * DAY_MS;
      for (;;) {
        if (this.#abort.signal.aborted) break;
        const old = await db
          .selectFrom('calls')
          .select(['call_sid', 'recording_path'])
          .where('started_at', '<', cutoff)
          .limit(CHUNK)
          .execute();
        if (old.length === 0) break;
        const sids = old.map((c) => c.call_sid);
        await db.transaction().execute(async (trx) => {
          for (const table of CALL_TABLES) await trx.deleteFrom(table).where('call_sid', 'in', sids).execute();
          await trx.deleteFrom('calls').where('call_sid', 'in', sids).execute();
        });
        result.calls += old.length;
        for (const c of old) {
          const file = recordingFile(this.#o.recordingsDir, c.recording_path);
          if (file && (await removeFile(file, logger))) result.recordings++;
        }
        if (old.length < CHUNK) break;
      }
      result.recordings += await this.#orphanRecordings(cutoff);
    }
    const endings = await db.deleteFrom('call_endings').where('expires_at', '<', now).executeTakeFirst();
    result.endings = Number(endings.numDeletedRows);
    const tokens = await db
      .deleteFrom('used_tokens')
      .where('expires_at', '<', now - TOKEN_SKEW_MS)
      .executeTakeFirst();
    result.tokens = Number(tokens.numDeletedRows);
    logger.info('RETENTION_SWEEP', { ...result, retentionDays: this.#o.retentionDays });
    return result;
  }

  /** Recording files (up to three folders deep) last written before the cutoff. */
  async #orphanRecordings(cutoff: number): Promise<number> {
    let removed = 0;
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return; // no recordings dir yet
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory() && depth < 3) await walk(full, depth + 1);
        else if (e.isFile()) {
          const st = await stat(full).catch(() => undefined);
          if (st && st.mtimeMs < cutoff && (await removeFile(full, this.#o.logger))) removed++;
        }
      }
    };
    await walk(this.#o.recordingsDir, 0);
    return removed;
  }
}

async function removeFile(file: string, logger: Logger): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn('RETENTION_FILE_FAILED', { file, error: messageOf(err) });
    }
    return false;
  }
}
