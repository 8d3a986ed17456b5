/**
 * The level of the caller's steady background (street, car, a TV across the room), in dB.
 *
 * A neural model hears speech in babble or a TV as readily as in the caller's voice; what sets the
 * caller apart is being louder than what has been going on for seconds. This tracker follows the
 * background's level as a slow average in dB: a steady noise is learnt within a few seconds, and a
 * caller's speech barely moves it because the pauses between words pull it back down a little
 * faster than speech pushes it up. It moves whatever the detector hears, so a background that jumps
 * up for good (a TV turned up) is learnt too instead of counting as speech for ever.
 *
 * The time constants were chosen on tests/fixtures/noise with tools/bench/speech-detector.ts:
 * quicker, and babble's louder moments stand out from a level that follows it too closely; slower,
 * and a noise that starts mid-call takes longer to stop counting as speech.
 *
 * Levels are 10·log10(mean square + 1) of PCM16 samples: 0 dB is digital silence, 90.3 dB a
 * full-scale square wave; VAD_RMS (210) is 46.4 dB.
 */

/** How fast the estimate moves, as exponential time constants in ms of audio. */
export interface BackgroundTiming {
  /** Towards a lower level. Default 1500. */
  fallMs: number;
  /** Towards a lower level when the window is clearly not speech (a pause, a hiss). Default 250. */
  quickFallMs: number;
  /** Towards a higher level. Default 1500. */
  riseMs: number;
}

/** Defaults, measured on tests/fixtures/noise (see tools/bench/speech-detector.ts). */
export const BACKGROUND_TIMING: Readonly<BackgroundTiming> = Object.freeze({
  fallMs: 1500,
  quickFallMs: 250,
  riseMs: 1500,
});

/** Level of PCM samples scaled to [-1, 1], on the PCM16 dB scale above; 0 for no samples. */
export function levelDb(samples: Float32Array, start = 0, end = samples.length): number {
  if (end <= start) return 0;
  let sum = 0;
  for (let i = start; i < end; i++) {
    const s = samples[i]! * 32768;
    sum += s * s;
  }
  return 10 * Math.log10(sum / (end - start) + 1);
}

/** The dB level of an RMS value on the PCM16 scale (e.g. VAD_RMS 210 → 46.4). */
export function rmsToDb(rms: number): number {
  return 10 * Math.log10(rms * rms + 1);
}

/** Follows the background level window by window. Pure; a few numbers of state. */
export class BackgroundLevel {
  readonly #timing: BackgroundTiming;
  #db: number | undefined;

  constructor(timing: BackgroundTiming = BACKGROUND_TIMING) {
    this.#timing = timing;
  }

  /** The current estimate in dB; undefined before the first window. */
  get db(): number | undefined {
    return this.#db;
  }

  /**
   * Takes one window's level (dB), its length (ms of audio), and whether the window is clearly not
   * speech (then a lower level is believed sooner: it is the background showing between words).
   */
  update(db: number, durationMs: number, clearlyNotSpeech: boolean): void {
    if (this.#db === undefined) {
      // The first window is the best guess there is: a call that starts in noise is judged against
      // it at once, and one that starts with the caller talking falls back at the first pause.
      this.#db = db;
      return;
    }
    const tau =
      db >= this.#db ? this.#timing.riseMs : clearlyNotSpeech ? this.#timing.quickFallMs : this.#timing.fallMs;
    this.#db += (db - this.#db) * (1 - Math.exp(-durationMs / tau));
  }

  /** Forgets the estimate (a new call). */
  reset(): void {
    this.#db = undefined;
  }
}
