/**
 * Google Speech-to-Text v2 (the API of the Chirp models) behind the {@link SpeechRecognizer} seam,
 * with the same session contract as v1 (rotation, restarts, error classes; {@link RecognizerStream}
 * does all of that). Only v2's wire format lives here.
 *
 * The `streamingRecognize()` helper is not used: it never sends the `recognizer` field v2 requires.
 * The raw `_streamingRecognize()` stream gets `{ recognizer, streamingConfig }` first, then
 * `{ audio }` messages of at most 15,360 bytes (the v2 proto's limit). It is opened with an
 * `x-goog-request-params` routing header naming the recognizer, as Google's unary v2 calls carry
 * (the raw stream sets none). The client is on STT_LOCATION's regional endpoint (clients.ts).
 */
import type { protos, v2 } from '@google-cloud/speech';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromGrpcError } from './errors.ts';
import { capSttHints } from './google-stt-hints.ts';
import { transcriptEvents } from './google-stt-results.ts';
import { RecognizerStream } from './recognizer-stream.ts';
import type { RecognizerStreamOptions } from './recognizer-options.ts';
import type { RecognizerDialect } from './recognizer-stream.ts';
import type { RecognizerEvent, RecognizerOptions, SpeechRecognizer } from './types.ts';

type FirstRequest = protos.google.cloud.speech.v2.IStreamingRecognizeRequest;
type StreamingResponse = protos.google.cloud.speech.v2.IStreamingRecognizeResponse;

/** A running v2 recognition. */
export type GoogleRecognizerSessionV2 = RecognizerStream<v2.SpeechClient, StreamingResponse>;

/** Model used on v2 when STT_MODEL is unset: v2 has no server-side default for the implicit recognizer. */
export const V2_DEFAULT_MODEL = 'chirp_3';
/** Project named in the recognizer path when an emulator is configured and GOOGLE_CLOUD_PROJECT is not. */
export const EMULATOR_PROJECT = 'local-emulator';
/** The v2 proto's cap on one audio message. */
const V2_MAX_AUDIO_BYTES = 15_360;

/** `projects/{GOOGLE_CLOUD_PROJECT}/locations/{STT_LOCATION}/recognizers/_` (`_`: the implicit recognizer). */
export function sttRecognizerPath(config: VoiceConfig): string {
  return `projects/${config.googleCloudProject ?? EMULATOR_PROJECT}/locations/${config.sttLocation}/recognizers/_`;
}

/**
 * The first message of every v2 stream: the recognizer, headerless 8 kHz mono μ-law declared
 * explicitly (Google cannot auto-detect it), `languageCodes: [STT_LANGUAGE]`, `model: STT_MODEL`
 * ({@link V2_DEFAULT_MODEL} when unset), interim results, and the phrase hints (capped to Google's
 * limits) as one inline phrase set, each phrase boosted by STT_HINT_BOOST (no boost when 0);
 * `adaptation` is left out when there are no hints. No optional features are asked for, so the
 * request has nothing a model could refuse for Hebrew.
 */
export function sttV2FirstRequest(config: VoiceConfig, hints: readonly string[] = []): FirstRequest {
  const phrases = capSttHints(hints);
  const boost = config.sttHintBoost > 0 ? { boost: config.sttHintBoost } : {};
  return {
    recognizer: sttRecognizerPath(config),
    streamingConfig: {
      config: {
        explicitDecodingConfig: { encoding: 'MULAW', sampleRateHertz: 8000, audioChannelCount: 1 },
        languageCodes: [config.sttLanguage],
        model: config.sttModel ?? V2_DEFAULT_MODEL,
        ...(phrases.length > 0
          ? {
              adaptation: {
                phraseSets: [{ inlinePhraseSet: { phrases: phrases.map((value) => ({ value, ...boost })) } }],
              },
            }
          : {}),
      },
      streamingFeatures: { interimResults: true },
    },
  };
}

/** The v2 wire format for {@link RecognizerStream}. */
export function googleV2Dialect(
  clients: ProviderClients,
  config: VoiceConfig,
): RecognizerDialect<v2.SpeechClient, StreamingResponse> {
  const routing = { 'x-goog-request-params': `recognizer=${encodeURIComponent(sttRecognizerPath(config))}` };
  return {
    client: () => clients.speechV2(),
    open(client, hints) {
      // No gax retry: RecognizerStream is the retry layer.
      const stream = client._streamingRecognize({ retry: { retryCodes: [] }, otherArgs: { headers: routing } });
      stream.write(sttV2FirstRequest(config, hints));
      return stream;
    },
    audio: (chunk) => ({ audio: chunk }),
    maxAudioBytes: V2_MAX_AUDIO_BYTES,
    // v2 responses have no `error` field: every failure is the stream's gRPC status.
    translate: (r) => transcriptEvents(r.results),
    classify: (err) => fromGrpcError('stt', err),
  };
}

/**
 * Google STT v2 behind the {@link SpeechRecognizer} seam; same events and failures as
 * GoogleSpeechRecognizer (v1). Sessions share the process's v2 client.
 */
export class GoogleSpeechRecognizerV2 implements SpeechRecognizer {
  private readonly dialect: RecognizerDialect<v2.SpeechClient, StreamingResponse>;
  private readonly limitMs: number;
  private readonly opts: RecognizerStreamOptions;

  constructor(clients: ProviderClients, config: VoiceConfig, opts: RecognizerStreamOptions = {}) {
    this.dialect = googleV2Dialect(clients, config);
    this.limitMs = config.sttStreamLimitMs;
    this.opts = opts;
  }

  /** Opens a session at once; audio written before its first stream is ready is buffered. */
  start(
    onEvent: (e: RecognizerEvent) => void,
    signal: AbortSignal,
    opts: RecognizerOptions = {},
  ): GoogleRecognizerSessionV2 {
    return new RecognizerStream(this.dialect, this.limitMs, this.opts, onEvent, signal, opts.hints ?? []);
  }
}
