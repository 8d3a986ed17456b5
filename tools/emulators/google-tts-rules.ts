/**
 * What Google Text-to-Speech refuses, and the words it refuses it with, for the TTS emulator.
 *
 * Texts marked CONFIRMED were seen in error reports from the live service (listed in the README
 * draft); the others are ours, in Google's style, because no report of the live text was found:
 * a client must never depend on them, only on the status code (3 INVALID_ARGUMENT, 8
 * RESOURCE_EXHAUSTED). Every refusal here is a {@link GrpcFault} to answer the call with.
 */
import type { protos } from '@google-cloud/text-to-speech';
import type { GrpcFault } from './google-stt.ts';
import { isStreamingVoice, voicesFor } from './google-tts-voices.ts';
import type { FakeVoice } from './google-tts-voices.ts';

type VoiceParams = protos.google.cloud.texttospeech.v1.IVoiceSelectionParams;

/** gRPC status codes the emulator answers with. */
export const GRPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

/** Google's per-request (and, here, per streamed input) limit on text, in UTF-8 bytes. CONFIRMED (quota page). */
export const MAX_INPUT_BYTES = 5000;

/** Encodings `SynthesizeSpeech` accepts: the list Google names when it refuses one, plus headerless PCM. */
export const UNARY_ENCODINGS: readonly string[] = ['LINEAR16', 'MP3', 'OGG_OPUS', 'MULAW', 'ALAW', 'PCM'];
/** Encodings `StreamingSynthesize` accepts. CONFIRMED (proto comment of StreamingAudioConfig). */
export const STREAMING_ENCODINGS: readonly string[] = ['PCM', 'ALAW', 'MULAW', 'OGG_OPUS'];
/** The encodings the emulator can actually produce; the others are accepted by Google but answered UNIMPLEMENTED here. */
export const EMULATED_ENCODINGS: readonly string[] = ['MULAW', 'LINEAR16', 'PCM'];

/** The details texts. */
export const TTS_TEXTS = {
  /** CONFIRMED. */
  unknownVoice: (name: string): string => `Voice '${name}' does not exist. Is it misspelled?`,
  /** CONFIRMED (Google lower-cases the voice's language code in it). */
  languageMismatch: (requested: string, name: string, voiceLanguage: string): string => {
    const lang = voiceLanguage.toLowerCase();
    return (
      `Requested language code '${requested}' doesn't match the voice '${name}''s language code '${lang}'. ` +
      `Either pick a different voice, or change the requested language code to ${lang}.`
    );
  },
  /** CONFIRMED. */
  emptyLanguage: 'Empty language code.',
  /** CONFIRMED (an older report; the current text may differ). */
  noVoice: 'No TTS voice matching the TTS request. Please correct the voice selection params and try again.',
  /** CONFIRMED. */
  tooLong:
    'Either `input.text` or `input.ssml` is longer than the limit of 5000 bytes. This limit is different from quotas. ' +
    'To fix, reduce the byte length of the characters in this request, or consider using the Long Audio API.',
  /** CONFIRMED (reported for a Chirp 3 HD voice; it leaves out PCM, which the same voices accept). */
  encodingNotSupported:
    'This voice currently only supports the following audio encodings: LINEAR16, MP3, OGG_OPUS, MULAW, ALAW.',
  noInput: 'Either `input.text`, `input.ssml` or `input.markup` must be set.',
  noEncoding: 'AudioConfig.audio_encoding must be specified.',
  sampleRate: (rate: number): string => `Sample rate ${rate} Hz is not supported; use a rate from 8000 to 48000 Hz.`,
  speakingRate: (rate: number): string => `Speaking rate ${rate} is out of range; it must be from 0.25 to 2.0.`,
  streamingVoice: (name: string): string =>
    `Voice '${name}' does not support streaming synthesis. Streaming is only available with Chirp 3: HD voices.`,
  streamingEncoding: (encoding: string): string =>
    `Streaming synthesis does not support audio encoding ${encoding}; use PCM, ALAW, MULAW or OGG_OPUS.`,
  configFirst: 'The first StreamingSynthesizeRequest must contain a streaming_config and no input.',
  configOnce: 'streaming_config may only be set in the first StreamingSynthesizeRequest.',
  emulatorEncoding: (encoding: string): string =>
    `The TTS emulator cannot encode ${encoding} (Google can); use MULAW, LINEAR16 or PCM with the emulator.`,
  /** Google's generic RESOURCE_EXHAUSTED text: nothing in it says "per minute", so it reads as a used-up quota. */
  quotaExhausted: 'Resource has been exhausted (e.g. check quota).',
  /** Google's quota-failure text layout; the metric and limit names for TTS are our assumption. */
  quotaRate:
    "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service " +
    "'texttospeech.googleapis.com' for consumer 'project_number:000000000000'.",
} as const;

/**
 * Quota modes: 'exhausted' answers with Google's generic RESOURCE_EXHAUSTED text (a used-up quota:
 * permanent for the gateway), 'rate' with a per-minute quota text (a rate limit: retryable).
 */
export type FakeTtsQuota = 'exhausted' | 'rate';

/** The RESOURCE_EXHAUSTED fault of a quota mode. */
export function quotaFault(mode: FakeTtsQuota): GrpcFault {
  return {
    code: GRPC.RESOURCE_EXHAUSTED,
    details: mode === 'rate' ? TTS_TEXTS.quotaRate : TTS_TEXTS.quotaExhausted,
  };
}

const invalid = (details: string): GrpcFault => ({ code: GRPC.INVALID_ARGUMENT, details });

/**
 * The voice a request selects, or why Google would refuse it: an empty language code; a name not
 * in the catalogue; a name whose language differs from `languageCode` (compared without case);
 * no name and no voice for the language. Without a name, the first voice of the language (of
 * the requested gender when there is one) is chosen.
 */
export function resolveVoice(
  params: VoiceParams | null | undefined,
  voices: readonly FakeVoice[],
): FakeVoice | GrpcFault {
  const requested = params?.languageCode?.trim() ?? '';
  if (!requested) return invalid(TTS_TEXTS.emptyLanguage);
  const name = params?.name?.trim() ?? '';
  if (name) {
    const voice = voices.find((v) => v.name === name);
    if (!voice) return invalid(TTS_TEXTS.unknownVoice(name));
    if (!voice.languageCodes.some((c) => c.toLowerCase() === requested.toLowerCase()))
      return invalid(TTS_TEXTS.languageMismatch(requested, name, voice.languageCodes[0] ?? ''));
    return voice;
  }
  const candidates = voicesFor(voices, requested);
  const gender = String(params?.ssmlGender ?? 'SSML_VOICE_GENDER_UNSPECIFIED');
  return candidates.find((v) => v.ssmlGender === gender) ?? candidates[0] ?? invalid(TTS_TEXTS.noVoice);
}

/** True when `x` is a fault rather than a voice. */
export function isFault(x: unknown): x is GrpcFault {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as GrpcFault).code === 'number' &&
    typeof (x as GrpcFault).details === 'string'
  );
}

/** The text of one input, refused when missing or over {@link MAX_INPUT_BYTES}. */
export function checkText(text: string): GrpcFault | undefined {
  if (!text) return invalid(TTS_TEXTS.noInput);
  if (Buffer.byteLength(text, 'utf8') > MAX_INPUT_BYTES) return invalid(TTS_TEXTS.tooLong);
  return undefined;
}

/** The audio settings of a request as the emulator decodes them (enums as strings, 0 = unset). */
export interface AudioSettings {
  encoding: string;
  sampleRateHertz: number;
  speakingRate: number;
}

/**
 * Refuses audio settings Google refuses: no encoding, an encoding outside `accepted`, a sample
 * rate outside 8000–48000 Hz (0 = the voice's natural rate), a speaking rate outside 0.25–2.0
 * (0 = 1.0). Encodings Google accepts but the emulator cannot produce get UNIMPLEMENTED.
 */
export function checkAudio(a: AudioSettings, streaming: boolean): GrpcFault | undefined {
  const accepted = streaming ? STREAMING_ENCODINGS : UNARY_ENCODINGS;
  if (a.encoding === 'AUDIO_ENCODING_UNSPECIFIED' || !a.encoding) return invalid(TTS_TEXTS.noEncoding);
  if (!accepted.includes(a.encoding))
    return invalid(streaming ? TTS_TEXTS.streamingEncoding(a.encoding) : TTS_TEXTS.encodingNotSupported);
  if (a.sampleRateHertz !== 0 && (a.sampleRateHertz < 8000 || a.sampleRateHertz > 48000))
    return invalid(TTS_TEXTS.sampleRate(a.sampleRateHertz));
  if (a.speakingRate !== 0 && (a.speakingRate < 0.25 || a.speakingRate > 2))
    return invalid(TTS_TEXTS.speakingRate(a.speakingRate));
  if (!EMULATED_ENCODINGS.includes(a.encoding))
    return { code: GRPC.UNIMPLEMENTED, details: TTS_TEXTS.emulatorEncoding(a.encoding) };
  return undefined;
}

/** A streaming voice check on top of {@link resolveVoice}: only Chirp 3 HD voices stream. */
export function resolveStreamingVoice(
  params: VoiceParams | null | undefined,
  voices: readonly FakeVoice[],
): FakeVoice | GrpcFault {
  const voice = resolveVoice(params, voices);
  if (isFault(voice)) return voice;
  return isStreamingVoice(voice.name) ? voice : invalid(TTS_TEXTS.streamingVoice(voice.name));
}
