/**
 * Per-call stream tokens. `incoming_call` puts one in a `<Parameter>` of the TwiML (Twilio strips
 * query strings from stream URLs) and the media socket checks it when `start` arrives, so only a
 * stream that Twilio opened from our own TwiML gets an agent.
 *
 * A token is `issuedAt.nonce.mac` with an HMAC over the call SID, so any instance sharing the key
 * can verify it (no shared store), and each token is accepted once per process. When a Twilio
 * auth token is configured the key is derived from it, which lets several gateway instances behind
 * one load balancer accept each other's tokens; otherwise the key is random per process.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Why a token was refused. */
export type TokenRefusal = 'missing' | 'malformed' | 'forged' | 'expired' | 'reused';

/** Options of {@link StreamTokens}. */
export interface StreamTokenOptions {
  /** Secret the MAC key is derived from; default: 32 random bytes. */
  secret?: string;
  /** How long a token stays valid (default 10 minutes: Twilio connects within seconds). */
  ttlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Issues and checks stream tokens. */
export class StreamTokens {
  readonly #key: Buffer;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** token → expiry, for single use. Entries are dropped once expired. */
  readonly #used = new Map<string, number>();
  /** Tokens issued and not yet used, with their issue time (drain waits for recent ones). */
  readonly #pending = new Map<string, number>();

  constructor(opts: StreamTokenOptions = {}) {
    const secret = opts.secret ?? randomBytes(32).toString('hex');
    this.#key = createHmac('sha256', secret).update('voice-gateway stream token v1').digest();
    this.#ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * A fresh token bound to `callSid` and to the `bound` parameters (the agent, the caller's
   * numbers): a socket that presents other values for them is refused like a forged token, so a
   * caller cannot pick another tenant's agent.
   */
  issue(callSid: string, bound: Readonly<Record<string, string>> = {}): string {
    const issuedAt = this.#now().toString(36);
    const nonce = randomBytes(9).toString('base64url');
    const token = `${issuedAt}.${nonce}.${this.#mac(callSid, issuedAt, nonce, bound)}`;
    this.#pending.set(token, this.#now());
    return token;
  }

  /**
   * Accepts a token once. `callSid` is the one Twilio reports in `start`; a token issued for
   * another call is refused as forged.
   */
  consume(
    token: string | undefined,
    callSid: string,
    bound: Readonly<Record<string, string>> = {},
  ): { ok: true } | { ok: false; reason: TokenRefusal } {
    this.#sweep();
    if (!token) return { ok: false, reason: 'missing' };
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'malformed' };
    const [issuedAt, nonce, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.#mac(callSid, issuedAt, nonce, bound));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'forged' };
    const issuedMs = parseInt(issuedAt, 36);
    if (!Number.isFinite(issuedMs) || this.#now() - issuedMs > this.#ttlMs) return { ok: false, reason: 'expired' };
    if (this.#used.has(token)) return { ok: false, reason: 'reused' };
    this.#used.set(token, issuedMs + this.#ttlMs);
    this.#pending.delete(token);
    return { ok: true };
  }

  /** Tokens issued within `windowMs` whose stream has not connected yet. */
  pendingSince(windowMs: number): number {
    const cutoff = this.#now() - windowMs;
    let n = 0;
    for (const at of this.#pending.values()) if (at >= cutoff) n++;
    return n;
  }

  #mac(callSid: string, issuedAt: string, nonce: string, bound: Readonly<Record<string, string>>): string {
    const h = createHmac('sha256', this.#key).update(`${callSid}.${issuedAt}.${nonce}`);
    for (const name of Object.keys(bound).sort()) h.update(`\n${name}=${bound[name]}`);
    return h.digest('base64url');
  }

  #sweep(): void {
    const now = this.#now();
    for (const [token, expiry] of this.#used) if (expiry < now) this.#used.delete(token);
    for (const [token, at] of this.#pending) if (at + this.#ttlMs < now) this.#pending.delete(token);
  }
}
