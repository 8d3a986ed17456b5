/**
 * What the gateway can tell about its providers without contacting them (start-up must stay
 * instant): which endpoint each one will use and whether credentials were given. Clients are
 * created lazily on a call's first use, so a missing credential shows up here as a warning and
 * on a call as a clear error, never as a crash.
 */
import type { VoiceConfig } from '../../config/config.ts';

/** One provider's status line. */
export interface ProviderStatus {
  provider: 'google-stt' | 'google-tts' | 'openai';
  configured: boolean;
  endpoint: string;
  note: string;
}

/** Status of the three providers for the start-up log. */
export function providerStatus(v: VoiceConfig): ProviderStatus[] {
  const google = (provider: 'google-stt' | 'google-tts', emulator: string | undefined): ProviderStatus =>
    emulator
      ? { provider, configured: true, endpoint: emulator, note: 'local emulator over insecure gRPC, no credentials' }
      : v.googleCredentialsFile
        ? {
            provider,
            configured: true,
            endpoint: 'Google Cloud',
            note: 'credentials from GOOGLE_APPLICATION_CREDENTIALS',
          }
        : {
            provider,
            configured: false,
            endpoint: 'Google Cloud',
            note: 'GOOGLE_APPLICATION_CREDENTIALS not set: only Application Default Credentials of the host can work',
          };
  const openai: ProviderStatus = v.openaiApiKey
    ? { provider: 'openai', configured: true, endpoint: v.openaiBaseUrl ?? 'api.openai.com', note: 'API key set' }
    : v.openaiBaseUrl
      ? {
          provider: 'openai',
          configured: true,
          endpoint: v.openaiBaseUrl,
          note: 'no API key (fine for local OpenAI-compatible servers)',
        }
      : { provider: 'openai', configured: false, endpoint: 'api.openai.com', note: 'OPENAI_API_KEY not set' };
  return [google('google-stt', v.googleSttEmulatorHost), google('google-tts', v.googleTtsEmulatorHost), openai];
}
