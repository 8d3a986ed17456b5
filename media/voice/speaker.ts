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
import { StreamedSpeech } from './streamed-speech.ts';
import { errorEvent, type CallEvent, type EventOf } from './events.ts';
import type { Player } from './playout.ts';
import type { HeardSegment, PlayoutEvent } from './playout-events.ts';
import type { Scope } from './scope.ts';
import { SynthesisQueue } from './synthesis-queue.ts';
import type { ActiveReply } from './active-reply.ts';
import type { StreamingSynthesizer, Synthesizer } from '../providers/types.ts';

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
  /** Streaming synthesis for model answers (Chirp 3 HD voices, TTS_STREAMING); unary when absent. */
  streaming?: StreamingSynthesizer;
  /** The agent's voice (undefined: TTS_VOICE). */
  voice: string | undefined;
  /**
   * Text as the voice should read it (numbers, dates, abbreviations in words: shaping/). Only
   * synthesis sees it; what the caller heard is kept in the model's own words.
   */
  shape?: (text: string) => string;
  emit: (e: CallEvent) => void;
  now: () => number;
}

/** The agent's voice on the call. */
export class Speaker {
  readonly #d: SpeakerDeps;
  #current: ActiveReply | undefined;
  /** The voice's speaking rate as measured on this call's streamed replies (ms per character). */
  #msPerChar: number | undefined;

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
          this.#current.stream?.end();
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
        if (r.stream) {
          r.playedBytes += r.chunkBytes.get(p.meta.index) ?? 0;
          return;
        }
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
      chunkBytes: new Map(),
      playedBytes: 0,
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
        onError: (index, err) => this.#d.emit(errorEvent(this.#d.now(), err, { replyId: r.id, index })),
      }),
    };
    if (this.#d.streaming && e.kind === 'answer') r.stream = this.#streamed(r, this.#d.streaming);
    this.#current = r;
  }

  /** The streaming path of a reply: chunks go to the player as they arrive. */
  #streamed(r: ActiveReply, synthesizer: StreamingSynthesizer): StreamedSpeech {
    const now = this.#d.now;
    // Synthesis time counts from the first sentence written to the stream, not from the reply's start
    // (which would add the model's time to the first sentence).
    let startedAt = now();
    return new StreamedSpeech({
      synthesizer,
      voice: this.#d.voice,
      signal: r.scope.signal,
      onStart: () => {
        startedAt = now();
        r.firstTtsStarted = true;
        this.#d.emit({ type: 'milestone', t: now(), replyId: r.id, what: 'tts-start' });
      },
      onAudio: (index, audio) => {
        if (this.#current !== r) return;
        if (!r.firstTtsDone) {
          r.firstTtsDone = true;
          this.#d.emit({ type: 'milestone', t: now(), replyId: r.id, what: 'tts-done' });
        }
        r.chunkBytes.set(index, audio.length);
        this.#d.emit({
          type: 'sentence-audio',
          t: now(),
          replyId: r.id,
          index,
          audio,
          synthMs: now() - startedAt,
          waitedMs: 0,
          streamed: true,
        });
        this.#d.player.enqueue({ replyId: r.id, index, text: '' }, audio);
      },
      onError: (err) => this.#d.emit(errorEvent(now(), err, { replyId: r.id })),
    });
  }

  #onSentence(e: EventOf<'sentence-text'>): void {
    const r = this.#current;
    if (r?.id !== e.replyId || r.scope.aborted) return;
    r.sentences[e.index] = e.text;
    const spoken = this.#d.shape ? this.#d.shape(e.text) : e.text;
    if (r.stream) return r.stream.write(spoken);
    r.queue.push(e.index, spoken, e.fixed ? this.#d.cachedSynthesizer : this.#d.synthesizer, this.#d.voice);
  }

  /** Once text ended and every synthesis settled, all the reply's audio is in the player. */
  #whenQueued(r: ActiveReply): void {
    r.scope.run(async () => {
      await (r.stream ? r.stream.done() : r.queue.idle());
      if (this.#current !== r || r.scope.aborted) return;
      r.queued = true;
      const spoken = this.#delivered(r);
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
    const outcome = this.#delivered(r) === 0 ? 'failed' : 'played';
    const rate = r.stream?.msPerChar();
    if (rate) this.#msPerChar = rate;
    this.#emitEnded(r, outcome, said, heard);
  }

  /** Stops the reply now (barge-in, call ending); the caller heard what the marks say. */
  #stop(outcome: 'interrupted' | 'cancelled'): void {
    const r = this.#current!;
    this.#current = undefined;
    const wasPlaying = this.#d.player.playing || this.#d.player.paused;
    const partial = this.#d.player.interrupt();
    r.scope.abort();
    const heard = r.stream
      ? this.#streamHeard(r, partial)
      : heardOfReply(r.id, (i) => r.sentences[i], r.played, partial);
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

  /** Sentences (unary) or chunks (streamed) handed to the player. */
  #delivered(r: ActiveReply): number {
    return r.stream ? r.stream.chunks : r.queue.delivered;
  }

  /** What the caller heard of a streamed reply. */
  #streamHeard(r: ActiveReply, partial: readonly HeardSegment[]): { text: string; chars: number; ms: number } {
    const mine = partial.filter((p) => p.meta.replyId === r.id);
    return r.stream!.heard(
      this.#text(r, () => true),
      r.playedBytes,
      mine,
      r.queued,
      this.#msPerChar,
    );
  }

  #text(r: ActiveReply, keep: (i: number) => boolean): string {
    return r.sentences
      .map((s, i) => (s !== undefined && keep(i) ? s : ''))
      .filter(Boolean)
      .join(' ');
  }
}
