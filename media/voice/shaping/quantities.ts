/**
 * A written quantity (integer, decimal, negative, range, amount of money) said together with the
 * noun it counts: agreement in gender, the forms before a noun (שני, שלושת), the dual (שעתיים),
 * "one" after its noun (שעה אחת), halves (שעה וחצי, שלושה חדרים וחצי) and minor units
 * (שנים עשר שקלים וחמישים אגורות).
 */
import { nounAfter, type Noun, type NounMatch } from './lexicon.ts';
import {
  beforeNoun,
  cardinal,
  decimalToWords,
  groupedDigits,
  integerToWords,
  MAX_CARDINAL,
  type Gender,
} from './words.ts';

/** A number as written, split into its parts; separators removed. */
export interface Quantity {
  readonly sign: '' | '-' | '+';
  /** Integer digits, thousands separators removed. */
  readonly int: string;
  /** Digits after the decimal point, '' when none. */
  readonly fraction: string;
}

/** What a quantity is counting, when known. */
export interface Counted {
  readonly gender: Gender;
  /** The noun after the number; when absent only the numeral is said. */
  readonly match?: NounMatch;
  /** The noun as written (kept unless the phrase has to say it itself). */
  readonly written?: string;
}

/** A spoken quantity, and whether it already includes the noun that followed it. */
export interface Said {
  readonly text: string;
  readonly nounIncluded: boolean;
}

/** Parses "1,500.25", "-3", "+5", "−2" (U+2212). Never throws; callers pass regex matches. */
export function parseQuantity(written: string): Quantity {
  let s = written.trim();
  let sign: Quantity['sign'] = '';
  if (s.startsWith('-') || s.startsWith('−')) sign = '-';
  else if (s.startsWith('+')) sign = '+';
  if (sign) s = s.slice(1);
  const [int = '', fraction = ''] = s.replace(/,/g, '').split('.');
  return { sign, int, fraction };
}

const SIGN_WORDS = { '': '', '-': 'מינוס ', '+': 'פלוס ' } as const;
const isHalf = (fraction: string): boolean => /^50*$/.test(fraction);
const spellable = (q: Quantity): boolean =>
  q.int.length > 0 && !(q.int.length > 1 && q.int.startsWith('0')) && Number(q.int) <= MAX_CARDINAL;

/** The numeral alone, in the absolute form (no noun follows it directly). */
export function sayAbsolute(q: Quantity, gender: Gender): string {
  if (!spellable(q)) return SIGN_WORDS[q.sign] + groupedDigits(q.int + q.fraction);
  const int = Number(q.int);
  let text: string;
  if (!q.fraction) text = cardinal(int, gender);
  else if (isHalf(q.fraction)) text = int === 0 ? 'חצי' : `${cardinal(int, gender)} וחצי`;
  else text = decimalToWords(q.int, q.fraction, gender);
  return SIGN_WORDS[q.sign] + text;
}

const one = (g: Gender): string => (g === 'm' ? 'אחד' : 'אחת');

/** The noun word to say after a number: the spoken form of a sign, else the word as written. */
function nounWord(c: Counted, count: number, fraction: boolean): string {
  if (!c.match) return '';
  return c.match.symbol || !c.written ? nounAfter(c.match.noun, count, fraction) : c.written;
}

/** An amount in a currency with a minor unit: "12.50 ₪" → שנים עשר שקלים וחמישים אגורות. */
function sayMoney(q: Quantity, major: Noun, minor: Noun): string {
  const cents = Number(q.fraction.padEnd(2, '0'));
  const int = Number(q.int);
  const centsText = cents === 1 ? `${minor.singular} ${one(minor.gender)}` : countWith(cents, minor);
  if (int === 0) return SIGN_WORDS[q.sign] + centsText;
  const majorText = int === 1 ? `${major.singular} ${one(major.gender)}` : countWith(int, major);
  return `${SIGN_WORDS[q.sign]}${majorText}${cents > 0 ? ` ו${centsText}` : ''}`;
}

/** n ≥ 2 of a noun, indefinite: "שני שקלים", "מאה ועשרים שקלים". */
function countWith(n: number, what: Noun): string {
  return `${beforeNoun(n, what.gender, false)} ${nounAfter(what, n, false)}`;
}

/**
 * A quantity with its noun, e.g. 3 + ימים → "שלושה ימים", 2 + שעות → "שעתיים", 1.5 + שעות →
 * "שעה וחצי", 3 + הימים → "שלושת הימים", 120 + ₪ → "מאה ועשרים שקלים". `inRange` marks the
 * second number of a range (3-5 ימים), which keeps the plain plural (no dual, no reordering).
 */
export function sayCounted(q: Quantity, c: Counted, inRange = false): Said {
  const m = c.match;
  if (!m) return { text: sayAbsolute(q, c.gender), nounIncluded: false };
  const g = m.noun.gender;
  const sign = SIGN_WORDS[q.sign];
  if (!spellable(q)) return { text: `${sayAbsolute(q, g)} ${nounWord(c, 2, false)}`, nounIncluded: true };
  const n = Number(q.int);
  const definite = m.definite;
  // The noun may be reworded (reordered, dual, singular) only when it stands alone: not a
  // guess, not definite, not in a range, and not a construct heading a phrase (2 ימי עבודה).
  const free =
    !inRange &&
    !definite &&
    !m.guessed &&
    (m.symbol || !c.written || c.written === m.noun.singular || c.written === m.noun.plural);
  if (q.fraction) {
    const minor = m.noun.minor;
    if (minor && q.fraction.length <= 2) return { text: sayMoney(q, m.noun, minor), nounIncluded: true };
    if (isHalf(q.fraction) && free) {
      if (n === 0) return { text: `${sign}חצי ${m.noun.singular}`, nounIncluded: true };
      if (n === 1) return { text: `${sign}${m.noun.singular} וחצי`, nounIncluded: true };
      if (n === 2 && m.noun.dual) return { text: `${sign}${m.noun.dual} וחצי`, nounIncluded: true };
      // The Academy prefers the half after the noun (שלושה חדרים וחצי); percentages keep the
      // common "שניים וחצי אחוז".
      if (!m.noun.singularAbove10) {
        return { text: `${sign}${beforeNoun(n, g, false)} ${nounWord(c, n, false)} וחצי`, nounIncluded: true };
      }
    }
    return { text: `${sayAbsolute(q, g)} ${nounWord(c, n, true)}`, nounIncluded: true };
  }
  if (free) {
    if (n === 1) return { text: `${sign}${m.noun.singular} ${one(g)}`, nounIncluded: true };
    if (n === 2 && m.noun.dual) return { text: sign + m.noun.dual, nounIncluded: true };
  }
  if (n === 1) return { text: `${sign}${one(g)} ${nounWord(c, 1, false)}`, nounIncluded: true };
  return { text: `${sign}${beforeNoun(n, g, definite)} ${nounWord(c, n, false)}`, nounIncluded: true };
}

/**
 * A range "3-5 ימים" / "100-200 ₪": the first number absolute in the noun's gender, "עד", then
 * the second number with the noun.
 */
export function sayRange(from: Quantity, to: Quantity, c: Counted): Said {
  const g = c.match?.noun.gender ?? c.gender;
  const first = from.fraction && c.match?.noun.minor ? sayCounted(from, c).text : sayAbsolute(from, g);
  const second = sayCounted(to, c, true);
  return { text: `${first} עד ${second.text}`, nounIncluded: second.nounIncluded };
}

/** An integer string read as a code, digit by digit in breath groups (order and ID numbers). */
export function sayCode(digits: string): string {
  return groupedDigits(digits);
}

/** Integer words for callers that only have digits (years, days of the month). */
export function sayInteger(digits: string, gender: Gender): string {
  return integerToWords(digits, gender);
}
