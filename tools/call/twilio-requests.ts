/**
 * Twilio's HTTP side of a call as the simulator plays it: posting each webhook (signed over the
 * public URL), the TwiML answer read back into a stream to open, and the mapping of public URLs
 * (what Twilio would use, and sign) onto the address the simulator can actually reach (`--base`).
 * The parameters, signatures and TwiML reading themselves are shared (`../twilio/twilio-http.ts`).
 */
import { readStreamTwiml, twilioSignature, type StreamTwiml } from '../twilio/twilio-http.ts';

export type { CallIdentity, StreamTwiml } from '../twilio/twilio-http.ts';

/** One webhook request the simulator made, and how the gateway answered. */
export interface WebhookResult {
  /** e.g. `incoming_call`, `stream_status stream-stopped`, `call_status completed`. */
  name: string;
  /** The public URL, the one that was signed. */
  url: string;
  /** HTTP status; undefined when the request failed (see `error`). */
  status: number | undefined;
  /** The status Twilio needs to treat the answer as a success. */
  expected: number;
  /** Request round trip in ms. */
  ms: number;
  /** Why no answer came (connection refused, timeout). */
  error?: string;
}

/** Twilio gives up on a webhook after 15 s (error 11205). */
const WEBHOOK_TIMEOUT_MS = 15_000;
/**
 * Where to send a request Twilio would send to `publicUrl`: same path and query, on `base`'s origin.
 * Identical to `publicUrl` when the gateway is reached at its public address.
 */
export function onBase(publicUrl: string, base: string): string {
  const u = new URL(publicUrl);
  return new URL(u.pathname + u.search, new URL(base).origin).toString();
}

/**
 * The WebSocket URL to dial for a `<Stream url>`: its path on `base` (ws for http, wss for https).
 * The query string is dropped, as Twilio drops it.
 */
export function mediaSocketUrl(streamUrl: string, base: string): string {
  const b = new URL(base);
  const scheme = b.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${b.host}${new URL(streamUrl).pathname}`;
}

/**
 * POSTs a form like Twilio: to `publicUrl` mapped onto `base`, signed over `publicUrl` when a token is
 * given. Never throws: a failed request comes back with `status: undefined` and `error`.
 */
export async function postWebhook(
  name: string,
  publicUrl: string,
  base: string,
  params: Record<string, string>,
  expected: number,
  authToken: string | undefined,
): Promise<WebhookResult & { body: string }> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    'User-Agent': 'TwilioProxy/1.1',
  };
  if (authToken) headers['X-Twilio-Signature'] = twilioSignature(authToken, publicUrl, params);
  const t0 = performance.now();
  try {
    const res = await fetch(onBase(publicUrl, base), {
      method: 'POST',
      headers,
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    const body = await res.text();
    return { name, url: publicUrl, status: res.status, expected, ms: Math.round(performance.now() - t0), body };
  } catch (err) {
    return {
      name,
      url: publicUrl,
      status: undefined,
      expected,
      ms: Math.round(performance.now() - t0),
      error: describeFetchError(err),
      body: '',
    };
  }
}

/** fetch hides the useful part (ECONNREFUSED…) in `cause`. */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.message)
    return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  if (cause?.code) return cause.code;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Reads the `<Response><Connect><Stream>` Twilio would act on.
 * @throws Error naming what is missing when the document is not TwiML with a `wss://` stream.
 */
export function parseStreamTwiml(xml: string): StreamTwiml {
  let twiml: StreamTwiml;
  try {
    twiml = readStreamTwiml(xml);
  } catch (err) {
    throw new Error(`the TwiML has no <Connect><Stream url="…"> (${(err as Error).message})`, { cause: err });
  }
  if (!twiml.streamUrl.startsWith('wss://'))
    throw new Error(`<Stream url="${twiml.streamUrl}"> is not a wss:// URL (Twilio error 31922)`);
  return twiml;
}
