/**
 * Twilio Media Streams message codec: parses what Twilio sends (`connected`, `start`, `media`,
 * `mark`, `dtmf`, `stop`) into typed messages and formats the only three messages Twilio accepts
 * back (`media`, `mark`, `clear`) in their exact shapes. Pure: no sockets here.
 *
 * Twilio sends its counters (sequenceNumber, chunk, timestamp) as strings; they are parsed to
 * numbers here so nothing downstream has to care. Unknown extra fields are tolerated (Twilio may
 * add some); unknown events are reported as such so callers can ignore them.
 */
import { z } from 'zod';

const counter = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(Number);
const sid = z.string().min(1).max(128);

const connected = z.object({
  event: z.literal('connected'),
  protocol: z.string().optional(),
  version: z.string().optional(),
});
const start = z.object({
  event: z.literal('start'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  start: z.object({
    streamSid: sid.optional(),
    accountSid: z.string().optional(),
    callSid: sid,
    tracks: z.array(z.string()).optional(),
    customParameters: z.record(z.string(), z.string()).optional().default({}),
    mediaFormat: z.object({ encoding: z.string(), sampleRate: z.number(), channels: z.number() }).partial().optional(),
  }),
});
const media = z.object({
  event: z.literal('media'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  media: z.object({
    track: z.string().optional(),
    chunk: counter.optional(),
    timestamp: counter.optional(),
    payload: z.string(),
  }),
});
const mark = z.object({
  event: z.literal('mark'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  mark: z.object({ name: z.string() }),
});
const dtmf = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  dtmf: z.object({ track: z.string().optional(), digit: z.string() }),
});
const stop = z.object({
  event: z.literal('stop'),
  sequenceNumber: counter.optional(),
  streamSid: sid,
  stop: z.object({ accountSid: z.string().optional(), callSid: z.string().optional() }).optional(),
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
    return { ok: false, reason: 'bad-shape', detail: `${event}: ${issue?.path.join('.')} ${issue?.message}` };
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
