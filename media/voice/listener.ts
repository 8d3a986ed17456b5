/**
 * The listener: the caller's audio in, speech activity and words out. Every frame goes to the
 * recognizer as it arrives (Google wants real-time pace, and Twilio sends frames through silence)
 * and to the turn detector; the recognizer's results come back as `transcript` events, its
 * failures as `error` events. The session runs in the conversation scope: ending the call stops
 * recognition.
 *
 *   frame ─► recognizer.write            recognizer ─► transcript / error
 *        └─► TurnDetector ─► caller-audio, speech-started / speech-sustained / speech-ended
 */
import { rmsMulaw } from '../audio/level.ts';
import { BYTES_PER_MS } from '../audio/format.ts';
import type { SpeechDetector } from '../audio/speech-detector.ts';
import type { Logger } from '../../server/logger.ts';
import { errorEvent, type CallEvent } from './events.ts';
import type { Scope } from './scope.ts';
import { TurnDetector, type TurnDetectorOptions } from './turn-detector.ts';
import type { RecognizerEvent, RecognizerSession, SpeechRecognizer } from '../providers/types.ts';

/** Silence after which, with no turn pending, the recognizer may rotate its stream. */
const QUIET_MOMENT_MS = 300;

/** What the listener needs. */
export interface ListenerDeps {
  conversation: Scope;
  recognizer: SpeechRecognizer;
  detector: TurnDetectorOptions;
  hints?: readonly string[];
  /** Tells speech from line noise; without it a frame is speech when its RMS reaches VAD_RMS. */
  speechDetector?: SpeechDetector;
  emit: (e: CallEvent) => void;
  now: () => number;
  log: Logger;
}

/** The caller's side, from audio to words. */
export class Listener {
  readonly #d: ListenerDeps;
  readonly #detector: TurnDetector;
  readonly #session: RecognizerSession;
  /** Words were recognised since the last turn was decided: not a quiet moment. */
  #pendingWords = false;

  constructor(deps: ListenerDeps) {
    this.#d = deps;
    this.#detector = new TurnDetector(deps.detector);
    this.#session = deps.recognizer.start((e) => this.#onRecognizer(e), deps.conversation.signal, {
      ...(deps.hints?.length ? { hints: deps.hints } : {}),
    });
  }

  /** One inbound frame of the caller's audio. */
  onAudio(mulaw: Buffer): void {
    if (this.#d.conversation.aborted) return;
    this.#session.write(mulaw);
    const t = this.#d.now();
    const ms = mulaw.length / BYTES_PER_MS;
    const level = rmsMulaw(mulaw);
    const speech = this.#d.speechDetector
      ? this.#d.speechDetector.frame(mulaw).speech
      : level >= this.#d.detector.vadRms;
    const turnEvents = this.#detector.frameVerdict(speech, ms, t);
    this.#d.emit({ type: 'caller-audio', t, ms, level: Math.round(level), speech });
    for (const e of turnEvents) {
      if (e.type === 'start') this.#d.emit({ type: 'speech-started', t: e.atMs });
      else if (e.type === 'sustained') this.#d.emit({ type: 'speech-sustained', t: e.atMs, onset: e.onsetMs });
      else this.#d.emit({ type: 'speech-ended', t: e.atMs, lastSpeech: e.lastSpeechMs, speechMs: e.speechMs });
    }
    if (!this.#pendingWords && !this.#detector.inUtterance && this.#detector.silenceMs >= QUIET_MOMENT_MS) {
      this.#session.quietMoment();
    }
  }

  /** Turn decisions tell when words stop being pending. */
  handle(e: CallEvent): void {
    if (e.type === 'turn-committed' || e.type === 'turn-dropped' || e.type === 'backchannel')
      this.#pendingWords = false;
  }

  /** Replaces the recognizer's phrase hints (e.g. from the CRM context). */
  setHints(hints: readonly string[]): void {
    this.#session.setHints?.(hints, true);
  }

  /** Stops recognition. Idempotent. */
  close(): void {
    this.#session.close();
  }

  #onRecognizer(e: RecognizerEvent): void {
    if (this.#d.conversation.aborted) return;
    const t = this.#d.now();
    switch (e.type) {
      case 'interim':
        this.#pendingWords = true;
        this.#d.emit({ type: 'transcript', t, final: false, text: e.text, confidence: 0, stability: e.stability });
        return;
      case 'final':
        this.#pendingWords = true;
        this.#d.emit({ type: 'transcript', t, final: true, text: e.text, confidence: e.confidence, stability: 1 });
        return;
      case 'restarted':
        this.#d.log.info('STT_RESTART', { reason: e.reason, streamIndex: e.streamIndex, code: e.error?.code });
        if (e.error) this.#d.emit(errorEvent(t, e.error, { permanent: false }));
        return;
      case 'failed':
        // Recognition cannot go on for this call, whatever the code: the call cannot be served.
        this.#d.emit(errorEvent(t, e.error, { permanent: true }));
        return;
    }
  }
}
