/**
 * The call supervisor: the provider error policy and the end of the call. It never lets a caller
 * sit in silence or in a loop:
 *
 * - a **permanent** failure of any provider (credentials, a refused request such as an unknown
 *   model or voice, an exhausted quota, recognition lost for good) ends the call at once; once the
 *   voice has spoken on the call, a synthesis refused for one sentence's text only skips it;
 * - a **transient** model failure before any sentence gets the fallback line, and after
 *   MAX_FAILED_TURNS caller turns in a row without a model answer the call ends; a reply whose every
 *   sentence failed to synthesize counts as a failed turn too.
 *
 * Ending: the conversation scope is aborted (no turn can commit, no model request can start), the
 * current reply is cut, and the caller hears the Hebrew apology if speech synthesis works; then
 * the stream is closed. The decision is written where `<Connect action>` reads it, so when the
 * caller could not hear the apology Twilio says it with its own voice (and dials FALLBACK_NUMBER).
 *
 *   running ──permanent error | too many failed turns──► ending ──apology played | failed | 15 s──► ended
 *      └────────── caller hangs up / agent ends the call ─────────────────────────────────────────► ended
 */
import type { CallEndings, EndingDecision } from '../../server/call-endings.ts';
import type { CallEvent, EndReason, EventOf } from './events.ts';
import type { Scope } from './scope.ts';

/** Spoken when the model fails or stalls; the call goes on. */
export const FALLBACK_LINE = 'סליחה, לא הצלחתי לענות כרגע. תוכלו לחזור על השאלה?';
/** Spoken before hanging up when the call cannot go on. */
export const APOLOGY_LINE = 'מצטערים, יש לנו תקלה טכנית כרגע. אנא נסו להתקשר שוב מאוחר יותר. להתראות.';
/** Caller turns in a row without a model answer before the call ends. */
export const MAX_FAILED_TURNS = 3;
/** Longest an apology may take before the call is hung up anyway. */
export const APOLOGY_MAX_MS = 15_000;

/** What the supervisor needs. */
export interface SupervisorDeps {
  callSid: string;
  conversation: Scope;
  ending: Scope;
  emit: (e: CallEvent) => void;
  now: () => number;
  /** Says a fixed line (the responder's say()); returns the reply id. */
  say: (text: string, kind: 'fallback' | 'apology') => number;
  /** Closes the media socket; Twilio then requests `<Connect action>`. */
  hangup: (reason: EndReason) => void;
  endings: CallEndings;
}

/** Watches the call's errors and replies; ends the call when it cannot go on. */
export class Supervisor {
  readonly #d: SupervisorDeps;
  #failedTurns = 0;
  /** Replies whose model request failed before producing a sentence. */
  readonly #unanswered = new Set<number>();
  #ending: { reason: EndReason; apologyId?: number } | undefined;
  #ttsBroken = false;
  /** Endings the agent asked for (end_call, transfer_call), applied once their reply is over. */
  readonly #requested = new Map<number, EndingDecision>();
  /** Some speech was synthesized on this call: the voice and the credentials are fine. */
  #voiceWorks = false;
  #ended = false;

  constructor(deps: SupervisorDeps) {
    this.#d = deps;
  }

  /** True once the call is ending. */
  get ending(): boolean {
    return this.#ending !== undefined;
  }

  /** The one way in. */
  handle(e: CallEvent): void {
    switch (e.type) {
      case 'error':
        return this.#onError(e);
      case 'reply-ended':
        return this.#onReplyEnded(e);
      case 'sentence-audio':
        this.#voiceWorks = true;
        return;
      case 'end-requested':
        this.#requested.set(e.replyId, e.decision);
        return;
      default:
        return;
    }
  }

  /** The caller (or the socket) ended the call: nothing to say, nothing to decide. */
  callerGone(reason: EndReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#d.conversation.abort();
    this.#d.emit({ type: 'end', t: this.#d.now(), reason });
  }

  /** Ends the call: apology when speech works, then hang-up. Idempotent. */
  endCall(reason: EndReason, opts: { apology: boolean }): void {
    if (this.#ending || this.#ended) return;
    this.#ending = { reason };
    this.#d.conversation.abort();
    this.#d.emit({ type: 'interrupt', t: this.#d.now(), reason: 'call-ending' });
    if (!opts.apology || this.#ttsBroken) return void this.#hangup({ action: 'apology', heard: false });
    this.#d.ending.timeout(() => void this.#hangup({ action: 'apology', heard: false }), APOLOGY_MAX_MS);
    this.#ending.apologyId = this.#d.say(APOLOGY_LINE, 'apology');
  }

  #onError(e: EventOf<'error'>): void {
    // Once the voice has worked, a refused synthesis is about that sentence's text: it is skipped.
    if (e.provider === 'tts' && e.code === 'BAD_REQUEST' && this.#voiceWorks) return;
    if (e.provider === 'tts' && e.permanent) this.#ttsBroken = true;
    if (e.provider === 'llm' && !e.permanent && (e.sentences ?? 0) === 0 && e.replyId !== undefined) {
      this.#unanswered.add(e.replyId);
    }
    if (e.permanent) this.endCall('provider-failed', { apology: e.provider !== 'tts' });
  }

  #onReplyEnded(e: EventOf<'reply-ended'>): void {
    const ending = this.#ending;
    if (ending && e.replyId === ending.apologyId) {
      return void this.#hangup({ action: 'apology', heard: e.outcome === 'played' });
    }
    const requested = this.#requested.get(e.replyId);
    if (requested && !ending) {
      // The agent finished its last words (played, by marks; or the caller cut them): now hang up or transfer.
      this.#ending = { reason: requested.action === 'transfer' ? 'transfer' : 'agent-hangup' };
      this.#d.conversation.abort();
      return void this.#hangup(requested);
    }
    if (ending || e.kind !== 'answer') return;
    const unanswered = this.#unanswered.delete(e.replyId);
    if (e.outcome === 'interrupted' || e.outcome === 'cancelled') return;
    if (!unanswered && e.outcome === 'played') {
      this.#failedTurns = 0;
      return;
    }
    if (++this.#failedTurns >= MAX_FAILED_TURNS) return this.endCall('no-answer-from-model', { apology: true });
    if (unanswered) this.#d.say(FALLBACK_LINE, 'fallback');
  }

  async #hangup(decision: EndingDecision): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    const reason = this.#ending?.reason ?? 'agent-hangup';
    this.#d.ending.abort();
    // Written before the socket closes: Twilio asks `<Connect action>` right after.
    await this.#d.endings.put(this.#d.callSid, decision).catch(() => undefined);
    this.#d.emit({ type: 'end', t: this.#d.now(), reason });
    this.#d.hangup(reason);
  }
}
