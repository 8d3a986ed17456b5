/**
 * What a speech-to-text vendor adapter supplies to the one recognition session class
 * (recognizer-stream.ts): everything that depends on the vendor's API, nothing else.
 */
import type { Duplex } from 'node:stream';
import type { ProviderError, RecognizerEvent } from './types.ts';

/** A bidi recognition call as the SDK hands it out (a gax stream, with `cancel` on real clients). */
export type RecognizerCall = Duplex & { cancel?: () => void };

/** Transcript events, the part of a session's events a provider response can carry. */
export type TranscriptEvent = Extract<RecognizerEvent, { type: 'interim' | 'final' }>;

/** What a vendor adapter supplies: everything that depends on the vendor's API. */
export interface RecognizerDialect<Client, Response> {
  /** The SDK client, ready to use. Rejects with a ProviderError (e.g. AUTH) when it cannot be had. */
  client(): Promise<Client>;
  /** Opens one stream (with the vendor's own retries off) and writes its config message, carrying `hints`. */
  open(client: Client, hints: readonly string[]): RecognizerCall;
  /** The request message carrying one chunk of audio. */
  audio(chunk: Buffer): unknown;
  /** Largest audio chunk one message may carry, bytes; longer writes are split. */
  maxAudioBytes: number;
  /** The transcript events of one response, or the error it reports. */
  translate(response: Response): TranscriptEvent[] | { error: unknown };
  /** Any stream or client failure as a classified error. */
  classify(err: unknown): ProviderError;
}
