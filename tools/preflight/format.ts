/**
 * How a preflight report is printed: one line per check (`PASS`/`WARN`/`FAIL`, its name, what it
 * measured), an indented line with the setting to change under a failure or warning, then a count
 * and the verdict as the last line. `--json` prints {@link jsonReport} instead.
 */
import type { PreflightCheck, PreflightReport } from '../../media/providers/preflight.ts';

/** PASS, WARN (passed with a warning) or FAIL. */
export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

/** The status word of a check. */
export function statusOf(c: PreflightCheck): CheckStatus {
  return !c.ok ? 'FAIL' : c.warn !== undefined ? 'WARN' : 'PASS';
}

/** `GO`, or `NO-GO: failed: tts-voice (TTS_VOICE), openai-model (OPENAI_MODEL)`. */
export function verdictLine(report: PreflightReport): string {
  if (report.go) return 'GO';
  const named = report.checks.filter((c) => !c.ok).map((c) => (c.variable ? `${c.name} (${c.variable})` : c.name));
  return `NO-GO: failed: ${named.join(', ')}`;
}

/** Every line of the text report; the last one is the verdict. */
export function textReport(report: PreflightReport): string[] {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    const status = statusOf(c);
    lines.push(`${status}  ${c.name.padEnd(width)}  ${c.measured}`);
    const pad = ' '.repeat(8 + width);
    if (status === 'FAIL') {
      if (c.variable) lines.push(`${pad}change: ${c.variable}`);
      if (c.detail) lines.push(`${pad}${c.detail}`);
    } else if (status === 'WARN') {
      lines.push(`${pad}${c.warn}${c.variable ? ` (setting: ${c.variable})` : ''}`);
    }
  }
  const count = (s: CheckStatus): number => report.checks.filter((c) => statusOf(c) === s).length;
  lines.push(
    `${count('PASS')} passed, ${count('WARN')} with warnings, ${count('FAIL')} failed, of ${report.checks.length} checks in ${(report.ms / 1000).toFixed(1)} s`,
  );
  lines.push(verdictLine(report));
  return lines;
}

/**
 * The `--json` document: `{ verdict, go, failed, warnings, ms, checks: [{ name, status, ok,
 * measured, warn?, variable?, detail?, ms }] }`.
 */
export function jsonReport(report: PreflightReport): string {
  return JSON.stringify(
    {
      verdict: report.go ? 'GO' : 'NO-GO',
      go: report.go,
      failed: report.failed,
      warnings: report.warnings,
      ms: report.ms,
      checks: report.checks.map((c) => ({ name: c.name, status: statusOf(c), ...withoutName(c) })),
    },
    null,
    2,
  );
}

function withoutName(c: PreflightCheck): Omit<PreflightCheck, 'name'> {
  const { name: _name, ...rest } = c;
  return rest;
}
