/**
 * Judges one WebSocket frame that a gateway sent to Twilio, the way Twilio's media-stream endpoint would.
 *
 * Pure: no sockets, no clocks, no mutation of the context. The caller (the media client, a test, a CLI)
 * decides what to do with the verdict and records mark names itself.
 *
 * Twilio accepts exactly three events from the server (`media`, `mark`, `clear`), each with a fixed shape.
 * Anything else is warning 31951; a binary frame is warning 31950. Twilio logs each of these only once per
 * stream, but a test wants to see every offence, so this module reports them all.
 */

/**
 * Why a frame was refused or flagged.
 * - `31950`: binary frame (Twilio cannot decode it).
 * - `31951`: not JSON, unknown event, missing/extra field, wrong or unknown `streamSid`, bad payload.
 * - `duplicate-mark`: a mark name reused on this stream. Twilio would echo both, so the gateway could not
 *   tell the echoes apart; this is a project rule, not a Twilio warning.
 * - `container-header`: the payload starts with a RIFF/WAVE or `.snd` header, which Twilio would play as
 *   noise (a classic mistake with TTS output). Also a project rule.
 * - `31931`: more than ~10 minutes of audio buffered (raised by the media client, never by the validator).
 */
export type ViolationCode = '31950' | '31951' | '31931' | 'duplicate-mark' | 'container-header';

/** One finding about a frame the gateway sent. */
export interface Violation {
  code: ViolationCode;
  reason: string;
}

/** Outbound `media`: raw μ-law 8 kHz mono, base64, any length above zero. */
export interface OutboundMedia {
  event: 'media';
  streamSid: string;
  media: { payload: string };
}

/** Outbound `mark`: echoed by Twilio once the audio queued before it has played (or was cleared). */
export interface OutboundMark {
  event: 'mark';
  streamSid: string;
  mark: { name: string };
}

/** Outbound `clear`: drops Twilio's playout buffer and echoes every pending mark. */
export interface OutboundClear {
  event: 'clear';
  streamSid: string;
}

/** The closed set of messages Twilio accepts from a gateway. */
export type OutboundMessage = OutboundMedia | OutboundMark | OutboundClear;

/**
 * What the validator needs to know about the stream.
 * `streamSid` is undefined until `start` has been sent: nothing the gateway sends before that can be valid.
 * `seenMarks` holds the mark names already accepted on this stream; the validator only reads it.
 */
export interface ValidationContext {
  streamSid: string | undefined;
  seenMarks: ReadonlySet<string>;
}

/**
 * Verdict on one frame. `ok: false` means Twilio would refuse the message (the client drops it);
 * `ok: true` may still carry project-rule `warnings` for a message Twilio would act on.
 */
export type ValidationResult =
  { ok: true; message: OutboundMessage; warnings: Violation[] } | { ok: false; violation: Violation };

// Each event's exact key set; Twilio flags extra keys as well as missing ones.
const TOP_KEYS: Readonly<Record<OutboundMessage['event'], readonly string[]>> = {
  media: ['event', 'streamSid', 'media'],
  mark: ['event', 'streamSid', 'mark'],
  clear: ['event', 'streamSid'],
};

// Canonical padded base64 only: Twilio decodes standard base64, and Node's decoder silently skips junk,
// so a lenient check here would hide payloads that another decoder rejects.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Validates one frame the gateway sent to Twilio.
 * @param raw the frame as received (`ws` hands text frames over as a Buffer too).
 * @param isBinary true for a binary WebSocket frame; always a `31950` violation.
 * @param ctx the stream's identity and the mark names seen so far; never mutated.
 * @returns the parsed message, or the first reason Twilio would refuse it. Never throws.
 */
export function validateOutbound(raw: string | Buffer, isBinary: boolean, ctx: ValidationContext): ValidationResult {
  if (isBinary) return refuse('31950', 'binary frame; Twilio only decodes JSON text frames');
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse('31951', `not valid JSON: ${preview(text)}`);
  }
  if (!isPlainObject(parsed)) return refuse('31951', 'JSON value is not an object');
  const event = parsed['event'];
  if (event !== 'media' && event !== 'mark' && event !== 'clear') {
    return refuse('31951', `unknown event ${JSON.stringify(event)}; only media, mark and clear are accepted`);
  }
  const keyProblem = exactKeys(parsed, TOP_KEYS[event], '');
  if (keyProblem !== undefined) return refuse('31951', `${event}: ${keyProblem}`);
  const streamSid = parsed['streamSid'];
  if (typeof streamSid !== 'string') return refuse('31951', `${event}: streamSid is not a string`);
  if (ctx.streamSid === undefined) return refuse('31951', `${event} sent before start; no stream exists yet`);
  if (streamSid !== ctx.streamSid) {
    return refuse('31951', `${event}: streamSid ${streamSid} is not the active stream ${ctx.streamSid}`);
  }
  if (event === 'clear') return { ok: true, message: { event, streamSid }, warnings: [] };
  if (event === 'mark') return checkMark(parsed['mark'], streamSid, ctx.seenMarks);
  return checkMedia(parsed['media'], streamSid);
}

function checkMark(mark: unknown, streamSid: string, seen: ReadonlySet<string>): ValidationResult {
  if (!isPlainObject(mark)) return refuse('31951', 'mark: mark is not an object');
  const keyProblem = exactKeys(mark, ['name'], 'mark.');
  if (keyProblem !== undefined) return refuse('31951', `mark: ${keyProblem}`);
  const name = mark['name'];
  if (typeof name !== 'string' || name.length === 0)
    return refuse('31951', 'mark: mark.name must be a non-empty string');
  const warnings: Violation[] = seen.has(name)
    ? [{ code: 'duplicate-mark', reason: `mark name ${JSON.stringify(name)} already used on this stream` }]
    : [];
  return { ok: true, message: { event: 'mark', streamSid, mark: { name } }, warnings };
}

function checkMedia(media: unknown, streamSid: string): ValidationResult {
  if (!isPlainObject(media)) return refuse('31951', 'media: media is not an object');
  const keyProblem = exactKeys(media, ['payload'], 'media.');
  if (keyProblem !== undefined) return refuse('31951', `media: ${keyProblem}`);
  const payload = media['payload'];
  if (typeof payload !== 'string') return refuse('31951', 'media: media.payload is not a string');
  if (payload.length === 0) return refuse('31951', 'media: media.payload is empty');
  // The regex checks the alphabet and padding; the round trip catches non-zero bits in the padding.
  const bytes = BASE64.test(payload) ? Buffer.from(payload, 'base64') : undefined;
  if (bytes === undefined || bytes.toString('base64') !== payload) {
    return refuse('31951', `media: media.payload is not canonical base64: ${preview(payload)}`);
  }
  const header = containerHeader(bytes);
  const warnings: Violation[] =
    header === undefined ? [] : [{ code: 'container-header', reason: `media payload starts with a ${header} header` }];
  return { ok: true, message: { event: 'media', streamSid, media: { payload } }, warnings };
}

/** Names the audio container whose header opens `bytes`, if any: those bytes would be played as clicks. */
function containerHeader(bytes: Buffer): string | undefined {
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WAVE') {
    return 'RIFF/WAVE';
  }
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 4) === '.snd') return '.snd (Sun/NeXT .au)';
  return undefined;
}

function exactKeys(obj: Record<string, unknown>, expected: readonly string[], prefix: string): string | undefined {
  const keys = Object.keys(obj);
  const extra = keys.filter((k) => !expected.includes(k));
  const missing = expected.filter((k) => !keys.includes(k));
  if (missing.length > 0) return `missing field(s) ${missing.map((k) => prefix + k).join(', ')}`;
  if (extra.length > 0) return `unexpected field(s) ${extra.map((k) => prefix + k).join(', ')}`;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(code: ViolationCode, reason: string): ValidationResult {
  return { ok: false, violation: { code, reason } };
}

function preview(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
