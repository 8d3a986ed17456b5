/**
 * An agent's pronunciation dictionary: written form → spoken form, for names, brands and
 * homographs ("Wix" → "וויקס", "ד"ר כהן" → "דוקטור כֹּהֵן"). Applied before every other pass, and
 * what it produces is final: later passes never touch it.
 *
 * Matching is on whole words or phrases (nothing letter- or digit-like on either side), the
 * longest entry wins, Latin letters match in any case, and a Hebrew prefix written with a hyphen
 * is kept (ב-Wix → בוויקס). Lookup walks a character trie, so the cost grows with the sentence
 * and the longest key, not with the size of the dictionary.
 */

import { MAX_PRONUNCIATIONS, MAX_WRITTEN_LENGTH } from '../../../config/pronunciations.ts';

export {
  MAX_PRONUNCIATIONS,
  MAX_SPOKEN_LENGTH,
  MAX_WRITTEN_LENGTH,
  pronunciationProblems,
} from '../../../config/pronunciations.ts';

interface TrieNode {
  readonly next: Map<string, TrieNode>;
  spoken?: string;
}

/** A compiled dictionary. */
export interface Dictionary {
  readonly root: TrieNode;
}

const compiled = new WeakMap<object, Dictionary>();

/**
 * Compiles (once per dictionary object) the usable entries of `table`; entries that
 * pronunciationProblems would reject for their type or emptiness are skipped, never thrown on.
 */
export function compileDictionary(table: Readonly<Record<string, string>>): Dictionary {
  const cached = compiled.get(table);
  if (cached) return cached;
  const root: TrieNode = { next: new Map() };
  let count = 0;
  for (const [key, spoken] of Object.entries(table)) {
    if (count >= MAX_PRONUNCIATIONS) break;
    if (typeof spoken !== 'string' || !spoken.trim() || !key.trim() || key.length > MAX_WRITTEN_LENGTH) continue;
    let node = root;
    for (const c of key.trim()) {
      const k = c.toLowerCase();
      let child = node.next.get(k);
      if (!child) node.next.set(k, (child = { next: new Map() }));
      node = child;
    }
    node.spoken = spoken.trim();
    count++;
  }
  const dictionary = { root };
  compiled.set(table, dictionary);
  return dictionary;
}

/** A piece of the sentence: `fixed` pieces come from the dictionary and are not shaped further. */
export interface Piece {
  readonly text: string;
  readonly fixed: boolean;
}

const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);
const PREFIX_ONLY = /^[ובכלמשה]{1,4}[-־]$/u;

/**
 * Whether a match may start at `at`: undefined when it is inside a word, else the Hebrew prefix
 * with its hyphen that comes right before ("ב-"), or '' when there is none.
 */
function prefixAt(text: string, at: number): string | undefined {
  const before = text[at - 1];
  if (before === undefined) return '';
  if (isWordChar(before)) return undefined;
  if (before !== '-' && before !== '־') return '';
  let k = at - 1;
  while (k > 0 && isWordChar(text[k - 1])) k--;
  const word = text.slice(k, at);
  if (word.length === 1) return '';
  return PREFIX_ONLY.test(word) ? word : undefined;
}

/** End of the longest entry starting at `at` that ends on a word boundary, or undefined. */
function longestAt(text: string, at: number, dict: Dictionary): { end: number; spoken: string } | undefined {
  let node: TrieNode | undefined = dict.root;
  let best: { end: number; spoken: string } | undefined;
  for (let i = at; i < text.length && node;) {
    const c = String.fromCodePoint(text.codePointAt(i)!);
    node = node.next.get(c.toLowerCase());
    i += c.length;
    if (node?.spoken !== undefined && !isWordChar(text[i])) best = { end: i, spoken: node.spoken };
  }
  return best;
}

/** Splits `text` into dictionary replacements (fixed) and the text between them. */
export function applyDictionary(text: string, dict: Dictionary): Piece[] {
  const pieces: Piece[] = [];
  let plainStart = 0;
  let i = 0;
  while (i < text.length) {
    const prefix = prefixAt(text, i);
    const hit = prefix === undefined ? undefined : longestAt(text, i, dict);
    if (!hit || prefix === undefined) {
      i++;
      continue;
    }
    const start = i - prefix.length;
    if (start > plainStart) pieces.push({ text: text.slice(plainStart, start), fixed: false });
    pieces.push({ text: prefix.slice(0, -1) + hit.spoken, fixed: true });
    plainStart = i = hit.end;
  }
  if (plainStart < text.length) pieces.push({ text: text.slice(plainStart), fixed: false });
  return pieces;
}
