/**
 * The call's conversation as the model sees it: the system prompt, then every turn. What the agent
 * "said" is only what the caller actually heard: an interrupted reply is cut to the words that
 * played, followed by a marker so the model knows it was cut off.
 */
import type { ChatMessage } from './providers/types.ts';

/** Appended to an interrupted reply in the history. */
export const INTERRUPTION_MARKER = '[interrupted by the caller]';

/** Most messages kept besides the system prompt (oldest dropped first; a call rarely gets near). */
const MAX_MESSAGES = 400;

/** History of one call. */
export class Conversation {
  readonly #system: ChatMessage;
  readonly #messages: ChatMessage[] = [];

  constructor(instructions: string) {
    this.#system = { role: 'system', content: instructions };
  }

  addUser(text: string): void {
    this.#push({ role: 'user', content: text });
  }

  /** What the caller heard of a reply; `interrupted` appends the marker. Nothing heard → nothing added, unless interrupted. */
  addAssistant(heardText: string, interrupted = false): void {
    const text = heardText.trim();
    if (!interrupted && text === '') return;
    this.#push({ role: 'assistant', content: interrupted ? `${text}${text ? '… ' : ''}${INTERRUPTION_MARKER}` : text });
  }

  /** Messages for the next request, system prompt first. A fresh array. */
  messages(): ChatMessage[] {
    return [this.#system, ...this.#messages.map((m) => ({ ...m }))];
  }

  #push(m: ChatMessage): void {
    this.#messages.push(m);
    if (this.#messages.length > MAX_MESSAGES) this.#messages.splice(0, this.#messages.length - MAX_MESSAGES);
  }
}

/**
 * The words of `text` the caller heard when `fraction` (0..1) of its audio had played, assuming
 * speech is spread evenly over the characters: whole words only, never half a word.
 */
export function heardPrefix(text: string, fraction: number): string {
  if (fraction >= 1) return text.trim();
  if (fraction <= 0) return '';
  const limit = text.length * fraction;
  let end = 0;
  const word = /\S+/g;
  for (let m = word.exec(text); m; m = word.exec(text)) {
    const wordEnd = m.index + m[0].length;
    if (wordEnd > limit) break;
    end = wordEnd;
  }
  return text.slice(0, end).trim();
}
