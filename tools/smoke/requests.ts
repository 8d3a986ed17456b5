/**
 * The requests of a smoke run, shaped (and, with a token, signed) as Twilio would send them:
 * GETs, form-encoded webhooks signed over the public origin, and WebSocket upgrades on the stream
 * URL's path with its host in the Host header. Every one goes to the base URL, which may be a
 * local port standing in for the public name; {@link routingNote} says when that is so.
 */
import type { SmokeOptions } from './options.ts';
import {
  describeEndpoint,
  endpointOf,
  httpExchange,
  upgradeExchange,
  type Exchange,
  type UpgradeOutcome,
} from './transport.ts';
import { randomSid, twilioSignature, type CallIdentity } from '../twilio/twilio-http.ts';

// Twilio's documented "magic" test numbers: they can never reach a real phone.
const FROM = '+15005550006';
const TO = '+15005550001';

const USER_AGENT = 'gateway-smoke/1';

/** A new simulated call with random SIDs. */
export function simulatedCall(): CallIdentity {
  return { accountSid: randomSid('AC'), callSid: randomSid('CA'), from: FROM, to: TO };
}

/** The three kinds of request a smoke step sends. */
export interface SmokeRequests {
  /** GET `path` from the base. */
  get(path: string): Promise<Exchange>;
  /** POSTs a webhook form; `signed` adds X-Twilio-Signature over the public origin + path when there is a token. */
  postWebhook(path: string, params: Record<string, string>, signed: boolean): Promise<Exchange>;
  /** Upgrade on `wsUrl`'s path with its host in the Host header (and its signature), sent to the base. */
  upgrade(wsUrl: string, opts: { protocol?: string; signed: boolean }): Promise<UpgradeOutcome>;
}

/** Requests for one run; each has the run's time limit and its own connection. */
export function smokeRequests(options: SmokeOptions): SmokeRequests {
  const base = endpointOf(options.baseUrl);
  const token = options.authToken;
  const limits = { timeoutMs: options.timeoutMs, insecure: options.insecure };
  return {
    get: (path) => httpExchange(base, { method: 'GET', path, headers: { 'User-Agent': USER_AGENT }, ...limits }),
    postWebhook: (path, params, signed) => {
      const headers: Record<string, string> = {
        'Content-Type': 'application/x-www-form-urlencoded',
        'User-Agent': USER_AGENT,
      };
      if (signed && token) headers['X-Twilio-Signature'] = twilioSignature(token, options.publicBaseUrl + path, params);
      const body = new URLSearchParams(params).toString();
      return httpExchange(base, { method: 'POST', path, headers, body, ...limits });
    },
    upgrade: (wsUrl, opts) => {
      const url = new URL(wsUrl);
      const headers: Record<string, string> = { Host: url.host, 'User-Agent': USER_AGENT };
      if (opts.protocol) headers['Sec-WebSocket-Protocol'] = opts.protocol;
      if (opts.signed && token) headers['X-Twilio-Signature'] = twilioSignature(token, wsUrl, {});
      return upgradeExchange(base, { path: url.pathname + url.search, headers, ...limits });
    },
  };
}

/** Says how the stream URL is reached when that is not simply "connect to it". */
export function routingNote(streamUrl: string, baseUrl: string): string | undefined {
  if (!URL.canParse(streamUrl)) return undefined;
  const url = new URL(streamUrl);
  const base = endpointOf(baseUrl);
  const reasons: string[] = [];
  if (url.protocol === 'wss:' && !base.tls)
    reasons.push('wss:// mapped to ws:// because the base is http:// (local testing)');
  if (url.host !== new URL(baseUrl).host)
    reasons.push(`Host: ${url.host} and the signature of the stream URL are kept`);
  if (reasons.length === 0) return undefined;
  return `handshakes for ${streamUrl} connect to ${describeEndpoint(base, true)}: ${reasons.join('; ')}`;
}
