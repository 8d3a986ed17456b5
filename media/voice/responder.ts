/**
 * The responder: turns a committed caller turn into the agent's words. It keeps the conversation
 * (what the model sees: only what the caller actually heard of earlier replies), runs the model
 * turn (model-turn.ts: streamed text, tool calls, fillers) and says fixed lines (greeting,
 * fallback, apology). Each reply runs in its own scope: an interrupt aborts its model request and
 * any tool request in flight.
 *
 *   turn-committed ─► reply-started ─► sentence-text* (+ tool-call/result, usage) ─► text-ended
 *                                       └─ error (model failure; the supervisor decides what follows)
 */
import type { Conversation } from './conversation.ts';
import { errorEvent, type CallEvent, type EventOf, type ReplyKind } from './events.ts';
import { ModelTurn, SPEAKABLE } from './model-turn.ts';
import type { Scope } from './scope.ts';
import type { ToolRunner } from './tools.ts';
import { ProviderError, type ReplyGenerator } from '../providers/types.ts';

/** What the responder needs. */
export interface ResponderDeps {
  conversation: Scope;
  ending: Scope;
  generator: ReplyGenerator;
  history: Conversation;
  tools?: ToolRunner;
  maxToolRounds?: number;
  fillers?: readonly string[];
  fillerAfterMs?: number;
  emit: (e: CallEvent) => void;
  now: () => number;
}

/** Starts the agent's replies. */
export class Responder {
  readonly #d: ResponderDeps;
  readonly #replies = new Map<number, Scope>();
  #replySeq = 0;
  #fillerSeq = 0;

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
    const replyId = ++this.#replySeq;
    const scope = this.#d.conversation.child();
    this.#replies.set(replyId, scope);
    this.#d.emit({ type: 'reply-started', t: this.#d.now(), replyId, kind: 'answer', turn: turn.index });
    const model = new ModelTurn({
      replyId,
      scope,
      generator: this.#d.generator,
      history: this.#d.history,
      tools: this.#d.tools,
      maxToolRounds: this.#d.maxToolRounds ?? 3,
      fillerAfterMs: this.#d.fillerAfterMs ?? 1000,
      nextFiller: () => this.#nextFiller(),
      emit: this.#d.emit,
      now: this.#d.now,
    });
    scope.run(() => this.#run(replyId, scope, model));
  }

  async #run(replyId: number, scope: Scope, model: ModelTurn): Promise<void> {
    const { emit, now } = this.#d;
    try {
      await model.run();
    } catch (err) {
      const e = err instanceof ProviderError ? err : new ProviderError('llm', 'UNKNOWN', String(err), { cause: err });
      // Whatever complete sentences came before the failure still get spoken.
      if (!scope.aborted && e.code !== 'ABORTED') emit(errorEvent(now(), e, { replyId, sentences: model.sentences }));
    } finally {
      if (!scope.aborted) emit({ type: 'text-ended', t: now(), replyId, sentences: model.sentences });
    }
  }

  /** Fillers rotate, so the caller never hears the same one twice in a row. */
  #nextFiller(): string | undefined {
    const list = this.#d.fillers ?? [];
    return list.length ? list[this.#fillerSeq++ % list.length] : undefined;
  }
}
