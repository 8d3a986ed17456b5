/**
 * The benchmark's settings and its command line. Every setting has a default, so `npm run bench`
 * alone runs the full ladder; `--quick` shortens calls (one turn, short waits) for smoke runs.
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
  'replyText',
] as const;

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

/** The defaults (the latencies are the example: STT final 150 ms, first token 300 ms, TTS 200 ms). */
export function defaultConfig(root: string): BenchConfig {
  return {
    levels: [...DEFAULT_LEVELS],
    sttFinalMs: 150,
    sttEndSilenceMs: 300,
    llmFirstTokenMs: 300,
    llmChunkMs: 10,
    ttsMs: 200,
    ttsMsPerChar: 40,
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
with emulated STT/LLM/TTS at fixed latencies, and writes latest.json, latest.md and latest.png.

  --levels 1,10,50           concurrent calls per level (default ${DEFAULT_LEVELS.join(',')})
  --stt-final-ms MS          STT emulator: delay before each final (default 150)
  --stt-end-silence-ms MS    STT emulator: silence that ends an utterance, audio time (default 300)
  --llm-first-token-ms MS    LLM emulator: time to first token (default 300)
  --llm-chunk-ms MS          LLM emulator: gap between 3-character chunks (default 10)
  --tts-ms MS                TTS emulator: latency of every synthesis (default 200)
  --turns N                  caller turns per call (default 2)
  --barge-in-every K         every K-th call interrupts its first reply; 0 = never (default 4)
  --ramp-ms MS               spread call starts over this long (default 1000)
  --load-processes N         load-generator processes; 0 = one per 100 calls (default 0)
  --max-failed-pct P         fail a level when more than P % of its calls fail (default 1)
  --out-dir DIR              where results go (default tools/bench/results)
  --quick                    short calls: 1 turn, barge-in on every 2nd call, 300 ms ramp, 500 ms quiet

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
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const c = defaultConfig(root);
  if (values.quick) Object.assign(c, { turns: 1, bargeInEvery: 2, rampMs: 300, quietMs: 500 });
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
  if (values.turns !== undefined) c.turns = whole('turns', values.turns, 1);
  if (values['max-failed-pct'] !== undefined) {
    const p = Number(values['max-failed-pct']);
    if (!(p >= 0 && p <= 100)) throw new UsageError(`--max-failed-pct must be 0–100, got ${values['max-failed-pct']}`);
    c.maxFailedShare = p / 100;
  }
  if (values['out-dir'] !== undefined) c.outDir = path.resolve(values['out-dir']);
  return c;
}
