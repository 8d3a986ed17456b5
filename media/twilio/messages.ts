/**
 * Twilio Media Streams message codec: parses what Twilio sends (`connected`, `start`, `media`,
 * `mark`, `dtmf`, `stop`) into typed messages and formats the only three messages Twilio accepts
 * back (`media`, `mark`, `clear`) in their exact shapes. Pure: no sockets here.
 *
 * Twilio sends its counters (sequenceNumber, chunk, timestamp) as strings; they are parsed to
 * numbers here so nothing downstream has to care. Unknown extra fields are tolerated (Twilio may
 * add some); unknown events are reported as such so callers can ignore them.
 *
 * Every field that may reach a log is held to its real shape and size here, before anything logs
 * it: a DTMF digit is one of `0-9 * # A-D`, a custom parameter's name and value together are under
 * Twilio's 500-character limit, SIDs and labels are short. A message outside these shapes is refused
 * as `bad-shape`, and the refusal's detail names the field, never its value.
 */
import type { RawData } from 'ws';
import { z } from 'zod';

const counter = z.union([z.string().max(20).regex(/^\d+$/), z.number().int().nonnegative()]).transform(Number);
const sid = z.string().min(1).max(128);
/** A short label (track, encoding, protocol version…). */
const label = z.string().max(64);

/** Twilio's limit on one `<Parameter>`: name and value together under 500 characters. */
export const CUSTOM_PARAMETER_MAX_CHARS = 500;
/** Most custom parameters accepted (Twilio's REST API numbers them up to 99). */
export const CUSTOM_PARAMETERS_MAX = 99;

const customParameters = z
  .record(z.string().max(CUSTOM_PARAMETER_MAX_CHARS), z.string().max(CUSTOM_PARAMETER_MAX_CHARS))
  .refine((p) => Object.keys(p).length <= CUSTOM_PARAMETERS_MAX, {
    message: `more than ${CUSTOM_PARAMETERS_MAX} parameters`,
  })
  .refine((p) => Object.entries(p).every(([k, v]) => k.length + v.length < CUSTOM_PARAMETER_MAX_CHARS), {
    message: `a parameter's name and value reach ${CUSTOM_PARAMETER_MAX_CHARS} characters`,
  });

const connected = z.object({
  event: z.literal('connected'),
  protocol: label.optional(),
  version: label.optional(),
});
const start = z.object({
  event: z.literal('start'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  start: z.object({
    streamSid: sid.optional(),
    accountSid: label.optional(),
    callSid: sid,
    tracks: z.array(label).max(4).optional(),
    customParameters: customParameters.optional().default({}),
    mediaFormat: z.object({ encoding: label, sampleRate: z.number(), channels: z.number() }).partial().optional(),
  }),
});
const media = z.object({
  event: z.literal('media'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  media: z.object({
    track: label.optional(),
    chunk: counter.optional(),
    timestamp: counter.optional(),
    payload: z.string(),
  }),
});
const mark = z.object({
  event: z.literal('mark'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  mark: z.object({ name: z.string().max(256) }),
});
const dtmf = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  dtmf: z.object({ track: label.optional(), digit: z.string().regex(/^[0-9*#A-D]$/, 'expected one of 0-9 * # A-D') }),
});
const stop = z.object({
  event: z.literal('stop'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  stop: z.object({ accountSid: label.optional(), callSid: label.optional() }).optional(),
});

const inbound = z.discriminatedUnion('event', [connected, start, media, mark, dtmf, stop]);

/** A message from Twilio, counters already numbers. */
export type InboundMessage = z.output<typeof inbound>;
export type StartMessage = z.output<typeof start>;
export type MediaMessage = z.output<typeof media>;

const KNOWN_EVENTS = new Set(['connected', 'start', 'media', 'mark', 'dtmf', 'stop']);

/** Why a frame could not be used. */
export type ParseFailure = 'not-json' | 'unknown-event' | 'bad-shape';

/** Parses one text frame from Twilio. Never throws. */
export function parseInbound(
  text: string,
): { ok: true; message: InboundMessage } | { ok: false; reason: ParseFailure; detail: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not-json', detail: 'frame is not valid JSON' };
  }
  const event = (json as { event?: unknown } | null)?.event;
  if (typeof event !== 'string' || !KNOWN_EVENTS.has(event)) {
    return { ok: false, reason: 'unknown-event', detail: `unknown event ${JSON.stringify(event)?.slice(0, 40)}` };
  }
  const result = inbound.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    // Path elements can be client-chosen keys (custom parameter names): cut, never copied whole.
    const path = issue?.path.map((p) => String(p).slice(0, 32)).join('.');
    return { ok: false, reason: 'bad-shape', detail: `${event}: ${path} ${issue?.message}`.slice(0, 200) };
  }
  return { ok: true, message: result.data };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a `media.payload` to μ-law bytes; undefined when it is not canonical base64. */
export function decodePayload(payload: string): Buffer | undefined {
  if (!BASE64.test(payload)) return undefined;
  return Buffer.from(payload, 'base64');
}

/** `media` to Twilio: base64 of raw 8 kHz μ-law, nothing else (no `track`: Twilio rejects extra fields). */
export function formatMedia(streamSid: string, mulaw: Uint8Array): string {
  return JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.from(mulaw).toString('base64') } });
}

/** `mark` to Twilio: echoed back once the audio queued before it has played (or been cleared). */
export function formatMark(streamSid: string, name: string): string {
  return JSON.stringify({ event: 'mark', streamSid, mark: { name } });
}

/** `clear` to Twilio: drops all buffered audio and echoes every pending mark. */
export function formatClear(streamSid: string): string {
  return JSON.stringify({ event: 'clear', streamSid });
}

/** At most 10 custom parameters with values cut to 64 characters: enough to recognise a call. */
export function paramsForLog(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params).slice(0, 10)) out[k] = v.length > 64 ? `${v.slice(0, 64)}…` : v;
  return out;
}

/** The `event` of a message formatted by twilio-messages.ts (`{"event":"media",…`). */
export function outboundEvent(text: string): string {
  const end = text.indexOf('"', 10);
  return end > 10 ? text.slice(10, end) : 'unknown';
}

/** A WebSocket message's bytes as text, whatever shape `ws` hands them in. */
export function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
