/**
 * Builds the voice pipeline's providers once per process: one set of lazily created SDK clients,
 * the Google recognizer and synthesizer, the OpenAI reply generator, and the cache that lets every
 * call after the first start its greeting without a TTS round trip. Nothing here contacts a
 * provider; the first call does.
 */
import type { VoiceConfig } from '../../config/config.ts';
import type { Logger } from '../../server/logger.ts';
import type { Metrics } from '../../server/metrics.ts';
import type { CallFactory } from '../twilio/call-handler.ts';
import { ProviderClients } from '../providers/clients.ts';
import { createSpeechRecognizer } from '../providers/google-stt-factory.ts';
import { GoogleSynthesizer, SynthesisCache } from '../providers/google-tts.ts';
import { OpenAIReplyGenerator } from '../providers/openai-llm.ts';
import { VoiceCall, type VoiceServices } from './voice-call.ts';

/** The providers of a process and how to release them. */
export interface VoiceRuntime {
  services: VoiceServices;
  /** Closes the SDK clients (end of process, end of a test). */
  close(): Promise<void>;
}

/** Real providers (Google STT/TTS, OpenAI) configured from VOICE settings. */
export function createVoiceServices(voice: VoiceConfig, logger: Logger): VoiceRuntime {
  const clients = new ProviderClients(voice);
  const synthesizer = new GoogleSynthesizer(clients, voice);
  logger.debug('VOICE_SERVICES_READY', {
    voice: voice.ttsVoice,
    language: voice.sttLanguage,
    model: voice.openaiModel,
  });
  return {
    services: {
      voice,
      recognizer: createSpeechRecognizer(clients, voice),
      generator: new OpenAIReplyGenerator(clients, voice),
      synthesizer,
      cachedSynthesizer: new SynthesisCache(synthesizer, { voice: voice.ttsVoice, maxEntries: 32 }),
    },
    close: () => clients.close(),
  };
}

/** The CallFactory that gives every accepted call a voice agent. */
export function voiceCallFactory(services: VoiceServices, metrics?: Metrics): CallFactory {
  return (ctx) => new VoiceCall(ctx, { ...services, metrics });
}
