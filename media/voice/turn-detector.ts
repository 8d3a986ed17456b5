/**
 * Voice-activity and end-of-utterance detection on the caller's audio. Pure and driven by audio
 * time (each frame carries its duration), so it behaves the same whatever the event loop does.
 *
 * A frame whose RMS (decoded PCM16) reaches `vadRms` is speech. Speech frames form a *run*; a run
 * survives short gaps (syllable pauses, up to RUN_GAP_MS) so the barge-in timer measures a real
 * utterance, not one syllable. The *utterance* lasts until `eouMs` of unbroken silence.
 *
 *   silent ──speech frame──► speaking ──(speech ≥ bargeInMinMs in one run)──► emits 'sustained'
 *     ▲                        │
 *     └──── eouMs of silence ◄─┘ emits 'end' (with the wall-clock time of the last speech frame)
 */

/** Pause inside a run that still counts as the same run (ms of audio). */
export const RUN_GAP_MS = 120;

/** What a frame changed. */
export type TurnEvent =
  /** First speech frame after silence. */
  | { type: 'start'; atMs: number }
  /** The current run reached `bargeInMinMs` of speech: long enough to be a real interruption. */
  | { type: 'sustained'; onsetMs: number; atMs: number }
  /** `eouMs` of silence after speech: the caller's utterance ended at `lastSpeechMs`. */
  | { type: 'end'; lastSpeechMs: number; speechMs: number; atMs: number };

/** Thresholds. */
export interface TurnDetectorOptions {
  vadRms: number;
  eouMs: number;
  bargeInMinMs: number;
}

/** Tracks speech and silence over the caller's frames. */
export class TurnDetector {
  readonly #opts: TurnDetectorOptions;
  #inUtterance = false;
  #utteranceSpeechMs = 0;
  #inRun = false;
  #runSpeechMs = 0;
  #runOnsetMs = 0;
  #runGapMs = 0;
  #sustainedFired = false;
  #silenceMs = 0;
  #lastSpeechMs = 0;

  constructor(opts: TurnDetectorOptions) {
    this.#opts = opts;
  }

  /**
   * Feeds one frame: its RMS, its duration in ms of audio, and the wall-clock time it arrived.
   * Returns the events it caused, in order (usually none).
   */
  frame(rms: number, durationMs: number, nowMs: number): TurnEvent[] {
    return this.frameVerdict(rms >= this.#opts.vadRms, durationMs, nowMs);
  }

  /**
   * Feeds one frame whose speech/silence verdict was made elsewhere (the speech detector, which
   * tells speech from line noise that an energy threshold cannot).
   */
  frameVerdict(isSpeech: boolean, durationMs: number, nowMs: number): TurnEvent[] {
    const events: TurnEvent[] = [];
    if (isSpeech) {
      if (!this.#inRun) {
        this.#inRun = true;
        this.#runSpeechMs = 0;
        this.#runOnsetMs = nowMs;
        this.#sustainedFired = false;
        events.push({ type: 'start', atMs: nowMs });
      }
      this.#inUtterance = true;
      this.#runSpeechMs += durationMs;
      this.#utteranceSpeechMs += durationMs;
      this.#runGapMs = 0;
      this.#silenceMs = 0;
      this.#lastSpeechMs = nowMs;
      if (!this.#sustainedFired && this.#runSpeechMs >= this.#opts.bargeInMinMs) {
        this.#sustainedFired = true;
        events.push({ type: 'sustained', onsetMs: this.#runOnsetMs, atMs: nowMs });
      }
      return events;
    }
    this.#silenceMs += durationMs;
    if (this.#inRun) {
      this.#runGapMs += durationMs;
      if (this.#runGapMs > RUN_GAP_MS) this.#inRun = false;
    }
    if (this.#inUtterance && this.#silenceMs >= this.#opts.eouMs) {
      events.push({ type: 'end', lastSpeechMs: this.#lastSpeechMs, speechMs: this.#utteranceSpeechMs, atMs: nowMs });
      this.#inUtterance = false;
      this.#utteranceSpeechMs = 0;
    }
    return events;
  }

  /** True while a run of speech is in progress (short gaps included). */
  get speaking(): boolean {
    return this.#inRun;
  }

  /** Unbroken silence so far, ms of audio. */
  get silenceMs(): number {
    return this.#silenceMs;
  }

  /** Wall-clock time of the last speech frame (0 before any). */
  get lastSpeechMs(): number {
    return this.#lastSpeechMs;
  }

  /** True between the first speech frame and the end-of-utterance silence. */
  get inUtterance(): boolean {
    return this.#inUtterance;
  }
}
