/**
 * The report's sections after the ladder, each a comparison of runs that differ in one thing:
 *
 *   synthesis paths   unary vs streaming (the voice switched), same emulator settings, `ttsCalls` calls each
 *   interruptions     acknowledgement vs real interruption over the first reply, `interruptCalls` calls each
 *   speech detector   SPEECH_DETECTOR=auto vs energy, standard calls, `detectorCalls` calls each
 *
 * With `reuseRuns` (`--reuse`, and `--quick`), a run that the ladder (or an earlier section) already
 * made with the same variant and number of calls is reused, not repeated (`--quick` sections are
 * sized to the ladder's first level for that); otherwise each pair runs back to back, so both share
 * whatever else the machine is doing at the time.
 * A run that cannot be made is recorded with its error; the other runs go on.
 */
import type { RunVariant } from './level.ts';
import type { LevelResult } from './measure.ts';
import type { BenchConfig } from './options.ts';

/** One run of a section. */
export interface SectionRun {
  /** What differs in this run: the path, the kind of interruption, or the detector setting. */
  label: string;
  variant: RunVariant;
  calls: number;
  /** Null when it could not run (see `error`). */
  level: LevelResult | null;
  /** Taken from an earlier run with the same variant and calls (the ladder's, usually). */
  reused: boolean;
  error?: string;
}

/** One section: its runs, or why it was skipped. */
export interface Section {
  calls: number;
  /** Set when the section did not run (0 calls asked for). */
  skipped?: string;
  runs: SectionRun[];
}

/** The three sections of `latest.json`. */
export interface BenchSections {
  ttsPaths: Section;
  interruptions: Section;
  speechDetector: Section;
}

/** What each section runs, in order; pure. */
export function plannedSections(
  cfg: BenchConfig,
): Record<keyof BenchSections, Array<{ label: string; variant: RunVariant }>> {
  const base: RunVariant = { ttsPath: cfg.ttsPath, speechDetector: cfg.speechDetector, scenario: 'standard' };
  return {
    ttsPaths: cfg.ttsPaths.map((ttsPath) => ({ label: ttsPath, variant: { ...base, ttsPath } })),
    interruptions: (['backchannel', 'interrupt'] as const).map((scenario) => ({
      label: scenario,
      variant: { ...base, scenario },
    })),
    speechDetector: cfg.detectors.map((speechDetector) => ({
      label: speechDetector,
      variant: { ...base, speechDetector },
    })),
  };
}

const CALLS: Record<keyof BenchSections, (c: BenchConfig) => number> = {
  ttsPaths: (c) => c.ttsCalls,
  interruptions: (c) => c.interruptCalls,
  speechDetector: (c) => c.detectorCalls,
};

const FLAG: Record<keyof BenchSections, string> = {
  ttsPaths: '--tts-calls',
  interruptions: '--interrupt-calls',
  speechDetector: '--detector-calls',
};

const sameVariant = (a: RunVariant, b: RunVariant) =>
  a.ttsPath === b.ttsPath && a.speechDetector === b.speechDetector && a.scenario === b.scenario;

/**
 * Runs the sections, reusing `done` (the ladder's levels) and each other's runs where they match.
 * `run` makes one level; `say` reports progress.
 */
export async function runSections(
  cfg: BenchConfig,
  done: readonly LevelResult[],
  run: (calls: number, variant: RunVariant) => Promise<LevelResult>,
  say: (line: string) => void,
): Promise<BenchSections> {
  const made = [...done];
  const planned = plannedSections(cfg);
  const out = {} as BenchSections;
  for (const name of Object.keys(planned) as Array<keyof BenchSections>) {
    const calls = CALLS[name](cfg);
    if (calls === 0) {
      out[name] = { calls, skipped: `not run (${FLAG[name]} 0)`, runs: [] };
      continue;
    }
    const runs: SectionRun[] = [];
    for (const { label, variant } of planned[name]) {
      const earlier = cfg.reuseRuns
        ? made.find((l) => l.calls === calls && sameVariant(l.variant, variant))
        : undefined;
      if (earlier) {
        runs.push({ label, variant, calls, level: earlier, reused: true });
        continue;
      }
      say(`bench: ${name}: ${label}, ${calls} call(s)…`);
      try {
        const level = await run(calls, variant);
        made.push(level);
        runs.push({ label, variant, calls, level, reused: false });
        say(`  ${level.completed}/${calls} completed, ${level.violations} violations`);
      } catch (err) {
        runs.push({ label, variant, calls, level: null, reused: false, error: (err as Error).message });
        say(`  could not run: ${(err as Error).message}`);
      }
    }
    out[name] = { calls, runs };
  }
  return out;
}

/** Every section run made (or reused) without error and within tolerance. */
export function sectionsOk(s: BenchSections): boolean {
  return Object.values(s).every((section: Section) => section.runs.every((r) => r.level?.ok === true));
}
