/**
 * One call's voice agent: greets, listens, understands, answers, and yields the floor when the
 * caller interrupts. It wires the stages together and owns the call's lifecycle; each stage does
 * its own job (TurnDetector: speech/silence, RecognizerSession: words, Reply: text → audio,
 * Player: audio → Twilio and what was heard).
 *
 *            ┌──────────── barge-in (speech ≥ BARGE_IN_MIN_MS while the agent talks) ───────┐
 *            ▼                                                                              │
 *   greeting ──► listening ──(STT final + silence, or EOU_MS silence)──► replying ──(played)──┘──► listening
 *
 * Fatal provider failures (credentials, recognition gone) end the call cleanly: a Hebrew apology
 * if speech synthesis works, then hang-up. Everything a call holds is released by close().
 */
import type { CallContext, CallHandler, InboundAudio } from '../twilio/call-handler.ts';
import type { VoiceConfig } from '../../config/config.ts';
import type { Logger } from '../../server/logger.ts';
import { TurnDetector, type TurnEvent } from './turn-detector.ts';
import { Player, type PlayoutEvent } from './playout.ts';
import { Reply, type ReplyResult, type ReplySource } from './reply.ts';
import { Conversation, heardOfReply } from './conversation.ts';
import { gatewayOverhead, turnComponents, turnLogFields } from './turn-metrics.ts';
import { rmsMulaw } from '../audio/level.ts';
import type { Metrics } from '../../server/metrics.ts';
import type {
  ProviderError,
  RecognizerEvent,
  RecognizerSession,
  ReplyGenerator,
  SpeechRecognizer,
  Synthesizer,
} from '../providers/types.ts';

/** Spoken when the model fails or stalls; the call goes on. */
export const FALLBACK_LINE = 'סליחה, לא הצלחתי לענות כרגע. תוכלו לחזור על השאלה?';
/** Spoken before hanging up when the call cannot go on (credentials, recognition lost). */
export const APOLOGY_LINE = 'מצטערים, יש לנו תקלה טכנית כרגע. אנא נסו להתקשר שוב מאוחר יותר. להתראות.';

/** After an STT final, this much silence is enough to answer without waiting for EOU_MS. */
const FAST_COMMIT_SILENCE_MS = 250;
/** After EOU_MS silence with no final yet, how long to wait for the recognizer before using the interim. */
const FINAL_GRACE_MS = 1200;
/** Longest an apology may take before the call is hung up anyway. */
const APOLOGY_MAX_MS = 15_000;

/** The providers and settings a call uses. */
export interface VoiceServices {
  voice: VoiceConfig;
  recognizer: SpeechRecognizer;
  generator: ReplyGenerator;
  /** For model replies (unique text). */
  synthesizer: Synthesizer;
  /** For fixed lines (greeting, fallback, apology): cached per voice and text. */
  cachedSynthesizer: Synthesizer;
  metrics?: Metrics;
}

type ReplyKind = 'greeting' | 'answer' | 'fallback' | 'apology';

interface ActiveReply {
  reply: Reply;
  kind: ReplyKind;
  /** All its audio is queued in the player (the text side is finished). */
  queuedDone: boolean;
  turn?: CommittedTurn;
}

interface OpenTurn {
  finals: string[];
  interim: string;
  eouReached: boolean;
  finalAt?: number;
  grace?: NodeJS.Timeout;
}

interface CommittedTurn {
  index: number;
  speechEndAt: number;
  finalAt: number | undefined;
  committedAt: number;
  logged: boolean;
}

/** The CallHandler of the voice agent. */
export class VoiceCall implements CallHandler {
  readonly #ctx: CallContext;
  readonly #s: VoiceServices;
  readonly #log: Logger;
  readonly #controller = new AbortController();
  readonly #detector: TurnDetector;
  readonly #player: Player;
  readonly #conversation: Conversation;
  readonly #startedAt = performance.now();
  #stt: RecognizerSession | undefined;
  #current: ActiveReply | undefined;
  #turn: OpenTurn | undefined;
  #queuedTurn: string | undefined;
  #replySeq = 0;
  #turnSeq = 0;
  #bargeIns = 0;
  #dropLateFinal = false;
  #ending = false;
  #closed = false;
  #hangupTimer: NodeJS.Timeout | undefined;
  #endReason: string | undefined;

  constructor(ctx: CallContext, services: VoiceServices) {
    this.#ctx = ctx;
    this.#s = services;
    this.#log = ctx.logger;
    const v = services.voice;
    this.#detector = new TurnDetector({ vadRms: v.vadRms, eouMs: v.eouMs, bargeInMinMs: v.bargeInMinMs });
    this.#conversation = new Conversation(v.instructions);
    this.#player = new Player({
      streamSid: ctx.streamSid,
      send: ctx.send,
      bufferedAmount: ctx.bufferedAmount,
      onEvent: (e) => this.#onPlayout(e),
    });
    this.#stt = services.recognizer.start((e) => this.#onRecognizer(e), this.#controller.signal);
    this.#speak({ kind: 'text', text: v.greeting }, 'greeting');
  }

  onAudio(frame: InboundAudio): void {
    if (this.#closed) return;
    this.#stt?.write(frame.mulaw);
    const now = performance.now();
    for (const e of this.#detector.frame(rmsMulaw(frame.mulaw), frame.mulaw.length / 8, now)) this.#onTurnEvent(e, now);
    if (this.#turn?.finals.length) this.#maybeCommit();
    if (!this.#turn && !this.#detector.inUtterance && this.#detector.silenceMs >= 300) this.#stt?.quietMoment();
  }

  onMark(name: string): void {
    this.#player.onMark(name);
  }

  onDtmf(digit: string): void {
    this.#log.info('DTMF', { digit });
  }

  onStop(): void {
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#controller.abort();
    this.#current?.reply.abort();
    this.#current = undefined;
    this.#player.close();
    this.#stt?.close();
    this.#stt = undefined;
    if (this.#turn?.grace) clearTimeout(this.#turn.grace);
    this.#turn = undefined;
    clearTimeout(this.#hangupTimer);
    this.#log.info('CALL_END', {
      turns: this.#turnSeq,
      bargeIns: this.#bargeIns,
      durationMs: Math.round(performance.now() - this.#startedAt),
    });
  }

  // ------------------------------------------------------------------ listening

  #onTurnEvent(e: TurnEvent, now: number): void {
    if (e.type === 'start') {
      this.#turn ??= { finals: [], interim: '', eouReached: false };
      // The caller resumed: the turn goes on, and any end-of-utterance seen before no longer holds.
      this.#turn.eouReached = false;
      clearTimeout(this.#turn.grace);
      this.#turn.grace = undefined;
      this.#dropLateFinal = false;
    } else if (e.type === 'sustained') {
      this.#onSustainedSpeech(e.onsetMs, now);
    } else if (this.#turn) {
      this.#turn.eouReached = true;
      this.#maybeCommit();
    }
  }

  #onRecognizer(e: RecognizerEvent): void {
    if (this.#closed) return;
    switch (e.type) {
      case 'interim':
        this.#log.info('STT_PARTIAL', { text: e.text, stability: e.stability });
        if (this.#turn) this.#turn.interim = e.text;
        return;
      case 'final': {
        const late = this.#dropLateFinal && !this.#turn;
        this.#log.info('STT_FINAL', { text: e.text, confidence: e.confidence, ...(late ? { late: true } : {}) });
        if (late || !e.text.trim()) return;
        this.#turn ??= { finals: [], interim: '', eouReached: false };
        this.#turn.finals.push(e.text.trim());
        this.#turn.finalAt = performance.now();
        this.#maybeCommit();
        return;
      }
      case 'restarted':
        this.#log.info('STT_RESTART', { reason: e.reason, streamIndex: e.streamIndex, code: e.error?.code });
        if (e.error) this.#s.metrics?.providerErrors.inc({ provider: 'stt', code: e.error.code });
        return;
      case 'failed':
        this.#log.error('STT_FAILED', { code: e.error.code, error: e.error.message });
        this.#s.metrics?.providerErrors.inc({ provider: 'stt', code: e.error.code });
        this.#endWithApology('stt-failed');
        return;
    }
  }

  /** Answers once the caller is done: a final and a short silence, or EOU_MS of silence. */
  #maybeCommit(): void {
    const t = this.#turn;
    if (!t || this.#ending) return;
    if (t.finals.length > 0) {
      const quietEnough =
        !this.#detector.speaking && this.#detector.silenceMs >= Math.min(FAST_COMMIT_SILENCE_MS, this.#s.voice.eouMs);
      if (t.eouReached || quietEnough) this.#commit(t.finals.join(' '), t);
      return;
    }
    if (t.eouReached && !t.grace) {
      // The caller stopped but the recognizer has not settled yet: give it a moment, then take
      // its interim text (or drop the turn: it was noise).
      t.grace = setTimeout(() => {
        if (this.#turn !== t) return;
        if (t.finals.length > 0) return this.#commit(t.finals.join(' '), t);
        if (t.interim.trim()) {
          this.#dropLateFinal = true;
          return this.#commit(t.interim.trim(), t);
        }
        this.#turn = undefined;
        this.#log.info('TURN_DROPPED', { reason: 'no-speech-recognized' });
      }, FINAL_GRACE_MS);
    }
  }

  #commit(text: string, t: OpenTurn): void {
    clearTimeout(t.grace);
    this.#turn = undefined;
    const now = performance.now();
    const committed: CommittedTurn = {
      index: ++this.#turnSeq,
      speechEndAt: this.#detector.lastSpeechMs || t.finalAt || now,
      finalAt: t.finalAt,
      committedAt: now,
      logged: false,
    };
    const active = this.#current;
    if (active && active.kind !== 'apology') {
      if (!this.#s.voice.bargeIn) {
        // Without barge-in the agent finishes speaking first; the caller's words wait their turn.
        this.#queuedTurn = this.#queuedTurn ? `${this.#queuedTurn} ${text}` : text;
        return;
      }
      this.#interrupt('caller-turn');
    }
    this.#conversation.addUser(text);
    this.#log.info('TURN_COMMIT', {
      turn: committed.index,
      chars: text.length,
      waitedMs: Math.round(now - committed.speechEndAt),
    });
    this.#speak(
      { kind: 'llm', generator: this.#s.generator, messages: this.#conversation.messages() },
      'answer',
      committed,
    );
  }

  // ------------------------------------------------------------------ speaking

  #speak(source: ReplySource, kind: ReplyKind, turn?: CommittedTurn): void {
    if (this.#closed) return;
    const synthesizer = source.kind === 'text' ? this.#s.cachedSynthesizer : this.#s.synthesizer;
    const reply = new Reply({
      id: ++this.#replySeq,
      player: this.#player,
      synthesizer,
      logger: this.#log,
      onTtsError: (e) => this.#s.metrics?.providerErrors.inc({ provider: 'tts', code: e.code }),
    });
    const entry: ActiveReply = { reply, kind, queuedDone: false, turn };
    this.#current = entry;
    reply.run(source).then(
      (result) => this.#onReplyQueued(entry, result),
      (err) => this.#log.error('REPLY_ERROR', { replyId: reply.id, error: String(err) }),
    );
  }

  #onReplyQueued(entry: ActiveReply, result: ReplyResult): void {
    if (this.#closed || entry.reply.aborted || this.#current !== entry) return;
    entry.queuedDone = true;
    if (result.llmError) this.#onLlmError(result.llmError, result.queued);
    if (result.ttsError?.code === 'AUTH' && result.queued === 0) {
      // TTS_ERROR already carried the message; this line says what it means for the call.
      this.#log.error('TTS_UNAVAILABLE', { code: result.ttsError.code, consequence: 'cannot speak: ending the call' });
      this.#current = undefined;
      return this.#hangup('tts-unavailable');
    }
    if (this.#current === entry && !this.#player.playing) this.#finish(entry);
  }

  #onLlmError(err: ProviderError, queued: number): void {
    this.#log.error('LLM_ERROR', {
      code: err.code,
      retryable: err.retryable,
      error: err.message,
      sentencesSpoken: queued,
    });
    this.#s.metrics?.providerErrors.inc({ provider: 'llm', code: err.code });
    if (err.code === 'AUTH') return this.#endWithApology('llm-auth');
    if (queued === 0) this.#speak({ kind: 'text', text: FALLBACK_LINE }, 'fallback');
  }

  /** Everything of the reply has played: it goes into the history as said. */
  #finish(entry: ActiveReply): void {
    if (this.#current !== entry) return;
    this.#current = undefined;
    const said = [...entry.reply.played].sort((a, b) => a - b).map((i) => entry.reply.sentence(i) ?? '');
    if (entry.kind !== 'apology') this.#conversation.addAssistant(said.join(' '));
    if (entry.turn) this.#logTurn(entry);
    if (entry.kind === 'apology') return this.#hangup(this.#endReason ?? 'apology');
    if (this.#queuedTurn) {
      const text = this.#queuedTurn;
      this.#queuedTurn = undefined;
      this.#commit(text, { finals: [text], interim: '', eouReached: true });
    }
  }

  #onPlayout(e: PlayoutEvent): void {
    const entry = this.#current;
    switch (e.type) {
      case 'segment-sent':
        this.#log.info('MEDIA_TX', {
          replyId: e.meta.replyId,
          sentence: e.meta.index,
          messages: e.messages,
          frames: Math.ceil(e.bytes / 160),
          bytes: e.bytes,
        });
        return;
      case 'first-media':
        if (entry?.reply.id === e.replyId) entry.reply.metrics.firstMediaAt ??= e.atMs;
        return;
      case 'first-mark':
        if (entry?.reply.id === e.replyId) {
          entry.reply.metrics.firstMarkAt ??= e.atMs;
          if (entry.turn) this.#logTurn(entry);
        }
        return;
      case 'segment-played':
        if (entry?.reply.id === e.meta.replyId) entry.reply.played.add(e.meta.index);
        return;
      case 'drained':
        if (entry?.queuedDone) this.#finish(entry);
        return;
    }
  }

  /** Caller speech long enough to be an interruption. */
  #onSustainedSpeech(onsetMs: number, now: number): void {
    const entry = this.#current;
    if (!this.#s.voice.bargeIn || !entry || entry.kind === 'apology' || this.#ending) return;
    this.#interrupt('barge-in', onsetMs, now);
  }

  /** Stops the current reply; the history keeps only what the caller heard. */
  #interrupt(reason: 'barge-in' | 'caller-turn' | 'call-ending', onsetMs?: number, now = performance.now()): void {
    const entry = this.#current;
    if (!entry) return;
    this.#current = undefined;
    const wasPlaying = this.#player.playing;
    const partial = this.#player.interrupt();
    entry.reply.abort();
    const heard = heardOfReply(entry.reply.id, (i) => entry.reply.sentence(i), entry.reply.played, partial);
    if (entry.turn) this.#logTurn(entry);
    if (!wasPlaying && heard.chars === 0) {
      this.#log.info('REPLY_CANCELLED', { replyId: entry.reply.id, reason });
      return;
    }
    this.#bargeIns++;
    this.#s.metrics?.bargeIns.inc();
    this.#conversation.addAssistant(heard.text, true);
    this.#log.info('BARGE_IN', {
      replyId: entry.reply.id,
      kind: entry.kind,
      reason,
      heardChars: heard.chars,
      heardMs: heard.ms,
      heardText: heard.text,
      ...(onsetMs !== undefined ? { reactionMs: Math.round(now - onsetMs) } : {}),
    });
  }

  #logTurn(entry: ActiveReply): void {
    const t = entry.turn;
    if (!t || t.logged) return;
    t.logged = true;
    const components = turnComponents(t, entry.reply.metrics);
    const overhead = gatewayOverhead(t, entry.reply.metrics);
    this.#log.info('TURN', { turn: t.index, replyId: entry.reply.id, ...turnLogFields(components, overhead) });
    if (overhead !== undefined) this.#s.metrics?.turnOverhead.observe(overhead);
    for (const [component, ms] of Object.entries(components)) {
      if (ms !== undefined) this.#s.metrics?.turnLatency.observe({ component }, ms);
    }
  }

  // ------------------------------------------------------------------ ending

  /** Says sorry (if speech synthesis works) and hangs up. */
  #endWithApology(reason: string): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    this.#endReason = reason;
    if (this.#current) this.#interrupt('call-ending');
    this.#stt?.close();
    this.#stt = undefined;
    this.#hangupTimer = setTimeout(() => this.#hangup(reason), APOLOGY_MAX_MS);
    // The apology reply hangs up when it has played, or at once if it could not be synthesized.
    this.#speak({ kind: 'text', text: APOLOGY_LINE }, 'apology');
  }

  #hangup(reason: string): void {
    if (this.#closed) return;
    this.#ctx.hangup(reason);
  }
}
