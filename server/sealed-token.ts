/**
 * Small signed, expiring tokens that carry data through Twilio without a database: a transfer's
 * summary travels in the `<Number url>` Twilio requests when the person answers. The payload is
 * readable (base64url JSON), not secret; the HMAC makes it unforgeable and the expiry makes it
 * short-lived. Instances that share the key (derived from TWILIO_AUTH_TOKEN or WEBHOOK_SECRET)
 * accept each other's tokens.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Seals and opens tokens with one key. */
export class SealedTokens {
  readonly #key: Buffer;
  readonly #now: () => number;

  /** `secret` undefined: a random key, valid in this process only. */
  constructor(secret: string | undefined, purpose: string, now: () => number = Date.now) {
    this.#key = createHmac('sha256', secret ?? randomBytes(32).toString('hex'))
      .update(`voice-gateway sealed token: ${purpose}`)
      .digest();
    this.#now = now;
  }

  /** A token for `payload`, valid for `ttlMs`. */
  seal(payload: Record<string, unknown>, ttlMs: number): string {
    const body = Buffer.from(JSON.stringify({ ...payload, exp: this.#now() + ttlMs })).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The payload of a valid, unexpired token; undefined otherwise. */
  open(token: string | undefined): Record<string, unknown> | undefined {
    if (typeof token !== 'string' || token.length > 4096) return undefined;
    const [body, mac, ...rest] = token.split('.');
    if (!body || !mac || rest.length) return undefined;
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
      return typeof payload.exp === 'number' && payload.exp > this.#now() ? payload : undefined;
    } catch {
      return undefined;
    }
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}
