/**
 * The second half of a transfer, as Twilio plays it: after `<Dial><Number url=…>` the person who
 * answers is connected only once Twilio has requested `url` on their leg of the call and said its
 * `<Say>`s to them (the agent's summary). The demo requests it the same way and reads what would be said.
 */
import { postWebhook } from '../call/twilio-requests.ts';
import { randomSid, readNextStep, voiceParams, type NextStep } from '../twilio/twilio-http.ts';

/** What the whisper URL answered. */
export interface Whisper {
  url: string;
  status: number | undefined;
  /** Its `<Say>`s; empty when it said nothing or could not be read. */
  say: NextStep['say'];
  /** Why nothing could be read (no answer, not TwiML). */
  error?: string;
}

/** Who is on the call whose transfer is followed. */
export interface TransferredCall {
  accountSid: string;
  callSid: string;
}

/**
 * Requests the whisper of a `dial` step like Twilio does on the callee's leg (a new CallSid, the
 * caller's as ParentCallSid), at `url` mapped onto `base`. Undefined when the step has no whisper.
 * Never throws.
 */
export async function followWhisper(
  base: string,
  next: NextStep | undefined,
  call: TransferredCall,
): Promise<Whisper | undefined> {
  const dial = next?.action === 'dial' ? next.dial : undefined;
  if (!dial?.url) return undefined;
  const leg = { accountSid: call.accountSid, callSid: randomSid('CA'), from: dial.callerId ?? '', to: dial.number };
  const params = { ...voiceParams(leg, 'in-progress'), Direction: 'outbound-dial', ParentCallSid: call.callSid };
  const res = await postWebhook('transfer_whisper', dial.url, base, params, 200, undefined);
  if (res.status !== 200)
    return { url: dial.url, status: res.status, say: [], error: res.error ?? `HTTP ${res.status}` };
  try {
    return { url: dial.url, status: res.status, say: readNextStep(res.body).say };
  } catch (err) {
    return { url: dial.url, status: res.status, say: [], error: (err as Error).message };
  }
}
