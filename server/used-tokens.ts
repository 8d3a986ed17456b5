/**
 * Single use of stream tokens (and of a call's one stream), as a store: `consume` records an id and
 * says whether it was new. The in-memory store here only knows what this process consumed; a store
 * shared by every instance and surviving restarts (the call database) implements the same interface
 * and sets `durable`.
 */

/** Where uses of single-use ids are recorded. */
export interface UsedTokens {
  /**
   * Records `tokenId` as used until `expiresAt` (epoch ms; it may be forgotten after that).
   * Resolves true when it was not used before, false when it was. Atomic: of two concurrent calls
   * with one id, exactly one gets true. Rejects only when the store cannot answer (the caller then
   * refuses the stream: an unknown answer is not a yes).
   */
  consume(tokenId: string, expiresAt: number): Promise<boolean>;
  /**
   * True when uses recorded by earlier runs and by other instances are seen (a shared database).
   * Default false: the gateway then refuses tokens issued before this process started, since it
   * cannot know whether they were used.
   */
  readonly durable?: boolean;
}

/** Options of {@link MemoryUsedTokens}. */
export interface MemoryUsedTokensOptions {
  /** Most ids kept; beyond it the entries closest to expiry are dropped first. Default 200000. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * The in-process store: a map of id → expiry, swept of expired entries as it goes and capped, so no
 * amount of traffic can grow it without bound. Not durable.
 */
export class MemoryUsedTokens implements UsedTokens {
  readonly durable = false;
  readonly #used = new Map<string, number>();
  readonly #max: number;
  readonly #now: () => number;
  #sweptAt = 0;

  constructor(opts: MemoryUsedTokensOptions = {}) {
    this.#max = opts.maxEntries ?? 200_000;
    this.#now = opts.now ?? Date.now;
  }

  consume(tokenId: string, expiresAt: number): Promise<boolean> {
    const now = this.#now();
    this.#sweep(now);
    const known = this.#used.get(tokenId);
    if (known !== undefined && known >= now) return Promise.resolve(false);
    this.#used.delete(tokenId);
    this.#used.set(tokenId, expiresAt);
    // Map keeps insertion order; ids are inserted roughly in expiry order, so the first is the oldest.
    while (this.#used.size > this.#max) this.#used.delete(this.#used.keys().next().value!);
    return Promise.resolve(true);
  }

  /** Ids currently remembered (for tests and metrics). */
  get size(): number {
    return this.#used.size;
  }

  /** Drops expired entries, at most once a second (a full scan is cheap at that rate). */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 1000) return;
    this.#sweptAt = now;
    for (const [id, expiry] of this.#used) if (expiry < now) this.#used.delete(id);
  }
}
