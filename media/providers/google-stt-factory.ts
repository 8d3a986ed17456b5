/**
 * Picks the Google Speech-to-Text adapter STT_API asks for. Both speak the same
 * {@link SpeechRecognizer} contract, so nothing else in the gateway knows which one runs.
 */
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { GoogleSpeechRecognizer } from './google-stt.ts';
import { GoogleSpeechRecognizerV2 } from './google-stt-v2.ts';
import type { RecognizerStreamOptions } from './recognizer-options.ts';
import type { SpeechRecognizer } from './types.ts';

/** The v1 recognizer, or the v2 one when STT_API=v2. Contacts nothing until a session starts. */
export function createSpeechRecognizer(
  clients: ProviderClients,
  config: VoiceConfig,
  opts: RecognizerStreamOptions = {},
): SpeechRecognizer {
  return config.sttApi === 'v2'
    ? new GoogleSpeechRecognizerV2(clients, config, opts)
    : new GoogleSpeechRecognizer(clients, config, opts);
}
