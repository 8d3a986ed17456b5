/**
 * Google voice names: which language a voice speaks, which voices stream, and `ListVoices` for the
 * preflight check ("is TTS_VOICE a voice Google has for its language?").
 */
import { isChirp3HdVoice } from '../../config/config.ts';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromGrpcError } from './errors.ts';
import { abortedError, raceAbort } from './retry.ts';

export { isChirp3HdVoice } from '../../config/config.ts';

/** The language code a Google voice name starts with: 'he-IL' from 'he-IL-Wavenet-A'; the name itself if it has no such prefix. */
export function voiceLanguage(voiceName: string): string {
  return /^([a-z]{2,3}-[A-Za-z0-9]{2,4})-/.exec(voiceName)?.[1] ?? voiceName;
}

/**
 * Whether a reply spoken with `voice` goes through streaming synthesis under TTS_STREAMING:
 * 'auto' streams exactly the Chirp 3 HD voices (the only ones Google streams), true streams every
 * voice (Google refuses the others with BAD_REQUEST), false none.
 */
export function usesStreamingSynthesis(mode: VoiceConfig['ttsStreaming'], voice: string): boolean {
  return mode === 'auto' ? isChirp3HdVoice(voice) : mode;
}

/** One voice as Google lists it. */
export interface VoiceInfo {
  name: string;
  /** BCP-47 tags, e.g. ['he-IL']. */
  languageCodes: string[];
  /** 'MALE', 'FEMALE', 'NEUTRAL' or 'SSML_VOICE_GENDER_UNSPECIFIED'. */
  ssmlGender: string;
  /** The rate Google synthesizes this voice at; other rates are resampled. */
  naturalSampleRateHertz: number;
}

/** Options of {@link listVoices}. */
export interface ListVoicesOptions {
  /** Deadline of the request (gRPC DEADLINE_EXCEEDED → TIMEOUT). Default 5000. */
  timeoutMs?: number;
  /** Aborting rejects at once with ABORTED and cancels the request. */
  signal?: AbortSignal;
}

/**
 * The voices Google offers for `languageCode` ('he-IL', or a bare language such as 'he'; '' for
 * all). One request, without SDK retries. Rejects with a ProviderError: AUTH (credentials),
 * TIMEOUT, UNAVAILABLE, QUOTA/RATE_LIMITED, ABORTED when `signal` aborts.
 */
export async function listVoices(
  clients: ProviderClients,
  languageCode: string,
  opts: ListVoicesOptions = {},
): Promise<VoiceInfo[]> {
  const signal = opts.signal ?? new AbortController().signal;
  if (signal.aborted) throw abortedError('tts');
  const client = await raceAbort(clients.tts(), 'tts', signal);
  const call = client.listVoices(
    { languageCode },
    { timeout: opts.timeoutMs ?? 5000, retry: { retryCodes: [] }, signal }, // retry.ts is the only retry layer
  );
  const [response] = await raceAbort(call, 'tts', signal).catch((err: unknown) => {
    throw fromGrpcError('tts', err);
  });
  return (response.voices ?? []).map((v) => ({
    name: v.name ?? '',
    languageCodes: [...(v.languageCodes ?? [])],
    ssmlGender: String(v.ssmlGender ?? 'SSML_VOICE_GENDER_UNSPECIFIED'),
    naturalSampleRateHertz: v.naturalSampleRateHertz ?? 0,
  }));
}
