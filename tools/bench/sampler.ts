/**
 * What is sampled while a level runs, without touching the gateway: its resident set size (from
 * /proc, since a /metrics scrape would reset its event-loop histogram) and how busy the machine's
 * CPUs are. A machine near 100 % busy means the gateway, the emulators and the load generator were
 * competing for cores, so latencies include waiting for a CPU.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** Sampling period. */
const PERIOD_MS = 250;
/** Peak CPU busy is taken over windows this many periods long (1 s). */
const WINDOW = 4;

/** What the sampler saw. */
export interface SamplerResult {
  peakRssBytes: number;
  cpus: number;
  /** Share of all CPUs' time that was not idle over the whole sampling (0–1). */
  cpuBusy: number;
  /** Highest busy share of any 1 s window. */
  cpuBusyPeak: number;
}

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.idle + c.times.user + c.times.nice + c.times.sys + c.times.irq;
  }
  return { idle, total };
}

const busy = (a: CpuTimes, b: CpuTimes) => (b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0);

/**
 * Share of all CPUs kept busy by other processes over the next `ms` (0–1; this process's own CPU,
 * e.g. loading its modules, is left out): a quick look at whether another job is running.
 */
export async function machineBusy(ms = 1000): Promise<number> {
  const a = cpuTimes();
  const own = process.cpuUsage();
  const started = performance.now();
  await sleep(ms);
  const b = cpuTimes();
  const ownUsage = process.cpuUsage(own);
  const ownShare = (ownUsage.user + ownUsage.system) / 1000 / (performance.now() - started) / os.cpus().length;
  return Math.max(0, busy(a, b) - ownShare);
}

/** Starts sampling; `stop()` ends it and resolves with the result. `rss` may answer undefined (not Linux). */
export function startSampler(
  rss: () => Promise<number | undefined>,
  initialRss: number,
): { stop(): Promise<SamplerResult> } {
  const times: CpuTimes[] = [cpuTimes()];
  let peakRssBytes = initialRss;
  let running = true;
  const loop = (async () => {
    while (running) {
      await sleep(PERIOD_MS);
      peakRssBytes = Math.max(peakRssBytes, (await rss()) ?? 0);
      times.push(cpuTimes());
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      let cpuBusyPeak = 0;
      for (let i = WINDOW; i < times.length; i++)
        cpuBusyPeak = Math.max(cpuBusyPeak, busy(times[i - WINDOW]!, times[i]!));
      return { peakRssBytes, cpus: os.cpus().length, cpuBusy: busy(times[0]!, times.at(-1)!), cpuBusyPeak };
    },
  };
}
