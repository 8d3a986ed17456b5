/**
 * Phrase hints ("speech adaptation") within Google's documented per-request limits, the same for
 * both API versions (Speech-to-Text quotas page): at most 5,000 phrases, 100 characters each,
 * 100,000 characters in all. Hints come from agent files and CRM answers, so they are cleaned here
 * rather than trusted: a request over a limit is refused by Google, and the call would lose
 * recognition for the sake of one bad phrase.
 */

/** Google's speech adaptation limits per request. */
export const STT_HINT_LIMITS = Object.freeze({ maxPhrases: 5000, maxPhraseChars: 100, maxTotalChars: 100_000 });

/**
 * The hints to send: trimmed (inner runs of whitespace collapsed), empty ones and repeats dropped,
 * phrases over 100 characters dropped (cutting one would hint at words nobody says), then the first
 * ones kept while within 5,000 phrases and 100,000 characters. Order is preserved. Never throws.
 */
export function capSttHints(hints: readonly string[] | undefined): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const raw of hints ?? []) {
    if (typeof raw !== 'string') continue;
    const phrase = raw.trim().replace(/\s+/g, ' ');
    const chars = [...phrase].length;
    if (chars === 0 || chars > STT_HINT_LIMITS.maxPhraseChars || seen.has(phrase)) continue;
    if (out.length >= STT_HINT_LIMITS.maxPhrases || total + chars > STT_HINT_LIMITS.maxTotalChars) break;
    seen.add(phrase);
    out.push(phrase);
    total += chars;
  }
  return out;
}
