/**
 * Twilio's HTTP side of a call, shared by the simulator, the smoke check and the tests: realistic
 * SIDs, the form parameters Twilio posts to each webhook, `X-Twilio-Signature` computed by the
 * `twilio` package's own helper (never by our code, so a pass means the gateway accepts what Twilio
 * itself produces), and the `<Connect><Stream>` read back from a TwiML answer.
 */
import { randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import twilio from 'twilio';

/** A Twilio SID: two-letter prefix + 32 lower-case hex digits, like the real ones. */
export function randomSid(prefix: 'CA' | 'MZ' | 'AC'): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Who is calling whom; constant for the whole call. */
export interface CallIdentity {
  accountSid: string;
  callSid: string;
  /** Caller number (E.164). */
  from: string;
  /** Called number (E.164). */
  to: string;
}

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
  id: Pick<CallIdentity, 'accountSid' | 'callSid'>,
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
 * `X-Twilio-Signature` for a request to `url`: the form POST parameters for webhooks, `{}` for the
 * WebSocket upgrade (signed over the `wss://` URL exactly as written in the TwiML).
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

/** The `<Connect><Stream>` of a TwiML answer. */
export interface StreamTwiml {
  streamUrl: string;
  statusCallback: string | undefined;
  connectAction: string | undefined;
  /** `<Parameter>`s, delivered in `start.customParameters`. */
  parameters: Record<string, string>;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  // Element text stays text: parsed, `<Number>+97231234567</Number>` would become the number 97231234567.
  parseTagValue: false,
  isArray: (tag) => tag === 'Parameter',
});

type XmlNode = { [key: string]: unknown } | undefined;

/** An element as the parser gives it: an empty element (`<Stream/>`) comes back as ''. */
function element(v: unknown): XmlNode {
  if (v === '') return {};
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as XmlNode) : undefined;
}

/**
 * Reads the `<Response><Connect><Stream>` Twilio would act on (attribute values entity-decoded). It
 * judges only the document's shape; what the URL must look like is the caller's rule.
 * @throws Error naming what is missing: not XML, no `<Response>`, no `<Connect>`, no `<Stream>`, no url.
 */
export function readStreamTwiml(xml: string): StreamTwiml {
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch (err) {
    throw new Error(`the answer is not well-formed XML (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  const response = element((doc as XmlNode)?.['Response']);
  if (!response) throw new Error('no <Response> element');
  const connect = element(response['Connect']);
  if (!connect) throw new Error('no <Connect> element');
  const stream = element(connect['Stream']);
  if (!stream) throw new Error('no <Stream> inside <Connect>');
  const url = stream['url'];
  if (typeof url !== 'string' || url === '') throw new Error('<Stream> has no url attribute');
  const parameters: Record<string, string> = {};
  for (const p of (stream['Parameter'] as Array<Record<string, unknown>> | undefined) ?? []) {
    if (typeof p['name'] === 'string') parameters[p['name']] = typeof p['value'] === 'string' ? p['value'] : '';
  }
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    streamUrl: url,
    statusCallback: text(stream['statusCallback']),
    connectAction: text(connect['action']),
    parameters,
  };
}

/** What Twilio does after `<Connect>` ends, read from the `<Connect action>` answer. */
export interface NextStep {
  /** `hangup`: the call ends; `dial`: the caller is connected to `dial.number`; `none`: nothing Twilio would act on. */
  action: 'hangup' | 'dial' | 'none';
  /** Text of `<Say>` elements said first (with their voice). */
  say: Array<{ text: string; voice: string | undefined; language: string | undefined }>;
  dial?: { number: string; callerId?: string; sendDigits?: string; url?: string };
}

/**
 * Reads the answer to `<Connect action>`: the `<Say>`s, then `<Dial><Number>` or `<Hangup/>`.
 * @throws Error when the answer is not a TwiML `<Response>`.
 */
export function readNextStep(xml: string): NextStep {
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch (err) {
    throw new Error(`the answer is not well-formed XML (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  const response = element((doc as XmlNode)?.['Response']);
  if (!response) throw new Error('no <Response> element');
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const says = ([] as unknown[]).concat(response['Say'] ?? []);
  const say = says.map((s) =>
    typeof s === 'string'
      ? { text: s, voice: undefined, language: undefined }
      : {
          text: String((s as XmlNode)?.['#text'] ?? ''),
          voice: text((s as XmlNode)?.['voice']),
          language: text((s as XmlNode)?.['language']),
        },
  );
  const dial = element(response['Dial']);
  if (dial) {
    const n = dial['Number'];
    const num = typeof n === 'string' ? { '#text': n } : element(n);
    const number = text(num?.['#text']) ?? '';
    return {
      action: 'dial',
      say,
      dial: {
        number,
        ...(text(dial['callerId']) ? { callerId: text(dial['callerId'])! } : {}),
        ...(text(num?.['sendDigits']) ? { sendDigits: text(num?.['sendDigits'])! } : {}),
        ...(text(num?.['url']) ? { url: text(num?.['url'])! } : {}),
      },
    };
  }
  return { action: 'Hangup' in response ? 'hangup' : 'none', say };
}
