/**
 * Turn-taking: decides when the caller's turn is over, when the agent must yield, and when the
 * caller's words were only an acknowledgement. A pure state machine over call events: speech
 * activity and transcripts in; `turn-committed`, `turn-dropped`, `interrupt`, `pause`, `resume` and
 * `backchannel` out. Its timers live in the conversation scope, so ending the call cancels them.
 *
 *   idle ──speech or text──► open ──(final + FAST_COMMIT silence | EOU + final | grace + interim)──► committed
 *                             │      (text ending in digits waits EOU_DIGITS_MS of silence instead)
 *                             └──(EOU, grace, no text)──► dropped
 *
 *   agent speaking ──sustained speech──► paused (clear) ──(only acknowledgement words, caller quiet)──► resumed
 *                                          └──(other words, long speech, timeout while talking)──► interrupt
 *
 * A final while the agent speaks counts only when the caller's audio around it had sustained
 * speech (BARGE_IN_MIN_MS): recognizers turn background noise into finals too.
 */
import { endsWithNumber, isBackchannel } from './caller-words.ts';
import type { CallEvent, EventOf, InterruptReason } from './events.ts';
import { DtmfCollector } from './dtmf-collector.ts';
import type { TurnTakerDeps, TurnTakerOptions } from './turn-taker-options.ts';

export type { TurnTakerDeps, TurnTakerOptions } from './turn-taker-options.ts';
import type { AgentReply, OpenTurn } from './turn-state.ts';

/** The caller's side of the conversation. */
export class TurnTaker {
  readonly #o: TurnTakerOptions;
  readonly #d: TurnTakerDeps;
  #agent: AgentReply | undefined;
  #open: OpenTurn | undefined;
  #hold: { replyId: number; onset: number; text: string; cancel: () => void } | undefined;
  #silenceMs = 0;
  #speaking = false;
  #lastSpeech = 0;
  #dropLateFinal = false;
  /** Transcripts of an acknowledgement utterance still trickling in after the agent resumed. */
  #swallow = false;
  #index = 0;
  #queued: string | undefined;
  readonly #keypad: DtmfCollector;

  constructor(opts: TurnTakerOptions, deps: TurnTakerDeps) {
    this.#o = opts;
    this.#d = deps;
    this.#keypad = new DtmfCollector(deps.scope, opts.dtmfTimeoutMs, (text) =>
      this.#commit(text, 'dtmf', this.#d.now()),
    );
  }

  /** The one way in. */
  handle(e: CallEvent): void {
    if (this.#d.scope.aborted) return;
    switch (e.type) {
      case 'caller-audio':
        this.#speaking = e.speech || (this.#speaking && this.#silenceMs + e.ms <= 120);
        this.#silenceMs = e.speech ? 0 : this.#silenceMs + e.ms;
        if (e.speech) this.#lastSpeech = e.t;
        this.#check();
        return;
      case 'speech-started':
        this.#swallow = false;
        this.#dropLateFinal = false;
        this.#openTurn().eouReached = false;
        return;
      case 'speech-sustained':
        return this.#onSustained(e);
      case 'speech-ended':
        if (this.#open) this.#open.eouReached = true;
        return this.#check();
      case 'transcript':
        return this.#onTranscript(e);
      case 'dtmf':
        return this.#onDtmf(e.digit);
      case 'reply-started':
        this.#agent = { replyId: e.replyId, kind: e.kind, audible: false, interrupted: false, turn: e.turn };
        return;
      case 'playout':
        if (e.what === 'first-media' && this.#agent?.replyId === e.replyId) this.#agent.audible = true;
        return;
      case 'reply-ended':
        return this.#onReplyEnded(e.replyId);
      case 'interrupt':
        if (this.#agent && (e.replyId === undefined || e.replyId === this.#agent.replyId))
          this.#agent.interrupted = true;
        this.#clearHold();
        return;
      default:
        return;
    }
  }

  // ------------------------------------------------------------------ the agent yields

  #interruptible(): AgentReply | undefined {
    const a = this.#agent;
    return a && !a.interrupted && a.kind !== 'apology' && this.#o.bargeIn ? a : undefined;
  }

  #onSustained(e: EventOf<'speech-sustained'>): void {
    this.#openTurn().sustained = true;
    const a = this.#interruptible();
    if (!a || this.#hold) return;
    // Holding only makes sense for audio the caller hears; a reply still being prepared is cancelled.
    if (!a.audible || !this.#o.backchannelWords) return this.#interrupt('barge-in', e.onset);
    const cancel = this.#d.scope.timeout(() => this.#onHoldTimeout(), this.#o.backchannelHoldMs);
    this.#hold = { replyId: a.replyId, onset: e.onset, text: '', cancel };
    this.#d.emit({ type: 'pause', t: this.#d.now(), replyId: a.replyId, onset: e.onset });
  }

  #onHoldTimeout(): void {
    const h = this.#hold;
    if (!h) return;
    // Still talking with nothing (or more than a nod) recognised: a real interruption with a slow recognizer.
    if (this.#speaking || (h.text && !this.#isAck(h.text))) return this.#interrupt('barge-in', h.onset);
    this.#resume(h.text);
  }

  #isAck(text: string): boolean {
    return !!this.#o.backchannelWords && isBackchannel(text, this.#o.backchannelWords);
  }

  #resume(text: string): void {
    const h = this.#hold;
    if (!h) return;
    this.#clearHold();
    this.#discardOpenTurn();
    this.#swallow = true;
    const t = this.#d.now();
    if (text) this.#d.emit({ type: 'backchannel', t, text, replyId: h.replyId });
    this.#d.emit({ type: 'resume', t, replyId: h.replyId, repeatMs: 0 });
  }

  #interrupt(reason: InterruptReason, onset?: number): void {
    const a = this.#agent;
    this.#clearHold();
    if (!a || a.interrupted) return;
    a.interrupted = true;
    this.#d.emit({
      type: 'interrupt',
      t: this.#d.now(),
      reason,
      replyId: a.replyId,
      ...(onset === undefined ? {} : { onset }),
    });
  }

  #clearHold(): void {
    this.#hold?.cancel();
    this.#hold = undefined;
  }

  #onReplyEnded(replyId: number): void {
    if (this.#agent?.replyId !== replyId) return;
    this.#agent = undefined;
    if (this.#hold?.replyId === replyId) this.#clearHold();
    // Without barge-in the caller's words waited for the agent to finish.
    const queued = this.#queued;
    this.#queued = undefined;
    if (queued) this.#commit(queued, 'speech', this.#d.now());
  }

  // ------------------------------------------------------------------ the caller's turn

  #openTurn(): OpenTurn {
    this.#open ??= {
      finals: [],
      interim: '',
      eouReached: false,
      sustained: false,
      scope: this.#d.scope.child(),
      graceArmed: false,
    };
    return this.#open;
  }

  #discardOpenTurn(): void {
    this.#open?.scope.abort();
    this.#open = undefined;
  }

  #onTranscript(e: EventOf<'transcript'>): void {
    const text = e.text.trim();
    if (this.#swallow || !text) return;
    if (this.#hold) {
      this.#hold.text = text;
      if (!this.#isAck(text)) this.#interrupt('barge-in', this.#hold.onset);
      else if (e.final && !this.#speaking) return this.#resume(text);
      if (this.#hold) return; // still an acknowledgement: wait for the caller to stop
    }
    if (!e.final) {
      if (this.#open) this.#open.interim = text;
      return;
    }
    if (e.confidence > 0 && e.confidence < this.#o.minConfidence) {
      this.#d.emit({ type: 'turn-dropped', t: this.#d.now(), reason: 'low-confidence', text });
      return;
    }
    if (this.#dropLateFinal && !this.#open) {
      this.#d.emit({ type: 'turn-dropped', t: this.#d.now(), reason: 'late-final', text });
      return;
    }
    const turn = this.#openTurn();
    if (this.#agent && !this.#agent.interrupted && !turn.sustained) {
      // Words without speech in the audio while the agent talks: the recognizer heard noise.
      this.#discardOpenTurn();
      this.#d.emit({ type: 'turn-dropped', t: this.#d.now(), reason: 'final-without-speech', text });
      return;
    }
    turn.finals.push(text);
    turn.finalAt = e.t;
    this.#check();
  }

  /** Answers once the caller is done: a final and a short silence, or EOU_MS of silence. */
  #check(): void {
    const hold = this.#hold;
    if (
      hold &&
      hold.text &&
      this.#isAck(hold.text) &&
      !this.#speaking &&
      this.#silenceMs >= this.#o.fastCommitSilenceMs
    ) {
      return this.#resume(hold.text);
    }
    const t = this.#open;
    if (!t || hold) return;
    if (t.finals.length > 0) {
      const text = t.finals.join(' ');
      const digits = endsWithNumber(text);
      const need = digits ? this.#o.eouDigitsMs : Math.min(this.#o.fastCommitSilenceMs, this.#o.eouMs);
      const quiet = !this.#speaking && this.#silenceMs >= need;
      if (quiet || (t.eouReached && !digits)) this.#commitOpen(text, 'speech');
      return;
    }
    if (t.eouReached && !t.graceArmed) {
      // The caller stopped but the recognizer has not settled: give it a moment, then take its
      // interim text, or drop the turn (it was noise).
      t.graceArmed = true;
      t.scope.timeout(() => this.#onGrace(t), this.#o.finalGraceMs);
    }
  }

  #onGrace(t: OpenTurn): void {
    if (this.#open !== t) return;
    if (t.finals.length > 0) return this.#commitOpen(t.finals.join(' '), 'speech');
    if (t.interim) {
      this.#dropLateFinal = true;
      return this.#commitOpen(t.interim, 'interim');
    }
    this.#discardOpenTurn();
    this.#d.emit({ type: 'turn-dropped', t: this.#d.now(), reason: 'no-speech-recognized' });
  }

  #commitOpen(text: string, source: 'speech' | 'interim'): void {
    const t = this.#open!;
    this.#discardOpenTurn();
    const speechEnd = this.#lastSpeech || t.finalAt || this.#d.now();
    if (this.#agent && !this.#agent.interrupted && this.#agent.kind !== 'apology') {
      if (!this.#o.bargeIn) {
        this.#queued = this.#queued ? `${this.#queued} ${text}` : text;
        return;
      }
      this.#interrupt('caller-turn');
    }
    this.#commit(text, source, speechEnd, t.finalAt);
  }

  #commit(text: string, source: 'speech' | 'interim' | 'dtmf', speechEnd: number, finalAt?: number): void {
    this.#d.emit({
      type: 'turn-committed',
      t: this.#d.now(),
      index: ++this.#index,
      text,
      source,
      speechEnd,
      ...(finalAt === undefined ? {} : { finalAt }),
    });
  }

  // ------------------------------------------------------------------ the keypad

  #onDtmf(digit: string): void {
    if (this.#interruptible()) this.#interrupt('dtmf');
    this.#keypad.key(digit);
  }
}
