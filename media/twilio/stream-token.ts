/**
 * Per-call stream tokens. `incoming_call` puts one in a `<Parameter>` of the TwiML (Twilio strips
 * query strings from stream URLs) and the media socket checks it when `start` arrives, so only a
 * stream that Twilio opened from our own TwiML gets an agent.
 *
 * A token is `issuedAt.nonce.mac` with an HMAC over the call SID, so any instance sharing the key
 * can verify it. When a Twilio auth token is configured the key is derived from it, which lets
 * several gateway instances behind one load balancer accept each other's tokens; otherwise the key
 * is random per process.
 *
 * Rules, in the order they are checked:
 * - a token is usable for the stream-start window after it was issued (`windowMs`), and not if it
 *   claims to be issued later than now + `maxSkewMs`;
 * - with a store that cannot see other processes (not `durable`), a token issued before this process
 *   started is refused: it may have been used before a restart;
 * - each token is used once, and each call gets one stream, ever: a signed `incoming_call` replayed
 *   (Twilio signs no time) yields a token that is valid but whose call has already streamed.
 *
 *   issue ──► pending ──consume──► used        (pending: swept after windowMs, capped at maxPending)
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MemoryUsedTokens, type UsedTokens } from '../../server/used-tokens.ts';

/** Why a token was refused. */
export type TokenRefusal =
  | 'missing'
  | 'malformed'
  | 'forged'
  | 'expired'
  | 'future'
  | 'before-start'
  | 'reused'
  | 'call-streamed'
  | 'store-failed';

/** How long a call's "has streamed" mark is kept: Twilio ends any call after 24 hours at most. */
export const CALL_STREAM_MEMORY_MS = 24 * 3_600_000;

/** Options of {@link StreamTokens}. */
export interface StreamTokenOptions {
  /** Secret the MAC key is derived from; default: 32 random bytes. */
  secret?: string;
  /** How long a token stays usable after it was issued (default 60 s: Twilio connects within seconds). */
  windowMs?: number;
  /** Most tokens waiting for their socket; the oldest are forgotten beyond it (default 10000). */
  maxPending?: number;
  /** How far in the future an issue time may be, for clocks of other instances (default 5 s). */
  maxSkewMs?: number;
  /** Where uses are recorded (default: this process's memory). */
  used?: UsedTokens;
  /** Called with the number of pending tokens whenever it changes (the metrics gauge). */
  onPendingChange?: (pending: number) => void;
  /** Clock, for tests. */
  now?: () => number;
}

/** The verdict on a token. */
export type TokenVerdict = { ok: true } | { ok: false; reason: TokenRefusal };

/** Issues and checks stream tokens. Call {@link close} to stop its sweep timer. */
export class StreamTokens {
  readonly #key: Buffer;
  readonly #windowMs: number;
  readonly #maxPending: number;
  readonly #maxSkewMs: number;
  readonly #used: UsedTokens;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #onPending: (n: number) => void;
  /** token → issue time, in issue order, so the oldest are first (sweep and eviction pop from the front). */
  readonly #pending = new Map<string, number>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(opts: StreamTokenOptions = {}) {
    const secret = opts.secret ?? randomBytes(32).toString('hex');
    this.#key = createHmac('sha256', secret).update('voice-gateway stream token v1').digest();
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#maxPending = opts.maxPending ?? 10_000;
    this.#maxSkewMs = opts.maxSkewMs ?? 5000;
    this.#used = opts.used ?? new MemoryUsedTokens();
    this.#now = opts.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#onPending = opts.onPendingChange ?? (() => undefined);
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#windowMs / 4, 5000));
    this.#sweeper.unref();
  }

  /**
   * A fresh token bound to `callSid` and to the `bound` parameters (the agent, the caller's
   * numbers): a socket that presents other values for them is refused like a forged token, so a
   * caller cannot pick another tenant's agent.
   */
  issue(callSid: string, bound: Readonly<Record<string, string>> = {}): string {
    const now = this.#now();
    const issuedAt = now.toString(36);
    const nonce = randomBytes(9).toString('base64url');
    const token = `${issuedAt}.${nonce}.${this.#mac(callSid, issuedAt, nonce, bound)}`;
    this.#sweep();
    this.#pending.set(token, now);
    while (this.#pending.size > this.#maxPending) this.#pending.delete(this.#pending.keys().next().value!);
    this.#onPending(this.#pending.size);
    return token;
  }

  /**
   * Accepts a token once, and a call's first stream only. `callSid` is the one Twilio reports in
   * `start`; a token issued for another call is refused as forged. Never rejects: a store that
   * fails gives `store-failed`.
   */
  async consume(
    token: string | undefined,
    callSid: string,
    bound: Readonly<Record<string, string>> = {},
  ): Promise<TokenVerdict> {
    const checked = this.#check(token, callSid, bound);
    if (!checked.ok) return checked;
    this.#pending.delete(token!);
    this.#onPending(this.#pending.size);
    try {
      if (!(await this.#used.consume(`stream-token:${checked.nonce}`, checked.expiresAt)))
        return { ok: false, reason: 'reused' };
      if (!(await this.#used.consume(`call-stream:${callSid}`, this.#now() + CALL_STREAM_MEMORY_MS)))
        return { ok: false, reason: 'call-streamed' };
    } catch {
      return { ok: false, reason: 'store-failed' };
    }
    return { ok: true };
  }

  /** Tokens handed out whose stream has not started yet (all within the window). */
  get pending(): number {
    this.#sweep();
    return this.#pending.size;
  }

  /** Stops the sweep timer. Idempotent. */
  close(): void {
    clearInterval(this.#sweeper);
  }

  #check(
    token: string | undefined,
    callSid: string,
    bound: Readonly<Record<string, string>>,
  ): { ok: true; nonce: string; expiresAt: number } | { ok: false; reason: TokenRefusal } {
    if (!token) return { ok: false, reason: 'missing' };
    const parts = token.split('.');
    if (parts.length !== 3 || token.length > 200) return { ok: false, reason: 'malformed' };
    const [issuedAt, nonce, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.#mac(callSid, issuedAt, nonce, bound));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'forged' };
    const issuedMs = parseInt(issuedAt, 36);
    const now = this.#now();
    if (!Number.isFinite(issuedMs)) return { ok: false, reason: 'malformed' };
    if (issuedMs > now + this.#maxSkewMs) return { ok: false, reason: 'future' };
    if (now - issuedMs > this.#windowMs) return { ok: false, reason: 'expired' };
    // No skew allowance here: a restart takes seconds, and a token from just before it may have been used.
    if (!this.#used.durable && issuedMs < this.#startedAt) return { ok: false, reason: 'before-start' };
    return { ok: true, nonce, expiresAt: issuedMs + this.#windowMs };
  }

  #mac(callSid: string, issuedAt: string, nonce: string, bound: Readonly<Record<string, string>>): string {
    const h = createHmac('sha256', this.#key).update(`${callSid}.${issuedAt}.${nonce}`);
    for (const name of Object.keys(bound).sort()) h.update(`\n${name}=${bound[name]}`);
    return h.digest('base64url');
  }

  /** Forgets tokens past the window: they are the oldest, so they sit at the front of the map. */
  #sweep(): void {
    const cutoff = this.#now() - this.#windowMs;
    const before = this.#pending.size;
    for (const [token, at] of this.#pending) {
      if (at >= cutoff) break;
      this.#pending.delete(token);
    }
    if (this.#pending.size !== before) this.#onPending(this.#pending.size);
  }
}
