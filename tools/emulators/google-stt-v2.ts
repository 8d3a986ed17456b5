/**
 * A wire-level fake of Google Speech-to-Text v2 `StreamingRecognize` (the API of the Chirp models),
 * served over real gRPC from the protos bundled in `@google-cloud/speech`, so the real
 * `v2.SpeechClient` can be pointed at it.
 *
 * The first message must carry `recognizer` and `streamingConfig`; it refuses, as Google does, a
 * malformed recognizer path (and, with `location` set, a location other than the one it plays, as
 * Google's regional endpoints do), headerless audio without an `explicitDecodingConfig` (refused on
 * the first audio, once auto-detection fails), an unknown model, a model/language pair outside its
 * table, phrase boosts outside 0–20, audio messages over 15,360 bytes, and a message without audio
 * after the config. Speech detection, scripting, spurious finals and faults are the ones the v1
 * fake has (google-stt-core.ts).
 */
import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';
import type { grpc } from 'google-gax';
import type { protos } from '@google-cloud/speech';
import { duration } from './google-stt-detector.ts';
import { startSttServer } from './google-stt-core.ts';
import { phraseLimitFault, V2_MODEL_LANGUAGES } from './google-stt-rules.ts';
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

/** The first request of a v2 stream as the fake decodes it: `recognizer` and `streamingConfig`. */
export type SttV2Request = protos.google.cloud.speech.v2.IStreamingRecognizeRequest;
/** Lifecycle notifications of the v2 fake (`config` carries the first request). */
export type FakeSttV2Event = SttEmulatorEvent<SttV2Request>;
/** What the v2 fake knows about one stream (`config` is the first request). */
export type FakeSttV2Stream = SttStreamRecord<SttV2Request>;
/** A running v2 fake. */
export type FakeSttV2 = SttEmulator<SttV2Request>;

/** Options of {@link startFakeSttV2}; every field has a default. */
export interface FakeSttV2Options extends SttEmulatorOptions {
  /**
   * The location this fake plays, as a regional endpoint does: a recognizer path naming another
   * location is refused. Default: any location is accepted.
   */
  location?: string;
  /** Languages accepted per model (case-insensitive). Default {@link V2_MODEL_LANGUAGES}. */
  modelLanguages?: Readonly<Record<string, readonly string[]>>;
  /** Largest audio message, bytes (the v2 proto: 15 KB). Default 15360. */
  maxAudioMessageBytes?: number;
  /** Inspect each stream's first request first; returning a fault ends the stream with it. */
  rejectConfig?: (req: SttV2Request) => GrpcFault | undefined;
  /** Called synchronously for every {@link FakeSttV2Event} (also emitted on `fake.events`). */
  onEvent?: (e: FakeSttV2Event) => void;
}

/** Google ends a v2 stream at 5 minutes with ABORTED (python-docs-samples#11596). */
const STREAM_LIMIT: GrpcFault = { code: 10, details: 'Max duration of 5 minutes reached for stream.' };
const bad = (details: string): GrpcFault => ({ code: INVALID_ARGUMENT, details });
const RECOGNIZER_PATH = /^projects\/([^/\s]+)\/locations\/([^/\s]+)\/recognizers\/([^/\s]+)$/;
const AUTO_DECODING_REFUSED = bad(
  'Audio data does not appear to be in a supported encoding. If you believe this to be incorrect, try explicitly specifying the decoding parameters.',
);

const req = createRequire(import.meta.url);
const speechPackage = protoLoader.fromJSON(req('@google-cloud/speech/build/protos/protos.json'), {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const SPEECH_V2_SERVICE = speechPackage['google.cloud.speech.v2.Speech'] as unknown as grpc.ServiceDefinition;

/** Starts the v2 fake on `opts.host:opts.port` (default 127.0.0.1, ephemeral port). */
export function startFakeSttV2(opts: FakeSttV2Options = {}): Promise<FakeSttV2> {
  return startSttServer(SPEECH_V2_SERVICE, v2Dialect(opts), opts, 300_000);
}

/** Validates the first request of a v2 stream as Google does; a fault ends the stream before any audio. */
export function checkV2Request(
  first: SttV2Request,
  opts: Pick<FakeSttV2Options, 'location' | 'modelLanguages'> = {},
): GrpcFault | StreamSetup {
  const path = RECOGNIZER_PATH.exec(first.recognizer ?? '');
  if (!path) return bad('Invalid resource field value in the request.');
  const [, , location = '', recognizerId] = path;
  if (opts.location !== undefined && location !== opts.location)
    return bad(`Expected resource location to be ${opts.location}, but found ${location} in resource name.`);
  if (recognizerId !== '_')
    return {
      code: 5,
      details: `Recognizer "${first.recognizer}" not found; this fake serves the implicit recognizer "_" only.`,
    };
  const sc = first.streamingConfig;
  const rc = sc?.config;
  if (!rc) return bad('The implicit recognizer "_" needs streaming_config.config: it has no stored configuration.');

  const model = rc.model ?? '';
  const table = opts.modelLanguages ?? V2_MODEL_LANGUAGES;
  const accepted = table[model];
  if (!accepted) return bad(`The model "${model}" does not exist in the location named "${location}".`);
  const languages = rc.languageCodes ?? [];
  if (languages.length === 0) return bad('language_codes: at least one language code is required.');
  const lower = accepted.map((l) => l.toLowerCase());
  const refused = languages.find((l) => !lower.includes(l.toLowerCase()));
  // Google's exact wording for this refusal is UNCONFIRMED.
  if (refused !== undefined)
    return bad(
      `The language "${refused}" is not supported by the model "${model}" in the location named "${location}".`,
    );

  const phrases: Array<{ value: string; boost: number }> = [];
  for (const set of rc.adaptation?.phraseSets ?? []) {
    if (!set.inlinePhraseSet) return bad('This fake serves inline phrase sets only.');
    const setBoost = set.inlinePhraseSet.boost ?? 0;
    for (const p of set.inlinePhraseSet.phrases ?? []) {
      const boost = p.boost || setBoost;
      // The proto: "Boost values must be between 0 and 20. Any values outside that range will return an error."
      if (boost < 0 || boost > 20) return bad(`Invalid phrase boost ${boost}: boost values must be between 0 and 20.`);
      phrases.push({ value: p.value ?? '', boost });
    }
  }
  const limit = phraseLimitFault(phrases.map((p) => p.value));
  if (limit) return limit;

  const recognition = { languages: [...languages], model, phrases };
  const common = {
    interimResults: sc?.streamingFeatures?.interimResults === true,
    voiceActivityEvents: sc?.streamingFeatures?.enableVoiceActivityEvents === true,
    singleUtterance: false,
    resultLanguage: (languages[0] ?? '').toLowerCase(),
    recognition,
  };
  const explicit = rc.explicitDecodingConfig;
  // Headerless μ-law needs the explicit form: auto-detection fails on the first audio message.
  if (!explicit)
    return { ...common, format: { encoding: 'MULAW', sampleRate: 8000 }, faultOnAudio: AUTO_DECODING_REFUSED };
  const encoding = String(explicit.encoding ?? 'AUDIO_ENCODING_UNSPECIFIED');
  if (encoding === 'AUDIO_ENCODING_UNSPECIFIED')
    return bad('explicit_decoding_config.encoding: an encoding is required.');
  if (encoding !== 'MULAW' && encoding !== 'LINEAR16')
    return bad(`The fake recognizer supports MULAW and LINEAR16, not ${encoding}.`);
  const rate = explicit.sampleRateHertz ?? 0;
  if (rate < 8000 || rate > 48000)
    return bad(`Invalid sample rate hertz value: ${rate}. Valid values are between 8000 and 48000.`);
  const channels = explicit.audioChannelCount ?? 0;
  // "Effectively REQUIRED" per the proto; Google answers a 0 with this text (google-cloud-php#7289).
  if (channels === 0) return bad('Invalid audio channel count value: 0. Values must be non-negative.');
  if (channels > 8) return bad(`Invalid audio channel count value: ${channels}. The maximum allowed value is 8.`);
  if (channels > 1) return bad('The fake recognizer decodes mono audio only.');
  return { ...common, format: { encoding, sampleRate: rate } };
}

function v2Dialect(opts: FakeSttV2Options): SttDialect<SttV2Request> {
  const maxBytes = opts.maxAudioMessageBytes ?? 15_360;
  return {
    parse: (msg: { recognizer?: string; streamingConfig?: SttV2Request['streamingConfig']; audio?: Buffer | null }) =>
      msg.streamingConfig
        ? { config: { recognizer: msg.recognizer ?? '', streamingConfig: msg.streamingConfig } }
        : { audio: msg.audio && msg.audio.length > 0 ? msg.audio : undefined },
    configure: (first) => opts.rejectConfig?.(first) ?? checkV2Request(first, opts),
    // Google's own text, doubled article included (python-speech#476, python-docs-samples#11389).
    audioFault: (bytes) =>
      bytes > maxBytes
        ? bad(`Audio chunk can be of a a maximum of ${maxBytes} bytes. Received audio of ${bytes} bytes instead.`)
        : undefined,
    malordered: (kind) =>
      bad(
        kind === 'config-first'
          ? 'Malordered Data Received. Send exactly one config, followed by audio data.'
          : 'Malordered Data Received. Expected audio but none was set. Send exactly one config, followed by audio data.',
      ),
    streamLimit: STREAM_LIMIT,
    result: (r) => ({
      results: [
        {
          alternatives: [{ transcript: r.transcript, confidence: r.confidence }],
          isFinal: r.isFinal,
          stability: r.stability,
          resultEndOffset: duration(r.endMs),
          languageCode: r.languageCode,
        },
      ],
    }),
    speechEvent: (type, atMs) => ({ speechEventType: type, speechEventOffset: duration(atMs) }),
  };
}
