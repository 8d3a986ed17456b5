/**
 * What the caller's words are, for turn-taking: an acknowledgement that must not interrupt the
 * agent (a backchannel), or digits being dictated that must not be cut off. Pure.
 */

export { DEFAULT_BACKCHANNEL_WORDS } from '../../config/defaults.ts';

/** Most words an utterance may have and still be a backchannel ("כן כן", "אה נכון"). */
const MAX_BACKCHANNEL_WORDS = 3;

/** Words of a transcript: letters and digits only, punctuation and niqqud dropped. */
export function words(text: string): string[] {
  return text
    .normalize('NFC')
    .replace(/[\u0591-\u05C7]/g, '') // cantillation and vowel points
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Builds the lookup of acknowledgement words (normalized the same way as transcripts). */
export function backchannelSet(list: readonly string[]): ReadonlySet<string> {
  return new Set(list.flatMap(words).map((w) => w.toLowerCase()));
}

/**
 * True when every word of `text` is an acknowledgement and there are at most three of them.
 * Empty text is not a backchannel (nothing was recognised yet).
 */
export function isBackchannel(text: string, set: ReadonlySet<string>): boolean {
  const w = words(text);
  return w.length > 0 && w.length <= MAX_BACKCHANNEL_WORDS && w.every((x) => set.has(x.toLowerCase()));
}

/** Hebrew number words (with their construct and feminine forms) a caller dictating digits says. */
const NUMBER_WORDS = new Set(
  (
    'אפס אחת אחד שתיים שניים שתים שתי שני שלוש שלושה שלושת ארבע ארבעה ארבעת חמש חמישה חמשת שש שישה ששת ' +
    'שבע שבעה שבעת שמונה שמונת תשע תשעה תשעת עשר עשרה עשרת עשרים שלושים ארבעים חמישים שישים שבעים ' +
    'שמונים תשעים מאה מאתיים מאות אלף אלפיים אלפים'
  ).split(' '),
);

/**
 * True when the caller's text so far ends in digits or a Hebrew number word (also with the
 * conjunction ו), i.e. they are probably dictating a phone, ID or card number.
 */
export function endsWithNumber(text: string): boolean {
  const last = words(text).at(-1);
  if (!last) return false;
  if (/\p{N}$/u.test(last)) return true;
  return NUMBER_WORDS.has(last) || (last.startsWith('ו') && NUMBER_WORDS.has(last.slice(1)));
}
