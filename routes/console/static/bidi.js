/* global document */
// Hebrew text with numbers, phone numbers and Latin words inside, rendered in the right order.
//
// The Unicode bidi algorithm gets most of it right by itself in a right-to-left paragraph: Hebrew
// words, a lone number, "14:30", "50%", "Google Meet". It gets three things wrong, and those are the
// runs wrapped here in <bdi dir="ltr"> (an isolate, read left to right as one unit):
//   - digit groups split by spaces ("050 123 4567" would show as "4567 123 050"),
//   - a leading plus ("+972" would show as "972+"),
//   - Latin words with symbols at their edges ("C++" would show as "++C").

const RTL_LETTER = /[\u0590-\u05FF\u0600-\u06FF\u0700-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;
const HEBREW_LETTER = /[\u05D0-\u05EA\uFB1D-\uFB4F]/;
const LTR_LETTER = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]/;

// A phone-like number: optional + or (, digits with spaces, dots, dashes or brackets, ending in a digit.
const PHONE = String.raw`[+(]?\d[\d ().-]*\d|\+\d`;
// Latin words (with inner symbols) and what follows them on the same side: more Latin words or numbers.
const WORD = String.raw`[A-Za-z\u00C0-\u024F][\w\u00C0-\u024F'’.@&+#/-]*`;
const LATIN = String.raw`${WORD}(?: +(?:${WORD}|\d[\d.,:]*))*`;
const RUN = new RegExp(`${PHONE}|${LATIN}`, 'g');

/**
 * The base direction of one utterance: 'rtl' as soon as it has a right-to-left letter (a Hebrew
 * sentence that starts with a Latin brand name is still a Hebrew sentence; the browser's
 * first-strong-letter rule would lay it out left to right), 'ltr' when it has only left-to-right
 * letters, 'auto' when it has no letters at all.
 */
export function directionOf(text) {
  if (RTL_LETTER.test(text)) return 'rtl';
  if (LTR_LETTER.test(text)) return 'ltr';
  return 'auto';
}

/**
 * Splits text into plain runs and runs to isolate left to right: [{ text, isolate }]. The isolated
 * runs are phone-like numbers with at least one separator or a plus, and Latin words; punctuation
 * that ends a sentence stays outside the isolate, with the sentence it ends.
 */
export function bidiRuns(text) {
  const runs = [];
  let last = 0;
  for (const m of text.matchAll(RUN)) {
    // Punctuation that ends a sentence belongs to the sentence, outside the isolate.
    const run = m[0].replace(/(?<=[\p{L}\d)])[.,:;!?'’-]+$/u, '');
    const needsIsolation = LTR_LETTER.test(run) || /^[+(]/.test(run) || /\d[ ().-]+\d/.test(run);
    if (!needsIsolation || run === '') continue;
    if (m.index > last) runs.push({ text: text.slice(last, m.index), isolate: false });
    runs.push({ text: run, isolate: true });
    last = m.index + run.length;
  }
  if (last < text.length) runs.push({ text: text.slice(last), isolate: false });
  return runs;
}

/** Appends `text` to `el` with its left-to-right runs isolated; returns `el`. */
export function appendBidi(el, text) {
  for (const run of bidiRuns(text)) {
    if (!run.isolate) {
      el.append(document.createTextNode(run.text));
      continue;
    }
    const bdi = document.createElement('bdi');
    bdi.dir = 'ltr';
    bdi.textContent = run.text;
    el.append(bdi);
  }
  return el;
}

/** An element (default <p>) holding one utterance, with its own direction and isolated runs. */
export function utterance(text, tag = 'p', className = 'utt') {
  const el = document.createElement(tag);
  el.className = className;
  el.dir = directionOf(text);
  if (HEBREW_LETTER.test(text)) el.lang = 'he';
  return appendBidi(el, text);
}
