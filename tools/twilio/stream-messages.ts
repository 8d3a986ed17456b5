/**
 * What Twilio sends the gateway on a bidirectional Media Stream, as JSON objects: `connected`,
 * `start`, `media`, `dtmf`, the `mark` echoes and `stop`, with Twilio's string-typed counters. One
 * `sequenceNumber` counts every message of the stream but `connected` (from 1, in sending order);
 * `media.chunk` counts media messages (from 1). Pure: the media client sends what this builds.
 */

/** A message to send, with the number it was given. */
export interface Numbered {
  message: object;
  sequenceNumber: number;
}

/** The ids a stream's messages carry. */
export interface StreamIds {
  streamSid: string;
  callSid: string;
  accountSid: string;
}

/** Builds one stream's messages in sending order; each call takes the next sequence number. */
export class StreamMessages {
  readonly #ids: StreamIds;
  #sequence = 0;
  #chunk = 0;

  constructor(ids: StreamIds) {
    this.#ids = ids;
  }

  /** The first message of a stream; it has no sequence number. */
  connected(): object {
    return { event: 'connected', protocol: 'Call', version: '1.0.0' };
  }

  /** `start`: the stream's ids, the TwiML `<Parameter>`s and the inbound track's μ-law format. */
  start(customParameters: Record<string, string> | undefined): Numbered {
    const { streamSid, accountSid, callSid } = this.#ids;
    const sequenceNumber = ++this.#sequence;
    const start = {
      streamSid,
      accountSid,
      callSid,
      tracks: ['inbound'],
      customParameters: { ...customParameters },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    };
    return { sequenceNumber, message: { event: 'start', sequenceNumber: String(sequenceNumber), streamSid, start } };
  }

  /** One inbound `media` frame; `timestamp` is the ms of the stream its audio starts at. */
  media(timestamp: number, payload: Buffer): Numbered & { chunk: number } {
    const sequenceNumber = ++this.#sequence;
    const chunk = ++this.#chunk;
    const media = {
      track: 'inbound',
      chunk: String(chunk),
      timestamp: String(timestamp),
      payload: payload.toString('base64'),
    };
    return { sequenceNumber, chunk, message: this.#message('media', sequenceNumber, { media }) };
  }

  /** A key the caller pressed. */
  dtmf(digit: string): Numbered {
    const sequenceNumber = ++this.#sequence;
    return {
      sequenceNumber,
      message: this.#message('dtmf', sequenceNumber, { dtmf: { track: 'inbound_track', digit } }),
    };
  }

  /** The echo of the gateway's mark `name` (played, or flushed by a clear). */
  mark(name: string): Numbered {
    const sequenceNumber = ++this.#sequence;
    return { sequenceNumber, message: this.#message('mark', sequenceNumber, { mark: { name } }) };
  }

  /** The caller hung up. */
  stop(): Numbered {
    const sequenceNumber = ++this.#sequence;
    const stop = { accountSid: this.#ids.accountSid, callSid: this.#ids.callSid };
    return { sequenceNumber, message: this.#message('stop', sequenceNumber, { stop }) };
  }

  /** `{ event, sequenceNumber, streamSid, …body }`, in the order Twilio writes them. */
  #message(event: string, sequenceNumber: number, body: object): object {
    return { event, sequenceNumber: String(sequenceNumber), streamSid: this.#ids.streamSid, ...body };
  }
}
