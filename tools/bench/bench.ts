/**
 * `npm run bench`: latency and concurrency of the gateway, measured. For each level of the ladder
 * (default 1, 10, 50, 100, 200 concurrent calls) it starts the provider emulators at fixed latencies
 * and a gateway child process (exactly `npm start`), places the calls from separate load-generator
 * processes, and reports gateway overhead per turn, voice-to-voice latency, barge-in reaction,
 * event-loop delay, CPU and memory per call, and the cost of an inbound frame (see `latest.md`).
 * Then the sections (sections.ts): first audio on the unary and streaming synthesis paths,
 * acknowledgements vs real interruptions over a reply, and the speech detector's CPU per call.
 *
 * Writes `latest.json`, `latest.md` and `latest.png` to `--out-dir` and prints the table. Exit code:
 * 0 every level had no protocol violations and failures within `--max-failed-pct`; 1 otherwise (or
 * a level could not run); 2 bad usage. It is a tool, not a test: nothing here asserts a latency.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderChart } from './chart.ts';
import { runLevel, type RunVariant } from './level.ts';
import type { LevelResult } from './measure.ts';
import { parseBenchArgs, USAGE, UsageError, type BenchConfig } from './options.ts';
import { machineInfo, markdownReport, markdownTable, type BenchResults } from './report.ts';
import { sectionsMarkdown } from './report-sections.ts';
import { machineBusy } from './sampler.ts';
import { runSections, sectionsOk } from './sections.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Runs every level in order and writes the results. Returns the exit code. */
export async function runBench(cfg: BenchConfig, say: (line: string) => void): Promise<number> {
  const levels: LevelResult[] = [];
  const busyBefore = await machineBusy();
  if (busyBefore > 0.25) {
    say(
      `bench: warning: the machine is already ${Math.round(busyBefore * 100)} % busy; results will include that contention`,
    );
  }
  let broken: string | undefined;
  const ladder: RunVariant = { ttsPath: cfg.ttsPath, speechDetector: cfg.speechDetector, scenario: 'standard' };
  for (const calls of cfg.levels) {
    say(`bench: ${calls} concurrent call(s)…`);
    try {
      const level = await runLevel(calls, cfg, ladder);
      levels.push(level);
      const o = level.overheadMs;
      say(
        `  ${level.completed}/${calls} completed, ${level.violations} violations, overhead p50 ${o.p50} / p99 ${o.p99} ms, ` +
          `gateway loop p99 ${level.gateway.loopDelayP99Ms} ms, load-generator loop p99 ${level.loadGenerator.loopDelayP99Ms} ms`,
      );
    } catch (err) {
      broken = `level ${calls}: ${(err as Error).message}`;
      say(`  could not run: ${(err as Error).message}`);
      break; // later levels would only be bigger versions of the same failure
    }
  }
  const sections = await runSections(cfg, levels, (calls, variant) => runLevel(calls, cfg, variant), say);
  const results: BenchResults = {
    finishedAt: new Date().toISOString(),
    config: cfg,
    machine: { ...machineInfo(), cpuBusyBeforeStart: Math.round(busyBefore * 100) / 100 },
    levels,
    sections,
    ok: broken === undefined && levels.every((l) => l.ok) && sectionsOk(sections),
  };
  await mkdir(cfg.outDir, { recursive: true });
  await writeFile(path.join(cfg.outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(cfg.outDir, 'latest.md'), markdownReport(results));
  if (levels.length > 0) {
    const title = `Voice gateway under load: ${results.machine.cpus} CPUs, Node ${process.version}`;
    await writeFile(path.join(cfg.outDir, 'latest.png'), await renderChart(levels, title));
  }
  say('');
  say(markdownTable(levels));
  say('');
  say(sectionsMarkdown(sections, cfg));
  for (const l of levels) for (const v of l.verdict) say(`FAIL ${l.calls} calls: ${v}`);
  if (broken) say(`FAIL ${broken}`);
  say(`results in ${cfg.outDir}/latest.{json,md${levels.length > 0 ? ',png' : ''}}`);
  return results.ok ? 0 : 1;
}

if (import.meta.main) {
  // Exiting through process.exit lets the 'exit' hook kill the gateway and helper processes.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  let cfg: BenchConfig | undefined;
  try {
    cfg = parseBenchArgs(process.argv.slice(2), ROOT);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof TypeError)) throw err;
    process.stderr.write(`bench: ${err.message}\nrun with --help for usage\n`);
    process.exit(2);
  }
  if (cfg === undefined) {
    process.stdout.write(`${USAGE}\n`);
  } else {
    process.exitCode = await runBench(cfg, (line) => process.stdout.write(`${line}\n`));
  }
}
