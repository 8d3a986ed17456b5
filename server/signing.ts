/**
 * Signatures on the requests the gateway sends to the business's own systems (the CRM context
 * lookup, tool calls, the post-call webhook), so the receiver can refuse forgeries and replays:
 *
 *   X-Gateway-Timestamp: <unix seconds>
 *   X-Gateway-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>"> keyed with WEBHOOK_SECRET
 *
 * The receiver recomputes the HMAC over the exact bytes it received and rejects a timestamp too
 * far from its own clock (the README shows how, in a few lines of Node).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names, lower-case as Node reads them. */
export const SIGNATURE_HEADERS = { timestamp: 'x-gateway-timestamp', signature: 'x-gateway-signature' } as const;

/** The two headers for `rawBody`; empty when no secret is configured (requests go out unsigned). */
export function signatureHeaders(
  secret: string | undefined,
  rawBody: string,
  nowMs: number = Date.now(),
): Record<string, string> {
  if (!secret) return {};
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.signature]: `sha256=${hmacHex(secret, timestamp, rawBody)}`,
  };
}

/**
 * Checks a signed request as a receiver would: the signature matches the body and the timestamp is
 * within `toleranceS` seconds of `nowMs`. Used by the tests and the emulated CRM.
 */
export function verifySignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: string,
  opts: { nowMs?: number; toleranceS?: number } = {},
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp) || !signature.startsWith('sha256=')) return false;
  const age = Math.abs((opts.nowMs ?? Date.now()) / 1000 - Number(timestamp));
  if (age > (opts.toleranceS ?? 300)) return false;
  const expected = Buffer.from(`sha256=${hmacHex(secret, timestamp, rawBody)}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function hmacHex(secret: string, timestamp: string, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}
