/**
 * Turns what a level produced (client samples, gateway log records, two /metrics snapshots, the
 * emulators' and load processes' own figures) into the level's result. Pure: no I/O.
 */
import type { EmulatorStats } from './emulator-host.ts';
import type { LogRecord } from './gateway-process.ts';
import { summarizeInterruptions, type InterruptionSummary } from './interruptions.ts';
import type { RunVariant } from './level.ts';
import type { CallSample, LoadDone } from './load-process.ts';
import type { GatewaySnapshot } from './prom.ts';
import type { SamplerResult } from './sampler.ts';
import { peakOverlap, round, summarize, type Summary } from './stats.ts';

/** Everything measured at one level; `latest.json` holds one per level. Times in ms unless named otherwise. */
export interface LevelResult {
  calls: number;
  /** The gateway's synthesis path and speech detector setting, and the calls' scenario. */
  variant: RunVariant;
  /** What told speech from silence: 'model' (SPEECH_DETECTOR_READY was logged) or 'energy' (VAD_RMS). */
  speechDetectorInUse: 'model' | 'energy';
  /** Calls `runCall` judged ok: completed, no violations, the caller heard something. */
  completed: number;
  failed: number;
  /** Up to 5 distinct reasons calls failed. */
  failures: string[];
  /** Protocol violations in what the gateway sent (all calls), and their codes. */
  violations: number;
  violationCodes: Record<string, number>;
  /** Most calls that were in progress at the same instant (client side). */
  peakConcurrentCalls: number;
  /** First call start → last call end. */
  wallMs: number;
  /** Gateway `TURN.overheadMs`: time the gateway itself added between provider events. */
  overheadMs: Summary;
  /** Client: caller end of speech → first reply audio played. */
  voiceToVoiceMs: Summary;
  /** Client: caller end of speech → first reply audio received. */
  receiveMs: Summary;
  /** Gateway `TURN.firstMediaMs`: its own view of end of speech → first reply audio sent. */
  gatewayFirstMediaMs: Summary;
  /** Every `TURN` component (ms from the gateway's end of speech), to see where the time goes. */
  turnComponentsMs: Record<(typeof TURN_FIELDS)[number], Summary>;
  /**
   * Provider waits per turn as the gateway saw them, to compare with the configured latencies:
   * end of speech → STT final, model request → first token, first token → first sentence, TTS request → audio.
   */
  stagesMs: { sttFinal: Summary; llmFirstToken: Summary; llmFirstSentence: Summary; tts: Summary };
  bargeIn: {
    /** Calls that interrupted their first reply, and how many of them got a `clear`. */
    calls: number;
    cleared: number;
    /** Client: interrupting speech onset → `clear` received (includes BARGE_IN_MIN_MS of speech by design). */
    clientMs: Summary;
    /** Gateway `BARGE_IN.reactionMs`: first speech frame → interruption decided. */
    gatewayReactionMs: Summary;
  };
  /** Interruption scenarios only: what the speech over the reply did, from the caller's side and the gateway's log. */
  interruptions?: InterruptionSummary;
  /** Streamed replies (`TTS_STREAM` records): how many, and the gateway's text → first chunk time. */
  ttsStream: { replies: number; firstChunkMs: Summary };
  gateway: {
    /** Event-loop delay over the level, beyond prom-client's 10 ms sampling period. */
    loopDelayP50Ms: number | null;
    loopDelayP99Ms: number | null;
    loopDelayMaxMs: number | null;
    cpuMs: number;
    cpuMsPerCall: number;
    /** CPU time ÷ wall time: 1.0 = one core fully busy. */
    cpuCores: number;
    rssBaselineMB: number;
    rssPeakMB: number;
    /** (peak RSS − baseline RSS) ÷ calls. */
    rssMBPerCall: number;
    inboundFrames: number;
    /** Handling one inbound media frame (parse, decode, VAD, STT write), µs. */
    usPerFrame: number | null;
    callsByOutcome: Record<string, number>;
    providerErrors: number;
    /** Warning/error log lines during the level, by event. */
    warnings: Record<string, number>;
  };
  emulators: EmulatorStats & { cpuCores: number };
  /**
   * All CPUs of the machine: share busy over the level and in its busiest second (0–1), and roughly
   * how many cores went to processes that are not part of the benchmark (another job on the machine).
   */
  machine: { cpus: number; cpuBusy: number; cpuBusyPeak: number; otherCores: number };
  loadGenerator: {
    processes: number;
    /** Worst of the load processes' event-loop delay p99 / max (beyond the 10 ms sampling period). */
    loopDelayP99Ms: number;
    loopDelayMaxMs: number;
    cpuMs: number;
    cpuCores: number;
    /** Caller frames never sent because a load process stalled for more than 3 frames. */
    framesSkipped: number;
  };
  /** Within tolerance and no violations. */
  ok: boolean;
  /** Why not ok. */
  verdict: string[];
}

/** The raw material of one level. */
export interface LevelInput {
  calls: number;
  variant: RunVariant;
  speechDetectorInUse: 'model' | 'energy';
  startAt: number;
  done: LoadDone[];
  before: GatewaySnapshot;
  after: GatewaySnapshot;
  sampled: SamplerResult;
  /** CPU of the benchmark's own process (parsing the gateway's log, sampling) during the level. */
  benchCpuMs: number;
  gatewayLoopResolutionMs: number;
  turns: LogRecord[];
  bargeIns: LogRecord[];
  backchannels: LogRecord[];
  ttsStreams: LogRecord[];
  problems: Record<string, number>;
  emulators: EmulatorStats;
  maxFailedShare: number;
}

const MB = 1024 * 1024;

/** The cumulative `TURN` fields, in pipeline order. */
export const TURN_FIELDS = [
  'sttFinalMs',
  'committedMs',
  'llmRequestMs',
  'firstTokenMs',
  'firstSentenceMs',
  'ttsStartMs',
  'ttsDoneMs',
  'firstMediaMs',
  'firstMarkMs',
] as const;

/** `to − from` for each record that has both (numbers). */
function gaps(records: LogRecord[], from: string, to: string): number[] {
  return records.flatMap((r) =>
    typeof r[from] === 'number' && typeof r[to] === 'number' ? [(r[to] as number) - (r[from] as number)] : [],
  );
}

/** Computes a {@link LevelResult}. */
export function measureLevel(i: LevelInput): LevelResult {
  const samples: CallSample[] = i.done.flatMap((d) => d.samples);
  const failedSamples = samples.filter((s) => !s.ok);
  const violationCodes: Record<string, number> = {};
  for (const code of samples.flatMap((s) => s.violationCodes)) violationCodes[code] = (violationCodes[code] ?? 0) + 1;
  const violations = samples.reduce((t, s) => t + s.violations, 0);
  const numbers = (records: LogRecord[], field: string) =>
    records.map((r) => r[field]).filter((v): v is number => typeof v === 'number');
  const bargeCalls = samples.filter((s) => s.bargeIn);
  const cleared = bargeCalls.flatMap((s) => (s.bargeInMs === null ? [] : [s.bargeInMs]));
  const wallMs = Math.max(1, Math.max(...samples.map((s) => s.endedAt), i.startAt) - i.startAt);
  const cpuMs = (i.after.cpuSeconds - i.before.cpuSeconds) * 1000;
  // /proc sampling only works on Linux; the final scrape's RSS is a floor elsewhere.
  const peakRss = Math.max(i.sampled.peakRssBytes, i.after.rssBytes);
  const loadCpuMs = i.done.reduce((t, d) => t + d.cpuMs, 0);
  const frames = i.after.inboundFrames - i.before.inboundFrames;
  const loop = (v: number | null) => (v === null ? null : round(Math.max(0, v * 1000 - i.gatewayLoopResolutionMs)));
  const outcomes: Record<string, number> = {};
  for (const [k, v] of Object.entries(i.after.callsByOutcome)) {
    const d = v - (i.before.callsByOutcome[k] ?? 0);
    if (d > 0) outcomes[k] = d;
  }

  const failedShare = i.calls > 0 ? failedSamples.length / i.calls : 0;
  const verdict: string[] = [];
  if (samples.length < i.calls) verdict.push(`${i.calls - samples.length} call(s) never reported`);
  if (failedShare > i.maxFailedShare) {
    verdict.push(
      `${failedSamples.length} of ${i.calls} calls failed (${(failedShare * 100).toFixed(1)} % > ${(i.maxFailedShare * 100).toFixed(1)} % tolerated)`,
    );
  }
  if (violations > 0) verdict.push(`${violations} protocol violation(s): ${Object.keys(violationCodes).join(', ')}`);

  return {
    calls: i.calls,
    variant: i.variant,
    speechDetectorInUse: i.speechDetectorInUse,
    completed: samples.length - failedSamples.length,
    failed: i.calls - (samples.length - failedSamples.length),
    failures: [...new Set(failedSamples.flatMap((s) => s.problems))].slice(0, 5),
    violations,
    violationCodes,
    peakConcurrentCalls: peakOverlap(samples.map((s) => ({ start: s.startedAt, end: s.endedAt }))),
    wallMs,
    overheadMs: summarize(numbers(i.turns, 'overheadMs')),
    voiceToVoiceMs: summarize(samples.flatMap((s) => s.voiceToVoiceMs)),
    receiveMs: summarize(samples.flatMap((s) => s.receiveMs)),
    gatewayFirstMediaMs: summarize(numbers(i.turns, 'firstMediaMs')),
    stagesMs: {
      sttFinal: summarize(numbers(i.turns, 'sttFinalMs')),
      llmFirstToken: summarize(gaps(i.turns, 'llmRequestMs', 'firstTokenMs')),
      llmFirstSentence: summarize(gaps(i.turns, 'firstTokenMs', 'firstSentenceMs')),
      tts: summarize(gaps(i.turns, 'ttsStartMs', 'ttsDoneMs')),
    },
    turnComponentsMs: Object.fromEntries(
      TURN_FIELDS.map((f) => [f, summarize(numbers(i.turns, f))]),
    ) as LevelResult['turnComponentsMs'],
    bargeIn: {
      calls: bargeCalls.length,
      cleared: cleared.length,
      clientMs: summarize(cleared),
      gatewayReactionMs: summarize(numbers(i.bargeIns, 'reactionMs')),
    },
    ...(i.variant.scenario === 'standard' ? {} : { interruptions: interruptions(i, samples) }),
    ttsStream: { replies: i.ttsStreams.length, firstChunkMs: summarize(numbers(i.ttsStreams, 'firstChunkMs')) },
    gateway: {
      loopDelayP50Ms: loop(i.after.loopP50Seconds),
      loopDelayP99Ms: loop(i.after.loopP99Seconds),
      loopDelayMaxMs: loop(i.after.loopMaxSeconds),
      cpuMs: round(cpuMs) ?? 0,
      cpuMsPerCall: round(cpuMs / Math.max(1, i.calls)) ?? 0,
      cpuCores: round(cpuMs / wallMs) ?? 0,
      rssBaselineMB: round(i.before.rssBytes / MB) ?? 0,
      rssPeakMB: round(peakRss / MB) ?? 0,
      rssMBPerCall: round(Math.max(0, peakRss - i.before.rssBytes) / MB / Math.max(1, i.calls)) ?? 0,
      inboundFrames: frames,
      usPerFrame: frames > 0 ? round(((i.after.frameSeconds - i.before.frameSeconds) / frames) * 1e6) : null,
      callsByOutcome: outcomes,
      providerErrors: i.after.providerErrors - i.before.providerErrors,
      warnings: i.problems,
    },
    emulators: {
      ...i.emulators,
      cpuMs: round(i.emulators.cpuMs) ?? 0,
      cpuCores: round(i.emulators.cpuMs / wallMs) ?? 0,
      loopDelayP99Ms: round(i.emulators.loopDelayP99Ms) ?? 0,
    },
    machine: {
      cpus: i.sampled.cpus,
      cpuBusy: round(i.sampled.cpuBusy) ?? 0,
      cpuBusyPeak: round(i.sampled.cpuBusyPeak) ?? 0,
      otherCores:
        round(
          Math.max(
            0,
            i.sampled.cpuBusy * i.sampled.cpus - (cpuMs + i.emulators.cpuMs + loadCpuMs + i.benchCpuMs) / wallMs,
          ),
        ) ?? 0,
    },
    loadGenerator: {
      processes: i.done.length,
      loopDelayP99Ms: round(Math.max(0, ...i.done.map((d) => d.loopDelayP99Ms))) ?? 0,
      loopDelayMaxMs: round(Math.max(0, ...i.done.map((d) => d.loopDelayMaxMs))) ?? 0,
      cpuMs: round(loadCpuMs) ?? 0,
      cpuCores: round(loadCpuMs / wallMs) ?? 0,
      framesSkipped: samples.reduce((t, s) => t + s.framesSkipped, 0),
    },
    ok: verdict.length === 0,
    verdict,
  };
}

/** The interruption scenario's summary: the callers' samples, joined with the gateway's records by CallSid. */
function interruptions(i: LevelInput, samples: CallSample[]): InterruptionSummary {
  const kind = i.variant.scenario === 'backchannel' ? 'backchannel' : 'interrupt';
  const sids = new Set(samples.map((s) => s.callSid));
  const ours = (records: LogRecord[]) => records.filter((r) => sids.has(String(r['callSid'])));
  const callsWith = (records: LogRecord[]) => new Set(ours(records).map((r) => r['callSid'])).size;
  const reaction = ours(i.bargeIns).flatMap((r) => (typeof r['reactionMs'] === 'number' ? [r['reactionMs']] : []));
  return summarizeInterruptions(
    kind,
    samples.flatMap((s) => (s.interruption ? [s.interruption] : [])),
    { backchannelCalls: callsWith(i.backchannels), bargeInCalls: callsWith(i.bargeIns), reactionMs: reaction },
  );
}
