import { readFileSync } from 'node:fs';
import { rmsMulaw, rmsPcm16 } from '../../media/audio/level.ts';
import { MULAW_SILENCE, mulawToPcm16, pcm16ToMulaw } from '../../media/audio/mulaw.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const VAD_RMS = 210;
const FRAME = 160; // 20 ms at 8 kHz

/** RMS of each whole 20 ms frame. */
function frameLevels(mulaw: Uint8Array): number[] {
  const levels: number[] = [];
  for (let i = 0; i + FRAME <= mulaw.length; i += FRAME) levels.push(rmsMulaw(mulaw.subarray(i, i + FRAME)));
  return levels;
}

describe('rmsPcm16', () => {
  test('is 0 for an empty frame and for digital silence', () => {
    expect(rmsPcm16(new Int16Array(0))).toBe(0);
    expect(rmsPcm16(new Int16Array(FRAME))).toBe(0);
  });

  test('equals the magnitude of a constant or square signal', () => {
    expect(rmsPcm16(new Int16Array(FRAME).fill(-1000))).toBe(1000);
    expect(rmsPcm16(Int16Array.from({ length: FRAME }, (_, i) => (i % 2 ? 300 : -300)))).toBe(300);
  });

  test('is amplitude / √2 for a sine', () => {
    const sine = Int16Array.from({ length: 8000 }, (_, i) =>
      Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
    );
    expect(rmsPcm16(sine)).toBeCloseTo(10000 / Math.SQRT2, 0);
  });

  test('does not overflow at full scale', () => {
    expect(rmsPcm16(new Int16Array(8000).fill(-32768))).toBe(32768);
  });
});

describe('rmsMulaw', () => {
  test('is 0 for an empty frame and for μ-law silence', () => {
    expect(rmsMulaw(new Uint8Array(0))).toBe(0);
    expect(rmsMulaw(new Uint8Array(FRAME).fill(MULAW_SILENCE))).toBe(0);
  });

  test('equals rmsPcm16 of the decoded samples, also for views into a larger buffer', () => {
    const speech = fixture('caller-hebrew.ulaw');
    for (const [start, end] of [
      [0, FRAME],
      [FRAME * 7 + 3, FRAME * 8 + 3],
      [0, speech.length],
    ] as const) {
      const view = speech.subarray(start, end);
      expect(rmsMulaw(view)).toBeCloseTo(rmsPcm16(mulawToPcm16(view)), 9);
    }
  });

  test('separates a quiet frame from a speech-level one around VAD_RMS', () => {
    const quiet = pcm16ToMulaw(new Int16Array(FRAME).fill(150));
    const loud = pcm16ToMulaw(new Int16Array(FRAME).fill(-300));
    expect(rmsMulaw(quiet)).toBeLessThan(VAD_RMS);
    expect(rmsMulaw(loud)).toBeGreaterThanOrEqual(VAD_RMS);
  });
});

describe('fixture levels that other tests rely on (see tests/fixtures/README.md)', () => {
  test('the noise burst is 100 ms and every frame is far above VAD_RMS', () => {
    const noise = fixture('noise-burst.ulaw');
    expect(noise.length).toBe(800);
    for (const level of frameLevels(noise)) expect(level).toBeGreaterThan(10 * VAD_RMS);
  });

  test.each([
    ['caller-hebrew.ulaw', 1.5, 2.5],
    ['caller-hebrew-long.ulaw', 3, 4],
  ])('%s lasts %ss–%ss, starts and ends with speech, and is mostly speech', (name, minSeconds, maxSeconds) => {
    const speech = fixture(name);
    expect(speech.length / 8000).toBeGreaterThanOrEqual(minSeconds);
    expect(speech.length / 8000).toBeLessThanOrEqual(maxSeconds);
    const loud = frameLevels(speech).map((level) => level >= VAD_RMS);
    expect(loud[0]).toBe(true);
    expect(loud[loud.length - 1]).toBe(true);
    expect(loud.filter(Boolean).length / loud.length).toBeGreaterThan(0.75);
    // No pause inside the phrase is longer than 200 ms, so a VAD with a longer hangover sees one utterance.
    const longestQuiet = loud.reduce<[number, number]>(
      ([best, run], l) => [Math.max(best, l ? 0 : run + 1), l ? 0 : run + 1],
      [0, 0],
    )[0];
    expect(longestQuiet).toBeLessThanOrEqual(10);
  });
});
