/**
 * The first and last passes of shaping. `normalizeInput` makes look-alike characters plain
 * (other digit scripts, ½, m², invisible direction marks) so the passes in between see one
 * spelling. `speakSigns` is the safety net at the end: every sign still left is said as a word
 * or dropped, every leftover digit is spelled, markdown and emoji are removed, so nothing a
 * Hebrew voice could misread reaches synthesis; `tidySpacing` then evens out the spaces.
 */
import { cardinal, groupedDigits } from './words.ts';

// Zero of each digit script mapped to ASCII; any other decimal digit is dropped at the end.
const DIGIT_ZEROS = [0xff10, 0x0660, 0x06f0, 0x0966];

function asciiDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (c) => {
    const code = c.codePointAt(0)!;
    for (const zero of DIGIT_ZEROS) if (code >= zero && code <= zero + 9) return String(code - zero);
    return c;
  });
}

/** Plain spellings for what the later passes match: digits, fractions, squares, quotes, spaces. */
export function normalizeInput(text: string): string {
  let s = text.replace(/[\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, '');
  if (/[^\x00-\x7F\u0590-\u05FF]/.test(s)) {
    s = asciiDigits(s)
      .replace(/(\d)\s?½/g, '$1.5')
      .replace(/½/g, 'חצי')
      .replace(/¼/g, 'רבע')
      .replace(/¾/g, 'שלושה רבעים')
      .replace(/(?<![\p{L}])(?:מ|m)²/gu, 'מ"ר')
      .replace(/[\u00A0\u2007\u202F]/g, ' ')
      .replace(/[‐‑‒]/g, '-');
  }
  return s;
}

const SAID: Readonly<Record<string, string>> = {
  '%': 'אחוז',
  '₪': 'שקלים',
  $: 'דולר',
  '€': 'אירו',
  '£': 'פאונד',
  '°': 'מעלות',
  '+': 'פלוס',
  '=': 'שווה',
  '×': 'כפול',
  '÷': 'חלקי',
  '@': 'את',
};
const SAID_PATTERN = /[%₪$€£°+=×÷@]/g;
// Signs with nothing to say: markdown, brackets, separators. Replaced by a space.
const DROPPED = /[*#~^|\\<>_`[\]{}•·▪►✓✔]/g;
// Pictographs plus the joiners and modifiers that build emoji sequences (ZWJ, VS16, keycap, skin tones).
const EMOJI =
  /\p{Extended_Pictographic}|\u{FE0F}|\u{200D}|\u{20E3}|\u{1F3FB}|\u{1F3FC}|\u{1F3FD}|\u{1F3FE}|\u{1F3FF}/gu;
const HEB = '\\u05D0-\\u05EA';
const LEFTOVER_GERSHAYIM = new RegExp(`(?<=[${HEB}])["״”“](?=[${HEB}])`, 'g');

// "כן/לא" → "כן או לא"; "מכבי & הפועל" → "מכבי והפועל".
const HEBREW_SLASH = new RegExp(`(?<=[${HEB}])\\s?/\\s?(?=[${HEB}])`, 'g');
const AMPERSAND_BEFORE_HEBREW = new RegExp(`\\s*&\\s*(?=[${HEB}])`, 'g');
// A geresh left after a letter it gives no sound to (an abbreviation glued to the next word).
const STRAY_GERESH = new RegExp(`(?<=[${HEB}])(?<![גזצץתח])['׳’]`, 'g');

/**
 * Says or drops every remaining sign and spells every leftover digit (the safety net after the
 * specific passes). Never throws.
 */
export function speakSigns(text: string): string {
  let s = text;
  if (/[\p{Extended_Pictographic}]/u.test(s)) s = s.replace(EMOJI, '');
  s = s
    .replace(/ו\/או/g, 'או')
    .replace(HEBREW_SLASH, ' או ')
    .replace(/\//g, ' ')
    .replace(AMPERSAND_BEFORE_HEBREW, ' ו')
    .replace(/&/g, ' אנד ')
    .replace(/(?<=[A-Za-z])\.(?=[A-Za-z])/g, ' נקודה ')
    .replace(SAID_PATTERN, (c) => ` ${SAID[c]!} `)
    .replace(DROPPED, ' ')
    .replace(LEFTOVER_GERSHAYIM, '')
    .replace(STRAY_GERESH, '');
  if (/\d/.test(s)) {
    s = s.replace(
      /\d+/g,
      (d) => ` ${d.length > 12 || (d.length > 1 && d[0] === '0') ? groupedDigits(d) : cardinal(Number(d), 'f')} `,
    );
  }
  return s.replace(/[\p{Nd}\p{No}]/gu, '');
}

/** Collapses runs of spaces, drops spaces before punctuation and adds one after a comma. */
export function tidySpacing(text: string): string {
  return text
    .replace(/[ \t\u00A0]+/g, ' ')
    .replace(/ (?=[,.;:!?])/g, '')
    .replace(/,(?=[\p{L}])/gu, ', ')
    .trim();
}
