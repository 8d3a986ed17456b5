/**
 * Hebrew number words: cardinals in either gender, the forms a numeral takes right before a noun,
 * and digit-by-digit reading. Pure string functions; spelling is the Academy's full spelling
 * without niqqud (שלושה, שתיים, שתים עשרה, שלושת).
 *
 * Gender is the gender of the counted noun: `m` gives שלושה, `f` gives שלוש. The feminine forms
 * are also the abstract forms (counting, digits, clock hours), which is why `f` is the default
 * everywhere a noun is unknown.
 */

/** Grammatical gender of a counted noun. */
export type Gender = 'm' | 'f';

const UNITS: Record<Gender, readonly string[]> = {
  f: ['אפס', 'אחת', 'שתיים', 'שלוש', 'ארבע', 'חמש', 'שש', 'שבע', 'שמונה', 'תשע'],
  m: ['אפס', 'אחד', 'שניים', 'שלושה', 'ארבעה', 'חמישה', 'שישה', 'שבעה', 'שמונה', 'תשעה'],
};
// 10…19; note שתים עשרה (one yod) next to שתיים, and שמונה עשר / שמונה עשרה in both genders.
const TEENS: Record<Gender, readonly string[]> = {
  f: [
    'עשר',
    'אחת עשרה',
    'שתים עשרה',
    'שלוש עשרה',
    'ארבע עשרה',
    'חמש עשרה',
    'שש עשרה',
    'שבע עשרה',
    'שמונה עשרה',
    'תשע עשרה',
  ],
  m: [
    'עשרה',
    'אחד עשר',
    'שנים עשר',
    'שלושה עשר',
    'ארבעה עשר',
    'חמישה עשר',
    'שישה עשר',
    'שבעה עשר',
    'שמונה עשר',
    'תשעה עשר',
  ],
};
const TENS = ['', '', 'עשרים', 'שלושים', 'ארבעים', 'חמישים', 'שישים', 'שבעים', 'שמונים', 'תשעים'];
// מאה is feminine, so its multiples take the feminine numeral (שלוש מאות).
const HUNDREDS = [
  '',
  'מאה',
  'מאתיים',
  'שלוש מאות',
  'ארבע מאות',
  'חמש מאות',
  'שש מאות',
  'שבע מאות',
  'שמונה מאות',
  'תשע מאות',
];
// אלף is masculine: 3–10 thousand use the masculine construct (שלושת אלפים).
const THOUSANDS = [
  '',
  'אלף',
  'אלפיים',
  'שלושת אלפים',
  'ארבעת אלפים',
  'חמשת אלפים',
  'ששת אלפים',
  'שבעת אלפים',
  'שמונת אלפים',
  'תשעת אלפים',
  'עשרת אלפים',
];
// Construct (סמיכות) of 3–10 masculine, used before a definite noun: שלושת הימים.
const MASCULINE_CONSTRUCT = ['', '', '', 'שלושת', 'ארבעת', 'חמשת', 'ששת', 'שבעת', 'שמונת', 'תשעת', 'עשרת'];

/** Largest integer spelled as a cardinal; longer numbers are read digit by digit. */
export const MAX_CARDINAL = 999_999_999_999;

/** Joins number parts the Hebrew way: the connective ו goes before the last part only. */
function joinParts(parts: string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(' ')} ו${parts[parts.length - 1]!}`;
}

/** Parts of 1…999 (hundreds, tens, units) in gender `g`. */
function belowThousand(n: number, g: Gender): string[] {
  const parts: string[] = [];
  const h = Math.floor(n / 100);
  const rest = n % 100;
  if (h > 0) parts.push(HUNDREDS[h]!);
  if (rest >= 10 && rest < 20) parts.push(TEENS[g][rest - 10]!);
  else {
    if (rest >= 20) parts.push(TENS[Math.floor(rest / 10)]!);
    if (rest % 10 > 0) parts.push(UNITS[g][rest % 10]!);
  }
  return parts;
}

/** "<count> <scale>" for מיליון / מיליארד: the count is masculine, and 2 takes the construct שני. */
function scaled(count: number, scale: string): string {
  if (count === 1) return scale;
  if (count === 2) return `שני ${scale}`;
  return `${cardinal(count, 'm')} ${scale}`;
}

/**
 * An integer 0…MAX_CARDINAL as words in gender `g` (the absolute form, as when counting or when
 * the noun comes first): 1,235 → "אלף מאתיים שלושים וחמש". Throws RangeError outside that range
 * or for non-integers; callers check first.
 */
export function cardinal(n: number, g: Gender): string {
  if (!Number.isInteger(n) || n < 0 || n > MAX_CARDINAL) throw new RangeError(`cannot spell ${n}`);
  if (n === 0) return UNITS[g][0]!;
  const parts: string[] = [];
  const billions = Math.floor(n / 1e9);
  const millions = Math.floor(n / 1e6) % 1000;
  const thousands = Math.floor(n / 1000) % 1000;
  const rest = n % 1000;
  if (billions > 0) parts.push(scaled(billions, 'מיליארד'));
  if (millions > 0) parts.push(scaled(millions, 'מיליון'));
  if (thousands > 0) parts.push(thousands <= 10 ? THOUSANDS[thousands]! : `${cardinal(thousands, 'm')} אלף`);
  parts.push(...belowThousand(rest, g));
  return joinParts(parts);
}

/**
 * The numeral directly before its noun. Only 2 changes form before any noun (שני חדרים, שתי
 * שעות); 3–10 change before a definite noun in the masculine (שלושת הימים), while the feminine
 * keeps its spelling (שלוש השעות). Compound numbers (22, 103) keep the absolute form.
 */
export function beforeNoun(n: number, g: Gender, definite: boolean): string {
  if (n === 2) return g === 'm' ? 'שני' : 'שתי';
  if (definite && g === 'm' && n >= 3 && n <= 10) return MASCULINE_CONSTRUCT[n]!;
  return cardinal(n, g);
}

/** A digit string read one digit at a time in the abstract (feminine) form: "050" → "אפס חמש אפס". */
export function digitsToWords(digits: string): string {
  const out: string[] = [];
  for (const c of digits) {
    const d = c.charCodeAt(0) - 48;
    if (d >= 0 && d <= 9) out.push(UNITS.f[d]!);
  }
  return out.join(' ');
}

/**
 * Splits a digit string into the groups people read in one breath: threes while more than four
 * digits remain, then a pair of pairs, a three or a pair (7 → 3-2-2, 8 → 3-3-2, 9 → 3-3-3).
 */
export function breathGroups(digits: string): string[] {
  const groups: string[] = [];
  let i = 0;
  while (digits.length - i > 4) {
    groups.push(digits.slice(i, i + 3));
    i += 3;
  }
  const left = digits.length - i;
  if (left === 4) groups.push(digits.slice(i, i + 2), digits.slice(i + 2));
  else if (left > 0) groups.push(digits.slice(i));
  return groups;
}

/** Digits read in breath groups with a short pause (comma) between groups. */
export function groupedDigits(digits: string): string {
  return breathGroups(digits).map(digitsToWords).join(', ');
}

/**
 * An integer string as words in gender `g`; when it is too long to spell, or is a code with a
 * leading zero, it is read digit by digit in breath groups instead.
 */
export function integerToWords(digits: string, g: Gender): string {
  if (digits.length > 1 && digits.startsWith('0')) return groupedDigits(digits);
  if (digits.length > 12) return groupedDigits(digits);
  return cardinal(Number(digits), g);
}

/** The fractional part after "נקודה", digit by digit: 3.14 → "שלוש נקודה אחת ארבע". */
export function decimalToWords(intDigits: string, fraction: string, g: Gender): string {
  return `${integerToWords(intDigits, g)} נקודה ${digitsToWords(fraction)}`;
}
