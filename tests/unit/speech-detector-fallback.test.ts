/**
 * Where the model cannot be loaded, there is no detector and nothing throws: the gateway keeps the
 * energy VAD. Its own file, because loading is once per process (per jest module registry) and
 * this file's first load must be the failing one.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSpeechDetector, loadSpeechDetectorModel, SpeechModelError } from '../../media/audio/speech-detector.ts';
import { loadSileroModel } from '../../media/audio/speech-detector/silero.ts';

const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

// One test: the three steps depend on each other (loading is once per module registry), so they
// must run in this order even when jest shuffles tests (CI runs with --randomize).
test('no model: no detector; a missing file is data, not a throw; and the first answer stands', async () => {
  expect(createSpeechDetector()).toBeUndefined();
  const status = await loadSpeechDetectorModel({ modelPath: '/nonexistent/silero.onnx' });
  expect(status).toMatchObject({ available: false, code: 'MODEL_MISSING' });
  expect(createSpeechDetector()).toBeUndefined();
  const again = await loadSpeechDetectorModel(); // the default model would load, but the first answer stands
  expect(again).toMatchObject({ available: false, code: 'MODEL_MISSING' });
  expect(createSpeechDetector()).toBeUndefined();
});

test('a file that is not an ONNX model is MODEL_INVALID', async () => {
  const bytes = readFileSync(fixturePath('caller-hebrew.ulaw'));
  expect(bytes.length).toBeGreaterThan(0);
  const err: unknown = await loadSileroModel(fixturePath('caller-hebrew.ulaw')).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SpeechModelError);
  expect(err).toMatchObject({ code: 'MODEL_INVALID' });
});

test('a model passed in works without the process-wide one', () => {
  const d = createSpeechDetector({ model: { path: 'x', sha256: 'x', infer: () => 0.9 } });
  expect(d).toBeDefined();
  expect(d!.frame(new Uint8Array(256).fill(0xff))).toEqual({ speech: false, score: 0.9 });
});
