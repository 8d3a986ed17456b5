/**
 * The shaping table, second part: times, dates, phone numbers, abbreviations, acronyms, signs and
 * whole sentences (numbers, money and units are in hebrew-shaping.test.ts). Every expected value
 * is written from the grammar references below (the tag after each case names it), not from the
 * code's output.
 *
 * [A1] Academy of the Hebrew Language, grammar decisions 4.3 "השימוש בשם המספר", א: before an
 *      indefinite noun 2 is in the construct (שני חודשים, שתי שנים) and the rest absolute
 *      (שלושה חודשים, ארבעים וחמש שנים, עשרים ושתיים ילדות, אלף ושניים שקלים); hundreds and
 *      thousands up to ten in the construct (חמש מאות, ארבעת אלפים, but עשרים וארבעה אלף);
 *      before a definite noun 2–10 in the construct (שני המלאכים, שלוש הערים, עשרת הילדים),
 *      above ten absolute (ארבעים הימים).
 *      http://hebrew-academy.org.il/hahlatot/GrammarDecisions/ShemHaMispar/Pages/Ch4D046.aspx
 * [A2] Academy, 4.3 ה "המספר הסתמי": abstract numbers (arithmetic, phone numbers, "בית (מספר)
 *      שתיים") are feminine; a fraction is "X חלקי Y" (18/76 → שמונה עשרה חלקי שבעים ושש).
 *      http://hebrew-academy.huji.ac.il/hahlatot/GrammarDecisions/ShemHaMispar/Pages/Ch4D041.aspx
 * [A3] Academy, "מידות ומשקלות": after 2–10 the noun is plural (שלושה אחוזים, חמישה שקלים, שבע
 *      אגורות); from 11 the singular is common with nouns usually counted (שנים עשר אחוז, שבעים
 *      איש, שלושים שנה, מאתיים שקל); שלושה מיליון.
 *      https://hebrew-academy.org.il/category/מידות-ומשקלות
 * [A4] Academy, "תאריך בחודש": the day is a masculine cardinal (אחד באפריל, שניים ביוני, עשרים
 *      ותשעה בנובמבר). https://hebrew-academy.org.il/2012/07/31/תאריך-בחודש/
 * [A5] Academy, "על הבעת המספר המעורב" ("שלושה חדרים וחצי" preferred) and "פי שניים".
 *      http://hebrew-academy.org.il/category/שם-המספר/
 * [A6] Academy, punctuation rules §29 geresh (מס' = מספר, עמ' = עמוד; "בחוברת 10 עמ'" is read
 *      "בחוברת עשרה עמודים") and §30 gershayim (before the last letter of an acronym).
 *      http://hebrew-academy.huji.ac.il/hahlatot/Punctuation/Pages/P32.aspx and P33.aspx
 * [A7] Academy (D. Yaakov), "שם המספר – רקע להחלטות האקדמיה": the feminine base forms are the
 *      abstract number (phone numbers, bus lines: קו חמש). https://ahl.org.il/2012/05/29/
 * [W1] Wiktionary "שלושה", usage notes: construct שלושת before a definite masculine noun, not in
 *      compounds (עשרים ושלושה הספרים).
 * [U1] ulpan.com, "three hundred and three thousand": שלוש מאות, שלושת אלפים.
 *      https://archive.ulpan.com/?p=7382
 * [D1] safa-ivrit.org "זוגי" and CET textbook: the dual of time units means exactly two (יומיים,
 *      שנתיים, שבועיים, פעמיים). https://www.safa-ivrit.org/irregulars/dual.php
 * [L1] leshoniada.co.il "אחרי רבים להטות": "one" follows its noun (שקל אחד, חודש אחד).
 * [T1] hebrew-for-beginners.com "Reading a clock in Hebrew": X וחמישה, X ועשרה, X ורבע,
 *      X ועשרים, X וחצי, עשרים ל(X+1), רבע ל(X+1).
 * [T2] leshoniada.co.il "רק רגע": five and ten past are masculine (they counted רגעים), other
 *      minutes feminine: "שש ושש עשרה", "תשע שלושים ואחת", "ארבע חמישים ותשע".
 * [T3] cobocards "The basics of telling time in Hebrew": "חמש ושלוש דקות", "חמש ורבע".
 * [P1] "Telephone numbers in Israel" (Wikipedia): 0A-XXX-XXXX (02 03 04 08 09), 05N-XXX-XXXX,
 *      +972 without the trunk 0, 1-800 toll free. Digits are abstract, so feminine [A2].
 * [G1] safa-ivrit.org "גרש" / "גרשיים": a geresh also marks foreign sounds (ג'ורג', צ'רצ'יל,
 *      שייח'); a letter with geresh is a numeral (יום ה'). https://safa-ivrit.org/punctuation/geresh.php
 */
import { shapeForSpeech } from '../../media/voice/shaping/index.ts';

type Case = readonly [input: string, expected: string, source: string];

const TIMES: Case[] = [
  ['10:30', 'עשר וחצי', 'T1'],
  ['9:15', 'תשע ורבע', 'T1'],
  ['8:05', 'שמונה וחמישה', 'T2'],
  ['8:10', 'שמונה ועשרה', 'T2'],
  ['8:20', 'שמונה ועשרים', 'T1'],
  ['10:45', 'רבע לאחת עשרה', 'T1'],
  ['7:40', 'עשרים לשמונה', 'T1'],
  ['6:50', 'עשרה לשבע', 'T2'],
  ['5:03', 'חמש ושלוש דקות', 'T3'],
  ['6:16', 'שש ושש עשרה', 'T2'],
  ['9:31', 'תשע שלושים ואחת', 'T2'],
  ['4:59', 'ארבע חמישים ותשע', 'T2'],
  ['11:01', 'אחת עשרה ודקה', 'T3'],
  ['14:00', 'שתיים בצהריים', 'T1'],
  ['13:45', 'רבע לשתיים בצהריים', 'T1'],
  ['16:15', 'ארבע ורבע אחר הצהריים', 'T1'],
  ['18:30', 'שש וחצי בערב', 'T1'],
  ['21:05', 'תשע וחמישה בערב', 'T2'],
  ['09:00', 'תשע בבוקר', 'T1'],
  ['00:00', 'חצות', 'T1'],
  ['00:30', 'שתים עשרה וחצי בלילה', 'T1'],
  ['23:45', 'רבע לשתים עשרה בלילה', 'T1'],
  ['10:00 בבוקר', 'עשר בבוקר', 'T1'],
  ['20:00 בערב', 'שמונה בערב', 'T1'],
  ['9:00-17:00', 'תשע עד חמש אחר הצהריים', 'T1'],
  ['7:15 AM', 'שבע ורבע בבוקר', 'T1'],
  ['10:30 PM', 'עשר וחצי בלילה', 'T1'],
  ['בשעה 14:30', 'בשעה שתיים וחצי בצהריים', 'T1'],
];

const DATES: Case[] = [
  ['12/3', 'שנים עשר במרץ', 'A4'],
  ['1/4', 'אחד באפריל', 'A4'],
  ['2/6', 'שניים ביוני', 'A4'],
  ['29/11', 'עשרים ותשעה בנובמבר', 'A4'],
  ['12.3.2026', 'שנים עשר במרץ אלפיים עשרים ושש', 'A4'],
  ['1.1.2027', 'אחד בינואר אלפיים עשרים ושבע', 'A4'],
  ['2026-03-12', 'שנים עשר במרץ אלפיים עשרים ושש', 'A4'],
  ['9 בנובמבר', 'תשעה בנובמבר', 'A4'],
  ['ב-15 במאי', 'בחמישה עשר במאי', 'A4'],
  ['3 לחודש', 'שלושה לחודש', 'A4'],
  ['עד ה-10', 'עד העשרה', 'A4'],
  ['12.03', 'שנים עשר במרץ', 'A4'],
  ['ה-12.3', 'השנים עשר במרץ', 'A4'],
  ["יום ה'", 'יום חמישי', 'G1'],
  ["ביום א'", 'ביום ראשון', 'G1'],
  ['יום ו׳', 'יום שישי', 'G1'],
  ["ימים א'-ה'", 'ימים ראשון עד חמישי', 'G1'],
  ['ביום שלישי בחודש מרץ', 'ביום שלישי בחודש מרץ', 'G1'],
];

const PHONES: Case[] = [
  ['03-1234567', 'אפס שלוש, אחת שתיים שלוש, ארבע חמש, שש שבע', 'P1'],
  ['02-6543210', 'אפס שתיים, שש חמש ארבע, שלוש שתיים, אחת אפס', 'P1'],
  ['050-7654321', 'אפס חמש אפס, שבע שש חמש, ארבע שלוש, שתיים אחת', 'P1'],
  ['0501234567', 'אפס חמש אפס, אחת שתיים שלוש, ארבע חמש, שש שבע', 'P1'],
  ['054 123 4567', 'אפס חמש ארבע, אחת שתיים שלוש, ארבע חמש, שש שבע', 'P1'],
  ['077-1234567', 'אפס שבע שבע, אחת שתיים שלוש, ארבע חמש, שש שבע', 'P1'],
  ['+972-50-1234567', 'פלוס תשע שבע שתיים, חמש אפס, אחת שתיים שלוש, ארבע חמש, שש שבע', 'P1'],
  ['+972 3 123 4567', 'פלוס תשע שבע שתיים, שלוש, אחת שתיים שלוש, ארבע חמש, שש שבע', 'P1'],
  ['1-800-123-456', 'אחת שמונה מאות, אחת שתיים שלוש, ארבע חמש שש', 'P1'],
  ['1-700-500-600', 'אחת שבע מאות, חמש אפס אפס, שש אפס אפס', 'P1'],
  ['*2700', 'כוכבית שתיים שבע אפס אפס', 'A2'],
  ['ת"ז 123456789', 'תעודת זהות אחת שתיים שלוש, ארבע חמש שש, שבע שמונה תשע', 'A2'],
  ['מספר הזמנה 4521', 'מספר הזמנה ארבע חמש, שתיים אחת', 'A2'],
];

const ABBREVIATIONS: Case[] = [
  ['ת"א', 'תל אביב', 'A6'],
  ['ת״א', 'תל אביב', 'A6'],
  ['ש"ח', 'שקלים', 'A6'],
  ['ד"ר כהן', 'דוקטור כהן', 'A6'],
  ['עו"ד לוי', 'עורך דין לוי', 'A6'],
  ['חברה בע"מ', 'חברה בערבון מוגבל', 'A6'],
  ["וכו'", 'וכולי', 'A6'],
  ["רח' הרצל", 'רחוב הרצל', 'A6'],
  ["מס' 5", 'מספר חמש', 'A6'],
  ['מס׳ 5', 'מספר חמש', 'A6'],
  ["גב' כהן", 'גברת כהן', 'A6'],
  ['בת"א', 'בתל אביב', 'A6'],
  ['לד"ר כהן', 'לדוקטור כהן', 'A6'],
  ['כולל מע"מ', 'כולל מס ערך מוסף', 'A6'],
  ['סה"כ', 'סך הכול', 'A6'],
  ['צה"ל', 'צהל', 'A6'],
  ['דו"ח', 'דוח', 'A6'],
  ["סעיף ב'", 'סעיף בית', 'G1'],
  ["ג'ורג'", "ג'ורג'", 'G1'],
  ["צ'יפס", "צ'יפס", 'G1'],
  ["שייח'", "שייח'", 'G1'],
  ['"שלום" אמר', '"שלום" אמר', 'A6'],
];

const ACRONYMS: Case[] = [
  ['SMS', 'אס אם אס', 'G1'],
  ['CRM', 'סי אר אם', 'G1'],
  ['ב-SMS', 'באס אם אס', 'G1'],
  ['VIP', 'וי איי פי', 'G1'],
  ['PDF', 'פי די אף', 'G1'],
  ['HTML', "אייץ' טי אם אל", 'G1'],
  ['4G', "ארבע ג'י", 'A2'],
  ['OK', 'אוקיי', 'G1'],
  ['NASA', 'NASA', 'G1'],
  ['Google', 'Google', 'G1'],
  ['WhatsApp', 'WhatsApp', 'G1'],
];

const SIGNS_AND_MARKUP: Case[] = [
  ['כן/לא', 'כן או לא', 'A6'],
  ['ו/או', 'או', 'A6'],
  ['**חשוב**', 'חשוב', 'A6'],
  ['# כותרת', 'כותרת', 'A6'],
  ['מכבי & הפועל', 'מכבי והפועל', 'A6'],
  ['dan@gmail.com', 'dan את gmail נקודה com', 'A6'],
  ['😀 שלום', 'שלום', 'A6'],
  ['~5 דקות', 'בערך חמש דקות', 'A1'],
];

const SENTENCES: Case[] = [
  [
    "הפגישה נקבעה ליום ה' ה-12/3 ב-10:30, למשך 1.5 שעות.",
    'הפגישה נקבעה ליום חמישי השנים עשר במרץ בעשר וחצי, למשך שעה וחצי.',
    'A4',
  ],
  [
    'דירת 3.5 חדרים בקומה 4 בת"א, 120 מ"ר, ב-₪8,500 לחודש.',
    'דירת שלושה חדרים וחצי בקומה ארבע בתל אביב, מאה ועשרים מטרים רבועים, בשמונת אלפים וחמש מאות שקלים לחודש.',
    'A1',
  ],
  [
    "אפשר להתקשר ל-03-1234567 בימים א'-ה' בין 9:00 ל-17:00.",
    'אפשר להתקשר לאפס שלוש, אחת שתיים שלוש, ארבע חמש, שש שבע בימים ראשון עד חמישי בין תשע לחמש אחר הצהריים.',
    'P1',
  ],
  ['שלחתי לך SMS עם קוד בן 6 ספרות.', 'שלחתי לך אס אם אס עם קוד בן שש ספרות.', 'A1'],
];

const TABLE: Readonly<Record<string, Case[]>> = {
  times: TIMES,
  dates: DATES,
  'phone and code numbers': PHONES,
  'Hebrew abbreviations': ABBREVIATIONS,
  'Latin acronyms': ACRONYMS,
  'signs and markup': SIGNS_AND_MARKUP,
  'whole sentences': SENTENCES,
};

describe('shapeForSpeech table: times, dates, phones, abbreviations', () => {
  for (const [section, cases] of Object.entries(TABLE)) {
    describe(section, () => {
      it.each(cases)('%s → %s [%s]', (input, expected) => {
        expect(shapeForSpeech(input)).toBe(expected);
      });
    });
  }
});
