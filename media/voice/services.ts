/**
 * Builds the voice pipeline's providers once per process: one set of lazily created SDK clients,
 * the Google recognizer and synthesizer, the OpenAI reply generator, and the cache that lets every
 * call after the first start its greeting without a TTS round trip. Nothing here contacts a
 * provider; the first call does.
 */
import type { VoiceConfig } from '../../config/config.ts';
import type { Logger } from '../../server/logger.ts';
import type { Metrics } from '../../server/metrics.ts';
import { MemoryCallEndings, type CallEndings } from '../../server/call-endings.ts';
import { CrmClient } from '../../server/crm-client.ts';
import { loadAgents, type Agents } from '../../config/agents.ts';
import type { CallFactory } from '../twilio/call-handler.ts';
import { ProviderClients } from '../providers/clients.ts';
import { createSpeechRecognizer } from '../providers/google-stt-factory.ts';
import { GoogleSynthesizer, SynthesisCache } from '../providers/google-tts.ts';
import { GoogleStreamingSynthesizer } from '../providers/google-tts-stream.ts';
import { OpenAIReplyGenerator } from '../providers/openai-llm.ts';
import { VoiceCall, type VoiceServices } from './voice-call.ts';
import type { RecordSinks } from './call-record.ts';

/** The providers of a process and how to release them. */
export interface VoiceRuntime {
  services: VoiceServices;
  /** Closes the SDK clients (end of process, end of a test). */
  close(): Promise<void>;
}

/**
 * Real providers (Google STT/TTS, OpenAI) configured from VOICE settings. `endings` is where calls
 * leave their ending decision for `<Connect action>` (default: this process's memory);
 * `recordingsDir` (set with RECORD_CALLS) records every call there.
 */
export function createVoiceServices(
  voice: VoiceConfig,
  logger: Logger,
  opts: { endings?: CallEndings; webhookSecret?: string; records?: RecordSinks; recordingsDir?: string } = {},
): VoiceRuntime {
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
      streamingSynthesizer: new GoogleStreamingSynthesizer(clients, voice),
      cachedSynthesizer: new SynthesisCache(synthesizer, { voice: voice.ttsVoice, maxEntries: 32 }),
      endings: opts.endings ?? new MemoryCallEndings(),
      crm: new CrmClient(opts.webhookSecret),
      ...(opts.records ? { records: opts.records } : {}),
      ...(opts.recordingsDir ? { recordingsDir: opts.recordingsDir } : {}),
    },
    close: () => clients.close(),
  };
}

/**
 * The CallFactory that gives every accepted call a voice agent: the one `incoming_call` chose,
 * read from the `<Parameter>`s the stream token is bound to (so it cannot be forged).
 */
export function voiceCallFactory(
  services: VoiceServices,
  opts: { metrics?: Metrics; agents?: Agents } = {},
): CallFactory {
  const agents = opts.agents ?? loadAgents(undefined, services.voice);
  return (ctx) => {
    const p = ctx.customParameters;
    const agent = (p.agent && agents.byId.get(p.agent)) || agents.defaultAgent;
    return new VoiceCall(
      ctx,
      { ...services, ...(opts.metrics ? { metrics: opts.metrics } : {}) },
      { agent, from: p.from, to: p.to },
    );
  };
}
