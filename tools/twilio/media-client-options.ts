/**
 * What a media client can be told (the stream's ids, what to offer in the upgrade, the inbound
 * frame cadence) and the defaults that make it behave like Twilio when told nothing.
 */
import { randomSid } from './twilio-http.ts';

/** Options of `TwilioMediaClient.connect`; every field is optional. */
export interface TwilioMediaClientOptions {
  /** Subprotocols to offer (e.g. `['audio.twilio.com']`). Default: none, which is what Twilio appears to do. */
  protocols?: string[];
  /** Extra upgrade headers, e.g. `{ 'x-twilio-signature': sig }`. */
  headers?: Record<string, string>;
  /** Default: a random `CA` + 32 hex. */
  callSid?: string;
  /** Default: a random `MZ` + 32 hex. */
  streamSid?: string;
  /** Default: a random `AC` + 32 hex. */
  accountSid?: string;
  /** `start.customParameters` (the TwiML `<Parameter>`s). Default `{}`. */
  customParameters?: Record<string, string>;
  /** Inbound frame duration in ms (8 bytes per ms). Default 20, Twilio's observed cadence. */
  frameMs?: number;
  /** Most frames sent back to back to catch up after a stall; older ones are skipped. Default 3. */
  maxBurstFrames?: number;
  /** Playout timer period in ms; playback itself is computed from elapsed time. Default 10. */
  playoutTickMs?: number;
  /** Handshake timeout in ms. Default 5000. */
  handshakeTimeoutMs?: number;
}

/** The options with their defaults filled in (`playoutTickMs` is left to the receiver's default). */
export type ResolvedClientOptions = Required<Omit<TwilioMediaClientOptions, 'playoutTickMs' | 'customParameters'>> &
  Pick<TwilioMediaClientOptions, 'playoutTickMs' | 'customParameters'>;

/** Fills in the defaults; random ids are drawn once, here. */
export function resolveClientOptions(options: TwilioMediaClientOptions): ResolvedClientOptions {
  return {
    protocols: options.protocols ?? [],
    headers: options.headers ?? {},
    streamSid: options.streamSid ?? randomSid('MZ'),
    callSid: options.callSid ?? randomSid('CA'),
    accountSid: options.accountSid ?? randomSid('AC'),
    customParameters: options.customParameters,
    frameMs: options.frameMs ?? 20,
    maxBurstFrames: options.maxBurstFrames ?? 3,
    playoutTickMs: options.playoutTickMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
  };
}
