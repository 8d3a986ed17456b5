/**
 * The speaker: the agent's current reply from text to the caller's ear. Sentences are synthesized
 * (synthesis-queue.ts) and queued in the player in order; the player's marks tell what was played;
 * an interrupt stops it at once and reports what the caller heard; a pause clears Twilio's buffer
 * but keeps the rest, and a resume goes on from where the caller stopped hearing.
 *
 *   reply-started ─► sentence-text* ─► text-ended          (in, from the responder)
 *        │  sentence-audio*, playout*, reply-queued          (out, as audio is made and played)
 *        └─► reply-ended { played | interrupted | failed | cancelled, saidText, heardText }
 */
import { heardOfReply } from './conversation.ts';
import type { CallEvent, EventOf, ReplyKind } from './events.ts';
import type { Player, PlayoutEvent } from './playout.ts';
import type { Scope } from './scope.ts';
import { SynthesisQueue } from './synthesis-queue.ts';
import type { Synthesizer } from '../providers/types.ts';

/** What the speaker needs. */
export interface SpeakerDeps {
  /** Replies of the conversation run in its children. */
  conversation: Scope;
  /** The apology runs here: it must survive the end of the conversation. */
  ending: Scope;
  player: Player;
  /** For model text. */
  synthesizer: Synthesizer;
  /** For fixed lines (greeting, fillers, fallback, apology): cached per voice and text. */
  cachedSynthesizer: Synthesizer;
  /** The agent's voice (undefined: TTS_VOICE). */
  voice: string | undefined;
  emit: (e: CallEvent) => void;
  now: () => number;
}

interface ActiveReply {
  id: number;
  kind: ReplyKind;
  turn?: number;
  scope: Scope;
  queue: SynthesisQueue;
  sentences: string[];
  played: Set<number>;
  textEnded: boolean;
  /** All audio is queued in the player (text ended, every synthesis settled). */
  queued: boolean;
  firstTtsStarted: boolean;
  firstTtsDone: boolean;
}

/** The agent's voice on the call. */
export class Speaker {
  readonly #d: SpeakerDeps;
  #current: ActiveReply | undefined;

  constructor(deps: SpeakerDeps) {
    this.#d = deps;
  }

  /** The one way in (call events). */
  handle(e: CallEvent): void {
    switch (e.type) {
      case 'reply-started':
        return this.#start(e);
      case 'sentence-text':
        return this.#onSentence(e);
      case 'text-ended':
        if (this.#current?.id === e.replyId) {
          this.#current.textEnded = true;
          this.#whenQueued(this.#current);
        }
        return;
      case 'interrupt':
        if (this.#current && (e.replyId === undefined || e.replyId === this.#current.id)) this.#stop('interrupted');
        return;
      case 'pause':
        if (this.#current?.id === e.replyId) this.#d.player.pause();
        return;
      case 'resume':
        if (this.#current?.id === e.replyId) this.#d.player.resume(e.repeatMs);
        return;
      case 'end':
        if (this.#current) this.#stop('cancelled');
        this.#d.player.close();
        return;
      default:
        return;
    }
  }

  /** The player's events (one way in from the socket side). */
  onPlayout = (p: PlayoutEvent): void => {
    const r = this.#current;
    const t = this.#d.now();
    switch (p.type) {
      case 'first-media':
      case 'first-mark':
        if (r?.id === p.replyId) this.#d.emit({ type: 'playout', t, replyId: p.replyId, what: p.type });
        return;
      case 'segment-sent':
        this.#d.emit({
          type: 'playout',
          t,
          replyId: p.meta.replyId,
          what: 'sentence-sent',
          index: p.meta.index,
          messages: p.messages,
          bytes: p.bytes,
        });
        return;
      case 'segment-played':
        if (r?.id !== p.meta.replyId) return;
        r.played.add(p.meta.index);
        this.#d.emit({ type: 'playout', t, replyId: r.id, what: 'sentence-played', index: p.meta.index });
        return;
      case 'drained':
        if (r?.queued) this.#finish(r);
        return;
    }
  };

  #start(e: EventOf<'reply-started'>): void {
    if (this.#current) this.#stop('cancelled'); // a reply never talks over another
    const scope = (e.kind === 'apology' ? this.#d.ending : this.#d.conversation).child();
    const r: ActiveReply = {
      id: e.replyId,
      kind: e.kind,
      ...(e.turn === undefined ? {} : { turn: e.turn }),
      scope,
      sentences: [],
      played: new Set(),
      textEnded: false,
      queued: false,
      firstTtsStarted: false,
      firstTtsDone: false,
      queue: new SynthesisQueue({
        signal: scope.signal,
        now: this.#d.now,
        onStart: () => {
          if (r.firstTtsStarted) return;
          r.firstTtsStarted = true;
          this.#d.emit({ type: 'milestone', t: this.#d.now(), replyId: r.id, what: 'tts-start' });
        },
        onAudio: (a) => {
          if (this.#current !== r) return;
          if (!r.firstTtsDone) {
            r.firstTtsDone = true;
            this.#d.emit({ type: 'milestone', t: this.#d.now(), replyId: r.id, what: 'tts-done' });
          }
          this.#d.emit({ type: 'sentence-audio', t: this.#d.now(), replyId: r.id, ...a });
          this.#d.player.enqueue({ replyId: r.id, index: a.index, text: r.sentences[a.index] ?? '' }, a.audio);
        },
        onError: (index, err) =>
          this.#d.emit({
            type: 'error',
            t: this.#d.now(),
            provider: 'tts',
            code: err.code,
            retryable: err.retryable,
            permanent: err.permanent,
            message: err.message,
            replyId: r.id,
            index,
          }),
      }),
    };
    this.#current = r;
  }

  #onSentence(e: EventOf<'sentence-text'>): void {
    const r = this.#current;
    if (r?.id !== e.replyId || r.scope.aborted) return;
    r.sentences[e.index] = e.text;
    r.queue.push(e.index, e.text, e.fixed ? this.#d.cachedSynthesizer : this.#d.synthesizer, this.#d.voice);
  }

  /** Once text ended and every synthesis settled, all the reply's audio is in the player. */
  #whenQueued(r: ActiveReply): void {
    r.scope.run(async () => {
      await r.queue.idle();
      if (this.#current !== r || r.scope.aborted) return;
      r.queued = true;
      const spoken = r.queue.delivered;
      this.#d.emit({ type: 'reply-queued', t: this.#d.now(), replyId: r.id, sentences: r.sentences.length, spoken });
      if (spoken === 0 || !this.#d.player.playing) this.#finish(r);
    });
  }

  /** Everything of the reply has played (or nothing could be synthesized). */
  #finish(r: ActiveReply): void {
    if (this.#current !== r) return;
    this.#current = undefined;
    r.scope.abort();
    const said = this.#text(r, (i) => r.sentences[i] !== undefined);
    const heard = this.#text(r, (i) => r.played.has(i));
    const outcome = r.queue.delivered === 0 ? 'failed' : 'played';
    this.#emitEnded(r, outcome, said, heard);
  }

  /** Stops the reply now (barge-in, call ending); the caller heard what the marks say. */
  #stop(outcome: 'interrupted' | 'cancelled'): void {
    const r = this.#current!;
    this.#current = undefined;
    const wasPlaying = this.#d.player.playing || this.#d.player.paused;
    const partial = this.#d.player.interrupt();
    r.scope.abort();
    const heard = heardOfReply(r.id, (i) => r.sentences[i], r.played, partial);
    const said = this.#text(r, (i) => r.sentences[i] !== undefined);
    // A reply the caller never heard a word of was cancelled, not interrupted.
    this.#emitEnded(r, wasPlaying || heard.chars > 0 ? outcome : 'cancelled', said, heard.text, heard.ms);
  }

  #emitEnded(
    r: ActiveReply,
    outcome: EventOf<'reply-ended'>['outcome'],
    saidText: string,
    heardText: string,
    heardMs?: number,
  ): void {
    this.#d.emit({
      type: 'reply-ended',
      t: this.#d.now(),
      replyId: r.id,
      kind: r.kind,
      outcome,
      saidText,
      heardText,
      ...(heardMs === undefined ? {} : { heardMs }),
      ...(r.turn === undefined ? {} : { turn: r.turn }),
    });
  }

  #text(r: ActiveReply, keep: (i: number) => boolean): string {
    return r.sentences
      .map((s, i) => (s !== undefined && keep(i) ? s : ''))
      .filter(Boolean)
      .join(' ');
  }
}
