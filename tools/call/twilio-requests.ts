/**
 * Twilio's HTTP side of a call, as the simulator plays it: the form parameters Twilio posts to each
 * webhook, `X-Twilio-Signature` over the public URL, the TwiML answer read back into a stream to
 * open, and the mapping of public URLs (what Twilio would use, and sign) onto the address the
 * simulator can actually reach (`--base`).
 */
import { XMLParser } from 'fast-xml-parser';
import twilio from 'twilio';

/** Who is calling whom; constant for the whole call. */
export interface CallIdentity {
  accountSid: string;
  callSid: string;
  /** Caller number (E.164). */
  from: string;
  /** Called number (E.164). */
  to: string;
}

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

/** The `<Connect><Stream>` of a TwiML answer. */
export interface StreamTwiml {
  streamUrl: string;
  statusCallback: string | undefined;
  connectAction: string | undefined;
  /** `<Parameter>`s, delivered in `start.customParameters`. */
  parameters: Record<string, string>;
}

/** Twilio gives up on a webhook after 15 s (error 11205). */
const WEBHOOK_TIMEOUT_MS = 15_000;
const API_VERSION = '2010-04-01';

/** The parameters of Twilio's voice request (incoming call, `<Connect action>`). */
export function voiceParams(id: CallIdentity, callStatus: string): Record<string, string> {
  const country = (n: string) => (n.startsWith('+972') ? 'IL' : n.startsWith('+1') ? 'US' : '');
  return {
    AccountSid: id.accountSid,
    ApiVersion: API_VERSION,
    CallSid: id.callSid,
    CallStatus: callStatus,
    Called: id.to,
    CalledCountry: country(id.to),
    Caller: id.from,
    CallerCountry: country(id.from),
    Direction: 'inbound',
    From: id.from,
    FromCountry: country(id.from),
    To: id.to,
    ToCountry: country(id.to),
  };
}

/** The `<Stream statusCallback>` request (ISO 8601 timestamp, unlike call callbacks). */
export function streamStatusParams(
  id: CallIdentity,
  streamSid: string,
  event: 'stream-started' | 'stream-stopped' | 'stream-error',
): Record<string, string> {
  return {
    AccountSid: id.accountSid,
    CallSid: id.callSid,
    StreamSid: streamSid,
    StreamName: streamSid, // Twilio's default when <Stream name> is not set
    StreamEvent: event,
    Timestamp: new Date().toISOString(),
  };
}

/** The call status callback for the end of the call (RFC 2822 timestamp, whole seconds). */
export function callStatusParams(id: CallIdentity, durationMs: number): Record<string, string> {
  return {
    ...voiceParams(id, 'completed'),
    CallDuration: String(Math.ceil(durationMs / 1000)),
    CallbackSource: 'call-progress-events',
    SequenceNumber: '0',
    Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
  };
}

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

/** `X-Twilio-Signature` for a request to `url` with these form parameters (`{}` for the upgrade). */
export function signature(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
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
  if (authToken) headers['X-Twilio-Signature'] = signature(authToken, publicUrl, params);
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
    return { name, url: publicUrl, status: undefined, expected, ms: Math.round(performance.now() - t0), error: describeFetchError(err), body: '' };
  }
}

/** fetch hides the useful part (ECONNREFUSED…) in `cause`. */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  if (cause?.code) return cause.code;
  return err instanceof Error ? err.message : String(err);
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  isArray: (tag) => tag === 'Parameter',
});

/**
 * Reads the `<Response><Connect><Stream>` Twilio would act on.
 * @throws Error naming what is missing when the document is not TwiML with a `wss://` stream.
 */
export function parseStreamTwiml(xml: string): StreamTwiml {
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch (err) {
    throw new Error(`the answer is not well-formed XML (${(err as Error).message.split('\n')[0]})`);
  }
  type Node = { [key: string]: unknown } | undefined;
  const response = (doc as Node)?.['Response'] as Node;
  if (response === undefined) throw new Error('the answer has no <Response>');
  const connect = response['Connect'] as Node;
  const stream = connect?.['Stream'] as Node;
  const url = stream?.['url'];
  if (typeof url !== 'string' || url === '') throw new Error('the TwiML has no <Connect><Stream url="…">');
  if (!url.startsWith('wss://')) throw new Error(`<Stream url="${url}"> is not a wss:// URL (Twilio error 31922)`);
  const parameters: Record<string, string> = {};
  for (const p of (stream?.['Parameter'] as Array<Record<string, unknown>> | undefined) ?? []) {
    if (typeof p['name'] === 'string') parameters[p['name']] = typeof p['value'] === 'string' ? p['value'] : '';
  }
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return { streamUrl: url, statusCallback: text(stream?.['statusCallback']), connectAction: text(connect?.['action']), parameters };
}
