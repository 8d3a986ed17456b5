/**
 * The call's conversation as the model sees it: the system prompt, then every turn. What the agent
 * "said" is only what the caller actually heard: an interrupted reply is cut to the words that
 * played, followed by a marker so the model knows it was cut off.
 */
import type { ChatMessage, ToolCallRequest } from '../providers/types.ts';
import type { HeardSegment } from './playout-events.ts';

/** Appended to an interrupted reply in the history. */
export const INTERRUPTION_MARKER = '[interrupted by the caller]';

/** Most messages kept besides the system prompt (oldest dropped first; a call rarely gets near). */
const MAX_MESSAGES = 400;

/** History of one call. */
export class Conversation {
  #system: ChatMessage;
  readonly #messages: ChatMessage[] = [];

  constructor(instructions: string) {
    this.#system = { role: 'system', content: instructions };
  }

  /** Replaces the system prompt (the CRM's context arrived). */
  setInstructions(instructions: string): void {
    this.#system = { role: 'system', content: instructions };
  }

  /** A model step that called tools: what it said first (if anything) and the calls. */
  addToolCalls(text: string, calls: readonly ToolCallRequest[]): void {
    this.#push({ role: 'assistant', content: text.trim(), toolCalls: calls.map((c) => ({ ...c })) });
  }

  /** A tool's answer to the call `toolCallId`. */
  addToolResult(toolCallId: string, content: string): void {
    this.#push({ role: 'tool', toolCallId, content });
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
    return [this.#system, ...this.#messages.map((m) => ({ ...m }) as ChatMessage)];
  }

  #push(m: ChatMessage): void {
    this.#messages.push(m);
    if (this.#messages.length <= MAX_MESSAGES) return;
    this.#messages.splice(0, this.#messages.length - MAX_MESSAGES);
    // A tool answer whose call was dropped is refused by the API: the history starts after it.
    while (this.#messages[0]?.role === 'tool') this.#messages.shift();
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

/** What the caller heard of an interrupted reply. */
export interface HeardReply {
  text: string;
  chars: number;
  /** Audio of the cut sentence(s) that played, ms. */
  ms: number;
}

/**
 * The heard part of a reply: every sentence confirmed played, plus, for each sentence cut by the
 * interruption, the words that fit in the share of its audio that played.
 */
export function heardOfReply(
  replyId: number,
  sentence: (index: number) => string | undefined,
  played: ReadonlySet<number>,
  partial: readonly HeardSegment[],
): HeardReply {
  const cut = new Map(partial.filter((p) => p.meta.replyId === replyId).map((p) => [p.meta.index, p]));
  const parts: string[] = [];
  let ms = 0;
  for (const i of [...new Set([...played, ...cut.keys()])].sort((a, b) => a - b)) {
    const text = sentence(i) ?? '';
    const p = cut.get(i);
    if (!p) {
      parts.push(text);
      continue;
    }
    ms += p.heardBytes / 8;
    const part = heardPrefix(text, p.totalBytes > 0 ? p.heardBytes / p.totalBytes : 0);
    if (part) parts.push(part);
  }
  const text = parts.join(' ').trim();
  return { text, chars: text.length, ms: Math.round(ms) };
}
