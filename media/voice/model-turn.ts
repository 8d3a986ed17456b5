/**
 * One answer from the model, tool calls included: stream a step, speak its sentences as they
 * complete, run the tools it asked for (saying a filler if the caller would otherwise wait in
 * silence), give the results back, and let the model go on, for at most `maxToolRounds` rounds;
 * the last round offers no tools, so the model has to answer in words.
 *
 *   step ─text─► sentences ─► (tool calls? ─► run them (+ filler after FILLER_AFTER_MS) ─► results ─► step …)
 */
import type { Conversation } from './conversation.ts';
import type { CallEvent } from './events.ts';
import type { Scope } from './scope.ts';
import { SentenceSplitter } from './sentence-splitter.ts';
import type { ToolOutcome, ToolRunner } from './tools.ts';
import type { ReplyGenerator, ToolCallRequest } from '../providers/types.ts';

/** Speech worth sending to TTS: anything with a letter or a digit (punctuation-only lines are not spoken). */
export const SPEAKABLE = /[\p{L}\p{N}]/u;

/** What one model turn needs. */
export interface ModelTurnDeps {
  replyId: number;
  scope: Scope;
  generator: ReplyGenerator;
  history: Conversation;
  tools: ToolRunner | undefined;
  maxToolRounds: number;
  fillerAfterMs: number;
  /** The next filler line (rotating), or undefined when the agent has none. */
  nextFiller: () => string | undefined;
  emit: (e: CallEvent) => void;
  now: () => number;
}

/** Runs the model turn; resolves when its text is complete. Errors become `error` events. */
export class ModelTurn {
  readonly #d: ModelTurnDeps;
  readonly #splitter = new SentenceSplitter();
  #sentences = 0;
  #firstToken = true;
  #ending = false;

  constructor(deps: ModelTurnDeps) {
    this.#d = deps;
  }

  /** Sentences produced so far (fillers included). */
  get sentences(): number {
    return this.#sentences;
  }

  /** Streams step after step until the model answers without tools. Throws the model's ProviderError. */
  async run(): Promise<void> {
    const { scope, tools, maxToolRounds } = this.#d;
    for (let round = 0; !scope.aborted; round++) {
      const offer = tools && round < maxToolRounds && !this.#ending ? tools.specs : undefined;
      const { text, calls } = await this.#step(offer);
      if (scope.aborted || calls.length === 0 || !tools) return;
      this.#d.history.addToolCalls(text, calls);
      const results = await this.#runTools(tools, calls);
      for (const [i, call] of calls.entries()) this.#d.history.addToolResult(call.id, results[i]!.content);
      if (scope.aborted) return;
      // Said goodbye already and asked to hang up: nothing more to ask the model.
      if (this.#ending && text.trim()) return;
    }
  }

  /** One streamed request: text goes out sentence by sentence; tool calls are collected. */
  async #step(tools: ToolRunner['specs'] | undefined): Promise<{ text: string; calls: ToolCallRequest[] }> {
    const { replyId, scope, emit, now } = this.#d;
    const calls: ToolCallRequest[] = [];
    let text = '';
    const events = this.#d.generator.generate(this.#d.history.messages(), scope.signal, {
      ...(tools?.length ? { tools } : {}),
      onRequestSent: () => emit({ type: 'milestone', t: now(), replyId, what: 'llm-request' }),
    });
    for await (const ev of events) {
      if (scope.aborted) break;
      if (ev.type === 'usage')
        emit({ type: 'usage', t: now(), replyId, inputTokens: ev.inputTokens, outputTokens: ev.outputTokens });
      else if (ev.type === 'tool-call') calls.push(ev.call);
      else if (ev.text) {
        if (this.#firstToken) emit({ type: 'milestone', t: now(), replyId, what: 'first-token' });
        this.#firstToken = false;
        text += ev.text;
        for (const s of this.#splitter.push(ev.text)) this.#sentence(s);
      }
    }
    if (!scope.aborted) for (const s of this.#splitter.flush()) this.#sentence(s);
    return { text, calls };
  }

  #sentence(text: string, fixed = false): void {
    if (this.#d.scope.aborted || !SPEAKABLE.test(text)) return;
    const { replyId, emit, now } = this.#d;
    emit({ type: 'sentence-text', t: now(), replyId, index: this.#sentences++, text, ...(fixed ? { fixed } : {}) });
  }

  async #runTools(tools: ToolRunner, calls: readonly ToolCallRequest[]): Promise<ToolOutcome[]> {
    const { replyId, scope, emit, now } = this.#d;
    // The caller has heard nothing of this turn yet: after a moment, tell them we are on it.
    const cancelFiller =
      this.#sentences === 0
        ? scope.timeout(() => {
            const line = this.#d.nextFiller();
            if (line && this.#sentences === 0) this.#sentence(line, true);
          }, this.#d.fillerAfterMs)
        : undefined;
    const results = await Promise.all(
      calls.map(async (call) => {
        emit({ type: 'tool-call', t: now(), replyId, call });
        const r = await tools.run(call, scope.signal);
        const { outcome, ms, content } = r;
        emit({
          type: 'tool-result',
          t: now(),
          replyId,
          callId: call.id,
          name: call.name,
          outcome,
          ms,
          content,
          ...(r.status === undefined ? {} : { status: r.status }),
        });
        if (r.ending && !scope.aborted) {
          this.#ending = true;
          emit({ type: 'end-requested', t: now(), replyId, decision: r.ending });
        }
        return r;
      }),
    );
    cancelFiller?.();
    return results;
  }
}
