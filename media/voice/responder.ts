/**
 * The responder: turns a committed caller turn into the agent's words. It keeps the conversation
 * (what the model sees: only what the caller actually heard of earlier replies), streams the
 * model's reply, cuts it into sentences as they complete, and says fixed lines (greeting,
 * fallback, apology). Each reply runs in its own scope: an interrupt aborts the model request.
 *
 *   turn-committed ─► reply-started ─► milestone(llm-request, first-token) ─► sentence-text* ─► text-ended
 *                                       └─ error (model failure; the supervisor decides what follows)
 */
import type { Conversation } from './conversation.ts';
import type { CallEvent, EventOf, ReplyKind } from './events.ts';
import type { Scope } from './scope.ts';
import { SentenceSplitter } from './sentence-splitter.ts';
import { ProviderError, type ReplyGenerator } from '../providers/types.ts';

/** What the responder needs. */
export interface ResponderDeps {
  conversation: Scope;
  ending: Scope;
  generator: ReplyGenerator;
  history: Conversation;
  emit: (e: CallEvent) => void;
  now: () => number;
}

/** Speech worth sending to TTS: anything with a letter or a digit (punctuation-only lines are not spoken). */
const SPEAKABLE = /[\p{L}\p{N}]/u;

/** Starts the agent's replies. */
export class Responder {
  readonly #d: ResponderDeps;
  readonly #replies = new Map<number, Scope>();
  #replySeq = 0;

  constructor(deps: ResponderDeps) {
    this.#d = deps;
  }

  /** The one way in. */
  handle(e: CallEvent): void {
    switch (e.type) {
      case 'turn-committed':
        return this.#answer(e);
      case 'interrupt':
        for (const [id, scope] of this.#replies) if (e.replyId === undefined || e.replyId === id) scope.abort();
        return;
      case 'reply-ended':
        this.#replies.get(e.replyId)?.abort();
        this.#replies.delete(e.replyId);
        return this.#remember(e);
      default:
        return;
    }
  }

  /** Says a fixed line as one reply; the apology runs in the ending scope, everything else in the conversation. */
  say(text: string, kind: ReplyKind): number {
    const scope = kind === 'apology' ? this.#d.ending : this.#d.conversation;
    const id = ++this.#replySeq;
    if (scope.aborted) return id;
    const t = this.#d.now();
    this.#d.emit({ type: 'reply-started', t, replyId: id, kind });
    const line = text.trim();
    const speakable = SPEAKABLE.test(line);
    if (speakable) this.#d.emit({ type: 'sentence-text', t, replyId: id, index: 0, text: line, fixed: true });
    this.#d.emit({ type: 'text-ended', t, replyId: id, sentences: speakable ? 1 : 0 });
    return id;
  }

  /** What the caller heard goes into the history (never the apology: the call is over then). */
  #remember(e: EventOf<'reply-ended'>): void {
    if (e.kind === 'apology' || e.outcome === 'cancelled') return;
    if (e.outcome === 'interrupted') this.#d.history.addAssistant(e.heardText, true);
    else this.#d.history.addAssistant(e.heardText);
  }

  #answer(turn: EventOf<'turn-committed'>): void {
    if (this.#d.conversation.aborted) return;
    this.#d.history.addUser(turn.text);
    const id = ++this.#replySeq;
    const scope = this.#d.conversation.child();
    this.#replies.set(id, scope);
    this.#d.emit({ type: 'reply-started', t: this.#d.now(), replyId: id, kind: 'answer', turn: turn.index });
    scope.run((signal) => this.#stream(id, signal));
  }

  async #stream(replyId: number, signal: AbortSignal): Promise<void> {
    const { emit, now } = this.#d;
    const splitter = new SentenceSplitter();
    let sentences = 0;
    let firstToken = true;
    const sentence = (text: string): void => {
      if (signal.aborted || !SPEAKABLE.test(text)) return;
      emit({ type: 'sentence-text', t: now(), replyId, index: sentences++, text });
    };
    try {
      const events = this.#d.generator.generate(this.#d.history.messages(), signal, {
        onRequestSent: () => emit({ type: 'milestone', t: now(), replyId, what: 'llm-request' }),
      });
      for await (const ev of events) {
        if (signal.aborted) break;
        if (ev.type === 'usage') {
          emit({ type: 'usage', t: now(), replyId, inputTokens: ev.inputTokens, outputTokens: ev.outputTokens });
        } else if (ev.type === 'text' && ev.text) {
          if (firstToken) emit({ type: 'milestone', t: now(), replyId, what: 'first-token' });
          firstToken = false;
          for (const s of splitter.push(ev.text)) sentence(s);
        }
      }
      if (!signal.aborted) for (const s of splitter.flush()) sentence(s);
    } catch (err) {
      const e = err instanceof ProviderError ? err : new ProviderError('llm', 'UNKNOWN', String(err), { cause: err });
      // Whatever complete sentences came before the failure still get spoken.
      if (!signal.aborted && e.code !== 'ABORTED') {
        const { code, retryable, permanent, message } = e;
        emit({ type: 'error', t: now(), provider: 'llm', code, retryable, permanent, message, replyId, sentences });
      }
    } finally {
      if (!signal.aborted) emit({ type: 'text-ended', t: now(), replyId, sentences });
    }
  }
}
