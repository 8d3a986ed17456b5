/**
 * Google Speech-to-Text v1 behind the {@link SpeechRecognizer} seam: only what is Google v1 lives
 * here (the config message, the audio message, response and error translation); buffering,
 * rotation, restarts and event delivery are {@link RecognizerStream}'s.
 *
 * Uses the raw `_streamingRecognize()` call (we write `{ streamingConfig }` first, then
 * `{ audioContent }`) rather than the `streamingRecognize()` helper, because the raw stream has
 * `cancel()`: the helper's `destroy()` does not cancel the gRPC call, so a half-closed stream that
 * Google never finishes could live on until its 83-minute deadline; here it is cancelled after a
 * grace period. Its `write()` also reports the gRPC stream's own backpressure, not a wrapper's.
 */
import type { SpeechClient, protos } from '@google-cloud/speech';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromGrpcError } from './errors.ts';
import { capSttHints } from './google-stt-hints.ts';
import { transcriptEvents } from './google-stt-results.ts';
import { RecognizerStream } from './recognizer-stream.ts';
import type { RecognizerStreamOptions, RecognizerStreamStats } from './recognizer-options.ts';
import type { RecognizerDialect } from './recognizer-stream.ts';
import type { RecognizerEvent, RecognizerOptions, SpeechRecognizer } from './types.ts';

type StreamingConfig = protos.google.cloud.speech.v1.IStreamingRecognitionConfig;
type StreamingResponse = protos.google.cloud.speech.v1.IStreamingRecognizeResponse;

/** Tuning of v1 sessions (see {@link RecognizerStreamOptions} for the fields and defaults). */
export type GoogleSttOptions = RecognizerStreamOptions;
/** A running v1 recognition. */
export type GoogleRecognizerSession = RecognizerStream<SpeechClient, StreamingResponse>;
/** Counters of a session. */
export type SttSessionStats = RecognizerStreamStats;

/** Google's cap on one streaming audio message (quotas page: 25 KB). */
const V1_MAX_AUDIO_BYTES = 25_600;

/**
 * The recognition config sent as the first message of every stream: 8 kHz μ-law, STT_LANGUAGE,
 * STT_MODEL (left out when unset: Google's default), interim results, and the phrase hints (capped
 * to Google's limits) as one speech context boosted by STT_HINT_BOOST (no boost field when 0).
 */
export function sttStreamingConfig(config: VoiceConfig, hints: readonly string[] = []): StreamingConfig {
  const phrases = capSttHints(hints);
  return {
    config: {
      encoding: 'MULAW',
      sampleRateHertz: 8000,
      languageCode: config.sttLanguage,
      enableAutomaticPunctuation: true,
      ...(config.sttModel ? { model: config.sttModel } : {}),
      ...(phrases.length > 0
        ? { speechContexts: [{ phrases, ...(config.sttHintBoost > 0 ? { boost: config.sttHintBoost } : {}) }] }
        : {}),
    },
    interimResults: true,
  };
}

/** The v1 wire format for {@link RecognizerStream}. */
export function googleV1Dialect(
  clients: ProviderClients,
  config: VoiceConfig,
): RecognizerDialect<SpeechClient, StreamingResponse> {
  return {
    client: () => clients.speech(),
    open(client, hints) {
      const stream = client._streamingRecognize({ retry: { retryCodes: [] } }); // no gax retry: RecognizerStream is the retry layer
      stream.write({ streamingConfig: sttStreamingConfig(config, hints) });
      return stream;
    },
    audio: (chunk) => ({ audioContent: chunk }),
    maxAudioBytes: V1_MAX_AUDIO_BYTES,
    translate(r) {
      // The helper turns a response's `error` into a stream error; on the raw stream it is ours to do.
      if (r.error && r.error.code)
        return { error: { code: r.error.code, details: r.error.message ?? '', message: r.error.message ?? '' } };
      return transcriptEvents(r.results);
    },
    classify: (err) => fromGrpcError('stt', err),
  };
}

/**
 * Google STT v1 behind the {@link SpeechRecognizer} seam. Sessions share the process's SpeechClient
 * (from {@link ProviderClients}); each session owns its streams. Failures reach `onEvent` as a
 * 'failed' event carrying a ProviderError (AUTH, BAD_REQUEST, QUOTA, UNKNOWN, or the last retryable
 * error once `maxConsecutiveFailures` is reached); nothing is thrown.
 */
export class GoogleSpeechRecognizer implements SpeechRecognizer {
  private readonly dialect: RecognizerDialect<SpeechClient, StreamingResponse>;
  private readonly limitMs: number;
  private readonly opts: GoogleSttOptions;

  constructor(clients: ProviderClients, config: VoiceConfig, opts: GoogleSttOptions = {}) {
    this.dialect = googleV1Dialect(clients, config);
    this.limitMs = config.sttStreamLimitMs;
    this.opts = opts;
  }

  /** Opens a session at once; audio written before its first stream is ready is buffered. */
  start(
    onEvent: (e: RecognizerEvent) => void,
    signal: AbortSignal,
    opts: RecognizerOptions = {},
  ): GoogleRecognizerSession {
    return new RecognizerStream(this.dialect, this.limitMs, this.opts, onEvent, signal, opts.hints ?? []);
  }
}
