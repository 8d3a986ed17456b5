/**
 * The nouns a business phone call counts, with their grammatical gender, so that a numeral in
 * front of them agrees (3 חדרים → שלושה, 3 שעות → שלוש). Also the units and currency signs
 * that stand for a noun (₪, %, ק"מ), which are replaced by the spoken word.
 *
 * A word not listed here still gets a gender when its ending shows one (see guessGender);
 * nothing else about it is assumed.
 */
import type { Gender } from './words.ts';

/** A countable noun as it is spoken. */
export interface Noun {
  readonly gender: Gender;
  readonly singular: string;
  readonly plural: string;
  /** The dual (שעתיים, יומיים), said instead of "2 + plural". */
  readonly dual?: string;
  /** Said in the singular after numbers above ten and after fractions (15 אחוז). */
  readonly singularAbove10?: boolean;
  /** The minor unit of a currency (שקל → אגורה) for decimal amounts. */
  readonly minor?: Noun;
}

/** A word (or sign) found after a number, and what it is. */
export interface NounMatch {
  readonly noun: Noun;
  /** Written in the plural (ימים) rather than the singular (יום). */
  readonly plural: boolean;
  /** Written with the definite article (הימים): 3–10 masculine take the construct form. */
  readonly definite: boolean;
  /** A sign or abbreviation (₪, %, ק"מ): always replaced by the spoken noun. */
  readonly symbol: boolean;
  /** Not in the lexicon: gender guessed from the plural ending; said as written, never reordered. */
  readonly guessed?: boolean;
}

const noun = (gender: Gender, singular: string, plural: string, extra: Partial<Noun> = {}): Noun => ({
  gender,
  singular,
  plural,
  ...extra,
});

const AGORA = noun('f', 'אגורה', 'אגורות');
const CENT = noun('m', 'סנט', 'סנט');
const SHEKEL = noun('m', 'שקל', 'שקלים', { minor: AGORA });
const DOLLAR = noun('m', 'דולר', 'דולרים', { minor: CENT });
const EURO = noun('m', 'אירו', 'אירו', { minor: CENT });
const POUND = noun('m', 'פאונד', 'פאונד');
const PERCENT = noun('m', 'אחוז', 'אחוזים', { singularAbove10: true });
const DEGREE = noun('f', 'מעלה', 'מעלות');

// singular|plural|dual, one noun per entry; masculine first, then feminine. Irregular plurals
// (שנים, ערים, נשים are feminine; מקומות, חלונות, לקוחות masculine) are why this list exists.
const MASCULINE = `יום|ימים|יומיים שבוע|שבועות|שבועיים חודש|חודשים|חודשיים חדר|חדרים איש|אנשים
  מטר|מטרים קילומטר|קילומטרים סנטימטר|סנטימטרים מילימטר|מילימטרים קילוגרם|קילוגרמים קילו|קילו
  גרם|גרמים ליטר|ליטרים תור|תורים לקוח|לקוחות עובד|עובדים ילד|ילדים מקום|מקומות שולחן|שולחנות
  כרטיס|כרטיסים מוצר|מוצרים פריט|פריטים סניף|סניפים תשלום|תשלומים לילה|לילות מקרה|מקרים
  אורח|אורחים מבוגר|מבוגרים רכב|רכבים מסמך|מסמכים שלב|שלבים רגע|רגעים שיעור|שיעורים טיפול|טיפולים
  חשבון|חשבונות כיסא|כיסאות דף|דפים עמוד|עמודים משתתף|משתתפים חבר|חברים סעיף|סעיפים צעד|צעדים
  מטבע|מטבעות חלון|חלונות טלפון|טלפונים מכשיר|מכשירים שירות|שירותים נציג|נציגים משלוח|משלוחים
  בקבוק|בקבוקים קורס|קורסים מפגש|מפגשים אירוע|אירועים חלק|חלקים רבעון|רבעונים עשור|עשורים
  ביקור|ביקורים פרק|פרקים ספר|ספרים ניסיון|ניסיונות מושב|מושבים ארגז|ארגזים שטח|שטחים מנוי|מנויים
  תלמיד|תלמידים סטודנט|סטודנטים דיון|דיונים מייל|מיילים קובץ|קבצים`;
const FEMININE = `שעה|שעות|שעתיים דקה|דקות שנייה|שניות שנה|שנים|שנתיים פעם|פעמים|פעמיים פגישה|פגישות
  קומה|קומות הזמנה|הזמנות אפשרות|אפשרויות מנה|מנות מיטה|מיטות דירה|דירות נקודה|נקודות שאלה|שאלות
  אגורה|אגורות מעלה|מעלות חניה|חניות יחידה|יחידות מילה|מילים עיר|ערים אישה|נשים ביצה|ביצים
  כוס|כוסות שיחה|שיחות הודעה|הודעות בקשה|בקשות תוכנית|תוכניות חבילה|חבילות שורה|שורות
  משמרת|משמרות קבוצה|קבוצות חברה|חברות תמונה|תמונות בדיקה|בדיקות עסקה|עסקאות פנייה|פניות
  ספרה|ספרות אות|אותיות ארוחה|ארוחות נסיעה|נסיעות משימה|משימות מחלקה|מחלקות פעולה|פעולות
  דלת|דלתות מרפסת|מרפסות כיתה|כיתות קופה|קופות הנחה|הנחות מכונית|מכוניות עמדה|עמדות תחנה|תחנות
  חשבונית|חשבוניות קבלה|קבלות עונה|עונות תקופה|תקופות יממה|יממות מדינה|מדינות גרסה|גרסאות
  קופסה|קופסאות הצעה|הצעות תלונה|תלונות תשובה|תשובות שקית|שקיות אבן|אבנים רגל|רגליים יד|ידיים
  סדנה|סדנאות הרצאה|הרצאות מנורה|מנורות`;

const WORDS = new Map<string, NounMatch>();
// Written forms that stand for a noun and are replaced by it. Quotes are normalised to ASCII.
const SIGNS = new Map<string, Noun>();

function addWords(gender: Gender, table: string): void {
  for (const entry of table.split(/\s+/)) {
    if (!entry) continue;
    const [singular, plural, dual] = entry.split('|') as [string, string, string?];
    const n = noun(gender, singular, plural, dual ? { dual } : {});
    WORDS.set(singular, { noun: n, plural: false, definite: false, symbol: false });
    WORDS.set(plural, { noun: n, plural: true, definite: false, symbol: false });
  }
}
addWords('m', MASCULINE);
addWords('f', FEMININE);
for (const n of [SHEKEL, DOLLAR, EURO, POUND, PERCENT, CENT]) {
  WORDS.set(n.singular, { noun: n, plural: false, definite: false, symbol: false });
  WORDS.set(n.plural, { noun: n, plural: true, definite: false, symbol: false });
}
// Construct plurals (ימי עבודה, שנות ניסיון) count the same noun.
for (const [construct, plural] of [
  ['ימי', 'ימים'],
  ['שעות', 'שעות'],
  ['חודשי', 'חודשים'],
  ['שנות', 'שנים'],
  ['חדרי', 'חדרים'],
  ['אנשי', 'אנשים'],
  ['שבועות', 'שבועות'],
] as const) {
  WORDS.set(construct, { ...WORDS.get(plural)!, plural: true });
}

const unit = (gender: Gender, singular: string, plural: string): Noun => noun(gender, singular, plural);
for (const [sign, n] of [
  ['₪', SHEKEL],
  ['ש"ח', SHEKEL],
  ['NIS', SHEKEL],
  ['ILS', SHEKEL],
  ['$', DOLLAR],
  ['USD', DOLLAR],
  ['€', EURO],
  ['EUR', EURO],
  ['£', POUND],
  ['GBP', POUND],
  ['%', PERCENT],
  ['°', DEGREE],
  ['°C', DEGREE],
  ['ק"מ', WORDS.get('קילומטר')!.noun],
  ['ס"מ', WORDS.get('סנטימטר')!.noun],
  ['מ"מ', WORDS.get('מילימטר')!.noun],
  ['ק"ג', WORDS.get('קילוגרם')!.noun],
  ['מ"ר', unit('m', 'מטר רבוע', 'מטרים רבועים')],
  ['מ"ל', unit('m', 'מיליליטר', 'מיליליטרים')],
  ['קמ"ש', unit('m', 'קילומטר לשעה', 'קילומטרים לשעה')],
  ["דק'", WORDS.get('דקה')!.noun],
  ["עמ'", WORDS.get('עמוד')!.noun],
  ["מ'", WORDS.get('מטר')!.noun],
  ["שע'", WORDS.get('שעה')!.noun],
  ["גר'", WORDS.get('גרם')!.noun],
  ['km', WORDS.get('קילומטר')!.noun],
  ['kg', WORDS.get('קילוגרם')!.noun],
  ['GB', unit('m', "ג'יגה", "ג'יגה")],
  ['MB', unit('m', 'מגה', 'מגה')],
] as const) {
  SIGNS.set(sign, n);
}

/** Normalises gershayim/geresh look-alikes (״ ” “, ׳ ’) to ASCII `"` and `'`. */
export function asciiQuotes(word: string): string {
  return word.replace(/[״”“]/g, '"').replace(/[׳’]/g, "'");
}

/** The noun a written word or sign after a number stands for, or undefined. */
export function lookupNoun(written: string): NounMatch | undefined {
  const w = asciiQuotes(written);
  const sign = SIGNS.get(w);
  if (sign) return { noun: sign, plural: true, definite: false, symbol: true };
  const direct = WORDS.get(w);
  if (direct) return direct;
  if (w.length > 2 && w.startsWith('ה')) {
    const bare = WORDS.get(w.slice(1));
    if (bare?.plural) return { ...bare, definite: true };
  }
  return undefined;
}

/**
 * The noun a Hebrew plural stands for when it is not in the lexicon, its gender shown by the
 * ending: -ים masculine,
 * -ות feminine (sound plurals; the exceptions that matter are listed above). Undefined for
 * anything else, which then counts in the abstract feminine.
 */
export function guessGender(word: string): NounMatch | undefined {
  if (!/^[\u05D0-\u05EA]{4,}$/.test(word)) return undefined;
  let gender: Gender;
  if (word.endsWith('ים')) gender = 'm';
  else if (word.endsWith('ות')) gender = 'f';
  else return undefined;
  const definite = word.startsWith('ה') && word.length > 4;
  return { noun: noun(gender, word, word), plural: true, definite, symbol: false, guessed: true };
}

/** The noun as said after `n` of it (n is 1, a count, or a fraction). */
export function nounAfter(n: Noun, count: number, fraction: boolean): string {
  if (count === 1 && !fraction) return n.singular;
  if (n.singularAbove10 && (fraction || count > 10)) return n.singular;
  return n.plural;
}

const MONTHS = [
  'ינואר',
  'פברואר',
  'מרץ',
  'אפריל',
  'מאי',
  'יוני',
  'יולי',
  'אוגוסט',
  'ספטמבר',
  'אוקטובר',
  'נובמבר',
  'דצמבר',
] as const;

/** Gregorian month name, 1 = ינואר; undefined outside 1…12. */
export function monthName(month: number): string | undefined {
  return MONTHS[month - 1];
}

/** Words after a number that make it a day of the month (12 במרץ, 3 לחודש): counted masculine. */
export function isDayOfMonthWord(word: string): boolean {
  if (word === 'לחודש') return true;
  return word.startsWith('ב') && (MONTHS as readonly string[]).includes(word.slice(1));
}

const DAY_PARTS = new Set(['בבוקר', 'בצהריים', 'בצהרים', 'בערב', 'בלילה', 'אחה"צ', 'לפנה"צ', 'אחר', 'לפנות']);

/** Words after a number that make it a clock hour (3 בלילה): the abstract feminine, never a noun. */
export function isDayPartWord(word: string): boolean {
  return DAY_PARTS.has(asciiQuotes(word));
}
