/**
 * Single use of stream tokens across restarts and instances: a token id is recorded the first time
 * it is consumed, by a unique insert, so exactly one consumer anywhere wins. Rows live until the
 * token has expired (plus a clock-skew margin) and are then swept: an expired token is refused by
 * its own expiry check, so its row is no longer needed.
 */
import type { Kysely } from 'kysely';
import { StoreUnavailableError, messageOf } from './database.ts';
import type { StoreSchema } from './schema.ts';

/** Records token use. */
export interface UsedTokens {
  /**
   * True only for the first use of `tokenId` anywhere; false for a reuse or an already expired
   * token. @throws StoreUnavailableError when the database cannot answer (the caller decides
   * whether to refuse the stream; refusing is the safe choice).
   */
  consumeToken(tokenId: string, expiresAt: number): Promise<boolean>;
}

/** Rows are kept this long past their token's expiry, for instances whose clocks disagree. */
export const TOKEN_SKEW_MS = 5 * 60_000;
const SWEEP_EVERY_MS = 60_000;

/** Token use recorded in the call store (table used_tokens). */
export class StoreUsedTokens implements UsedTokens {
  readonly #db: Kysely<StoreSchema>;
  readonly #now: () => number;
  #lastSweep = 0;

  constructor(db: Kysely<StoreSchema>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async consumeToken(tokenId: string, expiresAt: number): Promise<boolean> {
    if (typeof tokenId !== 'string' || tokenId.length === 0 || tokenId.length > 256) return false;
    const now = this.#now();
    if (!Number.isFinite(expiresAt) || expiresAt <= now) return false;
    try {
      if (now - this.#lastSweep >= SWEEP_EVERY_MS) {
        this.#lastSweep = now;
        await this.#db
          .deleteFrom('used_tokens')
          .where('expires_at', '<', now - TOKEN_SKEW_MS)
          .execute();
      }
      const r = await this.#db
        .insertInto('used_tokens')
        .values({ token_id: tokenId, expires_at: Math.round(expiresAt) })
        .onConflict((oc) => oc.column('token_id').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    } catch (err) {
      throw new StoreUnavailableError(`recording a stream token's use failed: ${messageOf(err)}`, { cause: err });
    }
  }
}

/** Token use in this process only (no store), bounded to `max` ids (default 100000), expired ones swept. */
export class MemoryUsedTokens implements UsedTokens {
  readonly #used = new Map<string, number>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: { max?: number; now?: () => number } = {}) {
    this.#max = opts.max ?? 100_000;
    this.#now = opts.now ?? Date.now;
  }

  consumeToken(tokenId: string, expiresAt: number): Promise<boolean> {
    const now = this.#now();
    if (!Number.isFinite(expiresAt) || expiresAt <= now || this.#used.has(tokenId)) return Promise.resolve(false);
    for (const [id, exp] of this.#used) {
      if (exp >= now - TOKEN_SKEW_MS && this.#used.size < this.#max) break;
      this.#used.delete(id);
    }
    this.#used.set(tokenId, expiresAt);
    return Promise.resolve(true);
  }
}
