/**
 * X-Twilio-Signature checks for webhooks and for the media-socket upgrade, done with the
 * `twilio` package's own validators. The only logic here is choosing the URL Twilio signed: the
 * configured public base URL. Signatures are only checked when TWILIO_AUTH_TOKEN is set, and the
 * configuration then requires PUBLIC_BASE_URL, so Host and X-Forwarded-* never choose what is
 * validated; the URL rebuilt from the request is only a fallback for callers without a token.
 */
import type { Request } from 'express';
import twilio from 'twilio';

/** The public URL Twilio requested for this webhook, including any query string. */
export function webhookUrl(req: Request, publicBaseUrl: string | undefined): string {
  const base = publicBaseUrl ?? `${req.protocol}://${req.host}`;
  return base + req.originalUrl;
}

/** Raw body as kept by the body parsers, needed for JSON webhooks signed with bodySHA256. */
export type RequestWithRawBody = Request & { rawBody?: string };

/**
 * True when the request carries a valid signature for `url`. Form posts are checked with
 * their parameters; GET requests with the query already in the URL; JSON posts through the
 * bodySHA256 variant.
 */
export function isValidWebhookSignature(authToken: string, req: RequestWithRawBody, url: string): boolean {
  const signature = req.header('x-twilio-signature');
  if (!signature) return false;
  if (url.includes('bodySHA256=')) {
    return twilio.validateRequestWithBody(authToken, signature, url, req.rawBody ?? '');
  }
  const params = req.method === 'POST' && isPlainObject(req.body) ? (req.body as Record<string, unknown>) : {};
  return twilio.validateRequest(authToken, signature, url, params);
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}
