/**
 * Types shared by the Google STT v1 and v2 emulators: their common options, the per-stream
 * records and events tests read, and the {@link SttDialect} seam through which each API version
 * reads, validates and answers `StreamingRecognize`.
 */
import type { EventEmitter } from 'node:events';
import type { AudioFormat } from './google-stt-detector.ts';

/** gRPC status 3, Google's answer to any request it refuses. */
export const INVALID_ARGUMENT = 3;

/** A gRPC status to end a call with (`code` is numeric, e.g. 11 OUT_OF_RANGE, 14 UNAVAILABLE). */
export interface GrpcFault {
  code: number;
  details: string;
}

/** What `opts.transcript` is told about the utterance being recognised. */
export interface TranscriptContext {
  /** 0-based index of the utterance within its stream (noise does not count). */
  utteranceIndex: number;
  /** 0-based index of the stream within this fake (`fake.streams[streamIndex]`). */
  streamIndex: number;
  /** Speech heard so far in this utterance, in ms of audio. */
  speechMs: number;
}

/** Sentences the default transcript cycles through, by utterance index within the stream. */
export const DEFAULT_STT_TRANSCRIPTS: readonly string[] = [
  'שלום, אני רוצה לבדוק את מצב ההזמנה שלי',
  'המספר הוא שלוש שבע אחת שתיים',
  'כן, זה נכון',
  'תודה רבה, להתראות',
];

/** Options both emulators understand; every field has a default. */
export interface SttEmulatorOptions {
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port to bind. Default 0 (an ephemeral port). */
  port?: number;
  /** A 20 ms window whose decoded PCM16 RMS is at least this counts as speech. Default 300. */
  speechRms?: number;
  /** Interim results are sent after every this many ms of speech audio. Default 300. */
  interimEveryMs?: number;
  /** This much silence audio after speech ends the utterance and triggers its final. Default 300. */
  endSilenceMs?: number;
  /** Utterances with less speech than this are noise and produce nothing. Default 150. */
  minSpeechMs?: number;
  /** Extra wall-clock delay before each final is sent (later results queue behind it). Default 0. */
  finalDelayMs?: number;
  /** Confidence reported with each final of real speech. Default 0.92. */
  finalConfidence?: number;
  /**
   * Text of an utterance. Called for every result (interims and final) with the speech heard so far;
   * interims carry a growing prefix of its words. Default: {@link DEFAULT_STT_TRANSCRIPTS} cycled by utteranceIndex.
   */
  transcript?: (ctx: TranscriptContext) => string;
  /** A stream carrying more audio than this ends with the API's duration-limit status. Default: the API's (v1 305000, v2 300000). */
  maxStreamAudioMs?: number;
  /** Wall-clock time without any audio after which a stream ends with 11 OUT_OF_RANGE "Audio Timeout Error". Default 10000. */
  idleTimeoutMs?: number;
  /** Fail each stream once it has received this much audio (ms). Default: never. */
  failStreamAfterAudioMs?: number;
  /** Only the first N streams fail by `failStreamAfterAudioMs`. Default: all of them. */
  failStreamCount?: number;
  /** Status code used by `failStreamAfterAudioMs`. Default 14 (UNAVAILABLE). */
  failCode?: number;
  /** Status details used by `failStreamAfterAudioMs`. Default "The service is currently unavailable." */
  failDetails?: string;
  /**
   * Spurious-final mode: in every stream, once this much audio (ms) has arrived, a final is sent
   * whatever the audio holds (Google does produce finals from line noise). Default: none.
   */
  spuriousFinalAtMs?: readonly number[];
  /** Text of spurious finals. Default 'אה'. */
  spuriousFinalText?: string;
  /** Confidence of spurious finals; 0 is what Google reports when it has no estimate. Default 0. */
  spuriousFinalConfidence?: number;
}

/** The recognition settings a stream asked for, the same shape for both APIs. */
export interface RecognitionSummary {
  /** Language codes as sent (v1: the one `languageCode`; v2: `languageCodes`). */
  languages: string[];
  /** Model as sent; '' when unset. */
  model: string;
  /** Phrase hints (v1 `speechContexts`, v2 inline phrase sets) with the boost each carries (0 = none). */
  phrases: Array<{ value: string; boost: number }>;
}

/** Lifecycle notifications; on `fake.events` each is emitted under its `type` name and under 'event'. */
export type SttEmulatorEvent<C> =
  | { type: 'open'; stream: number }
  | { type: 'config'; stream: number; config: C; recognition: RecognitionSummary }
  | { type: 'interim'; stream: number; utterance: number; transcript: string; audioMs: number }
  | {
      type: 'final';
      stream: number;
      /** -1 for a spurious final. */
      utterance: number;
      transcript: string;
      audioMs: number;
      resultEndMs: number;
      confidence: number;
      /** Sent without speech in the audio (spurious-final mode or `spuriousFinal()`). */
      spurious: boolean;
    }
  | { type: 'noise'; stream: number; speechMs: number; audioMs: number }
  | { type: 'closed'; stream: number; state: SttStreamState; code?: number; details?: string };

/** Where a stream is in its life; every state but 'open' is final. */
export type SttStreamState = 'open' | 'ended' | 'cancelled' | 'failed';

/** What the fake knows about one stream; mutated in place while the stream lives. */
export interface SttStreamRecord<C> {
  index: number;
  /** Request metadata (headers) of the call, string values only (e.g. `x-goog-request-params`). */
  metadata: Record<string, string>;
  /** The streaming config as received (also when it was refused); null until it arrives. */
  config: C | null;
  /** The config's recognition settings, once the config was accepted. */
  recognition: RecognitionSummary | null;
  audioBytes: number;
  /** Audio received, in ms (bytes ÷ bytes-per-ms of the configured encoding). */
  audioMs: number;
  /** 'ended': finished with OK after the client half-closed; 'cancelled': the client cancelled; 'failed': ended with an error status. */
  state: SttStreamState;
  openedAt: number;
  closedAt?: number;
  /** Responses carrying results (interims + finals) sent so far. */
  results: number;
  /** The status the stream ended with, if it failed. */
  fault?: GrpcFault;
}

/** A running emulator. */
export interface SttEmulator<C> {
  /** "127.0.0.1:PORT". */
  readonly address: string;
  readonly port: number;
  /** Every stream ever opened, in order (index = position). */
  readonly streams: Array<SttStreamRecord<C>>;
  /** Emits each event under its `type` and under 'event'. */
  readonly events: EventEmitter;
  /** Streams still open. */
  activeStreams(): Array<SttStreamRecord<C>>;
  /** Ends every open stream at once with `code`/`details`; returns how many were failed. */
  failActiveStreams(code: number, details: string): number;
  /**
   * Sends a final without speech now, on every open stream that has its config (or only on stream
   * `opts.stream`). Defaults: `spuriousFinalText`/`spuriousFinalConfidence`. Returns how many got one.
   */
  spuriousFinal(opts?: { text?: string; confidence?: number; stream?: number }): number;
  /** Resolves with the next event of `type` matching `filter`; rejects after `timeoutMs` (default 5000). */
  waitForEvent<T extends SttEmulatorEvent<C>['type']>(
    type: T,
    filter?: (e: Extract<SttEmulatorEvent<C>, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<SttEmulatorEvent<C>, { type: T }>>;
  /** Force-shuts the server down (open streams are cancelled). Idempotent, never hangs. */
  close(): Promise<void>;
}

/** The options with every default filled in. */
export type ResolvedSttOptions = Required<
  Omit<SttEmulatorOptions, 'host' | 'port' | 'transcript' | 'failStreamAfterAudioMs' | 'failStreamCount'>
> &
  SttEmulatorOptions;

/** What a dialect decided about an accepted config. */
export interface StreamSetup {
  format: AudioFormat;
  interimResults: boolean;
  voiceActivityEvents: boolean;
  singleUtterance: boolean;
  /** Language code reported in results (Google lower-cases it). */
  resultLanguage: string;
  recognition: RecognitionSummary;
  /** Refuse the first audio message with this (e.g. v2 auto-detection of headerless audio). */
  faultOnAudio?: GrpcFault;
}

/** One recognition result, before the dialect shapes it. */
export interface ResultFields {
  transcript: string;
  confidence: number;
  isFinal: boolean;
  stability: number;
  endMs: number;
  languageCode: string;
}

/** How one API version reads, validates and answers `StreamingRecognize`. */
export interface SttDialect<C> {
  /** The request's config (first message only) and audio, as decoded by proto-loader. */
  parse(msg: any): { config?: C | undefined; audio?: Buffer | undefined };
  /** Validates a config the way Google does: a fault ends the stream before any audio. */
  configure(config: C, streamIndex: number): GrpcFault | StreamSetup;
  /** Status when a message of `bytes` audio exceeds the per-message limit, undefined when it fits. */
  audioFault(bytes: number): GrpcFault | undefined;
  /** Status for a first message without config, or a later message without audio. */
  malordered(kind: 'config-first' | 'audio-expected'): GrpcFault;
  /** Status of the API's stream duration cap. */
  streamLimit: GrpcFault;
  /** A response carrying one result. */
  result(r: ResultFields): Record<string, unknown>;
  /** A response carrying a speech event at `atMs` of audio. */
  speechEvent(
    type: 'SPEECH_ACTIVITY_BEGIN' | 'SPEECH_ACTIVITY_END' | 'END_OF_SINGLE_UTTERANCE',
    atMs: number,
  ): Record<string, unknown>;
}
