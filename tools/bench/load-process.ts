/**
 * A load-generator process: places its share of a level's calls with `runCall` (each a full
 * Twilio-like call: webhooks, real-time 20 ms frames, playout with mark echoes, validation) and
 * reports one {@link CallSample} per call plus its own event-loop delay and CPU. The delay is the
 * yardstick of trust: when this loop is late, frames leave late (or are skipped) and playout is
 * observed late, so client-side latencies grow for reasons that are not the gateway's.
 *
 * Protocol (IPC, `child_process.fork`): the child sends `{ type: 'ready' }` once its modules are
 * loaded; the parent sends one {@link LoadPlan}; the child answers one {@link LoadDone} when every
 * call has ended, then exits when the parent disconnects.
 */
import { readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCall } from '../call/run-call.ts';
import type { CallReport } from '../call/run-call.ts';
import { randomSid } from '../twilio/twilio-http.ts';
import { interruptionSample } from './interruptions.ts';
import type { InterruptionKind, InterruptionSample, ReplyReference } from './interruptions.ts';

/** One call to place. */
export interface PlannedCall {
  index: number;
  /** Offset from the plan's `startAt` (the ramp). */
  offsetMs: number;
  turns: number;
  /** Set for calls that interrupt their first reply this long after it starts playing. */
  bargeInAfterMs?: number;
  /** What the caller says over the reply, when it is not the plan's `audioPath` (raw μ-law file). */
  bargeInAudioPath?: string;
  /** Interruptions section: the kind of speech over the reply, analysed against the plan's `reference`. */
  interruption?: InterruptionKind;
}

/** What the parent asks one load process to do. */
export interface LoadPlan {
  type: 'plan';
  base: string;
  audioPath: string;
  quietMs: number;
  /** Epoch ms (Date.now) at which offset 0 falls, the same for every load process. */
  startAt: number;
  calls: PlannedCall[];
  /** Reply 1 heard whole (the warm-up call), for calls with an `interruption`. */
  reference?: ReplyReference;
}

/** The client's view of one call. Times are ms; arrays have one entry per answered turn. */
export interface CallSample {
  index: number;
  /** The call's CallSid, to find the gateway's log records of it. */
  callSid: string;
  bargeIn: boolean;
  /** `runCall`'s verdict: completed, no violations, heard something. */
  ok: boolean;
  problems: string[];
  violations: number;
  violationCodes: string[];
  /** Caller end of speech → first reply audio played (the caller's voice-to-voice latency). */
  voiceToVoiceMs: number[];
  /** Caller end of speech → first reply audio received (no playout queueing). */
  receiveMs: number[];
  /** Interrupting speech onset → `clear` received; null when no clear came (or not a barge-in call). */
  bargeInMs: number | null;
  /** Frames the caller's frame clock had to skip because this process stalled. */
  framesSkipped: number;
  /** Interruptions section only: what the speech over the reply did (undefined elsewhere or when it never spoke). */
  interruption?: InterruptionSample;
  startedAt: number;
  endedAt: number;
}

/** The answer to a plan. */
export interface LoadDone {
  type: 'done';
  samples: CallSample[];
  /** Event-loop delay beyond the 10 ms sampling period, while the calls ran. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  cpuMs: number;
}

const LOOP_RESOLUTION_MS = 10;

/** Runs a plan in this process; exported so it can also run in-process (tests, one-off use). */
export async function runPlan(plan: LoadPlan): Promise<LoadDone> {
  const audio = await readFile(plan.audioPath);
  const extra = new Map<string, Buffer>();
  for (const c of plan.calls)
    if (c.bargeInAudioPath && !extra.has(c.bargeInAudioPath))
      extra.set(c.bargeInAudioPath, await readFile(c.bargeInAudioPath));
  await sleep(Math.max(0, plan.startAt - Date.now()));
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const samples = await Promise.all(
    plan.calls.map(async (c) => {
      await sleep(Math.max(0, plan.startAt + c.offsetMs - Date.now()));
      const startedAt = Date.now();
      const callSid = randomSid('CA');
      const over = c.bargeInAudioPath === undefined ? undefined : extra.get(c.bargeInAudioPath);
      const report = await runCall({
        base: plan.base,
        audio,
        callSid,
        turns: c.turns,
        quietMs: plan.quietMs,
        ...(c.bargeInAfterMs !== undefined ? { bargeInAfterMs: c.bargeInAfterMs } : {}),
        ...(over ? { turnAudio: [audio, over] } : {}),
      }).catch((err: unknown) => (err as Error).message);
      return sampleOf(c, callSid, report, startedAt, Date.now(), plan.reference);
    }),
  );
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  return {
    type: 'done',
    samples,
    loopDelayP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    loopDelayMaxMs: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS),
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** Reduces a report (or the message of a thrown error) to what the benchmark keeps. */
function sampleOf(
  c: PlannedCall,
  callSid: string,
  report: CallReport | string,
  startedAt: number,
  endedAt: number,
  reference: ReplyReference | undefined,
): CallSample {
  const bargeIn = c.bargeInAfterMs !== undefined;
  if (typeof report === 'string') {
    return {
      index: c.index,
      callSid,
      bargeIn,
      ok: false,
      problems: [report],
      violations: 0,
      violationCodes: [],
      voiceToVoiceMs: [],
      receiveMs: [],
      bargeInMs: null,
      framesSkipped: 0,
      startedAt,
      endedAt,
    };
  }
  let bargeInMs: number | null = null;
  const onset = report.turns[1]?.speechStartedAtMs;
  if (bargeIn && onset !== undefined) {
    const clear = report.clientEvents.find((e) => e.kind === 'recv-clear' && e.atMs >= onset);
    if (clear) bargeInMs = Math.round((clear.atMs - onset) * 100) / 100;
  }
  let framesSkipped = 0;
  for (const e of report.clientEvents) if (e.kind === 'frames-skipped') framesSkipped += e.detail.count;
  const interruption = c.interruption && reference ? interruptionSample(c.interruption, report, reference) : undefined;
  return {
    index: c.index,
    callSid,
    bargeIn,
    ok: report.ok,
    problems: report.problems,
    violations: report.violations.length,
    violationCodes: report.violations.map((v) => v.code),
    voiceToVoiceMs: report.turns.flatMap((t) => (t.playLatencyMs === undefined ? [] : [t.playLatencyMs])),
    receiveMs: report.turns.flatMap((t) => (t.receiveLatencyMs === undefined ? [] : [t.receiveLatencyMs])),
    bargeInMs,
    framesSkipped,
    ...(interruption ? { interruption } : {}),
    startedAt,
    endedAt,
  };
}

if (import.meta.main) {
  // The parent disconnects when it has the answer, or when it dies: either way this process is done.
  process.once('disconnect', () => process.exit(0));
  process.once('message', (plan: LoadPlan) => {
    void runPlan(plan).then((done) => process.send?.(done));
  });
  process.send?.({ type: 'ready' });
}
