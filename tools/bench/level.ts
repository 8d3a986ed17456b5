/**
 * One level of the benchmark: N concurrent calls against fresh processes, in one {@link RunVariant}
 * (the gateway's synthesis path and speech detector, and the call scenario).
 *
 *   emulators (child) ─▶ gateway (child, `node gateway.ts`) ─▶ warm-up call ─▶ baseline /metrics
 *     ─▶ load processes place N calls, starts spread over rampMs ─▶ final /metrics ─▶ stop all
 *
 * Fresh processes per level keep levels independent: RSS starts from the same baseline, and the
 * gateway's event-loop histogram (which prom-client resets at every scrape) is scraped exactly twice,
 * right before the first call and after the last, so its p99 covers the level and nothing else.
 * The warm-up call (not counted) creates the provider clients and fills the greeting cache, so the
 * first measured turn does not pay for SDK start-up; it also hears the first reply whole, which is the
 * reference the interruption scenarios measure what their callers heard against.
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
import type { HostSettings } from './emulator-host.ts';
import { replyReference, type InterruptionKind } from './interruptions.ts';
import { EMULATOR_SETTINGS, type BenchConfig, type EmulatorSettings } from './options.ts';
import type { SpeechDetectorSetting, TtsPath } from './options.ts';
import { scrape } from './prom.ts';
import { startSampler } from './sampler.ts';
import { measureLevel, type LevelResult } from './measure.ts';
import { REPO_ROOT } from '../gateway-child.ts';

/** The acknowledgement the backchannel calls say over the reply ("כן", 0.31 s). */
export const ACK_AUDIO_FILE = path.join(REPO_ROOT, 'tests', 'fixtures', 'caller-ack.ulaw');

/**
 * What a level runs: the gateway's synthesis path and `SPEECH_DETECTOR`, and the calls' scenario:
 * 'standard' (the ladder's calls), or every call speaking over its first reply with an
 * acknowledgement ('backchannel') or a real interruption ('interrupt').
 */
export interface RunVariant {
  ttsPath: TtsPath;
  speechDetector: SpeechDetectorSetting;
  scenario: 'standard' | InterruptionKind;
}

const HERE = import.meta.dirname;
/** Gateway prom-client loop-delay sampling period (server/metrics.ts), subtracted from its percentiles. */
const GATEWAY_LOOP_RESOLUTION_MS = 10;
/** Calls per load process when `loadProcesses` is 0 (auto). */
const CALLS_PER_LOAD_PROCESS = 100;

/**
 * The calls of a level: starts spread evenly over the ramp. In the standard scenario every
 * `bargeInEvery`-th call interrupts; in the interruption scenarios every call speaks over its first
 * reply (two turns: the question, then the acknowledgement or the interruption).
 */
export function planCalls(n: number, cfg: BenchConfig, scenario: RunVariant['scenario'] = 'standard'): PlannedCall[] {
  return Array.from({ length: n }, (_, index) => {
    const offsetMs = n > 1 ? Math.round((index * cfg.rampMs) / n) : 0;
    if (scenario !== 'standard') {
      return {
        index,
        offsetMs,
        turns: 2,
        bargeInAfterMs: cfg.bargeInAfterMs,
        interruption: scenario,
        ...(scenario === 'backchannel' ? { bargeInAudioPath: ACK_AUDIO_FILE } : {}),
      };
    }
    const bargeIn = cfg.bargeInEvery > 0 && index % cfg.bargeInEvery === 0;
    return {
      index,
      offsetMs,
      turns: bargeIn ? Math.max(2, cfg.turns) : cfg.turns,
      ...(bargeIn ? { bargeInAfterMs: cfg.bargeInAfterMs } : {}),
    };
  });
}

/** The gateway's environment for a variant (on top of the emulator addresses). */
export function variantEnv(cfg: BenchConfig, v: RunVariant): Record<string, string> {
  return {
    TTS_VOICE: v.ttsPath === 'streaming' ? cfg.streamingVoice : cfg.unaryVoice,
    TTS_STREAMING: 'auto',
    SPEECH_DETECTOR: v.speechDetector,
    ...(cfg.gatewayNodeOptions ? { NODE_OPTIONS: cfg.gatewayNodeOptions } : {}),
  };
}

/** The emulators' settings for a variant: the interruption scenarios script the recognizer and the model. */
function hostSettings(cfg: BenchConfig, v: RunVariant): HostSettings {
  const settings = Object.fromEntries(EMULATOR_SETTINGS.map((k) => [k, cfg[k]])) as EmulatorSettings;
  if (v.scenario === 'standard') return settings;
  const laterTranscript = v.scenario === 'backchannel' ? cfg.backchannelText : cfg.interruptText;
  return { ...settings, scenario: { laterTranscript, laterReply: cfg.interruptReplyText } };
}

/**
 * Runs one level and measures it.
 * @throws Error when a process cannot start, or the warm-up call fails (or, in an interruption
 *   scenario, did not hear its reply whole).
 */
export async function runLevel(calls: number, cfg: BenchConfig, variant: RunVariant): Promise<LevelResult> {
  const emulators = forkChild(path.join(HERE, 'emulator-host.ts'), [JSON.stringify(hostSettings(cfg, variant))]);
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
      ...variantEnv(cfg, variant),
    });
    const gw = gateway;
    const audio = await readFile(CALLER_AUDIO_FILE);
    const warm = await runCall({ base: gw.base, audio, quietMs: cfg.quietMs });
    if (!warm.ok) throw new Error(`warm-up call failed: ${warm.problems.join('; ')}`);
    const reference = replyReference(warm);
    if (variant.scenario !== 'standard' && !reference)
      throw new Error('the warm-up call did not hear its greeting and reply whole: no reference for the interruptions');
    await sleep(200); // let the warm-up call's teardown finish before the baseline

    const plan = planCalls(calls, cfg, variant.scenario);
    const processes = cfg.loadProcesses > 0 ? cfg.loadProcesses : Math.ceil(calls / CALLS_PER_LOAD_PROCESS);
    for (let i = 0; i < Math.min(processes, calls); i++) loaders.push(forkChild(path.join(HERE, 'load-process.ts')));
    await Promise.all(loaders.map((child) => nextMessage(child, 'ready', 20_000)));
    const marks = {
      turns: gw.turns.length,
      bargeIns: gw.bargeIns.length,
      backchannels: gw.backchannels.length,
      ttsStreams: gw.ttsStreams.length,
      problems: new Map(gw.problems),
    };
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
        ...(variant.scenario !== 'standard' && reference ? { reference } : {}),
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
      variant,
      speechDetectorInUse: gw.speechDetector() ?? 'energy',
      startAt,
      done,
      before,
      after,
      sampled,
      benchCpuMs: (self.user + self.system) / 1000,
      gatewayLoopResolutionMs: GATEWAY_LOOP_RESOLUTION_MS,
      turns: gw.turns.slice(marks.turns),
      bargeIns: gw.bargeIns.slice(marks.bargeIns),
      backchannels: gw.backchannels.slice(marks.backchannels),
      ttsStreams: gw.ttsStreams.slice(marks.ttsStreams),
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
