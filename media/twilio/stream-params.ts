/**
 * Names shared by the TwiML that `incoming_call` hands out and the media socket that reads it
 * back: the stream's path and the `<Parameter>` names (Twilio drops query strings from stream
 * URLs, so everything the socket needs to know travels in `start.customParameters`).
 */

/** Path of the media WebSocket (Twilio may sign and request it with a trailing slash too). */
export const MEDIA_PATH = '/ws/twilio-media';

/** Names of the `<Parameter>`s the media socket reads back from `start.customParameters`. */
export const STREAM_PARAMS = { callSid: 'call_sid', token: 'token' } as const;

/** `<Parameter>`s the stream token is bound to: the agent chosen for the call and the caller's numbers. */
export const BOUND_PARAMS = ['agent', 'from', 'to'] as const;

/** The bound parameters present in `params` (absent ones are not part of the binding). */
export function boundParams(params: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of BOUND_PARAMS) {
    const v = params[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}
