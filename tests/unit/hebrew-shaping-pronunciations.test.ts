/**
 * The pronunciation dictionary (applied first, whole words, longest match, final), its
 * validation, the phone-grouping option and the system-prompt sentence.
 */
import {
  MAX_PRONUNCIATIONS,
  MAX_SPOKEN_LENGTH,
  MAX_WRITTEN_LENGTH,
  pronunciationProblems,
  shapeForSpeech,
  SPEAK_AS_WORDS_INSTRUCTION,
} from '../../media/voice/shaping/index.ts';

const say = (text: string, pronunciations: Record<string, string>): string => shapeForSpeech(text, { pronunciations });

describe('pronunciation dictionary', () => {
  it('replaces a written form by its spoken form', () => {
    expect(say('ברוכים הבאים ל-Wix', { Wix: 'וויקס' })).toBe('ברוכים הבאים לוויקס');
  });

  it('matches Latin letters in any case', () => {
    expect(say('wix ו-WIX', { Wix: 'וויקס' })).toBe('וויקס ווויקס');
  });

  it('is applied before everything else, so it can override a built-in expansion', () => {
    expect(say('ד"ר כהן', { 'ד"ר': 'דוקטורית' })).toBe('דוקטורית כהן');
    expect(say('תמיכה 24/7', { '24/7': 'מסביב לשעון' })).toBe('תמיכה מסביב לשעון');
  });

  it('prefers the longest entry at the same place', () => {
    const table = { 'תל אביב': 'תל אביב העיר', 'תל אביב יפו': 'תל אביב יפו העיר' };
    expect(say('גרים בתל אביב? לא, ב-תל אביב יפו.', table)).toBe('גרים בתל אביב? לא, בתל אביב יפו העיר.');
  });

  it('matches whole words only', () => {
    const table = { כהן: 'כוהן' };
    expect(say('משפחת כהן, הכהנים וכהנא', table)).toBe('משפחת כוהן, הכהנים וכהנא');
    expect(say('Wixel או Wix.', { Wix: 'וויקס' })).toBe('Wixel או וויקס.');
  });

  it('leaves its spoken form alone: no later pass reshapes it', () => {
    expect(say('מערכת CRM', { CRM: 'CRM' })).toBe('מערכת CRM');
    expect(say('מערכת CRM', {})).toBe('מערכת סי אר אם');
  });

  it('still shapes the text around an entry', () => {
    expect(say('Wix עולה ₪50 לחודש', { Wix: 'וויקס' })).toBe('וויקס עולה חמישים שקלים לחודש');
  });

  it('skips unusable entries instead of throwing', () => {
    const table = { '': 'ריק', ' ': 'רווח', Wix: 7, Fiverr: 'פייבר' } as unknown as Record<string, string>;
    expect(say('Wix ו-Fiverr', table)).toBe('Wix ופייבר');
  });

  it('works with a dictionary of the largest allowed size', () => {
    const table: Record<string, string> = {};
    for (let i = 0; i < MAX_PRONUNCIATIONS - 1; i++)
      table[`מותג${String.fromCharCode(0x05d0 + (i % 27))}${i}`] = `שם${i % 7}`;
    table['Zapier'] = 'זאפייר';
    table['Slack'] = 'סלאק'; // one past the limit: ignored, not an error
    expect(say('חיבור ל-Zapier ול-Slack', table)).toBe('חיבור לזאפייר ול-Slack');
  });
});

describe('pronunciationProblems', () => {
  it('accepts a valid dictionary', () => {
    expect(pronunciationProblems({ Wix: 'וויקס', 'ד"ר כהן': 'דוקטור כֹּהֵן', 'AT&T': 'איי טי אנד טי' })).toEqual([]);
    expect(pronunciationProblems({})).toEqual([]);
  });

  it.each([null, undefined, 'Wix=וויקס', 42, ['Wix', 'וויקס']])('rejects %p as a whole', (value) => {
    expect(pronunciationProblems(value)).toEqual([
      'pronunciations: must be an object mapping written forms to spoken forms',
    ]);
  });

  it('reports every bad entry as "key: message"', () => {
    const problems = pronunciationProblems({
      '': 'ריק',
      ' Wix': 'וויקס',
      '!!!': 'סימנים',
      Fiverr: 5,
      Monday: '',
      Canva: 'קנבה 2',
      Miro: 'מי"רו',
      Slack: 'סלאק\nשורה',
      slack: 'סלאק',
      ['x'.repeat(MAX_WRITTEN_LENGTH + 1)]: 'ארוך',
      Asana: 'א'.repeat(MAX_SPOKEN_LENGTH + 1),
    });
    expect(problems).toEqual([
      '(empty key): written form must not be empty',
      ' Wix: written form must not start or end with a space',
      '!!!: written form must contain a letter or digit',
      'Fiverr: spoken form must be a string',
      'Monday: spoken form must not be empty',
      'Canva: spoken form must be words only (no digits, symbols or gershayim)',
      'Miro: spoken form must be words only (no digits, symbols or gershayim)',
      'Slack: spoken form must be on one line',
      'slack: same written form as "Slack" (case is ignored)',
      `${'x'.repeat(MAX_WRITTEN_LENGTH + 1)}: written form is longer than ${MAX_WRITTEN_LENGTH} characters`,
      `Asana: spoken form is longer than ${MAX_SPOKEN_LENGTH} characters`,
    ]);
  });

  it('limits the number of entries', () => {
    const table: Record<string, string> = {};
    for (let i = 0; i <= MAX_PRONUNCIATIONS; i++) table[`מילה${i}`] = 'מילה';
    expect(pronunciationProblems(table)).toEqual([
      `pronunciations: has ${MAX_PRONUNCIATIONS + 1} entries, at most ${MAX_PRONUNCIATIONS} are allowed`,
    ]);
  });
});

describe('phone grouping option', () => {
  it('groups the seven-digit part 3-2-2 by default and 3-4 when asked', () => {
    expect(shapeForSpeech('050-7654321')).toBe('אפס חמש אפס, שבע שש חמש, ארבע שלוש, שתיים אחת');
    expect(shapeForSpeech('050-7654321', { phoneGrouping: 'written' })).toBe(
      'אפס חמש אפס, שבע שש חמש, ארבע שלוש שתיים אחת',
    );
  });
});

describe('SPEAK_AS_WORDS_INSTRUCTION', () => {
  it('is one Hebrew sentence asking for numbers, times, dates and symbols in words', () => {
    const s = SPEAK_AS_WORDS_INSTRUCTION;
    expect(s).toMatch(/^[\u05D0-\u05EA]/);
    expect(s.endsWith('.')).toBe(true);
    expect(s.slice(0, -1)).not.toMatch(/[.!?](\s|$)/); // a single sentence
    expect(s).not.toMatch(/\d/);
    for (const word of ['מספרים', 'שעות', 'תאריכים', 'סימנים', 'במילים']) expect(s).toContain(word);
  });
});
