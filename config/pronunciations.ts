/**
 * Pronunciation dictionaries (written form → spoken form) are configuration: the agents file's
 * `pronunciations` and PRONUNCIATIONS_FILE are checked here at start-up, every problem listed,
 * before the shaping module (media/voice/shaping/pronunciations.ts) ever applies one.
 */

/** Most entries a dictionary may have. */
export const MAX_PRONUNCIATIONS = 5000;
/** Longest written form, in characters. */
export const MAX_WRITTEN_LENGTH = 100;
/** Longest spoken form, in characters. */
export const MAX_SPOKEN_LENGTH = 200;

// Spoken forms must not bring back what shaping removes (they are not shaped again).
const UNSAYABLE = /[\p{Nd}%₪$€£#@&*+=/\\|<>^~_`[\]{}]|[\p{L}]["״”“][\p{L}]/u;

/**
 * Problems with a pronunciation dictionary as "key: message" lines (empty when it is valid). The
 * dictionary must be a plain object of at most MAX_PRONUNCIATIONS entries whose keys are
 * non-empty written forms of at most MAX_WRITTEN_LENGTH characters without surrounding spaces,
 * and whose values are non-empty spoken forms of at most MAX_SPOKEN_LENGTH characters with no
 * digits, symbols or gershayim (they reach synthesis unchanged).
 */
export function pronunciationProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return ['pronunciations: must be an object mapping written forms to spoken forms'];
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const problems: string[] = [];
  if (entries.length > MAX_PRONUNCIATIONS) {
    problems.push(`pronunciations: has ${entries.length} entries, at most ${MAX_PRONUNCIATIONS} are allowed`);
  }
  const seen = new Map<string, string>();
  for (const [key, spoken] of entries) {
    const label = key === '' ? '(empty key)' : key;
    if (key.trim() === '') problems.push(`${label}: written form must not be empty`);
    else if (key !== key.trim()) problems.push(`${label}: written form must not start or end with a space`);
    else if (key.length > MAX_WRITTEN_LENGTH) {
      problems.push(`${label}: written form is longer than ${MAX_WRITTEN_LENGTH} characters`);
    } else if (!/[\p{L}\p{N}]/u.test(key)) problems.push(`${label}: written form must contain a letter or digit`);
    else if (/[\n\r]/.test(key)) problems.push(`${label}: written form must be on one line`);
    const folded = key.toLowerCase();
    const earlier = seen.get(folded);
    if (earlier !== undefined) problems.push(`${label}: same written form as "${earlier}" (case is ignored)`);
    else seen.set(folded, key);
    if (typeof spoken !== 'string') {
      problems.push(`${label}: spoken form must be a string`);
      continue;
    }
    if (spoken.trim() === '') problems.push(`${label}: spoken form must not be empty`);
    else if (spoken.length > MAX_SPOKEN_LENGTH) {
      problems.push(`${label}: spoken form is longer than ${MAX_SPOKEN_LENGTH} characters`);
    } else if (/[\n\r]/.test(spoken)) problems.push(`${label}: spoken form must be on one line`);
    else if (UNSAYABLE.test(spoken)) {
      problems.push(`${label}: spoken form must be words only (no digits, symbols or gershayim)`);
    }
  }
  return problems;
}
