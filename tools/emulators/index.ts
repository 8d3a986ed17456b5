/**
 * Wire-level fakes of the gateway's providers, for tests, `npm run demo` and the benchmark:
 * Google STT v1 and v2 StreamingRecognize and TTS v1 SynthesizeSpeech over real gRPC, and an
 * OpenAI-compatible Chat Completions server over HTTP/SSE. Point the real SDK clients at them.
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
export { startFakeOpenAI, DEFAULT_OPENAI_REPLY, DEFAULT_CHUNK_CHARS } from './openai.ts';
export type { FakeOpenAI, FakeOpenAIOptions, FakeOpenAIRequest, FakeReply } from './openai.ts';
