/**
 * Abbreviations, expanded to what is said:
 *   - Hebrew acronyms with gershayim (ת"א, ש"ח, עו"ד, בע"מ): a table of expansions; one not in
 *     the table loses its gershayim and is read as a word, which is how most are said (צה"ל →
 *     צהל, מנכ"ל → מנכל). Prefix letters stay attached: בת"א → בתל אביב.
 *   - Shortenings with geresh (וכו', רח', מס', גב'); a single letter with geresh is a weekday
 *     after יום/ימי (יום ה' → יום חמישי, א'-ה' → ראשון עד חמישי) and otherwise the letter's name
 *     (סעיף ב' → סעיף בית). A geresh that marks a sound (ג'ון, צ'יפס, ז'קט) is left alone.
 *   - Latin acronyms (SMS, CRM, B2B, 4G) spelled letter by letter in Hebrew letters; all-caps
 *     words of four or five letters with a vowel (NASA, COVID) are left to be read as words.
 */
import { asciiQuotes } from './lexicon.ts';
import { dayName, letterName } from './times.ts';
import { cardinal } from './words.ts';

const ACRONYMS: Readonly<Record<string, string>> = {
  'ת"א': 'תל אביב',
  'ש"ח': 'שקלים',
  'ד"ר': 'דוקטור',
  'עו"ד': 'עורך דין',
  'בע"מ': 'בערבון מוגבל',
  'רו"ח': 'רואה חשבון',
  'ח"כ': 'חבר כנסת',
  'ת"ז': 'תעודת זהות',
  'ת"ד': 'תא דואר',
  'ע"י': 'על ידי',
  'ע"פ': 'על פי',
  'ע"ש': 'על שם',
  'בי"ס': 'בית ספר',
  'ביה"ס': 'בית הספר',
  'בי"ח': 'בית חולים',
  'ביה"ח': 'בית החולים',
  'מע"מ': 'מס ערך מוסף',
  'ארה"ב': 'ארצות הברית',
  'חו"ל': 'חוץ לארץ',
  'אחה"צ': 'אחר הצהריים',
  'לפנה"צ': 'לפני הצהריים',
  'יו"ר': 'יושב ראש',
  'סה"כ': 'סך הכול',
  'בד"כ': 'בדרך כלל',
  'כ"כ': 'כל כך',
  'ז"ל': 'זכרונו לברכה',
  'פס"ד': 'פסק דין',
  'עו"ס': 'עובד סוציאלי',
  'ב"ש': 'באר שבע',
  'פ"ת': 'פתח תקווה',
  'ר"ג': 'רמת גן',
  'ראשל"צ': 'ראשון לציון',
  'ק"מ': 'קילומטר',
  'מ"ר': 'מטר רבוע',
  'ס"מ': 'סנטימטר',
  'מ"מ': 'מילימטר',
  'ק"ג': 'קילוגרם',
  'מ"ל': 'מיליליטר',
  'קמ"ש': 'קילומטר לשעה',
  'נ"ב': 'נון בית',
};

const SHORTENINGS: Readonly<Record<string, string>> = {
  "וכו'": 'וכולי',
  "וכד'": 'וכדומה',
  "רח'": 'רחוב',
  "מס'": 'מספר',
  "גב'": 'גברת',
  "פרופ'": 'פרופסור',
  "שד'": 'שדרות',
  "טל'": 'טלפון',
  "עמ'": 'עמוד',
  "דק'": 'דקות',
  "שע'": 'שעות',
  "ושות'": 'ושותפים',
  "מח'": 'מחלקה',
  "סמ'": 'סמטה',
  "גר'": 'גרם',
  "יח'": 'יחידות',
};

// Letters after which a word-final geresh marks a sound, not an abbreviation (מאץ', שייח', סמית').
const SOUND_GERESH = new Set(['ג', 'ז', 'צ', 'ץ', 'ת', 'ח']);
const PREFIX_LETTERS = 'ובכלמשה';
const HEB = '\\u05D0-\\u05EA';

/** The expansion of `token` from `table`, trying it whole and then without 1–3 prefix letters. */
function expand(token: string, table: Readonly<Record<string, string>>): string | undefined {
  for (let cut = 0; cut <= 3 && cut < token.length - 2; cut++) {
    if (cut > 0 && !PREFIX_LETTERS.includes(token[cut - 1]!)) return undefined;
    const hit = table[token.slice(cut)];
    if (hit) return token.slice(0, cut) + hit;
  }
  return undefined;
}

const GERSHAYIM = new RegExp(`(?<![\\p{L}])([${HEB}]{1,6})["״”“]([${HEB}])(?![\\p{L}])`, 'gu');
const DAY_RANGE = new RegExp(`(?<![\\p{L}])([א-ו]|ש)['׳’]\\s?[-–]\\s?([א-ו]|ש)['׳’](?![\\p{L}])`, 'gu');
const GERESH = new RegExp(`(?<![\\p{L}])([${HEB}]{1,6})['׳’](?![\\p{L}])`, 'gu');
const DAY_WORD = new RegExp(`(?:^|[^${HEB}])[ובלמשה]{0,2}(?:יום|ימי|ימים)\\s*$`, 'u');

/** Expands Hebrew acronyms and shortenings; unknown acronyms lose their gershayim. */
export function shapeHebrewAbbreviations(text: string): string {
  let out = text;
  if (/["״”“]/.test(out)) {
    out = out.replace(GERSHAYIM, (whole: string, head: string, last: string) => {
      return expand(asciiQuotes(whole), ACRONYMS) ?? head + last;
    });
  }
  if (!/['׳’]/.test(out)) return out;
  out = out.replace(DAY_RANGE, (whole: string, from: string, to: string) => `${dayName(from)} עד ${dayName(to)}`);
  return out.replace(GERESH, (whole: string, word: string, offset: number, all: string) => {
    const known = expand(asciiQuotes(whole), SHORTENINGS);
    if (known) return known;
    if (word.length === 1) {
      const day = DAY_WORD.test(all.slice(Math.max(0, offset - 12), offset)) ? dayName(word) : undefined;
      return day ?? letterName(word) ?? word;
    }
    return SOUND_GERESH.has(word[word.length - 1]!) ? whole : word;
  });
}

const LATIN_LETTERS: Readonly<Record<string, string>> = {
  A: 'איי',
  B: 'בי',
  C: 'סי',
  D: 'די',
  E: 'אי',
  F: 'אף',
  G: "ג'י",
  H: "אייץ'",
  I: 'איי',
  J: "ג'יי",
  K: 'קיי',
  L: 'אל',
  M: 'אם',
  N: 'אן',
  O: 'או',
  P: 'פי',
  Q: 'קיו',
  R: 'אר',
  S: 'אס',
  T: 'טי',
  U: 'יו',
  V: 'וי',
  W: 'דאבל יו',
  X: 'אקס',
  Y: 'וואי',
  Z: 'זד',
};
// Acronyms said as a word rather than spelled.
const LATIN_WORDS: Readonly<Record<string, string>> = { OK: 'אוקיי' };

// One run of capitals and digits (no nested quantifiers: linear on any input); the callback
// checks that it holds a letter.
const LATIN_ACRONYM = /(?<![\p{L}\p{N}])(?:([ובכלמשה]{1,4})[-־]?)?([A-Z0-9]+)(?![\p{L}\p{N}])/gu;

/** True for an all-caps token that is spelled out: letters with digits, up to 3 letters, or no vowel. */
function isSpelled(token: string): boolean {
  if (token.length < 2 || token.length > 6 || !/[A-Z]/.test(token)) return false;
  if (/\d/.test(token)) return true;
  return token.length <= 3 || !/[AEIOUY]/.test(token);
}

/** Spells Latin acronyms in Hebrew letters: "SMS" → "אס אם אס", "ב-CRM" → "בסי אר אם". */
export function shapeLatinAcronyms(text: string): string {
  if (!/[A-Z]{2}|[A-Z]\d|\d[A-Z]/.test(text)) return text;
  return text.replace(LATIN_ACRONYM, (whole: string, prefix: string | undefined, token: string) => {
    const word = LATIN_WORDS[token];
    if (!word && !isSpelled(token)) return whole;
    const spoken =
      word ?? Array.from(token, (c) => (c >= '0' && c <= '9' ? cardinal(Number(c), 'f') : LATIN_LETTERS[c]!)).join(' ');
    return (prefix ?? '') + spoken;
  });
}
