/**
 * The benchmark's settings and its command line. Every setting has a default, so `npm run bench`
 * alone runs the full ladder and its sections (TTS paths, interruptions, speech detector); `--quick`
 * shortens calls (one turn, short waits) and shrinks the sections for smoke runs.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';

/** Which config fields the emulators' process gets (the latencies it runs with). */
export const EMULATOR_SETTINGS = [
  'sttFinalMs',
  'sttEndSilenceMs',
  'llmFirstTokenMs',
  'llmChunkMs',
  'ttsMs',
  'ttsMsPerChar',
  'ttsFirstChunkMs',
  'ttsChunkMs',
  'ttsRealTimeFactor',
  'replyText',
] as const;

/** How the gateway synthesizes replies: unary sentence by sentence, or one streaming synthesis per reply. */
export type TtsPath = 'unary' | 'streaming';
/** The gateway's `SPEECH_DETECTOR`. */
export type SpeechDetectorSetting = 'auto' | 'energy';
export const TTS_PATHS: readonly TtsPath[] = ['unary', 'streaming'];
export const SPEECH_DETECTORS: readonly SpeechDetectorSetting[] = ['auto', 'energy'];

/** The emulator part of the bench config. */
export type EmulatorSettings = Pick<BenchConfig, (typeof EMULATOR_SETTINGS)[number]>;

/** The default ladder of concurrent calls. */
export const DEFAULT_LEVELS: readonly number[] = [1, 10, 50, 100, 200];

/** Everything a run depends on; written into `latest.json` as `config`. */
export interface BenchConfig {
  /** Concurrent calls per level, run in this order, each on fresh processes. */
  levels: number[];
  /** STT emulator: wall-clock delay added before each final (`finalDelayMs`). */
  sttFinalMs: number;
  /** STT emulator: silence (audio time) after speech that ends an utterance (`endSilenceMs`). */
  sttEndSilenceMs: number;
  /** LLM emulator: headers → first token (`firstTokenDelayMs`). */
  llmFirstTokenMs: number;
  /** LLM emulator: gap between content chunks of 3 characters (`chunkDelayMs`). */
  llmChunkMs: number;
  /** TTS emulator: wall-clock wait before every answer (`latencyMs`). */
  ttsMs: number;
  /** TTS emulator: audio length per character of text (`msPerChar`). */
  ttsMsPerChar: number;
  /** TTS emulator, streaming: text reaching an idle synthesizer → its first audio chunk (`firstChunkMs`). */
  ttsFirstChunkMs: number;
  /** TTS emulator, streaming: audio per chunk, ms (`chunkMs`). */
  ttsChunkMs: number;
  /** TTS emulator, streaming: wall-clock ms to produce 1 ms of audio (`realTimeFactor`). */
  ttsRealTimeFactor: number;
  /** The ladder's synthesis path (`--tts-streaming` switches it to streaming). */
  ttsPath: TtsPath;
  /** `TTS_VOICE` of the unary path (not a Chirp 3 HD voice, so `TTS_STREAMING=auto` stays unary). */
  unaryVoice: string;
  /** `TTS_VOICE` of the streaming path (a Chirp 3 HD voice: `TTS_STREAMING=auto` streams). */
  streamingVoice: string;
  /** The ladder's `SPEECH_DETECTOR`. */
  speechDetector: SpeechDetectorSetting;
  /** TTS paths section: the paths compared, each at `ttsCalls` calls with the same emulator settings. */
  ttsPaths: TtsPath[];
  /** TTS paths section: calls per path; 0 skips the section. */
  ttsCalls: number;
  /** Interruptions section: calls per kind (acknowledgement, real interruption); 0 skips the section. */
  interruptCalls: number;
  /** What the recognizer hears in the acknowledgement calls' second utterance (a BACKCHANNEL_WORDS word). */
  backchannelText: string;
  /** What the recognizer hears in the interrupting calls' second utterance (not an acknowledgement). */
  interruptText: string;
  /** What the model answers the interrupting turn (differs from `replyText`, so a resumed reply is told from it). */
  interruptReplyText: string;
  /** Speech detector section: the `SPEECH_DETECTOR` settings compared, each at `detectorCalls` calls. */
  detectors: SpeechDetectorSetting[];
  /** Speech detector section: calls per setting; 0 skips the section. */
  detectorCalls: number;
  /**
   * Sections reuse a run the ladder (or an earlier section) made with the same settings and calls,
   * instead of making it again right before its pair. Off by default: a pair run back to back shares
   * the machine's load; `--quick` turns it on to save time.
   */
  reuseRuns: boolean;
  /** `NODE_OPTIONS` of the gateway child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it; '' = none. */
  gatewayNodeOptions: string;
  /** What the model answers: two sentences, so the second is generated while the first plays. */
  replyText: string;
  /** `AGENT_GREETING` of the gateway under test (short, so calls are short). */
  greeting: string;
  /** Caller turns per call (a barge-in call has at least 2: the second interrupts the first reply). */
  turns: number;
  /** Every `bargeInEvery`-th call (the 1st, the (k+1)th, …) interrupts its first reply; 0 = none. */
  bargeInEvery: number;
  /** How long after the first reply starts playing the interrupting caller speaks. */
  bargeInAfterMs: number;
  /** Call starts are spread evenly over this long, so N calls do not all connect in one tick. */
  rampMs: number;
  /** Silence after the agent's audio that the caller takes as the end of its turn. */
  quietMs: number;
  /** Load-generator processes per level (calls are dealt round-robin); 0 = one per 100 calls. */
  loadProcesses: number;
  /** A level fails when more than this share of its calls did not complete (0.01 = 1 %). */
  maxFailedShare: number;
  /** Where latest.json / latest.md / latest.png go. */
  outDir: string;
}

/**
 * The defaults (the latencies are the example: STT final 150 ms, first token 300 ms, TTS 200 ms).
 * Streaming synthesis gets its first chunk after as long as a unary answer takes (`ttsFirstChunkMs` =
 * `ttsMs`), so the two paths are compared at the same service latency and what differs is the path.
 */
export function defaultConfig(root: string): BenchConfig {
  return {
    levels: [...DEFAULT_LEVELS],
    sttFinalMs: 150,
    sttEndSilenceMs: 300,
    llmFirstTokenMs: 300,
    llmChunkMs: 10,
    ttsMs: 200,
    ttsMsPerChar: 40,
    ttsFirstChunkMs: 200,
    ttsChunkMs: 100,
    ttsRealTimeFactor: 0.2,
    ttsPath: 'unary',
    unaryVoice: 'he-IL-Wavenet-A',
    streamingVoice: 'he-IL-Chirp3-HD-Achernar',
    speechDetector: 'auto',
    ttsPaths: [...TTS_PATHS],
    ttsCalls: 10,
    interruptCalls: 20,
    backchannelText: 'כן',
    interruptText: 'רגע, שאלה',
    interruptReplyText: 'כן, בבקשה, מה רציתם לשאול?',
    detectors: [...SPEECH_DETECTORS],
    detectorCalls: 100,
    gatewayNodeOptions: '',
    reuseRuns: false,
    replyText: 'בשמחה, אני בודק את ההזמנה שלכם. היא בדרך ותגיע אליכם מחר בבוקר.',
    greeting: 'שלום, במה אפשר לעזור?',
    turns: 2,
    bargeInEvery: 4,
    bargeInAfterMs: 400,
    rampMs: 1000,
    quietMs: 800,
    loadProcesses: 0,
    maxFailedShare: 0.01,
    outDir: path.join(root, 'tools', 'bench', 'results'),
  };
}

/** Usage text for `--help`. */
export const USAGE = `usage: npm run bench -- [options]

Runs N concurrent simulated calls per level against a local gateway (a child process, like npm start)
with emulated STT/LLM/TTS at fixed latencies; then the sections: first audio on the unary and streaming
synthesis paths, acknowledgements vs real interruptions over a reply, and SPEECH_DETECTOR auto vs energy.
Writes latest.json, latest.md and latest.png.

  --levels 1,10,50           concurrent calls per level (default ${DEFAULT_LEVELS.join(',')})
  --stt-final-ms MS          STT emulator: delay before each final (default 150)
  --stt-end-silence-ms MS    STT emulator: silence that ends an utterance, audio time (default 300)
  --llm-first-token-ms MS    LLM emulator: time to first token (default 300)
  --llm-chunk-ms MS          LLM emulator: gap between 3-character chunks (default 10)
  --tts-ms MS                TTS emulator: latency of every unary synthesis (default 200)
  --tts-first-chunk-ms MS    TTS emulator, streaming: time to the first chunk (default: --tts-ms)
  --tts-chunk-ms MS          TTS emulator, streaming: audio per chunk (default 100)
  --tts-rtf F                TTS emulator, streaming: ms to produce 1 ms of audio (default 0.2)
  --tts-streaming            the ladder's gateway streams synthesis (a Chirp 3 HD voice); default unary
  --speech-detector auto|energy  the ladder's SPEECH_DETECTOR (default auto)
  --tts-paths unary,streaming    TTS section: paths compared (default both)
  --tts-calls N              TTS section: calls per path; 0 = skip (default 10; --quick: the first level)
  --interrupt-calls N        interruptions section: calls per kind; 0 = skip (default 20; --quick: 1)
  --detectors auto,energy    speech detector section: settings compared (default both)
  --detector-calls N         speech detector section: calls per setting; 0 = skip (default 100; --quick: the first level)
  --turns N                  caller turns per call (default 2)
  --barge-in-every K         every K-th call interrupts its first reply; 0 = never (default 4)
  --ramp-ms MS               spread call starts over this long (default 1000)
  --load-processes N         load-generator processes; 0 = one per 100 calls (default 0)
  --max-failed-pct P         fail a level when more than P % of its calls fail (default 1)
  --out-dir DIR              where results go (default tools/bench/results)
  --reuse                    sections reuse the ladder's run of the same settings and size (default: each
                             pair runs back to back; --quick reuses)
  --gateway-node-options=S   NODE_OPTIONS for the gateway child (e.g. --gateway-node-options="--cpu-prof --cpu-prof-dir=/tmp/prof")
  --quick                    short calls: 1 turn, barge-in on every 2nd call, 300 ms ramp, 500 ms quiet;
                             small sections (runs the ladder already made are reused)

Exit code: 0 every level within tolerance and no protocol violations; 1 otherwise; 2 bad usage.`;

/** Thrown for a command line the user has to fix. */
export class UsageError extends Error {}

const MS_FLAGS = {
  'stt-final-ms': 'sttFinalMs',
  'stt-end-silence-ms': 'sttEndSilenceMs',
  'llm-first-token-ms': 'llmFirstTokenMs',
  'llm-chunk-ms': 'llmChunkMs',
  'tts-ms': 'ttsMs',
  'ramp-ms': 'rampMs',
  'barge-in-every': 'bargeInEvery',
  'load-processes': 'loadProcesses',
  'tts-first-chunk-ms': 'ttsFirstChunkMs',
  'tts-chunk-ms': 'ttsChunkMs',
  'tts-calls': 'ttsCalls',
  'interrupt-calls': 'interruptCalls',
  'detector-calls': 'detectorCalls',
} as const;

/**
 * Parses the command line over the defaults. Returns undefined for `--help`.
 * @throws UsageError (or parseArgs' TypeError for unknown flags).
 */
export function parseBenchArgs(argv: string[], root: string): BenchConfig | undefined {
  const flags = Object.fromEntries(Object.keys(MS_FLAGS).map((k) => [k, { type: 'string' as const }]));
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      ...flags,
      levels: { type: 'string' },
      turns: { type: 'string' },
      'max-failed-pct': { type: 'string' },
      'out-dir': { type: 'string' },
      'tts-rtf': { type: 'string' },
      'tts-streaming': { type: 'boolean' },
      'speech-detector': { type: 'string' },
      'tts-paths': { type: 'string' },
      detectors: { type: 'string' },
      'gateway-node-options': { type: 'string' },
      reuse: { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const c = defaultConfig(root);
  if (values.quick)
    Object.assign(c, { turns: 1, bargeInEvery: 2, rampMs: 300, quietMs: 500, interruptCalls: 1, reuseRuns: true });
  if (values.reuse) c.reuseRuns = true;
  const whole = (flag: string, raw: string, min: number): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min)
      throw new UsageError(`--${flag} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  for (const [flag, key] of Object.entries(MS_FLAGS) as Array<
    [keyof typeof MS_FLAGS, (typeof MS_FLAGS)[keyof typeof MS_FLAGS]]
  >) {
    const raw = (values as Record<string, unknown>)[flag];
    if (typeof raw === 'string') c[key] = whole(flag, raw, 0);
  }
  if (values.levels !== undefined) c.levels = values.levels.split(',').map((s) => whole('levels', s.trim(), 1));
  // Unless given, the streaming path's first chunk takes as long as a unary answer, and --quick
  // sections run at the first level, so they reuse the ladder's runs.
  const given = (flag: keyof typeof MS_FLAGS) => typeof (values as Record<string, unknown>)[flag] === 'string';
  if (!given('tts-first-chunk-ms')) c.ttsFirstChunkMs = c.ttsMs;
  if (values.quick && !given('tts-calls')) c.ttsCalls = c.levels[0] ?? c.ttsCalls;
  if (values.quick && !given('detector-calls')) c.detectorCalls = c.levels[0] ?? c.detectorCalls;
  if (values['tts-rtf'] !== undefined) {
    const f = Number(values['tts-rtf']);
    if (!/^\d+(\.\d+)?$/.test(values['tts-rtf']) || !(f > 0 && f <= 10))
      throw new UsageError(
        `--tts-rtf must be a number above 0 and at most 10, got ${JSON.stringify(values['tts-rtf'])}`,
      );
    c.ttsRealTimeFactor = f;
  }
  if (c.ttsChunkMs < 1) throw new UsageError('--tts-chunk-ms must be ≥ 1');
  if (values['tts-streaming']) c.ttsPath = 'streaming';
  if (values['speech-detector'] !== undefined)
    c.speechDetector = oneOf('speech-detector', values['speech-detector'], SPEECH_DETECTORS);
  if (values['tts-paths'] !== undefined) c.ttsPaths = listOf('tts-paths', values['tts-paths'], TTS_PATHS);
  if (values['gateway-node-options'] !== undefined) c.gatewayNodeOptions = values['gateway-node-options'];
  if (values.detectors !== undefined) c.detectors = listOf('detectors', values.detectors, SPEECH_DETECTORS);
  if (values.turns !== undefined) c.turns = whole('turns', values.turns, 1);
  if (values['max-failed-pct'] !== undefined) {
    const p = Number(values['max-failed-pct']);
    if (!(p >= 0 && p <= 100)) throw new UsageError(`--max-failed-pct must be 0–100, got ${values['max-failed-pct']}`);
    c.maxFailedShare = p / 100;
  }
  if (values['out-dir'] !== undefined) c.outDir = path.resolve(values['out-dir']);
  return c;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  const v = raw.trim() as T;
  if (!allowed.includes(v))
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return v;
}

/** A comma-separated list of distinct allowed values, in the order given. */
function listOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => oneOf(flag, s, allowed));
  if (new Set(items).size !== items.length) throw new UsageError(`--${flag} lists a value twice: ${raw}`);
  return items;
}
