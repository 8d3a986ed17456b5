/**
 * Reading a Twilio webhook request: its parameters (form body for POST, query for GET) and the
 * public base URL it was addressed to.
 */
import type { Request } from 'express';

/** A host[:port] as it may appear in a Host header; anything else is refused. */
const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/**
 * `PUBLIC_BASE_URL`, or (local development, no auth token) scheme and host of the request as the
 * caller saw them: X-Forwarded-* count only from TRUST_PROXY peers (Express's trust proxy), and only
 * `http`/`https` with a plain host name are accepted, so nothing else can reach the TwiML.
 */
export function publicBase(req: Request, publicBaseUrl: string | undefined): string | undefined {
  if (publicBaseUrl) return publicBaseUrl;
  const host = req.host;
  if (!host || !HOST.test(host)) return undefined;
  const scheme = req.protocol;
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  return `${scheme}://${host}`;
}

/** Flat string parameters of the webhook; repeated or nested values are ignored. */
export function webhookParams(req: Request): Record<string, string | undefined> {
  const source: unknown = req.method === 'GET' ? req.query : req.body;
  const out: Record<string, string | undefined> = {};
  if (typeof source !== 'object' || source === null || Buffer.isBuffer(source)) return out;
  for (const [k, v] of Object.entries(source)) if (typeof v === 'string') out[k] = v;
  return out;
}
