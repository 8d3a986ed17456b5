/**
 * Phone numbers read digit by digit in the abstract (feminine) forms, in groups with a comma
 * (a short pause) between them. Israeli numbers are 0 + area code (one digit: 02 03 04 08 09;
 * two for mobile and VoIP: 05X, 07X) + a seven-digit subscriber number; from abroad +972 replaces
 * the 0. Toll-free 1-800 / 1-700 numbers keep their spoken prefix "אחת שמונה מאות".
 *
 * The subscriber number is grouped 3-2-2 by default ("שבע שש חמש, ארבע שלוש, שתיים אחת"): four
 * digits in one breath is the group callers most often ask to repeat. `written` grouping follows
 * the usual written form 3-4 instead.
 */
import { breathGroups, digitsToWords } from './words.ts';

/** How the seven-digit subscriber number is grouped: 3-2-2 (`paired`, default) or 3-4 (`written`). */
export type PhoneGrouping = 'paired' | 'written';

/** Regex sources for the phone shapes recognised, tried in this order before plain numbers. */
export const PHONE_PATTERNS = {
  international: String.raw`\+972[-\s]?(?:\(0\)\s?)?(?:[23489]|[57]\d)[-\s]?\d{3}[-\s]?\d{4}`,
  local: String.raw`\(?0(?:[23489]|[57]\d)\)?[-\s]?\d{3}[-\s]?\d{4}`,
  tollFree: String.raw`1[-\s]?[3-9]00[-\s]?\d{2,3}[-\s]?\d{3}`,
  star: String.raw`\*\d{3,5}`,
} as const;

function subscriberGroups(digits: string, grouping: PhoneGrouping): string[] {
  if (grouping === 'written' && digits.length === 7) return [digits.slice(0, 3), digits.slice(3)];
  return breathGroups(digits);
}

const say = (groups: readonly string[]): string => groups.map(digitsToWords).join(', ');

/** An Israeli number written with 0 or +972, e.g. "050-7654321", "+972 3 123 4567". */
export function sayIsraeliPhone(written: string, grouping: PhoneGrouping): string {
  const international = written.trimStart().startsWith('+');
  let digits = written.replace(/\D/g, '');
  if (international)
    digits = digits.slice(3).replace(/^0/, ''); // +972 (0)3… → 3…
  else digits = digits.slice(1); // the trunk 0, said on its own below
  const areaLength = /^[57]/.test(digits) ? 2 : 1;
  const area = digits.slice(0, areaLength);
  const subscriber = subscriberGroups(digits.slice(areaLength), grouping);
  if (international) return `פלוס ${digitsToWords('972')}, ${say([area, ...subscriber])}`;
  return say([`0${area}`, ...subscriber]);
}

/** A 1-800 style number: "1-800-123-456" → "אחת שמונה מאות, אחת שתיים שלוש, ארבע חמש שש". */
export function sayTollFree(written: string): string {
  const digits = written.replace(/\D/g, '');
  const service = digits.slice(1, 4);
  const head = /^[3-9]00$/.test(service) ? `אחת ${hundredsWord(service)}` : digitsToWords(digits.slice(0, 4));
  const writtenGroups = written
    .replace(/^\s*1[-\s]?\d{3}[-\s]?/, '')
    .split(/[-\s]+/)
    .filter(Boolean);
  const rest = writtenGroups.length > 1 ? writtenGroups : breathGroups(digits.slice(4));
  return [head, ...rest.map(digitsToWords)].join(', ');
}

function hundredsWord(service: string): string {
  const names = ['', '', '', 'שלוש מאות', 'ארבע מאות', 'חמש מאות', 'שש מאות', 'שבע מאות', 'שמונה מאות', 'תשע מאות'];
  return names[Number(service[0])] ?? digitsToWords(service);
}

/** A star service number: "*2700" → "כוכבית שתיים שבע אפס אפס". */
export function sayStarNumber(written: string): string {
  return `כוכבית ${digitsToWords(written.replace(/\D/g, ''))}`;
}

/**
 * Any other run of digit groups joined by hyphens that looks like a phone or account number
 * ("02-123-45-67", "1234-5678-9012"): each written group in breath groups, commas between.
 */
export function sayDigitGroups(written: string): string {
  const groups = written.split(/[-\s]+/).filter(Boolean);
  return groups.map((g) => breathGroups(g.replace(/\D/g, '')).map(digitsToWords).join(', ')).join(', ');
}
