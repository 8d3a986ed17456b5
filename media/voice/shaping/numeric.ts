/**
 * Finds everything written with digits in a sentence (phone numbers, dates, times, amounts,
 * counts) in one left-to-right pass of one regex, and replaces each with words.
 *
 * A Hebrew prefix written before digits (ב-3, ל-10:30, מה-5, ו-₪20, or without the hyphen) is
 * kept and joined to the first word: "בשלוש", "לעשר וחצי".
 *
 * The gender of a count comes from, in order: a sign right after it (%, ₪, °), the noun after it
 * (lexicon, then the plural ending), the noun after a range's second number (3 עד 5 ימים), a
 * month or לחודש after it (a day of the month: masculine), פי before it (פי שניים), a plural
 * noun and colon before it (חדרים: 3), a definite prefix with nothing after (עד ה-15: a day of
 * the month). Otherwise it is the abstract feminine, the form used for counting and for hours.
 */
import { guessGender, isDayOfMonthWord, isDayPartWord, lookupNoun, type NounMatch } from './lexicon.ts';
import {
  PHONE_PATTERNS,
  sayDigitGroups,
  sayIsraeliPhone,
  sayStarNumber,
  sayTollFree,
  type PhoneGrouping,
} from './phones.ts';
import {
  parseQuantity,
  sayAbsolute,
  sayCode,
  sayCounted,
  sayRange,
  type Counted,
  type Quantity,
} from './quantities.ts';
import { isValidDate, isValidTime, sayDate, sayTime } from './times.ts';
import type { Gender } from './words.ts';

const NUM = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
const DASH = String.raw`\s?[-–]\s?`;
const SIGNS = String.raw`[₪$€£]`;
const PATTERN = new RegExp(
  String.raw`(?<![\p{L}\p{N}_])(?:(?<pre>[ובכלמשה]{1,4})[-־]?)?(?:` +
    [
      `(?<intl>${PHONE_PATTERNS.international})`,
      `(?<local>${PHONE_PATTERNS.local})`,
      `(?<toll>${PHONE_PATTERNS.tollFree})`,
      `(?<star>${PHONE_PATTERNS.star})`,
      String.raw`(?<iso>(?<iy>\d{4})-(?<im>\d{2})-(?<id>\d{2}))`,
      String.raw`(?<dmy>(?<d>\d{1,2})(?<s>[./-])(?<mo>\d{1,2})\k<s>(?<y>\d{4}|\d{2}))`,
      String.raw`(?<dotted>\d+(?:\.\d+){2,})`,
      String.raw`(?<groups>\d{2,4}(?:-\d{2,4}){2,})`,
      String.raw`(?<time>(?<h>\d{1,2}):(?<mi>\d{2})(?::\d{2})?(?:${DASH}(?<h2>\d{1,2}):(?<mi2>\d{2}))?(?:\s?(?<mer>[AaPp]\.?[Mm]\.?))?)`,
      String.raw`(?<dm>(?<dd>\d{1,2})\/(?<dmo>\d{1,2})(?![/\d]))`,
      String.raw`(?<cur>${SIGNS})\s?(?<cq>[-−]?(?:${NUM}))(?:${DASH}${SIGNS}?\s?(?<cq2>${NUM}))?`,
      String.raw`(?<tilde>~\s?)?(?<hash>#\s?)?(?<q>[-−+]?(?:${NUM}))(?:${DASH}(?<q2>${NUM}))?(?<sym>\s?(?:%|${SIGNS}|°C?))?`,
    ].join('|') +
    String.raw`)(?![\p{L}\p{N}])`,
  'gu',
);

const NEXT_WORD = /[ \t\u00A0]*([\u05D0-\u05EA]+(?:["״”][\u05D0-\u05EA]|['׳’])?|[A-Za-z]+)/uy;
const RANGE_TAIL = /[ \t\u00A0]*(?:עד|או|ועד|ל[-־]?)[ \t\u00A0]*[-−]?\d[\d,.]*/uy;
const PREV_WORD = /([\u05D0-\u05EA"'׳״]+)([ \t\u00A0:]*)$/u;
const CODE_WORDS = new Set(['מספר', "מס'", 'ת"ז', 'טלפון', "טל'", 'חשבון', 'הזמנה', 'אסמכתא', 'קוד', 'לקוח', 'תיק']);
const FRACTIONS: Readonly<Record<string, string>> = {
  '1/2': 'חצי',
  '1/3': 'שליש',
  '2/3': 'שני שלישים',
  '1/4': 'רבע',
  '3/4': 'שלושה רבעים',
};
// Before a noun the plural fractions take the construct: שלושה רבעי שעה.
const FRACTIONS_BEFORE_NOUN: Readonly<Record<string, string>> = { '2/3': 'שני שלישי', '3/4': 'שלושה רבעי' };

/** Options for the numeric pass. */
export interface NumericOptions {
  readonly phoneGrouping: PhoneGrouping;
}

interface Word {
  readonly word: string;
  readonly end: number;
}

function wordAt(text: string, at: number): Word | undefined {
  NEXT_WORD.lastIndex = at;
  const m = NEXT_WORD.exec(text);
  return m ? { word: m[1]!, end: NEXT_WORD.lastIndex } : undefined;
}

function prevWord(text: string, start: number): { word: string; colon: boolean } | undefined {
  const m = PREV_WORD.exec(text.slice(Math.max(0, start - 24), start));
  return m ? { word: m[1]!.replace(/[׳’]/g, "'").replace(/[״”]/g, '"'), colon: m[2]!.includes(':') } : undefined;
}

/** The noun a word stands for: lexicon (with a trailing quote dropped), then the plural ending. */
function nounOf(word: string): NounMatch | undefined {
  return lookupNoun(word) ?? lookupNoun(word.replace(/['׳’]$/, '')) ?? guessGender(word);
}

/** What follows a number: a noun it counts (and where that noun ends), or a fixed gender. */
interface Follower {
  readonly counted: Counted;
  /** End of the noun in the text, when the phrase says the noun itself. */
  readonly nounEnd?: number;
}

function follower(text: string, end: number, fallback: Gender): Follower {
  const next = wordAt(text, end);
  if (!next) return { counted: { gender: fallback } };
  if (isDayPartWord(next.word)) return { counted: { gender: 'f' } };
  if (isDayOfMonthWord(next.word)) return { counted: { gender: 'm' } };
  const match = nounOf(next.word);
  if (match) return { counted: { gender: match.noun.gender, match, written: next.word }, nounEnd: next.end };
  RANGE_TAIL.lastIndex = end;
  if (RANGE_TAIL.test(text)) {
    const after = wordAt(text, RANGE_TAIL.lastIndex);
    const far = after && nounOf(after.word);
    if (far) return { counted: { gender: far.noun.gender } };
  }
  return { counted: { gender: fallback } };
}

/** The gender a number takes from the words before it, when nothing after it decides. */
function genderFromBefore(text: string, start: number, pre: string, q: Quantity): Gender {
  const prev = prevWord(text, start);
  if (prev?.word === 'פי') return 'm';
  if (prev?.colon) {
    const noun = lookupNoun(prev.word);
    if (noun?.plural) return noun.noun.gender;
  }
  if (pre.endsWith('ה') && !q.fraction && Number(q.int) >= 1 && Number(q.int) <= 31) return 'm';
  return 'f';
}

type Groups = Readonly<Record<string, string | undefined>>;
interface Replacement {
  readonly text: string;
  readonly end: number;
}

function sayCount(text: string, g: Groups, start: number, end: number): Replacement {
  const q = parseQuantity(g.q!);
  const pre = g.pre ?? '';
  const lead = (g.tilde ? 'בערך ' : '') + (g.hash ? 'מספר ' : '');
  const prev = prevWord(text, start);
  const plainInt = !q.fraction && !q.sign && /^\d+$/.test(g.q!) && !g.q2 && !g.sym;
  if (plainInt && (q.int.length >= 7 || (q.int.length >= 4 && prev && CODE_WORDS.has(prev.word)))) {
    return { text: lead + sayCode(q.int), end };
  }
  if (q.fraction && !q.sign && !g.q2 && !g.sym && isDottedDate(q, pre, prev?.word)) {
    const next = wordAt(text, end);
    if (!next || !nounOf(next.word)) return { text: lead + sayDate(Number(q.int), Number(q.fraction)), end };
  }
  const signNoun = g.sym ? lookupNoun(g.sym.trim()) : undefined;
  const f: Follower = signNoun
    ? { counted: { gender: signNoun.noun.gender, match: signNoun } }
    : follower(text, end, genderFromBefore(text, start, pre, q));
  const said = g.q2 ? sayRange(q, parseQuantity(g.q2), f.counted) : sayCounted(q, f.counted);
  const consumed = said.nounIncluded && f.nounEnd !== undefined ? f.nounEnd : end;
  return { text: lead + said.text, end: consumed };
}

/** "12.3" is a date, not a decimal, after ה- or a word like "תאריך", or as "12.03". */
function isDottedDate(q: Quantity, pre: string, prev: string | undefined): boolean {
  if (q.fraction.length > 2 || !isValidDate(Number(q.int), Number(q.fraction))) return false;
  if (pre.endsWith('ה') || q.fraction.startsWith('0')) return true;
  return prev !== undefined && ['תאריך', 'בתאריך', 'מתאריך', 'לתאריך', 'עד', 'מיום', 'ביום', 'יום'].includes(prev);
}

function sayMoneyBefore(g: Groups): string {
  const match = lookupNoun(g.cur!)!;
  const counted: Counted = { gender: match.noun.gender, match };
  const q = parseQuantity(g.cq!);
  return (g.cq2 ? sayRange(q, parseQuantity(g.cq2), counted) : sayCounted(q, counted)).text;
}

function sayClock(text: string, g: Groups, end: number): string {
  const next = wordAt(text, end);
  const style = {
    padded: false,
    meridiem: g.mer ? (g.mer[0]!.toLowerCase() === 'a' ? ('am' as const) : ('pm' as const)) : undefined,
    dayPartFollows: next !== undefined && isDayPartWord(next.word),
  };
  const one = (h: string, m: string, last: boolean): string => {
    const hour = Number(h);
    const minute = Number(m);
    if (!isValidTime(hour, minute))
      return `${sayAbsolute(parseQuantity(h), 'f')} ${sayAbsolute(parseQuantity(m), 'f')}`;
    return sayTime(hour, minute, {
      ...style,
      padded: h.length === 2 && hour < 10,
      dayPartFollows: last && style.dayPartFollows,
    });
  };
  if (!g.h2) return one(g.h!, g.mi!, true);
  return `${one(g.h!, g.mi!, false)} עד ${one(g.h2, g.mi2!, true)}`;
}

function saySlashed(text: string, g: Groups, end: number): string {
  const day = Number(g.dd);
  const month = Number(g.dmo);
  const key = `${day}/${month}`;
  if (key === '24/7') return 'עשרים וארבע שבע';
  const next = wordAt(text, end);
  const countsSomething = next !== undefined && nounOf(next.word) !== undefined;
  if (!countsSomething && isValidDate(day, month)) return sayDate(day, month);
  return (
    (countsSomething ? FRACTIONS_BEFORE_NOUN[key] : undefined) ??
    FRACTIONS[key] ??
    `${sayAbsolute(parseQuantity(g.dd!), 'f')} חלקי ${sayAbsolute(parseQuantity(g.dmo!), 'f')}`
  );
}

function sayFullDate(d: string, mo: string, y: string, written: string): string {
  if (isValidDate(Number(d), Number(mo))) return sayDate(Number(d), Number(mo), y);
  return sayDotted(written);
}

/** Versions and addresses: "2.0.1" → "שתיים נקודה אפס נקודה אחת". */
function sayDotted(written: string): string {
  return written
    .split(/[./-]/)
    .map((part) => sayAbsolute(parseQuantity(part), 'f'))
    .join(' נקודה ');
}

function replacement(text: string, m: RegExpExecArray, options: NumericOptions): Replacement {
  const g: Groups = m.groups ?? {};
  const end = m.index + m[0].length;
  if (g.q !== undefined) return sayCount(text, g, m.index, end);
  let said: string;
  if (g.intl !== undefined || g.local !== undefined) said = sayIsraeliPhone(g.intl ?? g.local!, options.phoneGrouping);
  else if (g.toll !== undefined) said = sayTollFree(g.toll);
  else if (g.star !== undefined) said = sayStarNumber(g.star);
  else if (g.iso !== undefined) said = sayFullDate(g.id!, g.im!, g.iy!, `${g.id}.${g.im}.${g.iy}`);
  else if (g.dmy !== undefined) said = sayFullDate(g.d!, g.mo!, g.y!, g.dmy);
  else if (g.dotted !== undefined) said = sayDotted(g.dotted);
  else if (g.groups !== undefined) said = sayDigitGroups(g.groups);
  else if (g.time !== undefined) said = sayClock(text, g, end);
  else if (g.dm !== undefined) said = saySlashed(text, g, end);
  else said = sayMoneyBefore(g);
  return { text: said, end };
}

/** Replaces every number-like span in `text` with words; text without digits is returned as is. */
export function shapeNumbers(text: string, options: NumericOptions): string {
  if (!/\d/.test(text)) return text;
  let out = '';
  let last = 0;
  PATTERN.lastIndex = 0;
  for (let m = PATTERN.exec(text); m; m = PATTERN.exec(text)) {
    const r = replacement(text, m, options);
    const pre = m.groups?.pre ?? '';
    out += text.slice(last, m.index) + pre + r.text;
    last = r.end;
    PATTERN.lastIndex = r.end;
  }
  return out + text.slice(last);
}
