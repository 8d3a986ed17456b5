/**
 * The seam between the media socket (protocol, lifecycle) and what a call does with its audio.
 * The socket layer parses Twilio's messages and owns the connection; a {@link CallHandler} gets
 * the call's events once `start` was accepted. The foundation ships a handler that only logs;
 * the voice pipeline plugs in its own through a {@link CallFactory}.
 */
import type { Logger } from '../../server/logger.ts';

/** One inbound audio frame, already base64-decoded. */
export interface InboundAudio {
  /** Raw 8 kHz μ-law bytes (usually 160 = 20 ms, but never assume it). */
  readonly mulaw: Buffer;
  /** Twilio's `media.timestamp`: ms since the stream started. */
  readonly timestamp: number | undefined;
  readonly chunk: number | undefined;
}

/** What a call may do to its socket. */
export interface CallContext {
  readonly callSid: string;
  readonly streamSid: string;
  /** `<Parameter>`s from the TwiML, without the stream token. */
  readonly customParameters: Readonly<Record<string, string>>;
  /** Logger carrying callSid and streamSid. */
  readonly logger: Logger;
  /** Sends one text frame (an already formatted Twilio message). False when the socket is gone. */
  send(text: string): boolean;
  /** Bytes queued in the socket and not yet written (backpressure). */
  bufferedAmount(): number;
  /** Ends the call from our side: Twilio then requests the `<Connect action>` URL. */
  hangup(reason: string): void;
}

/** Events of one accepted call. Each method must return quickly and never throw. */
export interface CallHandler {
  onAudio(frame: InboundAudio): void;
  /** A mark we sent came back (played, or flushed by a clear). */
  onMark(name: string): void;
  onDtmf(digit: string): void;
  /** Twilio said `stop` (the caller hung up or the stream ended). */
  onStop(): void;
  /** The socket is gone: release everything (the promise settles once all of it has). Idempotent. */
  close(): void | Promise<void>;
}

/** Makes the handler of a call once its `start` was accepted. */
export type CallFactory = (ctx: CallContext) => CallHandler;

/** The foundation's handler: the call is accepted and its events are counted, nothing more. */
export const loggingCallFactory: CallFactory = (ctx) => {
  let frames = 0;
  let bytes = 0;
  return {
    onAudio(frame) {
      frames++;
      bytes += frame.mulaw.length;
    },
    onMark(name) {
      ctx.logger.debug('MARK_ECHO', { name });
    },
    onDtmf(digit) {
      ctx.logger.info('DTMF', { digit });
    },
    onStop() {
      ctx.logger.info('CALL_AUDIO_SUMMARY', { frames, bytes });
    },
    close() {},
  };
};
