/**
 * What the attacks do to a gateway, one request at a time: Twilio-shaped webhooks (signed over the
 * target's public URL when its auth token is known), media streams opened the way Twilio opens them,
 * `/metrics` and `/healthz` reads. Every call here is bounded in time and never throws for anything
 * the gateway answers.
 */
import WebSocket from 'ws';
import { randomSid, readStreamTwiml, twilioSignature, type StreamTwiml } from '../twilio/twilio-http.ts';
import type { Target } from './types.ts';

export { randomSid } from '../twilio/twilio-http.ts';

/** Path of the media socket (the same constant the gateway uses). */
export const MEDIA_PATH = '/ws/twilio-media';

/** The origin Twilio would sign for: PUBLIC_BASE_URL when known, else the address we reach. */
export function publicOrigin(t: Target): string {
  return t.publicBase ?? t.base;
}

/** `wss://<public host>/ws/twilio-media`: what Twilio signs on the upgrade. */
export function publicStreamUrl(t: Target): string {
  return `wss://${new URL(publicOrigin(t)).host}${MEDIA_PATH}`;
}

/** The upgrade's X-Twilio-Signature header, when the target's token is known. */
export function upgradeAuth(t: Target, signedUrl = publicStreamUrl(t)): Record<string, string> {
  return t.authToken ? { 'x-twilio-signature': twilioSignature(t.authToken, signedUrl, {}) } : {};
}

/** One webhook answer. */
export interface WebhookAnswer {
  status: number | undefined;
  text: string;
  error?: string;
}

/** Options of {@link postWebhook}. */
export interface PostOptions {
  /** Sign with the target's token (default: when it is known). */
  signed?: boolean;
  /** URL the signature is computed over (default: the public origin + path). */
  signUrl?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** POSTs a form to `path` like Twilio does. Never throws. */
export async function postWebhook(
  t: Target,
  path: string,
  params: Record<string, string>,
  o: PostOptions = {},
): Promise<WebhookAnswer> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'TwilioProxy/1.1',
    ...o.headers,
  };
  if ((o.signed ?? true) && t.authToken) {
    headers['x-twilio-signature'] = twilioSignature(t.authToken, o.signUrl ?? publicOrigin(t) + path, params);
  }
  try {
    const res = await fetch(t.base + path, {
      method: 'POST',
      headers,
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { status: undefined, text: '', error: (err as Error).message };
  }
}

/** Twilio's voice request parameters for a call. */
export function callParams(callSid: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: 'AC' + '0'.repeat(32),
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'ringing',
    Direction: 'inbound',
    From: '+972501234567',
    To: '+97230000001',
    ...extra,
  };
}

/** Asks for TwiML for `callSid`; the stream's `<Parameter>`s, or undefined when none came back. */
export async function streamTwiml(
  t: Target,
  callSid: string,
  o: PostOptions = {},
): Promise<{ answer: WebhookAnswer; twiml: StreamTwiml | undefined }> {
  const answer = await postWebhook(t, '/webhook/incoming_call', callParams(callSid), o);
  if (answer.status !== 200) return { answer, twiml: undefined };
  try {
    return { answer, twiml: readStreamTwiml(answer.text) };
  } catch {
    return { answer, twiml: undefined };
  }
}

/** A `start` message as Twilio sends it. */
export function startMessage(callSid: string, streamSid: string, customParameters: Record<string, unknown>): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid,
    start: {
      streamSid,
      accountSid: 'AC' + '0'.repeat(32),
      callSid,
      tracks: ['inbound'],
      customParameters,
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
  });
}

const SILENCE = Buffer.alloc(160, 0xff).toString('base64');

/** A `media` message with 20 ms of silence. */
export function mediaMessage(streamSid: string, seq: number): string {
  return JSON.stringify({
    event: 'media',
    sequenceNumber: String(seq),
    streamSid,
    media: { track: 'inbound', chunk: String(seq), timestamp: String(seq * 20), payload: SILENCE },
  });
}

/** Opens a media socket; rejects with the HTTP status (or error) when the upgrade is refused. */
export function openSocket(
  t: Target,
  headers: Record<string, string> = upgradeAuth(t),
  protocols: string[] = [],
  timeoutMs = 5000,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${t.host}:${t.port}${MEDIA_PATH}`, protocols, {
      headers,
      handshakeTimeout: timeoutMs,
    });
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.on('error', () => undefined);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.removeAllListeners('error');
      ws.on('error', () => undefined);
      reject(new Error(`upgrade refused with HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Resolves with the close code once `ws` closes (or `undefined` after `withinMs`). */
export function closeCode(ws: WebSocket, withinMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve(-1);
    const timer = setTimeout(() => resolve(undefined), withinMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** How a stream attempt ended within the observation time. */
export type StreamFate = 'accepted' | 'refused' | `upgrade-failed: ${string}` | `closed ${number}`;

/**
 * Opens a media socket, sends `connected` and `start` with `customParameters`, and watches it for
 * `watchMs`: `refused` when the gateway closes it with 1008, `accepted` when it is still open (the
 * socket is then returned open, for the caller to close) or was closed later with another code.
 */
export async function tryStream(
  t: Target,
  callSid: string,
  customParameters: Record<string, string>,
  watchMs = 1500,
): Promise<{ fate: StreamFate; ws: WebSocket | undefined; streamSid: string }> {
  const streamSid = randomSid('MZ');
  let ws: WebSocket;
  try {
    ws = await openSocket(t);
  } catch (err) {
    return { fate: `upgrade-failed: ${(err as Error).message}`, ws: undefined, streamSid };
  }
  ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  ws.send(startMessage(callSid, streamSid, customParameters));
  for (let i = 2; i < 6; i++) ws.send(mediaMessage(streamSid, i));
  const code = await closeCode(ws, watchMs);
  if (code === undefined) return { fate: 'accepted', ws, streamSid };
  if (code === 1008) return { fate: 'refused', ws: undefined, streamSid };
  return { fate: `closed ${code}`, ws: undefined, streamSid };
}

/** GET /healthz: true when it answers 200 within 5 s. */
export async function healthy(t: Target): Promise<boolean> {
  try {
    const res = await fetch(`${t.base}/healthz`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The value of an unlabelled metric from `/metrics` (with the target's token); undefined when absent. */
export async function readMetric(t: Target, name: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${t.base}/metrics`, {
      headers: t.metricsToken ? { authorization: `Bearer ${t.metricsToken}` } : {},
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    if (res.status !== 200) return undefined;
    const m = new RegExp(`^${name}(?:\\{\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
