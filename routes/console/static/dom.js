/* global document, Node */
// Building the page without HTML parsing: every piece of data becomes a text node or an attribute
// value, so caller-controlled text (transcripts, tool arguments) can never turn into markup. The
// page's Content-Security-Policy also enforces Trusted Types, so an `innerHTML = string` anywhere
// throws instead of rendering.

/**
 * Creates an element. `attrs`: `class`, `on<event>` listeners, and plain attributes (null, undefined
 * and false are skipped; true sets an empty attribute). Children: nodes, strings (as text), arrays,
 * null/undefined/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children as {@link h} does. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
