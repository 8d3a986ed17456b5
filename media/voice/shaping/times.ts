/**
 * Clock times, dates and day names as Israelis say them.
 *
 * Times: the hour in the feminine (שעה is feminine), then the minutes the way speech rounds them:
 *   :00 "עשר"   :05 "עשר וחמישה"   :10 "עשר ועשרה"   :15 "עשר ורבע"   :20 "עשר ועשרים"
 *   :30 "עשר וחצי"   :40 "עשרים לאחת עשרה"   :45 "רבע לאחת עשרה"   :50 "עשרה לאחת עשרה"
 *   :55 "חמישה לאחת עשרה"; other minutes in the feminine: 8:07 "שמונה ושבע דקות",
 *   6:16 "שש ושש עשרה", 9:31 "תשע שלושים ואחת". Five and ten past are masculine because they
 *   once counted רגעים, not דקות.
 * A 24-hour time (13:00 and later, or written with a leading zero, or 00:xx) also gets the part
 * of the day, since "שתיים" alone would mean 2 a.m. or 2 p.m.: 14:00 "שתיים בצהריים",
 * 09:00 "תשע בבוקר", 00:00 "חצות". Nothing is added when the text already says it (בערב…).
 *
 * Dates are day/month as in Israel: the day is masculine (יום), then the month: 12/3 →
 * "שנים עשר במרץ", 12.3.2026 → "שנים עשר במרץ אלפיים עשרים ושש".
 */
import { monthName } from './lexicon.ts';
import { cardinal } from './words.ts';

const hourWord = (h24: number): string => cardinal(h24 % 12 || 12, 'f');

/** Part of the day for an hour on the 24-hour clock. */
function dayPart(h24: number): string {
  if (h24 < 5) return 'בלילה';
  if (h24 < 12) return 'בבוקר';
  if (h24 < 16) return 'בצהריים';
  if (h24 < 18) return 'אחר הצהריים';
  if (h24 < 22) return 'בערב';
  return 'בלילה';
}

/** How a time was written, which decides whether the part of the day is said. */
export interface TimeStyle {
  /** The hour was written with two digits (09:00), a sign of the 24-hour clock. */
  readonly padded: boolean;
  /** An AM/PM marker followed the time. */
  readonly meridiem?: 'am' | 'pm';
  /** The text already names the part of the day right after the time. */
  readonly dayPartFollows: boolean;
}

/** True for an hour 0…23 and minutes 0…59. */
export function isValidTime(h: number, m: number): boolean {
  return Number.isInteger(h) && Number.isInteger(m) && h >= 0 && h <= 23 && m >= 0 && m <= 59;
}

/** A clock time in words (see the module comment). Callers check isValidTime first. */
export function sayTime(hour: number, minute: number, style: TimeStyle): string {
  let h24 = hour;
  if (style.meridiem === 'pm' && hour < 12) h24 = hour + 12;
  if (style.meridiem === 'am' && hour === 12) h24 = 0;
  if (h24 === 0 && minute === 0) return 'חצות';
  const next = (h24 + 1) % 24;
  let spokenHour = h24;
  let text: string;
  const to = (words: string): string => {
    spokenHour = next;
    return `${words} ל${hourWord(next)}`;
  };
  const h = hourWord(h24);
  if (minute === 0) text = h;
  else if (minute === 15) text = `${h} ורבע`;
  else if (minute === 30) text = `${h} וחצי`;
  else if (minute === 40) text = to('עשרים');
  else if (minute === 45) text = to('רבע');
  else if (minute === 50) text = to('עשרה');
  else if (minute === 55) text = to('חמישה');
  else if (minute === 5) text = `${h} וחמישה`;
  else if (minute === 10) text = `${h} ועשרה`;
  else if (minute === 1) text = `${h} ודקה`;
  else if (minute < 10) text = `${h} ו${cardinal(minute, 'f')} דקות`;
  else if (minute < 30) text = `${h} ו${cardinal(minute, 'f')}`;
  else text = `${h} ${cardinal(minute, 'f')}`;
  const clock24 = style.padded || hour >= 13 || hour === 0 || style.meridiem !== undefined;
  if (clock24 && !style.dayPartFollows) text += ` ${dayPart(spokenHour)}`;
  return text;
}

/** True when day 1…31 and month 1…12 (the month's own length is not checked). */
export function isValidDate(day: number, month: number): boolean {
  return Number.isInteger(day) && Number.isInteger(month) && day >= 1 && day <= 31 && month >= 1 && month <= 12;
}

/**
 * A date as words: day (masculine), month, and the year when given (feminine: שנה). A two-digit
 * year is said as written (26 → "עשרים ושש"). Callers check isValidDate first.
 */
export function sayDate(day: number, month: number, year?: string): string {
  const text = `${cardinal(day, 'm')} ב${monthName(month) ?? ''}`;
  if (!year) return text;
  return `${text} ${cardinal(Number(year), 'f')}`;
}

const DAY_NAMES: Readonly<Record<string, string>> = {
  א: 'ראשון',
  ב: 'שני',
  ג: 'שלישי',
  ד: 'רביעי',
  ה: 'חמישי',
  ו: 'שישי',
  ש: 'שבת',
};

/** The weekday a letter stands for in "יום ה'" (א = ראשון … ו = שישי, ש = שבת), or undefined. */
export function dayName(letter: string): string | undefined {
  return DAY_NAMES[letter];
}

const LETTER_NAMES: Readonly<Record<string, string>> = {
  א: 'אלף',
  ב: 'בית',
  ג: 'גימל',
  ד: 'דלת',
  ה: 'הא',
  ו: 'וו',
  ז: 'זין',
  ח: 'חית',
  ט: 'טית',
  י: 'יוד',
  כ: 'כף',
  ל: 'למד',
  מ: 'מם',
  נ: 'נון',
  ס: 'סמך',
  ע: 'עין',
  פ: 'פא',
  צ: 'צדי',
  ק: 'קוף',
  ר: 'ריש',
  ש: 'שין',
  ת: 'תו',
};

/** The name of a Hebrew letter used as a label (סעיף ב' → "בית"), or undefined. */
export function letterName(letter: string): string | undefined {
  return LETTER_NAMES[letter];
}
