/**
 * What Twilio would send: the form parameters of its webhooks, with realistic random SIDs, and
 * `X-Twilio-Signature` computed by the `twilio` package's own helper — never by our code, so a
 * pass means the deployment accepts what Twilio itself produces.
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';

/** The SIDs of one simulated call. */
export interface SimulatedCall {
  accountSid: string;
  callSid: string;
  streamSid: string;
}

/** A Twilio SID: two-letter prefix and 32 lower-case hex digits. */
export function randomSid(prefix: 'AC' | 'CA' | 'MZ'): string {
  return prefix + randomBytes(16).toString('hex');
}

/** A new call with random SIDs. */
export function simulatedCall(): SimulatedCall {
  return { accountSid: randomSid('AC'), callSid: randomSid('CA'), streamSid: randomSid('MZ') };
}

// Twilio's documented "magic" test numbers: they can never reach a real phone.
const FROM = '+15005550006';
const TO = '+15005550001';

/** The parameters of the voice webhook Twilio requests when a call comes in. */
export function incomingCallParams(call: SimulatedCall): Record<string, string> {
  return {
    AccountSid: call.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: call.callSid,
    CallStatus: 'ringing',
    Called: TO,
    CalledCountry: 'US',
    Caller: FROM,
    CallerCountry: 'US',
    Direction: 'inbound',
    From: FROM,
    FromCountry: 'US',
    To: TO,
    ToCountry: 'US',
  };
}

/** The parameters of a `<Stream statusCallback>` request for `stream-started`. */
export function streamStartedParams(call: SimulatedCall, now: Date = new Date()): Record<string, string> {
  return {
    AccountSid: call.accountSid,
    CallSid: call.callSid,
    StreamSid: call.streamSid,
    StreamName: call.streamSid,
    StreamEvent: 'stream-started',
    Timestamp: now.toISOString(),
  };
}

/**
 * `X-Twilio-Signature` for a request to `url`: form POST parameters for webhooks, `{}` for the
 * WebSocket upgrade (signed over the `wss://` URL exactly as written in the TwiML).
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}
