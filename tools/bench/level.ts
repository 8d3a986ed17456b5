/**
 * One level of the benchmark: N concurrent calls against fresh processes.
 *
 *   emulators (child) ─▶ gateway (child, `node gateway.ts`) ─▶ warm-up call ─▶ baseline /metrics
 *     ─▶ load processes place N calls, starts spread over rampMs ─▶ final /metrics ─▶ stop all
 *
 * Fresh processes per level keep levels independent: RSS starts from the same baseline, and the
 * gateway's event-loop histogram (which prom-client resets at every scrape) is scraped exactly twice,
 * right before the first call and after the last, so its p99 covers the level and nothing else.
 * The warm-up call (not counted) creates the provider clients and fills the greeting cache, so the
 * first measured turn does not pay for SDK start-up.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCall } from '../call/run-call.ts';
import { endChild, forkChild, nextMessage } from './children.ts';
import type { EmulatorMessage, EmulatorStats } from './emulator-host.ts';
import { startBenchGateway, type BenchGateway } from './gateway-process.ts';
import { CALLER_AUDIO_FILE } from '../demo/conversation.ts';
import type { LoadDone, LoadPlan, PlannedCall } from './load-process.ts';
import { EMULATOR_SETTINGS, type BenchConfig, type EmulatorSettings } from './options.ts';
import { scrape } from './prom.ts';
import { startSampler } from './sampler.ts';
import { measureLevel, type LevelResult } from './measure.ts';

const HERE = import.meta.dirname;
/** Gateway prom-client loop-delay sampling period (server/metrics.ts), subtracted from its percentiles. */
const GATEWAY_LOOP_RESOLUTION_MS = 10;
/** Calls per load process when `loadProcesses` is 0 (auto). */
const CALLS_PER_LOAD_PROCESS = 100;

/** The calls of a level: starts spread evenly over the ramp; every `bargeInEvery`-th call interrupts. */
export function planCalls(n: number, cfg: BenchConfig): PlannedCall[] {
  return Array.from({ length: n }, (_, index) => {
    const bargeIn = cfg.bargeInEvery > 0 && index % cfg.bargeInEvery === 0;
    return {
      index,
      offsetMs: n > 1 ? Math.round((index * cfg.rampMs) / n) : 0,
      turns: bargeIn ? Math.max(2, cfg.turns) : cfg.turns,
      ...(bargeIn ? { bargeInAfterMs: cfg.bargeInAfterMs } : {}),
    };
  });
}

/** Runs one level and measures it. @throws Error when a process cannot start or the warm-up call fails. */
export async function runLevel(calls: number, cfg: BenchConfig): Promise<LevelResult> {
  const settings = Object.fromEntries(EMULATOR_SETTINGS.map((k) => [k, cfg[k]])) as EmulatorSettings;
  const emulators = forkChild(path.join(HERE, 'emulator-host.ts'), [JSON.stringify(settings)]);
  const loaders: ReturnType<typeof forkChild>[] = [];
  let gateway: BenchGateway | undefined;
  try {
    const ready = await nextMessage<Extract<EmulatorMessage, { type: 'ready' }>>(emulators, 'ready', 20_000);
    gateway = await startBenchGateway({
      GOOGLE_STT_EMULATOR_HOST: ready.sttHost,
      GOOGLE_TTS_EMULATOR_HOST: ready.ttsHost,
      OPENAI_BASE_URL: ready.openaiBaseUrl,
      OPENAI_API_KEY: 'bench',
      AGENT_GREETING: cfg.greeting,
      DEPLOY_ID: 'bench',
    });
    const gw = gateway;
    const audio = await readFile(CALLER_AUDIO_FILE);
    const warm = await runCall({ base: gw.base, audio, quietMs: cfg.quietMs });
    if (!warm.ok) throw new Error(`warm-up call failed: ${warm.problems.join('; ')}`);
    await sleep(200); // let the warm-up call's teardown finish before the baseline

    const plan = planCalls(calls, cfg);
    const processes = cfg.loadProcesses > 0 ? cfg.loadProcesses : Math.ceil(calls / CALLS_PER_LOAD_PROCESS);
    for (let i = 0; i < Math.min(processes, calls); i++) loaders.push(forkChild(path.join(HERE, 'load-process.ts')));
    await Promise.all(loaders.map((child) => nextMessage(child, 'ready', 20_000)));
    const marks = { turns: gw.turns.length, bargeIns: gw.bargeIns.length, problems: new Map(gw.problems) };
    emulators.send({ type: 'reset' });
    const before = await scrape(gw.base);
    const selfCpu = process.cpuUsage();
    const startAt = Date.now() + 100; // the same instant for every load process
    const answers = loaders.map((child, i) => {
      const share = plan.filter((_, k) => k % loaders.length === i);
      const msg: LoadPlan = {
        type: 'plan',
        base: gw.base,
        audioPath: CALLER_AUDIO_FILE,
        quietMs: cfg.quietMs,
        startAt,
        calls: share,
      };
      child.send(msg);
      return nextMessage<LoadDone>(child, 'done', 10 * 60_000);
    });
    const sampler = startSampler(() => gw.rssBytes(), before.rssBytes);
    const done = await Promise.all(answers);
    const sampled = await sampler.stop();
    const self = process.cpuUsage(selfCpu);
    const after = await scrape(gw.base);
    emulators.send({ type: 'stats' });
    const { type: _type, ...emu } = await nextMessage<{ type: 'stats' } & EmulatorStats>(emulators, 'stats', 5000);
    return measureLevel({
      calls,
      startAt,
      done,
      before,
      after,
      sampled,
      benchCpuMs: (self.user + self.system) / 1000,
      gatewayLoopResolutionMs: GATEWAY_LOOP_RESOLUTION_MS,
      turns: gw.turns.slice(marks.turns),
      bargeIns: gw.bargeIns.slice(marks.bargeIns),
      problems: diffCounts(gw.problems, marks.problems),
      emulators: emu,
      maxFailedShare: cfg.maxFailedShare,
    });
  } finally {
    await Promise.all([...loaders.map((c) => endChild(c)), gateway?.stop()]);
    await endChild(emulators);
  }
}

function diffCounts(now: Map<string, number>, then: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of now) if (v - (then.get(k) ?? 0) > 0) out[k] = v - (then.get(k) ?? 0);
  return out;
}
