/**
 * Preflight checks of the Google side: the clients can be set up (credentials resolvable, or an
 * emulator configured), TTS_VOICE is a voice Google lists for its language, one short Hebrew
 * sentence synthesizes to playable 8 kHz μ-law, and, when replies stream, one short streamed
 * synthesis gives its first audio.
 */
import type { VoiceConfig } from '../../config/config.ts';
import { rmsMulaw } from '../audio/level.ts';
import type { ProviderClients } from './clients.ts';
import { GoogleSynthesizer } from './google-tts.ts';
import { GoogleStreamingSynthesizer } from './google-tts-stream.ts';
import { listVoices, usesStreamingSynthesis, voiceLanguage } from './google-tts-voices.ts';
import { failure, formatMs, variableFor } from './preflight-check.ts';
import type { CheckOutcome } from './preflight-check.ts';
import { raceAbort } from './retry.ts';
import type { ProviderError } from './types.ts';

/** The sentence the synthesis checks speak ("Hello, this is a short test of the voice."). */
export const PREFLIGHT_SENTENCE = 'שלום, זו בדיקה קצרה של הקול.';

/** Synthesized audio below this RMS (decoded PCM16) is as good as silence: a warning. */
const SILENT_RMS = 50;

/** 8 kHz μ-law: one byte per sample. */
const BYTES_PER_MS = 8;

/** The setting a Google TTS failure points at: a refused request is about the voice. */
export function ttsVariable(err: ProviderError, config: VoiceConfig): string | undefined {
  return variableFor(err, config, () => 'TTS_VOICE');
}

/**
 * Sets up both Google clients through {@link ProviderClients}: with an emulator configured this is
 * local; otherwise the SDK must find credentials (GOOGLE_APPLICATION_CREDENTIALS, or the host's
 * Application Default Credentials). Any failure names GOOGLE_APPLICATION_CREDENTIALS (or the
 * emulator variable when the emulator address is the problem).
 */
export async function googleCredentialsCheck(
  clients: ProviderClients,
  config: VoiceConfig,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const started = performance.now();
  const source = (emulator: string | undefined): string =>
    emulator
      ? `emulator ${emulator}`
      : config.googleCredentialsFile
        ? 'GOOGLE_APPLICATION_CREDENTIALS'
        : 'Application Default Credentials';
  const sources = `stt: ${source(config.googleSttEmulatorHost)}; tts: ${source(config.googleTtsEmulatorHost)}`;
  // The v1 Speech client resolves credentials exactly as the v2 one does, so it stands for both.
  const results = await Promise.allSettled([
    raceAbort(clients.speech(), 'stt', signal),
    raceAbort(clients.tts(), 'tts', signal),
  ]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    const which = results[0].status === 'rejected' ? 'stt' : 'tts';
    const emulator = which === 'stt' ? config.googleSttEmulatorHost : config.googleTtsEmulatorHost;
    return {
      ...failure(failed.reason, () => undefined, `${which} client could not be set up (${sources})`),
      variable: emulator
        ? which === 'stt'
          ? 'GOOGLE_STT_EMULATOR_HOST'
          : 'GOOGLE_TTS_EMULATOR_HOST'
        : 'GOOGLE_APPLICATION_CREDENTIALS',
    };
  }
  return { ok: true, measured: `clients ready in ${formatMs(performance.now() - started)} (${sources})` };
}

/**
 * `ListVoices` for each voice's language contains the voice. `voices[0]` is TTS_VOICE; the others
 * are agents' own voices (`source` says whose). A voice Google does not list fails naming its
 * setting, with a few valid voices of that language as the detail.
 */
export async function ttsVoiceCheck(
  clients: ProviderClients,
  config: VoiceConfig,
  voices: readonly VoiceToCheck[],
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const started = performance.now();
  const languages = [...new Set(voices.map((v) => voiceLanguage(v.name)))];
  const listed = new Map<string, string[]>();
  try {
    for (const language of languages) {
      const found = await listVoices(clients, language, { signal, timeoutMs: 5000 });
      listed.set(
        language,
        found.map((v) => v.name),
      );
    }
  } catch (err) {
    return failure(err, (e) => ttsVariable(e, config), 'ListVoices failed');
  }
  const ms = formatMs(performance.now() - started);
  const missing = voices.filter((v) => !(listed.get(voiceLanguage(v.name)) ?? []).includes(v.name));
  const counts = languages.map((l) => `${listed.get(l)?.length ?? 0} ${l} voices`).join(', ');
  if (missing.length === 0) {
    const names = voices.map((v) => v.name).join(', ');
    return { ok: true, measured: `${names} listed (${counts}, ListVoices ${ms})` };
  }
  const first = missing[0]!;
  const choices = closestNames(first.name, listed.get(voiceLanguage(first.name)) ?? []);
  return {
    ok: false,
    measured: `${missing.map((v) => `${v.name} (${v.source})`).join(', ')} not listed (${counts})`,
    variable: first.variable,
    detail:
      choices.length > 0
        ? `Google lists for ${voiceLanguage(first.name)}, among others: ${choices.join(', ')}`
        : `Google lists no voices for ${voiceLanguage(first.name)}; a voice name starts with its language, e.g. he-IL-Wavenet-A`,
  };
}

/** A voice the configuration uses, where it comes from and which setting chooses it. */
export interface VoiceToCheck {
  name: string;
  /** "TTS_VOICE", or "agent sales" for an agent's own voice. */
  source: string;
  /** The setting to change: TTS_VOICE or AGENTS_FILE. */
  variable: string;
}

/**
 * One short Hebrew sentence through {@link GoogleSynthesizer} with TTS_VOICE: it must come back as
 * 8 kHz μ-law (the synthesizer checks and strips the WAV header). Measures synthesis time and
 * audio length; near-silent audio is a warning.
 */
export async function ttsSynthesisCheck(
  clients: ProviderClients,
  config: VoiceConfig,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  let result;
  try {
    result = await new GoogleSynthesizer(clients, config).synthesize(PREFLIGHT_SENTENCE, signal);
  } catch (err) {
    return failure(err, (e) => ttsVariable(e, config), `synthesis with ${config.ttsVoice} failed`);
  }
  const audioMs = result.mulaw.length / BYTES_PER_MS;
  const measured = `synthesis ${formatMs(result.synthMs)}, ${formatMs(audioMs)} of 8 kHz μ-law audio (${config.ttsVoice})`;
  const level = rmsMulaw(result.mulaw);
  if (level < SILENT_RMS)
    return { ok: true, measured, warn: `the audio is near silence (RMS ${Math.round(level)})`, variable: 'TTS_VOICE' };
  return { ok: true, measured };
}

/**
 * The voice replies stream with, if any: TTS_VOICE when TTS_STREAMING applies to it, else the first
 * agent voice it applies to; undefined when no reply streams.
 */
export function streamingVoice(config: VoiceConfig, voices: readonly VoiceToCheck[]): VoiceToCheck | undefined {
  return voices.find((v) => usesStreamingSynthesis(config.ttsStreaming, v.name));
}

/**
 * One short streamed synthesis through {@link GoogleStreamingSynthesizer}: time to the first
 * audio chunk, and the audio in all. A refusal names the voice's setting.
 */
export async function ttsStreamingCheck(
  clients: ProviderClients,
  config: VoiceConfig,
  voice: VoiceToCheck,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const started = performance.now();
  let firstMs: number | undefined;
  let bytes = 0;
  try {
    const stream = new GoogleStreamingSynthesizer(clients, config).open(signal, { voice: voice.name });
    stream.write(PREFLIGHT_SENTENCE);
    stream.end();
    for await (const chunk of stream) {
      firstMs ??= performance.now() - started;
      bytes += chunk.length;
    }
  } catch (err) {
    return failure(err, (e) => variableFor(e, config, () => voice.variable), `streaming with ${voice.name} failed`);
  }
  if (firstMs === undefined)
    return {
      ok: false,
      measured: `no audio from streaming synthesis (${voice.name})`,
      variable: 'TTS_STREAMING',
      detail: signal.aborted ? 'cancelled' : 'the stream ended without audio; TTS_STREAMING=false turns streaming off',
    };
  return {
    ok: true,
    measured: `first audio ${formatMs(firstMs)}, ${formatMs(bytes / BYTES_PER_MS)} of audio in ${formatMs(performance.now() - started)} (${voice.name})`,
  };
}

/** Up to five of `names`, those sharing the longest prefix with `wanted` first (same family, same persona). */
function closestNames(wanted: string, names: readonly string[]): string[] {
  const shared = (n: string): number => {
    let i = 0;
    while (i < n.length && i < wanted.length && n[i] === wanted[i]) i++;
    return i;
  };
  return [...names].sort((a, b) => shared(b) - shared(a) || a.localeCompare(b)).slice(0, 5);
}
