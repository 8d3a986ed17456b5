/**
 * A wire-level fake of Google Speech-to-Text v1 `StreamingRecognize`, served over real gRPC from the
 * protos bundled in `@google-cloud/speech`, so the real `SpeechClient` can be pointed at it.
 *
 * It refuses what the real v1 refuses that a gateway could get wrong, with Google's status and
 * texts where they are known: a first message that is not a config, audio messages over 25 KB, an
 * encoding, sample rate or channel count Google does not take for headerless audio, an unknown
 * language, a model the language does not have (for Hebrew only `default`/unset and
 * `command_and_search` are documented), single-utterance mode on other models, and phrase hints
 * beyond Google's limits. Recognition itself is the shared audio-time detector
 * (google-stt-detector.ts); see google-stt-core.ts for the options both API versions share.
 */
import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';
import type { grpc } from 'google-gax';
import type { protos } from '@google-cloud/speech';
import { duration } from './google-stt-detector.ts';
import { startSttServer } from './google-stt-core.ts';
import { phraseLimitFault } from './google-stt-rules.ts';
import { INVALID_ARGUMENT } from './google-stt-types.ts';
import type {
  GrpcFault,
  SttDialect,
  SttEmulator,
  SttEmulatorEvent,
  SttEmulatorOptions,
  SttStreamRecord,
  StreamSetup,
} from './google-stt-types.ts';

export { DEFAULT_STT_TRANSCRIPTS } from './google-stt-types.ts';
export type { GrpcFault, TranscriptContext, SttStreamState, RecognitionSummary } from './google-stt-types.ts';

/** The streaming config as the fake decodes it (enums as strings, defaults filled in). */
export type SttStreamingConfig = protos.google.cloud.speech.v1.IStreamingRecognitionConfig;
/** Lifecycle notifications of the v1 fake. */
export type FakeSttEvent = SttEmulatorEvent<SttStreamingConfig>;
/** What the v1 fake knows about one stream. */
export type FakeSttStream = SttStreamRecord<SttStreamingConfig>;
/** A running v1 fake. */
export type FakeStt = SttEmulator<SttStreamingConfig>;

/**
 * Models v1 accepts per language (lower-case BCP-47; '' = model unset). Hebrew has only what
 * Google's v1 language table documents for it; `latest_short` with `iw-IL` is refused by the real
 * service (home-assistant/core#128330). The other rows are there so a wrong language can be told
 * from a wrong model.
 */
export const V1_LANGUAGE_MODELS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'iw-il': ['', 'default', 'command_and_search'],
  'he-il': ['', 'default', 'command_and_search'],
  'ar-il': ['', 'default', 'command_and_search'],
  'en-us': [
    '',
    'default',
    'command_and_search',
    'latest_long',
    'latest_short',
    'phone_call',
    'video',
    'telephony',
    'telephony_short',
    'medical_conversation',
    'medical_dictation',
  ],
});

/** Options of {@link startFakeStt}; every field has a default. */
export interface FakeSttOptions extends SttEmulatorOptions {
  /** Models accepted per lower-case language code ('' = unset). Default {@link V1_LANGUAGE_MODELS}. */
  languageModels?: Readonly<Record<string, readonly string[]>>;
  /** Largest audio message, bytes (Google's quota page: 25 KB per streaming request). Default 25600. */
  maxAudioMessageBytes?: number;
  /** Inspect each stream's config first; returning a fault ends the stream with it before any audio is processed. */
  rejectConfig?: (cfg: SttStreamingConfig) => GrpcFault | undefined;
  /** Called synchronously for every {@link FakeSttEvent} (also emitted on `fake.events`). */
  onEvent?: (e: FakeSttEvent) => void;
}

const STREAM_LIMIT: GrpcFault = { code: 11, details: 'Exceeded maximum allowed stream duration of 305 seconds.' };
const MALORDERED: GrpcFault = {
  code: INVALID_ARGUMENT,
  details: 'Malordered Data Received. Send exactly one config, followed by audio data.',
};
const bad = (details: string): GrpcFault => ({ code: INVALID_ARGUMENT, details });

const req = createRequire(import.meta.url);
// Same loader options as google-gax uses for its clients, so both sides agree on field shapes.
const speechPackage = protoLoader.fromJSON(req('@google-cloud/speech/build/protos/protos.json'), {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const SPEECH_SERVICE = speechPackage['google.cloud.speech.v1.Speech'] as unknown as grpc.ServiceDefinition;

/** Starts the v1 fake on `opts.host:opts.port` (default 127.0.0.1, ephemeral port). */
export function startFakeStt(opts: FakeSttOptions = {}): Promise<FakeStt> {
  return startSttServer(SPEECH_SERVICE, v1Dialect(opts), opts, 305_000);
}

/** Validates one v1 config as Google does; a fault ends the stream before any audio. */
export function checkV1Config(
  cfg: SttStreamingConfig,
  languageModels: Readonly<Record<string, readonly string[]>> = V1_LANGUAGE_MODELS,
): GrpcFault | StreamSetup {
  const rc = cfg.config;
  const language = rc?.languageCode ?? '';
  if (!rc || !language) return bad("Invalid recognition 'config': missing language_code.");
  const encoding = String(rc.encoding ?? 'ENCODING_UNSPECIFIED');
  if (encoding === 'ENCODING_UNSPECIFIED') return bad("Invalid recognition 'config': bad encoding.");
  if (encoding !== 'MULAW' && encoding !== 'LINEAR16')
    return bad(`The fake recognizer supports MULAW and LINEAR16, not ${encoding}.`);
  const rate = rc.sampleRateHertz ?? 0;
  if (rate < 8000 || rate > 48000) return bad("Invalid recognition 'config': bad sample rate hertz.");
  const channels = rc.audioChannelCount ?? 0;
  // Google: only 1 channel for MULAW (0 = mono); LINEAR16 takes up to 8, which this fake cannot decode.
  if (encoding === 'MULAW' && channels > 1) return bad('Invalid audio channel count');
  if (channels > 1) return bad('The fake recognizer decodes mono audio only.');
  const models = languageModels[language.toLowerCase()];
  if (!models) return bad("Invalid recognition 'config': bad language code.");
  const model = rc.model ?? '';
  if (!models.includes(model))
    return bad(
      `Invalid recognition 'config': The requested model is currently not supported for language : ${language}.`,
    );
  // The proto allows single_utterance only for command_and_search, enhanced phone_call, or no model.
  const single = cfg.singleUtterance === true;
  if (single && !['', 'command_and_search'].includes(model) && !(model === 'phone_call' && rc.useEnhanced))
    return bad(`Invalid recognition 'config': single_utterance is not supported for model ${model}.`);
  const phrases = (rc.speechContexts ?? []).flatMap((sc) =>
    (sc.phrases ?? []).map((value) => ({ value, boost: Math.max(0, sc.boost ?? 0) })),
  );
  const limit = phraseLimitFault(phrases.map((p) => p.value));
  if (limit) return limit;
  return {
    format: { encoding, sampleRate: rate },
    interimResults: cfg.interimResults === true,
    voiceActivityEvents: cfg.enableVoiceActivityEvents === true,
    singleUtterance: single,
    resultLanguage: language.toLowerCase(),
    recognition: { languages: [language], model, phrases },
  };
}

function v1Dialect(opts: FakeSttOptions): SttDialect<SttStreamingConfig> {
  const maxBytes = opts.maxAudioMessageBytes ?? 25_600;
  return {
    parse: (msg: { streamingConfig?: SttStreamingConfig | null; audioContent?: Buffer | null }) => ({
      config: msg.streamingConfig ?? undefined,
      audio: msg.audioContent ?? Buffer.alloc(0),
    }),
    configure: (cfg) => opts.rejectConfig?.(cfg) ?? checkV1Config(cfg, opts.languageModels),
    // The text Google has been seen to answer an oversized streaming audio message with.
    audioFault: (bytes) => (bytes > maxBytes ? bad('Invalid audio content: too long.') : undefined),
    malordered: () => MALORDERED,
    streamLimit: STREAM_LIMIT,
    result: (r) => ({
      results: [
        {
          alternatives: [{ transcript: r.transcript, confidence: r.confidence }],
          isFinal: r.isFinal,
          stability: r.stability,
          resultEndTime: duration(r.endMs),
          languageCode: r.languageCode,
        },
      ],
    }),
    speechEvent: (type, atMs) => ({ speechEventType: type, speechEventTime: duration(atMs) }),
  };
}
