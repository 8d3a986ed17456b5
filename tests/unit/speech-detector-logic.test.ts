/**
 * The speech detector's own rules (score thresholds, level margins over the learnt background,
 * hangover, minRms), driven by a scripted model so each rule is seen on its own. Audio is a tone
 * at a chosen RMS, fed one model window (256 samples, 32 ms) per frame so windows can be counted.
 */
import { pcm16ToMulaw } from '../../media/audio/mulaw.ts';
import { createSpeechDetector, type SileroModel, type SpeechDetector } from '../../media/audio/speech-detector.ts';
import { BackgroundLevel, levelDb, rmsToDb } from '../../media/audio/speech-detector/background.ts';

const WINDOW = 256;

/** A model whose score is whatever the test says. */
function scripted(): SileroModel & { score: number; calls: number } {
  const m = {
    path: 'scripted',
    sha256: 'scripted',
    score: 0,
    calls: 0,
    infer: (input: Float32Array, state: Float32Array): number => {
      expect(input).toHaveLength(288);
      expect(state).toHaveLength(256);
      m.calls++;
      return m.score;
    },
  };
  return m;
}

/** `windows` model windows of a 440 Hz tone at `rms` (PCM16 scale; 0 = digital silence). */
function tone(rms: number, windows: number): Uint8Array[] {
  const amp = rms * Math.SQRT2;
  return Array.from({ length: windows }, (_, w) =>
    pcm16ToMulaw(
      Int16Array.from({ length: WINDOW }, (_, i) =>
        Math.round(amp * Math.sin((2 * Math.PI * 440 * (w * WINDOW + i)) / 8000)),
      ),
    ),
  );
}

/** Feeds windows; returns the `speech` verdict after each. */
function feed(d: SpeechDetector, windows: Uint8Array[]): boolean[] {
  return windows.map((w) => d.frame(w).speech);
}

const ms = (windows: number) => windows * 32;
const sec = (s: number) => Math.round((s * 1000) / 32);

let model: ReturnType<typeof scripted>;
let d: SpeechDetector;
beforeEach(() => {
  model = scripted();
  d = createSpeechDetector({ model })!;
});

test('the model runs once per 256 samples, whatever the frame size, and its score is reported', () => {
  model.score = 0.7;
  expect(d.frame(new Uint8Array(255))).toEqual({ speech: false, score: 0 });
  expect(model.calls).toBe(0);
  expect(d.frame(new Uint8Array(1)).score).toBe(0.7);
  expect(model.calls).toBe(1);
  d.frame(new Uint8Array(WINDOW * 3 + 10));
  expect(model.calls).toBe(4);
});

test('each window is preceded by the last 32 samples of the one before, and the state is carried', () => {
  const inputs: Float32Array[] = [];
  const states: number[] = [];
  const recording: SileroModel = {
    path: 'recording',
    sha256: 'recording',
    infer: (input, state) => {
      inputs.push(input.slice());
      states.push(state[0]!);
      state[0] = state[0]! + 1; // the model's next state, which must come back next time
      return 0;
    },
  };
  const det = createSpeechDetector({ model: recording })!;
  const [a, b] = tone(1000, 2);
  det.frame(a!);
  det.frame(b!);
  expect(inputs[0]!.subarray(0, 32).every((x) => x === 0)).toBe(true); // a new stream starts from silence
  expect(inputs[1]!.subarray(0, 32)).toEqual(inputs[0]!.subarray(256));
  expect(states).toEqual([0, 1]);
  det.reset();
  det.frame(a!);
  expect(states[2]).toBe(0);
  expect(inputs[2]).toEqual(inputs[0]);
});

test('a steady sound is background however speech-like: the first window sets the level', () => {
  model.score = 0.99;
  expect(feed(d, tone(2000, sec(3))).some(Boolean)).toBe(false);
});

test('speech starts when the score reaches onScore and the level stands onMarginDb above the background', () => {
  model.score = 0.9;
  feed(d, tone(300, sec(2)));
  expect(feed(d, tone(1200, 1))).toEqual([true]); // +12 dB
});

test.each([
  ['a score under onScore', 0.49, 1200],
  ['a rise under onMarginDb (+6 dB)', 0.9, 600],
])('no speech for %s', (_, score, rms) => {
  model.score = 0.9;
  feed(d, tone(300, sec(2)));
  model.score = score;
  expect(feed(d, tone(rms, sec(1))).some(Boolean)).toBe(false);
});

test('speech goes on while the score stays at offScore, and ends hangoverMs after it falls below', () => {
  model.score = 0.9;
  feed(d, tone(300, sec(2)));
  feed(d, tone(1200, 3));
  model.score = 0.35; // = offScore: still speech
  expect(feed(d, tone(1200, 5))).toEqual([true, true, true, true, true]);
  model.score = 0.34;
  // 96 ms of hangover = 3 windows still speech, the third completes it.
  expect(feed(d, tone(1200, 5))).toEqual([true, true, false, false, false]);
});

test('a caller who keeps talking at one level becomes background in the end (a TV turned up is learnt)', () => {
  model.score = 0.9;
  feed(d, tone(300, sec(3)));
  const verdicts = feed(d, tone(1200, sec(8)));
  const last = verdicts.lastIndexOf(true);
  expect(verdicts[0]).toBe(true);
  // 12 dB to learn at riseMs 1500 until under offMarginDb (4.5): about 1.5 s, then the hangover.
  expect(ms(last + 1)).toBeGreaterThan(1000);
  expect(ms(last + 1)).toBeLessThan(2500);
});

test('a pause 12 dB under the background is believed at once, so a call that starts mid-word recovers', () => {
  model.score = 0.9; // the model's score stays high through short pauses, as Silero's does
  feed(d, tone(3000, sec(1))); // the first window is speech: it becomes the background
  feed(d, tone(0, 5)); // a 160 ms pause between words
  expect(feed(d, tone(3000, 1))).toEqual([true]);
});

test('a quieter stretch the model calls not speech is believed sooner than one it calls speech', () => {
  const after = (quietScore: number): boolean => {
    const det = createSpeechDetector({ model })!;
    model.score = 0.9;
    feed(det, tone(3000, sec(2)));
    model.score = quietScore;
    feed(det, tone(850, sec(0.6))); // 11 dB down: a dip, not a pause
    model.score = 0.9;
    return feed(det, tone(3000, 1))[0]!;
  };
  expect(after(0.1)).toBe(true); // learnt the lower level (quickFallMs)
  expect(after(0.9)).toBe(false); // still near the old level (fallMs)
});

test('windows under minRms are never speech', () => {
  model.score = 0.9;
  feed(d, tone(0, sec(1)));
  expect(feed(d, tone(80, sec(0.5))).some(Boolean)).toBe(false);
  d.reset();
  feed(d, tone(0, sec(1)));
  expect(feed(d, tone(150, 1))).toEqual([true]);
  const strict = createSpeechDetector({ model, minRms: 1000 })!;
  feed(strict, tone(0, sec(1)));
  expect(feed(strict, tone(900, sec(0.5))).some(Boolean)).toBe(false);
});

test('reset() forgets the background and the hysteresis', () => {
  model.score = 0.9;
  feed(d, tone(300, sec(2)));
  expect(feed(d, tone(1200, 1))).toEqual([true]);
  d.reset();
  expect(d.frame(new Uint8Array(0))).toEqual({ speech: false, score: 0 });
  expect(feed(d, tone(1200, 2))).toEqual([false, false]); // its first window is the background again
});

test.each([
  [{ onScore: 1.2 }],
  [{ onScore: 0.3, offScore: 0.4 }],
  [{ offScore: -0.1 }],
  [{ onMarginDb: 3, offMarginDb: 4 }],
  [{ minRms: -1 }],
  [{ hangoverMs: -5 }],
  [{ onScore: Number.NaN }],
  [{ background: { riseMs: 0 } }],
  [{ background: { quickFallMs: -1 } }],
])('refuses %j with a RangeError', (opts) => {
  expect(() => createSpeechDetector({ model, ...opts })).toThrow(RangeError);
});

describe('BackgroundLevel', () => {
  const timing = { fallMs: 1000, quickFallMs: 100, riseMs: 2000 };

  test('starts at the first level and moves towards new ones with the time constant of the direction', () => {
    const b = new BackgroundLevel(timing);
    expect(b.db).toBeUndefined();
    b.update(40, 32, false);
    expect(b.db).toBe(40);
    b.update(60, 2000, false); // one rise time constant: 63 % of the way
    expect(b.db).toBeCloseTo(40 + 20 * (1 - Math.exp(-1)), 6);
    const before = b.db!;
    b.update(before - 10, 1000, false);
    expect(b.db).toBeCloseTo(before - 10 * (1 - Math.exp(-1)), 6);
    const slow = b.db!;
    b.update(slow - 10, 100, true);
    expect(b.db).toBeCloseTo(slow - 10 * (1 - Math.exp(-1)), 6);
    b.reset();
    expect(b.db).toBeUndefined();
  });

  test('levels are on the PCM16 dB scale', () => {
    expect(rmsToDb(210)).toBeCloseTo(46.44, 2);
    expect(rmsToDb(0)).toBe(0);
    expect(levelDb(new Float32Array(256).fill(0.5))).toBeCloseTo(rmsToDb(16384), 6);
    expect(levelDb(new Float32Array(0))).toBe(0);
  });
});
