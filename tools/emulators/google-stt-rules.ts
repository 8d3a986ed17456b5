/**
 * Limits and tables of the STT emulators that are facts about Google (or documented guesses where
 * Google's behaviour is UNCONFIRMED, each marked so and overridable by an emulator option).
 */
import { INVALID_ARGUMENT } from './google-stt-types.ts';
import type { GrpcFault } from './google-stt-types.ts';

/**
 * Speech adaptation limits per request, from Google's quotas page (both API versions): at most
 * 5,000 phrases, 100 characters per phrase, 100,000 characters in all.
 */
export const PHRASE_LIMITS = Object.freeze({ maxPhrases: 5000, maxPhraseChars: 100, maxTotalChars: 100_000 });

/**
 * INVALID_ARGUMENT when phrase hints exceed {@link PHRASE_LIMITS}, undefined when they fit.
 * Google's exact wording of these refusals is UNCONFIRMED; the texts name the limit that was hit.
 */
export function phraseLimitFault(phrases: readonly string[]): GrpcFault | undefined {
  const { maxPhrases, maxPhraseChars, maxTotalChars } = PHRASE_LIMITS;
  if (phrases.length > maxPhrases)
    return fault(`Speech adaptation: ${phrases.length} phrases exceed the limit of ${maxPhrases} per request.`);
  const long = phrases.find((p) => [...p].length > maxPhraseChars);
  if (long !== undefined)
    return fault(
      `Speech adaptation: a phrase of ${[...long].length} characters exceeds the limit of ${maxPhraseChars}.`,
    );
  const total = phrases.reduce((n, p) => n + [...p].length, 0);
  if (total > maxTotalChars)
    return fault(`Speech adaptation: ${total} characters of phrases exceed the limit of ${maxTotalChars} per request.`);
  return undefined;
}

/**
 * v2 models and the languages each accepts in this emulator. Which v2 models support Hebrew is
 * UNCONFIRMED (query Google's Locations API, or run `npm run preflight`, before relying on one):
 * this default takes `iw-IL`/`he-IL` for `chirp_3` and `chirp_2` (Google's current multilingual
 * models) and for the general `long`/`short` models, and refuses Hebrew for `telephony` and
 * `telephony_short` (their language lists are short). `en-US` is accepted by every model.
 */
export const V2_MODEL_LANGUAGES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  chirp_3: ['iw-IL', 'he-IL', 'en-US'],
  chirp_2: ['iw-IL', 'he-IL', 'en-US'],
  long: ['iw-IL', 'he-IL', 'en-US'],
  short: ['iw-IL', 'he-IL', 'en-US'],
  telephony: ['en-US'],
  telephony_short: ['en-US'],
});

function fault(details: string): GrpcFault {
  return { code: INVALID_ARGUMENT, details };
}
