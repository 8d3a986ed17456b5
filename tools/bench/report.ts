/**
 * The benchmark's outputs: `latest.json` (config, machine, every level's raw numbers) and
 * `latest.md` (the table, what each column means, the settings). The table is also what the CLI prints.
 */
import os from 'node:os';
import type { LevelResult } from './measure.ts';
import type { BenchConfig } from './options.ts';
import { sectionsMarkdown } from './report-sections.ts';
import type { BenchSections } from './sections.ts';

/** The contents of `latest.json`. */
export interface BenchResults {
  /** ISO time the run finished. */
  finishedAt: string;
  config: BenchConfig;
  /** `cpuBusyBeforeStart`: share of the CPUs busy in the second before the first level (other jobs). */
  machine: {
    cpus: number;
    cpuModel: string;
    totalMemMB: number;
    platform: string;
    node: string;
    cpuBusyBeforeStart: number;
  };
  levels: LevelResult[];
  /** Synthesis paths, interruptions, speech detector (sections.ts). */
  sections: BenchSections;
  ok: boolean;
}

/** What the run was measured on. */
export function machineInfo(): Omit<BenchResults['machine'], 'cpuBusyBeforeStart'> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemMB: Math.round(os.totalmem() / (1024 * 1024)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

const COLUMNS = [
  'calls',
  'completed',
  'violations',
  'overhead p50/p95/p99/max ms',
  'voice-to-voice p50/p95 ms',
  'barge-in p50/p95 ms',
  'gw loop p99 ms',
  'CPU ms/call',
  'RSS MB/call',
  'µs/frame',
  'loadgen loop p99 ms',
] as const;

/** Column headings of the table, in order (tests check them). */
export const TABLE_COLUMNS: readonly string[] = COLUMNS;

const fmt = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined ? '–' : v.toFixed(digits);
const joined = (values: Array<number | null>, digits = 1) => values.map((v) => fmt(v, digits)).join(' / ');

/** The results table in Markdown, one row per level. */
export function markdownTable(levels: readonly LevelResult[]): string {
  const rows = levels.map((l) => [
    String(l.calls),
    `${l.completed}${l.failed > 0 ? ` (${l.failed} failed)` : ''}`,
    String(l.violations),
    joined([l.overheadMs.p50, l.overheadMs.p95, l.overheadMs.p99, l.overheadMs.max]),
    joined([l.voiceToVoiceMs.p50, l.voiceToVoiceMs.p95], 0),
    joined([l.bargeIn.clientMs.p50, l.bargeIn.clientMs.p95], 0),
    fmt(l.gateway.loopDelayP99Ms),
    fmt(l.gateway.cpuMsPerCall, 0),
    fmt(l.gateway.rssMBPerCall, 2),
    fmt(l.gateway.usPerFrame),
    fmt(l.loadGenerator.loopDelayP99Ms),
  ]);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(COLUMNS), line(COLUMNS.map(() => '---:')), ...rows.map(line)].join('\n');
}

/**
 * The shortest possible voice-to-voice with these emulator settings: STT end-of-utterance silence and
 * final delay, first token, the chunks of the first sentence, one synthesis. Everything above it is
 * turn-taking, playout and the gateway.
 */
export function providerFloorMs(c: BenchConfig): number {
  const firstSentence = c.replyText.split(/(?<=[.!?])\s/u)[0] ?? c.replyText;
  const chunks = Math.ceil([...firstSentence].length / 3);
  return c.sttEndSilenceMs + c.sttFinalMs + c.llmFirstTokenMs + chunks * c.llmChunkMs + c.ttsMs;
}

const pct = (v: number) => `${Math.round(v * 100)}`;
const pair = (s: { p50: number | null; p95: number | null }) => joined([s.p50, s.p95], 0);

/** Who used the machine, and whether the load generator kept up. */
function loadTable(levels: readonly LevelResult[]): string {
  const head = [
    'calls',
    'peak concurrent',
    'machine CPU busy avg / peak 1 s %',
    'cores: gateway / emulators / load gen / other',
    'gw loop max ms',
    'loadgen loop max ms',
    'caller frames skipped',
  ];
  const rows = levels.map((l) => [
    String(l.calls),
    String(l.peakConcurrentCalls),
    `${pct(l.machine.cpuBusy)} / ${pct(l.machine.cpuBusyPeak)}`,
    joined([l.gateway.cpuCores, l.emulators.cpuCores, l.loadGenerator.cpuCores, l.machine.otherCores], 2),
    fmt(l.gateway.loopDelayMaxMs, 0),
    fmt(l.loadGenerator.loopDelayMaxMs, 0),
    String(l.loadGenerator.framesSkipped),
  ]);
  return [head, head.map(() => '---:'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Provider waits as the gateway saw them, against what the emulators were told. */
function stagesTable(levels: readonly LevelResult[], c: BenchConfig): string {
  const head = [
    'calls',
    `STT final (set ${c.sttEndSilenceMs}+${c.sttFinalMs})`,
    `LLM first token (set ${c.llmFirstTokenMs})`,
    'LLM first sentence',
    `TTS (set ${c.ttsMs})`,
    'first media sent (gateway)',
    'first audio played (caller)',
  ];
  const rows = levels.map((l) => [
    String(l.calls),
    pair(l.stagesMs.sttFinal),
    pair(l.stagesMs.llmFirstToken),
    pair(l.stagesMs.llmFirstSentence),
    pair(l.stagesMs.tts),
    pair(l.gatewayFirstMediaMs),
    pair(l.voiceToVoiceMs),
  ]);
  return [head, head.map(() => '---:'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The whole of `latest.md`. */
export function markdownReport(r: BenchResults): string {
  const c = r.config;
  const floor = providerFloorMs(c);
  const notes = r.levels.flatMap((l) => [
    ...l.verdict.map((v) => `- **${l.calls} calls: ${v}.**`),
    ...(l.failures.length ? [`- ${l.calls} calls, failure reasons: ${l.failures.join('; ')}`] : []),
    ...(Object.keys(l.gateway.warnings).length
      ? [`- ${l.calls} calls, gateway warnings/errors: ${JSON.stringify(l.gateway.warnings)}`]
      : []),
  ]);
  return `# Voice gateway benchmark

${r.finishedAt} · ${r.machine.cpus} × ${r.machine.cpuModel} · ${r.machine.totalMemMB} MB · Node ${r.machine.node} · machine ${pct(r.machine.cpuBusyBeforeStart)} % busy before the start · ${r.ok ? 'all levels within tolerance' : '**FAILED**'}

${markdownTable(r.levels)}
${notes.length ? `\n${notes.join('\n')}\n` : ''}
Gateway: ${c.ttsPath} synthesis (\`TTS_VOICE=${c.ttsPath === 'streaming' ? c.streamingVoice : c.unaryVoice}\`), \`SPEECH_DETECTOR=${c.speechDetector}\`${detectorNote(r.levels)}.
Emulators: STT final ${c.sttFinalMs} ms after ${c.sttEndSilenceMs} ms of silence, LLM first token ${c.llmFirstTokenMs} ms
(then ${c.llmChunkMs} ms per 3 characters), TTS ${c.ttsMs} ms (${c.ttsMsPerChar} ms of audio per character). Calls: ${c.turns}
turn(s) of 2.16 s of Hebrew speech; ${c.bargeInEvery > 0 ? `every ${c.bargeInEvery}th call (the 1st, the ${c.bargeInEvery + 1}th, …) interrupts its first reply ${c.bargeInAfterMs} ms after it starts playing` : 'no barge-in'};
starts spread evenly over ${c.rampMs} ms, so the calls' turns fall within about that window of each other (a synchronized burst,
harsher than random arrivals). Provider floor of voice-to-voice: ${floor} ms.

## Columns

- **calls**: concurrent simulated calls (each a full Twilio-like call run by \`runCall\`); every level runs on fresh processes after one uncounted warm-up call.
- **completed**: calls with no problem (completed, nothing invalid sent by the gateway, the caller heard audio).
- **violations**: messages from the gateway that Twilio would refuse or that break a project rule, over all calls.
- **overhead**: the gateway's \`TURN.overheadMs\` per turn: time it adds between the emulators' events (commit → model request, sentence → TTS request, audio → first media sent). Pure gateway cost; this is the number that must stay flat.
- **voice-to-voice**: caller's end of speech → first reply audio *played* at the caller (client clock). ${floor} ms of it is the emulators' configured latencies (floor); the rest is the gateway, the network stack and waiting for a CPU. The interrupting turn of a barge-in call is recognised (the STT emulator's default script) as "המספר הוא שלוש שבע אחת שתיים", which ends in a number: the gateway then waits \`EOU_DIGITS_MS\` (1200 ms) of silence for more digits before answering, so that turn is about 0.8 s slower by design and shows in p95.
- **barge-in**: onset of the interrupting speech → \`clear\` received (client clock). Includes the 200 ms of speech (\`BARGE_IN_MIN_MS\`) the gateway waits for by design; the gateway's own \`BARGE_IN.reactionMs\` is in latest.json.
- **gw loop p99**: the gateway's event-loop delay p99 over the level (prom-client's histogram, scraped right before the first call and after the last; its 10 ms sampling period subtracted). Late loop = late audio for every call.
- **CPU ms/call**: gateway CPU time during the level ÷ calls (\`process_cpu_seconds_total\`).
- **RSS MB/call**: (peak RSS during the level − RSS before it) ÷ calls.
- **µs/frame**: gateway time handling one inbound 20 ms frame (parse, μ-law decode, VAD, STT write): \`voice_media_frame_processing_seconds_total\` ÷ inbound media messages.
- **loadgen loop p99**: the load generator's own event-loop delay p99 (worst process). When it grows, client-side latencies (voice-to-voice, barge-in) include the load generator's lateness; gateway-side figures (overhead, loop, CPU) do not.

## Load on the machine

Gateway, emulators and load generator share the machine's ${r.machine.cpus} CPUs. Near 100 % busy, every latency includes
waiting for a core. "other" is CPU the machine spent outside the benchmark's processes (another job running at the
same time: those levels are contaminated). Caller frames skipped mean a load process stalled for more than 60 ms.

${loadTable(r.levels)}

## Where the time goes (p50 / p95 ms, gateway clock)

Provider waits per turn, from the \`TURN\` log, against the configured latencies; the last two columns are from the caller's end of speech.

${stagesTable(r.levels, c)}

${sectionsMarkdown(r.sections, c)}`;
}

/** Says when the model was asked for and did not load (the levels then measured the energy VAD). */
function detectorNote(levels: readonly LevelResult[]): string {
  const fellBack = levels.filter((l) => l.variant.speechDetector === 'auto' && l.speechDetectorInUse !== 'model');
  return fellBack.length
    ? ` (**the model did not load at ${fellBack.map((l) => l.calls).join(', ')} calls: energy VAD used**)`
    : '';
}
