/**
 * Streaming sentence splitter for LLM output headed to TTS: speech can start after the first
 * sentence instead of after the whole reply.
 *
 * A sentence ends
 *   - at a newline (LLM line breaks are deliberate: paragraphs, list items), or
 *   - after a run of `.` `!` `?` `…` plus any closing quotes/brackets, when whitespace or the
 *     end of the stream follows.
 * Requiring whitespace after the run is what keeps `3.5`, `www.example.co.il` and `?!` whole.
 * Gershayim and geresh (`ת"א`, `צה"ל`, `ש"ח`, `ד"ר`, `וכו'`, `גב'`, or U+05F4 ״ / U+05F3 ׳) are
 * never terminators, and `"`/`'` only count as closers right after a terminator, so Hebrew
 * acronyms and abbreviations never split.
 *
 * `;` is not a terminator: it joins clauses that belong together, and a separate TTS request
 * per half would give the first half a full-stop cadence mid-thought. It (with `,` and `:`) is
 * instead a preferred cut when the length cap forces one.
 *
 * A lone `.` does not end a sentence after a single letter (initials, `א.` list items), after a
 * one- or two-digit number that is the whole sentence so far (`1.` list markers), or after a few
 * Latin titles (`Dr.`, `Mr.`…). Hebrew abbreviations use geresh, not a period, so none are
 * listed: `מס.` could just as well be the word "tax" ending a sentence. Missing a boundary only
 * delays audio a little; a wrong one breaks the prosody, so the exceptions err towards joining.
 *
 * Streaming: a terminator at the end of the text received so far is held back until the next
 * character shows whether it ends a sentence (`"המחיר 3."` then `"5 ש"ח."` is one sentence).
 * Every decision depends only on text already received, so any chunking of the same text gives
 * the same sentences.
 *
 * Length cap: no sentence is longer than `maxChars` UTF-16 units. Without a boundary in time,
 * the text is cut after the last `,` `;` `:` in the second half of the window, else at the last
 * space, else hard at the cap, so TTS is never starved and stays far below its 5,000-byte limit.
 */

/** Default length cap in UTF-16 units (250 Hebrew letters ≈ 500 UTF-8 bytes, ~15 s of speech). */
export const DEFAULT_MAX_SENTENCE_CHARS = 250;

const TERMINATORS = new Set(['.', '!', '?', '…']);
// Closing quotes/brackets that stay with the sentence they close, plus the bidi marks
// (LRM, RLM, PDF) that models sometimes emit around punctuation in RTL text.
const CLOSERS = new Set(['"', "'", '”', '’', '»', ')', ']', '}', '\u200e', '\u200f', '\u202c']);
const NEWLINES = new Set(['\n', '\r', '\u2028', '\u2029']);
const SOFT_BREAKS = new Set([',', ';', ':', '،']);
const LATIN_TITLES = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'vs', 'e.g', 'i.e']);

const NEED_MORE = -1;
const NONE = -2;

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/u.test(c);

/** True when the `.` at `dot` is part of an initial, a list marker or a title, not an ending. */
function isAbbreviationDot(s: string, start: number, dot: number): boolean {
  let k = dot;
  while (k > start && !isSpace(s[k - 1])) k--;
  const token = s.slice(k, dot).replace(/^[^\p{L}\p{N}]+/u, '');
  // Only a hyphen or maqaf separates a prefix (`ו-J.`); gershayim and geresh belong to the
  // word, so `ש"ח.` is an acronym ending a sentence, not the initial `ח.`.
  const lastPart = token.slice(Math.max(token.lastIndexOf('-'), token.lastIndexOf('\u05be')) + 1);
  if (/^\p{L}$/u.test(lastPart)) return true;
  if (k === start && /^\d{1,2}$/.test(token)) return true;
  return LATIN_TITLES.has(token.toLowerCase());
}

/**
 * End (exclusive) of the first sentence starting at `start`, NEED_MORE if a terminator at the
 * end of the text is still undecided, or NONE if the text holds no boundary.
 */
function findEnd(s: string, start: number, final: boolean): number {
  for (let i = start; i < s.length; i++) {
    const c = s[i]!;
    if (NEWLINES.has(c)) return i;
    if (!TERMINATORS.has(c)) continue;
    let runEnd = i;
    while (runEnd < s.length && TERMINATORS.has(s[runEnd]!)) runEnd++;
    let j = runEnd;
    while (j < s.length && CLOSERS.has(s[j]!)) j++;
    if (j === s.length) {
      if (!final) return NEED_MORE;
    } else if (!isSpace(s[j])) {
      i = j - 1;
      continue;
    }
    if (runEnd - i === 1 && c === '.' && isAbbreviationDot(s, start, i)) {
      i = j - 1;
      continue;
    }
    return j;
  }
  return NONE;
}

/** Where to cut `s` after `start` when no sentence boundary comes within `max` units. */
function capCut(s: string, start: number, max: number): number {
  const limit = start + max; // s[limit] exists: the caller has more than `max` units
  for (let k = limit - 1; k >= start + Math.floor(max / 2); k--) {
    if (SOFT_BREAKS.has(s[k]!) && isSpace(s[k + 1])) return k + 1;
  }
  for (let k = limit; k > start; k--) {
    if (isSpace(s[k])) return k;
  }
  const code = s.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit; // keep surrogate pairs whole
}

/**
 * Splits streamed text into sentences. Feed chunks with push() as they arrive and call flush()
 * once at the end of the stream. Sentences are trimmed and never empty; text is never dropped
 * (a punctuation-only line comes out as its own "sentence", which a TTS caller may skip).
 * Options: `maxChars` (default DEFAULT_MAX_SENTENCE_CHARS, at least 2; RangeError otherwise).
 */
export class SentenceSplitter {
  #pending = '';
  readonly #max: number;

  constructor(options: { maxChars?: number } = {}) {
    const max = options.maxChars ?? DEFAULT_MAX_SENTENCE_CHARS;
    if (!Number.isInteger(max) || max < 2) throw new RangeError(`maxChars must be an integer >= 2, got ${max}`);
    this.#max = max;
  }

  /** Adds a chunk; returns the sentences it completed, in order (often none). */
  push(text: string): string[] {
    this.#pending += text;
    return this.#drain(false);
  }

  /** Ends the stream: returns everything still held back, and leaves the splitter empty for reuse. */
  flush(): string[] {
    const out = this.#drain(true);
    this.#pending = '';
    return out;
  }

  #drain(final: boolean): string[] {
    const s = this.#pending;
    const out: string[] = [];
    let start = 0;
    for (;;) {
      while (start < s.length && isSpace(s[start])) start++;
      if (start >= s.length) break;
      const end = findEnd(s, start, final);
      let cut: number;
      if (end >= 0 && end - start <= this.#max) cut = end;
      else if (s.length - start > this.#max) cut = capCut(s, start, this.#max);
      else if (final) cut = s.length;
      else break;
      const sentence = s.slice(start, cut).trim();
      if (sentence) out.push(sentence);
      start = cut;
    }
    this.#pending = s.slice(start);
    return out;
  }
}
