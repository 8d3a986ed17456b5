/**
 * Number words on their own: both genders of every form, the construct before a noun, and the
 * digit grouping used for phone and code numbers. Expected values follow the Academy's rules
 * and full spelling (see the references in hebrew-shaping.test.ts: [A1] construct and absolute,
 * [A2]/[A7] the abstract feminine, [U1] hundreds and thousands).
 */
import {
  beforeNoun,
  breathGroups,
  cardinal,
  digitsToWords,
  integerToWords,
  MAX_CARDINAL,
} from '../../media/voice/shaping/words.ts';

// n, masculine, feminine
const PAIRS: ReadonlyArray<readonly [number, string, string]> = [
  [0, 'אפס', 'אפס'],
  [1, 'אחד', 'אחת'],
  [2, 'שניים', 'שתיים'],
  [3, 'שלושה', 'שלוש'],
  [4, 'ארבעה', 'ארבע'],
  [5, 'חמישה', 'חמש'],
  [6, 'שישה', 'שש'],
  [7, 'שבעה', 'שבע'],
  [8, 'שמונה', 'שמונה'],
  [9, 'תשעה', 'תשע'],
  [10, 'עשרה', 'עשר'],
  [11, 'אחד עשר', 'אחת עשרה'],
  [12, 'שנים עשר', 'שתים עשרה'],
  [13, 'שלושה עשר', 'שלוש עשרה'],
  [14, 'ארבעה עשר', 'ארבע עשרה'],
  [15, 'חמישה עשר', 'חמש עשרה'],
  [16, 'שישה עשר', 'שש עשרה'],
  [17, 'שבעה עשר', 'שבע עשרה'],
  [18, 'שמונה עשר', 'שמונה עשרה'],
  [19, 'תשעה עשר', 'תשע עשרה'],
  [20, 'עשרים', 'עשרים'],
  [23, 'עשרים ושלושה', 'עשרים ושלוש'],
  [30, 'שלושים', 'שלושים'],
  [47, 'ארבעים ושבעה', 'ארבעים ושבע'],
  [58, 'חמישים ושמונה', 'חמישים ושמונה'],
  [69, 'שישים ותשעה', 'שישים ותשע'],
  [71, 'שבעים ואחד', 'שבעים ואחת'],
  [82, 'שמונים ושניים', 'שמונים ושתיים'],
  [99, 'תשעים ותשעה', 'תשעים ותשע'],
  [100, 'מאה', 'מאה'],
  [101, 'מאה ואחד', 'מאה ואחת'],
  [115, 'מאה וחמישה עשר', 'מאה וחמש עשרה'],
  [200, 'מאתיים', 'מאתיים'],
  [342, 'שלוש מאות ארבעים ושניים', 'שלוש מאות ארבעים ושתיים'],
  [999, 'תשע מאות תשעים ותשעה', 'תשע מאות תשעים ותשע'],
  [1000, 'אלף', 'אלף'],
  [1001, 'אלף ואחד', 'אלף ואחת'],
  [2000, 'אלפיים', 'אלפיים'],
  [2026, 'אלפיים עשרים ושישה', 'אלפיים עשרים ושש'],
  [5000, 'חמשת אלפים', 'חמשת אלפים'],
  [6000, 'ששת אלפים', 'ששת אלפים'],
  [8000, 'שמונת אלפים', 'שמונת אלפים'],
  [10000, 'עשרת אלפים', 'עשרת אלפים'],
  [11000, 'אחד עשר אלף', 'אחד עשר אלף'],
  [21000, 'עשרים ואחד אלף', 'עשרים ואחד אלף'],
  [100000, 'מאה אלף', 'מאה אלף'],
  [300500, 'שלוש מאות אלף וחמש מאות', 'שלוש מאות אלף וחמש מאות'],
  [1000000, 'מיליון', 'מיליון'],
  [2000000, 'שני מיליון', 'שני מיליון'],
  [12000000, 'שנים עשר מיליון', 'שנים עשר מיליון'],
  [
    1234567,
    'מיליון מאתיים שלושים וארבעה אלף חמש מאות שישים ושבעה',
    'מיליון מאתיים שלושים וארבעה אלף חמש מאות שישים ושבע',
  ],
  [3000000000, 'שלושה מיליארד', 'שלושה מיליארד'],
];

describe('cardinal', () => {
  it.each(PAIRS)('%i: masculine %s, feminine %s', (n, masculine, feminine) => {
    expect(cardinal(n, 'm')).toBe(masculine);
    expect(cardinal(n, 'f')).toBe(feminine);
  });

  it.each([-1, 1.5, MAX_CARDINAL + 1, Number.NaN])('refuses %p with a RangeError', (n) => {
    expect(() => cardinal(n, 'f')).toThrow(RangeError);
  });
});

describe('beforeNoun', () => {
  it('puts 2 in the construct before any noun and keeps the rest absolute', () => {
    expect(beforeNoun(2, 'm', false)).toBe('שני');
    expect(beforeNoun(2, 'f', false)).toBe('שתי');
    expect(beforeNoun(3, 'm', false)).toBe('שלושה');
    expect(beforeNoun(22, 'm', false)).toBe('עשרים ושניים');
  });

  it('puts 3–10 masculine in the construct before a definite noun, and nothing above ten', () => {
    const masculine = ['שלושת', 'ארבעת', 'חמשת', 'ששת', 'שבעת', 'שמונת', 'תשעת', 'עשרת'];
    masculine.forEach((word, i) => expect(beforeNoun(i + 3, 'm', true)).toBe(word));
    expect(beforeNoun(3, 'f', true)).toBe('שלוש');
    expect(beforeNoun(10, 'f', true)).toBe('עשר');
    expect(beforeNoun(11, 'm', true)).toBe('אחד עשר');
    expect(beforeNoun(2, 'f', true)).toBe('שתי');
  });
});

describe('digits', () => {
  it('reads digits one by one in the abstract feminine', () => {
    expect(digitsToWords('0123456789')).toBe('אפס אחת שתיים שלוש ארבע חמש שש שבע שמונה תשע');
  });

  it.each([
    ['12', ['12']],
    ['123', ['123']],
    ['1234', ['12', '34']],
    ['12345', ['123', '45']],
    ['1234567', ['123', '45', '67']],
    ['12345678', ['123', '456', '78']],
    ['123456789', ['123', '456', '789']],
    ['1234567890', ['123', '456', '78', '90']],
  ])('groups %s as people read it', (digits, groups) => {
    expect(breathGroups(digits)).toEqual(groups);
  });

  it('reads a number with a leading zero or more than twelve digits as a code', () => {
    expect(integerToWords('007', 'm')).toBe('אפס אפס שבע');
    expect(integerToWords('1234567890123', 'f')).toBe(
      'אחת שתיים שלוש, ארבע חמש שש, שבע שמונה תשע, אפס אחת, שתיים שלוש',
    );
    expect(integerToWords('120', 'm')).toBe('מאה ועשרים');
  });
});
