/**
 * Hebrew text shaping before speech synthesis: one sentence of model output (as cut by the
 * sentence splitter) in, plain Hebrew words out, with no digits and no signs a Hebrew voice could
 * misread. Only synthesis sees the shaped text; transcripts and records keep the original.
 *
 *   sentence ─► normalizeInput ─► pronunciations (fixed from here on)
 *            ─► numbers: phones, dates, times, money, counts with their nouns
 *            ─► Hebrew abbreviations ─► Latin acronyms ─► remaining signs and digits ─► speech
 *
 * Pure: no I/O, no state besides a per-dictionary compile cache. Linear in the sentence length
 * (every pattern is anchored on word boundaries with no nested quantifiers).
 */
import { shapeHebrewAbbreviations, shapeLatinAcronyms } from './abbreviations.ts';
import { shapeNumbers } from './numeric.ts';
import type { PhoneGrouping } from './phones.ts';
import { applyDictionary, compileDictionary, type Piece } from './pronunciations.ts';
import { normalizeInput, speakSigns, tidySpacing } from './symbols.ts';

export { pronunciationProblems, MAX_PRONUNCIATIONS, MAX_SPOKEN_LENGTH, MAX_WRITTEN_LENGTH } from './pronunciations.ts';
export type { PhoneGrouping } from './phones.ts';

/** Options for shapeForSpeech. */
export interface ShapeOptions {
  /**
   * Agent's pronunciation dictionary: written form → spoken form (whole words or phrases, longest
   * match first, Latin case ignored, applied before everything else; the spoken form is final).
   */
  pronunciations?: Readonly<Record<string, string>>;
  /** Grouping of a phone number's seven-digit part: 3-2-2 (`paired`, default) or 3-4 (`written`). */
  phoneGrouping?: PhoneGrouping;
}

/**
 * One Hebrew sentence for the end of the system prompt, asking the model to write numbers,
 * times, dates, phone numbers, amounts and symbols as words (the shaper is the safety net).
 */
export const SPEAK_AS_WORDS_INSTRUCTION =
  'התשובות שלך מוקראות בקול בשיחת טלפון, ולכן כתוב מספרים, שעות, תאריכים, מספרי טלפון, סכומי כסף, אחוזים, ' +
  'ראשי תיבות וסימנים במילים מלאות כפי שאומרים אותם בעברית מדוברת ובהתאמה למין של שם העצם ' +
  '(למשל "שלושה חדרים", "שעתיים", "עשר וחצי", "אפס חמש אפס, שבע שש חמש"), בלי ספרות, בלי סימנים ובלי קיצורים.';

/**
 * The passes for text outside dictionary entries. Latin acronyms run twice: before the safety net
 * for tokens that mix letters and digits (4G), and after it for letters the net set free
 * (an "SMS" glued to digits).
 */
function shapePiece(text: string, options: ShapeOptions): string {
  let s = shapeNumbers(text, { phoneGrouping: options.phoneGrouping ?? 'paired' });
  s = shapeHebrewAbbreviations(s);
  s = shapeLatinAcronyms(s);
  s = speakSigns(s);
  return shapeLatinAcronyms(s);
}

/** Last resort when a pass fails on an input nobody foresaw: say the signs, keep the words. */
function fallback(text: string): string {
  try {
    return tidySpacing(speakSigns(text));
  } catch {
    // Not even the safety net could run: keep letters and plain punctuation only.
    return text
      .replace(/[^\p{L}\s.,?!]/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  }
}

/**
 * Shapes one sentence for a Hebrew voice: numbers with gender agreement, times, dates, phone
 * numbers, money, percentages, abbreviations and acronyms become words; Hebrew words, Latin
 * words and ordinary punctuation pass through. Never throws; unknown constructs are left as
 * words (an unknown acronym loses its gershayim, an unknown sign is dropped).
 */
export function shapeForSpeech(text: string, opts: ShapeOptions = {}): string {
  if (typeof text !== 'string' || text === '') return '';
  const input = normalizeInput(text);
  try {
    const table = opts.pronunciations;
    const pieces: Piece[] =
      table && typeof table === 'object'
        ? applyDictionary(input, compileDictionary(table))
        : [{ text: input, fixed: false }];
    return tidySpacing(pieces.map((p) => (p.fixed ? p.text : shapePiece(p.text, opts))).join(''));
  } catch {
    // The contract is "never throws": a caller on a live call must always have words to say.
    return fallback(input);
  }
}
