/**
 * How an attack reaches its verdict: it records figures and findings as it goes; any finding means
 * the gateway broke. The common after-checks (descriptors back to baseline, still healthy, log bytes
 * per request) live here so every attack judges them the same way.
 */
import { fdCount, fdsSettle } from './net.ts';
import { healthy } from './probes.ts';
import type { Outcome, Target } from './types.ts';

/** Figures and findings of one attack; `outcome()` is HELD exactly when there is no finding. */
export class Judge {
  readonly figures: Record<string, string | number> = {};
  readonly findings: string[] = [];

  /** Records a figure (printed in insertion order). */
  fig(name: string, value: string | number | undefined): void {
    this.figures[name] = value ?? 'n/a';
  }

  /** Records a finding when `broken` is true. */
  check(broken: boolean, finding: string): void {
    if (broken) this.findings.push(finding);
  }

  outcome(): Outcome {
    return { verdict: this.findings.length ? 'broke' : 'held', figures: this.figures, findings: this.findings };
  }
}

/** An attack that could not run against this target. */
export function skipped(why: string): Outcome {
  return { verdict: 'skip', figures: {}, findings: [why] };
}

/** The target's descriptor count after a warm-up request, or undefined when /proc cannot be read. */
export async function fdBaseline(t: Target): Promise<number | undefined> {
  await healthy(t);
  return fdCount(t.pid);
}

/**
 * After the attacker has left: descriptors must come back to `before + slack` within `withinMs`
 * (figure `fds`), and the gateway must still answer `/healthz` (finding otherwise).
 */
export async function afterChecks(
  j: Judge,
  t: Target,
  before: number | undefined,
  slack: number,
  withinMs = 5000,
): Promise<void> {
  const after = before === undefined ? undefined : await fdsSettle(t.pid, before + slack, withinMs);
  if (before !== undefined) {
    j.fig('fds', `${before}→${after ?? '?'}`);
    j.check(
      after === undefined || after > before + slack,
      `descriptors did not return to baseline (${before}→${after})`,
    );
  }
  j.check(!(await healthy(t)), 'the gateway no longer answers /healthz');
}

/**
 * Log bytes written while `act` ran; undefined when the log is not visible. A `/healthz` round trip
 * before and after (the gateway's event loop has then caught up with what was sent) and a short
 * flush wait keep one measurement's lines out of the next.
 */
export async function logBytesDuring(t: Target, act: () => Promise<void>, flushMs = 300): Promise<number | undefined> {
  await healthy(t);
  await new Promise((r) => setTimeout(r, flushMs));
  const before = t.logBytes();
  await act();
  await healthy(t);
  await new Promise((r) => setTimeout(r, flushMs));
  const after = t.logBytes();
  return before === undefined || after === undefined ? undefined : after - before;
}

/** `12345` → `12.1 KiB`. */
export function kib(bytes: number | undefined): string {
  if (bytes === undefined) return 'n/a';
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 * 1024
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Milliseconds as seconds with one decimal. */
export function secs(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}
