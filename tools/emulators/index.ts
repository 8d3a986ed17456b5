/**
 * Wire-level fakes of the gateway's providers, for tests, `npm run demo` and the benchmark:
 * Google STT v1 and v2 StreamingRecognize and TTS v1 (SynthesizeSpeech, StreamingSynthesize, ListVoices) over real gRPC, and an
 * OpenAI-compatible Chat Completions server over HTTP/SSE. Point the real SDK clients at them.
 * The CRM emulator plays the business's own systems (context, tools, post-call webhook).
 */
export { startFakeStt, DEFAULT_STT_TRANSCRIPTS, V1_LANGUAGE_MODELS, checkV1Config } from './google-stt.ts';
export type {
  FakeStt,
  FakeSttOptions,
  FakeSttEvent,
  FakeSttStream,
  SttStreamState,
  SttStreamingConfig,
  TranscriptContext,
  GrpcFault,
  RecognitionSummary,
} from './google-stt.ts';
export { startFakeSttV2, checkV2Request } from './google-stt-v2.ts';
export type { FakeSttV2, FakeSttV2Options, FakeSttV2Event, FakeSttV2Stream, SttV2Request } from './google-stt-v2.ts';
export { PHRASE_LIMITS, V2_MODEL_LANGUAGES } from './google-stt-rules.ts';
export { startFakeTts, fakeTtsAudio } from './google-tts.ts';
export type { FakeTts, FakeTtsOptions, FakeTtsAudioOptions, FakeTtsRequest } from './google-tts.ts';
export type { FakeTtsStream, FakeTtsStreamingOptions, TtsStreamState } from './google-tts-stream.ts';
export { DEFAULT_TTS_VOICES, CHIRP3_HD_PERSONAS } from './google-tts-voices.ts';
export type { FakeVoice } from './google-tts-voices.ts';
export { TTS_TEXTS, MAX_INPUT_BYTES as TTS_MAX_INPUT_BYTES } from './google-tts-rules.ts';
export type { FakeTtsQuota } from './google-tts-rules.ts';
export { startFakeOpenAI, DEFAULT_OPENAI_REPLY, DEFAULT_CHUNK_CHARS } from './openai.ts';
export type {
  FakeOpenAI,
  FakeOpenAIOptions,
  FakeOpenAIRequest,
  FakeOpenAISettings,
  FakeReply,
  FakeToolCall,
} from './openai.ts';
export { DEFAULT_OPENAI_MODELS, ALL_REASONING_EFFORTS } from './openai-models.ts';
export type { FakeModelSpec, ReasoningEffortValue } from './openai-models.ts';
export { startFakeCrm, CRM_PATHS } from './crm.ts';
export type { CrmRequest, CrmRouteBehaviour, CrmRouteName, FakeCrm, FakeCrmOptions, SignatureCheck } from './crm.ts';
