import { DEFAULT_MAX_SENTENCE_CHARS, SentenceSplitter } from '../../media/voice/sentence-splitter.ts';

/** Feeds the chunks in order and returns every sentence, the flushed rest included. */
function split(chunks: readonly string[], maxChars?: number): string[] {
  const splitter = new SentenceSplitter(maxChars === undefined ? {} : { maxChars });
  const out: string[] = [];
  for (const chunk of chunks) out.push(...splitter.push(chunk));
  out.push(...splitter.flush());
  return out;
}

/** Small deterministic PRNG (mulberry32) so random chunkings are reproducible. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Asserts that every way of chunking `text` gives `expected`. */
function expectChunkingInvariant(text: string, expected: string[], maxChars?: number): void {
  expect(split([text], maxChars)).toEqual(expected);
  expect(split([...text], maxChars)).toEqual(expected); // one UTF-16 unit… or code point at a time
  expect(split(text.split(''), maxChars)).toEqual(expected);
  for (let p = 0; p <= text.length; p++) {
    const got = split([text.slice(0, p), text.slice(p)], maxChars);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      throw new Error(`split at ${p} (${JSON.stringify(text.slice(0, p))} | …) gave ${JSON.stringify(got)}`);
    }
  }
  const random = prng(text.length);
  for (let round = 0; round < 50; round++) {
    const chunks: string[] = [];
    for (let i = 0; i < text.length;) {
      const size = 1 + Math.floor(random() * 12);
      chunks.push(text.slice(i, i + size));
      i += size;
    }
    expect(split(chunks, maxChars)).toEqual(expected);
  }
}

const squash = (s: string): string => s.replace(/\s+/gu, '');

describe('SentenceSplitter: where sentences end', () => {
  test('splits after . ! ? … followed by whitespace', () => {
    expectChunkingInvariant('שלום! מה שלומך? אני בסדר. רגע… אני בודקת', [
      'שלום!',
      'מה שלומך?',
      'אני בסדר.',
      'רגע…',
      'אני בודקת',
    ]);
  });

  test('keeps runs of terminators and closing quotes with their sentence', () => {
    expectChunkingInvariant('באמת?! כן... הוא אמר "בסדר." ואז הלך (מהר!) הביתה.', [
      'באמת?!',
      'כן...',
      'הוא אמר "בסדר."',
      'ואז הלך (מהר!)',
      'הביתה.',
    ]);
  });

  test('splits at newlines and drops blank lines', () => {
    expectChunkingInvariant('יש שתי אפשרויות\n\n1. מחר בבוקר\r\n2. מחר בערב\n', [
      'יש שתי אפשרויות',
      '1. מחר בבוקר',
      '2. מחר בערב',
    ]);
  });

  test('does not split at ; — it joins clauses that belong together', () => {
    expect(split(['התור נקבע; נשלח אליך אישור בהודעה. תודה'])).toEqual(['התור נקבע; נשלח אליך אישור בהודעה.', 'תודה']);
  });

  test('needs whitespace after the terminator, so a terminator glued to a word does not split', () => {
    expect(split(['האתר הוא www.clinic.co.il. תודה'])).toEqual(['האתר הוא www.clinic.co.il.', 'תודה']);
    expect(split(['מה?כן'])).toEqual(['מה?כן']);
  });
});

describe('SentenceSplitter: Hebrew abbreviations, numbers and times stay whole', () => {
  test.each([
    [
      'gershayim (ASCII ")',
      'אני גר בת"א ומשלם 50 ש"ח. שירתתי בצה"ל. ד"ר כהן יראה אותך.',
      ['אני גר בת"א ומשלם 50 ש"ח.', 'שירתתי בצה"ל.', 'ד"ר כהן יראה אותך.'],
    ],
    [
      'gershayim (U+05F4 ״)',
      'אני גר בת״א ומשלם 50 ש״ח. שירתתי בצה״ל. ד״ר כהן יראה אותך.',
      ['אני גר בת״א ומשלם 50 ש״ח.', 'שירתתי בצה״ל.', 'ד״ר כהן יראה אותך.'],
    ],
    [
      "geresh (ASCII ')",
      "צריך תעודת זהות, טופס וכו'. גב' לוי וכד' יגיעו. תודה",
      ["צריך תעודת זהות, טופס וכו'.", "גב' לוי וכד' יגיעו.", 'תודה'],
    ],
    [
      'geresh (U+05F3 ׳)',
      'צריך תעודת זהות, טופס וכו׳. גב׳ לוי וכד׳ יגיעו. תודה',
      ['צריך תעודת זהות, טופס וכו׳.', 'גב׳ לוי וכד׳ יגיעו.', 'תודה'],
    ],
    [
      'decimals and times',
      'המחיר 3.5 ש"ח. התור ב-10:30. אחר כך ב-12.45? כן.',
      ['המחיר 3.5 ש"ח.', 'התור ב-10:30.', 'אחר כך ב-12.45?', 'כן.'],
    ],
    ['acronym inside a quotation', 'הוא אמר "נפגש בת"א." ואז ניתק.', ['הוא אמר "נפגש בת"א."', 'ואז ניתק.']],
  ])('%s', (_name, text, expected) => {
    expectChunkingInvariant(text, expected);
  });

  test('a chunk ending in "3." waits for the next chunk before deciding', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('המחיר 3.')).toEqual([]);
    expect(splitter.push('5 ש"ח.')).toEqual([]);
    expect(splitter.push(' תודה')).toEqual(['המחיר 3.5 ש"ח.']);
    expect(splitter.flush()).toEqual(['תודה']);
  });

  test('a number really ending a sentence is emitted once whitespace or the end arrives', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('המחיר הוא 35.')).toEqual([]);
    expect(splitter.flush()).toEqual(['המחיר הוא 35.']);
    expect(split(['המחיר הוא 35.', ' תודה'])).toEqual(['המחיר הוא 35.', 'תודה']);
  });

  test('does not split after list markers, single-letter initials or Latin titles', () => {
    expectChunkingInvariant('1. בוקר או ערב. סעיף א. בתקנון חל. Dr. Levi ו-J. K. Rowling מגיעים. סוף', [
      '1. בוקר או ערב.',
      'סעיף א. בתקנון חל.',
      'Dr. Levi ו-J. K. Rowling מגיעים.',
      'סוף',
    ]);
  });

  test('one-word answers and acronyms ending a sentence still split', () => {
    expectChunkingInvariant('כן. לא! אולי? בסדר.', ['כן.', 'לא!', 'אולי?', 'בסדר.']);
    expectChunkingInvariant('זה 50 ש"ח. ועוד 20 ש״ח. סה"כ 70.', ['זה 50 ש"ח.', 'ועוד 20 ש״ח.', 'סה"כ 70.']);
  });
});

describe('SentenceSplitter: length cap', () => {
  const words = Array.from({ length: 120 }, (_, i) => `מילה${i}`); // ~840 chars, no punctuation

  test('the default cap is 250 and cuts long unpunctuated text at spaces', () => {
    expect(DEFAULT_MAX_SENTENCE_CHARS).toBe(250);
    const text = words.join(' ');
    const out = split([text]);
    expect(out.length).toBeGreaterThan(3);
    for (const s of out) expect(s.length).toBeLessThanOrEqual(250);
    for (const s of out.slice(0, -1)) expect(s.length).toBeGreaterThan(240); // used most of the window
    expect(out.join(' ')).toBe(text); // cut only at spaces: no word broken
  });

  test('emits a capped piece as soon as the window is full, before the stream ends', () => {
    const splitter = new SentenceSplitter();
    const got: string[] = [];
    for (const w of words.slice(0, 40)) got.push(...splitter.push(`${w} `));
    expect(got.length).toBeGreaterThan(0);
  });

  test('prefers a comma in the second half of the window', () => {
    const text = `${'א'.repeat(100)} ${'ב'.repeat(60)}, ${'ג'.repeat(60)} ${'ד'.repeat(60)} סוף`;
    const out = split([text]);
    expect(out[0]).toBe(`${'א'.repeat(100)} ${'ב'.repeat(60)},`);
    expect(squash(out.join(''))).toBe(squash(text));
  });

  test('ignores a comma too early in the window and uses the last space', () => {
    const text = `שלום, ${'א'.repeat(150)} ${'ב'.repeat(150)}`;
    expect(split([text])[0]).toBe(`שלום, ${'א'.repeat(150)}`);
  });

  test('hard-cuts text with no space at the cap without splitting a surrogate pair', () => {
    expect(split(['א'.repeat(600)]).map((s) => s.length)).toEqual([250, 250, 100]);
    const emoji = `${'א'.repeat(249)}😀${'ב'.repeat(10)}`; // the pair straddles the cap
    const out = split([emoji]);
    expect(out[0]).toBe('א'.repeat(249));
    expect(out[1]).toBe(`😀${'ב'.repeat(10)}`);
  });

  test('a sentence boundary past the cap still yields pieces within the cap', () => {
    const text = `${'א'.repeat(200)} ${'ב'.repeat(100)}. קצר.`;
    const out = split([text]);
    expect(out).toEqual(['א'.repeat(200), `${'ב'.repeat(100)}.`, 'קצר.']);
  });

  test('capped output is the same for every chunking (small cap to keep the test fast)', () => {
    const text = 'אני רוצה לקבוע תור, אם אפשר, למחר בבוקר אצל הרופאה שלי בתל אביב ליד הים בשעה 10:30 או 11.5 בערך';
    const expected = split([text], 30);
    for (const s of expected) expect(s.length).toBeLessThanOrEqual(30);
    expect(squash(expected.join(''))).toBe(squash(text));
    expectChunkingInvariant(text, expected, 30);
  });

  test('rejects a cap below 2', () => {
    expect(() => new SentenceSplitter({ maxChars: 1 })).toThrow(RangeError);
    expect(() => new SentenceSplitter({ maxChars: 2.5 })).toThrow(RangeError);
  });
});

describe('SentenceSplitter: stream handling', () => {
  test('never loses or reorders text, whatever the chunking', () => {
    const text = 'שלום!  יש לי\nשאלה: כמה עולה תור? 150 ש"ח... ובערב?  אותו מחיר.   ';
    const random = prng(7);
    for (let round = 0; round < 100; round++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length;) {
        const size = Math.floor(random() * 6); // includes empty chunks
        chunks.push(text.slice(i, i + size));
        i += size;
      }
      const out = split(chunks);
      expect(squash(out.join(''))).toBe(squash(text));
      for (const s of out) expect(s).toBe(s.trim());
      for (const s of out) expect(s).not.toBe('');
    }
  });

  test('flush on an empty or whitespace-only stream returns nothing', () => {
    expect(new SentenceSplitter().flush()).toEqual([]);
    expect(split(['  ', '\n'])).toEqual([]);
  });

  test('can be reused after flush', () => {
    const splitter = new SentenceSplitter();
    splitter.push('ראשון');
    expect(splitter.flush()).toEqual(['ראשון']);
    expect(splitter.push('שני. ')).toEqual(['שני.']);
    expect(splitter.flush()).toEqual([]);
  });
});
