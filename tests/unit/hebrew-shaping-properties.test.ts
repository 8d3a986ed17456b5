/**
 * Properties of shapeForSpeech over many generated sentences: nothing a Hebrew voice could
 * misread survives, shaping never throws, shaped text is left as it is when shaped again, and
 * plain Hebrew passes through untouched. Inputs come from a seeded PRNG, so a failure names a
 * reproducible sentence.
 */
import { shapeForSpeech } from '../../media/voice/shaping/index.ts';

/** Small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEBREW_WORDS = ['שלום', 'פגישה', 'מחר', 'בבוקר', 'לקוח', 'הזמנה', 'תודה', 'רבה', 'אצלנו', 'בסדר', 'בדיוק'];
const NOUNS = ['ימים', 'שעות', 'חדרים', 'הימים', 'שעה', 'יום', 'שקלים', 'אחוז', 'קומות', 'סניפים', 'עוגות', 'בלילה'];
const ABBREVIATIONS = [
  'ת"א',
  'ש"ח',
  'ד"ר',
  'עו"ד',
  'בע"מ',
  "וכו'",
  "רח'",
  "מס'",
  'צה"ל',
  'אב"ג',
  "יום ה'",
  "א'-ה'",
  'ק"מ',
];
const PREFIXES = ['', '', '', 'ב-', 'ל-', 'מ-', 'ה-', 'ו-', 'כ-', 'וב-', 'מה-', 'ב'];
const SIGNS = [...'%₪$€£#@&*+=/\\|<>^~_`[]{}×÷°½¼²•'];
const EXTRA = ['😀', '👍🏽', '١٢٣', '１２', '⁴', '①', 'ת״א', 'מס׳', '\u200f', 'NASA', 'B2B', 'SMS', 'x'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function digits(random: () => number, min: number, max: number): string {
  const n = min + Math.floor(random() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += String(Math.floor(random() * 10));
  return s;
}

/** One random fragment: a number in some written shape, a word, an abbreviation or a sign. */
function fragment(random: () => number): string {
  const d = (min: number, max: number): string => digits(random, min, max);
  const shapes: Array<() => string> = [
    () => d(1, 3),
    () => d(1, 15),
    () => `${d(1, 3)},${d(3, 3)}`,
    () => `${d(1, 3)}.${d(1, 3)}`,
    () => `-${d(1, 4)}`,
    () => `${d(1, 2)}:${d(2, 2)}`,
    () => `${d(1, 2)}:${d(2, 2)}-${d(1, 2)}:${d(2, 2)}`,
    () => `${d(1, 2)}/${d(1, 2)}`,
    () => `${d(1, 2)}.${d(1, 2)}.${d(4, 4)}`,
    () => `${d(4, 4)}-${d(2, 2)}-${d(2, 2)}`,
    () => `0${d(1, 2)}-${d(7, 7)}`,
    () => `+972-${d(2, 2)}-${d(7, 7)}`,
    () => `1-800-${d(3, 3)}-${d(3, 3)}`,
    () => `*${d(4, 4)}`,
    () => `${d(2, 4)}-${d(2, 4)}-${d(2, 4)}`,
    () => `${pick(random, ['₪', '$', '€', '£'])}${d(1, 5)}`,
    () => `${d(1, 3)}${pick(random, ['%', '₪', '°', ' ש"ח'])}`,
    () => `${d(1, 2)} ${pick(random, NOUNS)}`,
    () => pick(random, HEBREW_WORDS),
    () => pick(random, ABBREVIATIONS),
    () => pick(random, SIGNS),
    () => pick(random, EXTRA),
    () =>
      Array.from({ length: 1 + Math.floor(random() * 7) }, () =>
        pick(random, [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789']),
      ).join(''),
  ];
  return pick(random, PREFIXES) + pick(random, shapes)();
}

function sentence(random: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(random() * 8);
  for (let i = 0; i < n; i++) parts.push(fragment(random));
  return parts.join(pick(random, [' ', ' ', ', ', '', ' - ', ': '])) + pick(random, ['', '.', '?', '!']);
}

// What must never reach the voice: digits of any script, numeric symbols, signs, gershayim
// inside a Hebrew word, and a geresh after a Hebrew letter other than one it gives a sound to.
const FORBIDDEN = /[\p{Nd}\p{No}%₪$€£#@&*+=/\\|<>^~_`[\]{}×÷°•]|[\u05D0-\u05EA]["״”“][\u05D0-\u05EA]/u;
const BAD_GERESH = /[\u05D0-\u05EA](?<![גזצץתח])['׳’]/u;

function problem(out: string): string | undefined {
  const forbidden = FORBIDDEN.exec(out);
  if (forbidden) return `contains ${JSON.stringify(forbidden[0])}`;
  const geresh = BAD_GERESH.exec(out);
  if (geresh) return `contains a geresh after ${JSON.stringify(geresh[0])}`;
  return undefined;
}

describe('shapeForSpeech properties', () => {
  it('leaves no digits or misreadable signs in 3,000 generated sentences, and never throws', () => {
    const random = prng(12);
    const failures: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const input = sentence(random);
      const out = shapeForSpeech(input);
      const why = problem(out);
      if (why) failures.push(`${JSON.stringify(input)} → ${JSON.stringify(out)}: ${why}`);
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('is idempotent: shaping shaped text changes nothing', () => {
    const random = prng(34);
    const failures: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const once = shapeForSpeech(sentence(random));
      const twice = shapeForSpeech(once);
      if (twice !== once) failures.push(`${JSON.stringify(once)} → ${JSON.stringify(twice)}`);
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('passes plain Hebrew, brand names and punctuation through untouched', () => {
    const random = prng(56);
    const words = [...HEBREW_WORDS, 'Google', 'WhatsApp', 'iPhone', 'Wix', "ג'ון", '"מצוין"', '(בערך)'];
    for (let i = 0; i < 500; i++) {
      const n = 1 + Math.floor(random() * 10);
      const parts = Array.from({ length: n }, () => pick(random, words) + pick(random, ['', '', ',', ':', ';']));
      const input = parts.join(' ').replace(/[,:;]$/, '') + pick(random, ['.', '?', '!', '']);
      expect(shapeForSpeech(input)).toBe(input);
    }
  });

  it('never throws and always returns a string, whatever it is given', () => {
    const random = prng(78);
    const alphabet = [
      '\u0000',
      '\uD800',
      '\uDC00',
      '\u05F4',
      '\u05F3',
      '"',
      "'",
      '-',
      '־',
      ':',
      '.',
      ',',
      '9',
      'א',
      'A',
      ' ',
    ];
    for (let i = 0; i < 2000; i++) {
      const input = Array.from({ length: Math.floor(random() * 40) }, () => pick(random, alphabet)).join('');
      const out = shapeForSpeech(input);
      expect(typeof out).toBe('string');
      expect(out).not.toMatch(/\d/);
    }
    expect(shapeForSpeech(undefined as unknown as string)).toBe('');
    expect(shapeForSpeech(42 as unknown as string)).toBe('');
    expect(shapeForSpeech('3 ימים', { pronunciations: 'nonsense' as unknown as Record<string, string> })).toBe(
      'שלושה ימים',
    );
  });

  it('handles very long inputs in one pass (no catastrophic backtracking)', () => {
    const long = `${'SMS 050-1234567 ב-10:30 '.repeat(400)}${'A'.repeat(5000)} ${'9'.repeat(5000)}`;
    const out = shapeForSpeech(long);
    expect(out).not.toMatch(/\d/);
    expect(out.length).toBeGreaterThan(long.length / 2);
  });
});
