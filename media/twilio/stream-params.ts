/**
 * Names shared by the TwiML that `incoming_call` hands out and the media socket that reads it
 * back: the stream's path and the `<Parameter>` names (Twilio drops query strings from stream
 * URLs, so everything the socket needs to know travels in `start.customParameters`).
 */

/** Path of the media WebSocket (Twilio may sign and request it with a trailing slash too). */
export const MEDIA_PATH = '/ws/twilio-media';

/** Names of the `<Parameter>`s the media socket reads back from `start.customParameters`. */
export const STREAM_PARAMS = { callSid: 'call_sid', token: 'token' } as const;
