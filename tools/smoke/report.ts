/**
 * Results of a smoke run and how they are printed. A step passes, fails, or is skipped because a
 * step it needs failed (no stream URL to connect to, no 101 to read a header from); a skip never
 * hides a failure, since whatever it needed has failed already.
 */

/** Every step, in the order they run. The `*_refused` ones run only with an auth token. */
export const STEP_NAMES = [
  'version',
  'healthz',
  'stream_status',
  'incoming_call',
  'stream_url',
  'handshake_subprotocol',
  'subprotocol_echo',
  'handshake_plain',
  'other_ws_path_refused',
  'unsigned_incoming_call_refused',
  'unsigned_handshake_refused',
] as const;

/** Name of a step, as printed and as listed on the last line when it fails. */
export type StepName = (typeof STEP_NAMES)[number];

/** Outcome of one step. */
export type StepStatus = 'pass' | 'fail' | 'skip';

/** One step: what it saw (status line, header, error) and, on failure, what it expected. */
export interface StepResult {
  name: StepName;
  status: StepStatus;
  detail: string;
}

/** A whole run. `ok` is true when no step failed. */
export interface SmokeReport {
  ok: boolean;
  steps: StepResult[];
  /** Steps that failed, in run order. */
  failed: StepName[];
  /** How the run reached the deployment when that differs from the plain reading of the URLs. */
  notes: string[];
}

const WIDTH = Math.max(...STEP_NAMES.map((n) => n.length));

/** `PASS  healthz  — HTTP/1.1 200 OK; body "ok"` */
export function formatStep(step: StepResult): string {
  return `${step.status.toUpperCase()}  ${step.name.padEnd(WIDTH)}  — ${step.detail}`;
}

/** `NOTE  …` */
export function formatNote(note: string): string {
  return `NOTE  ${note}`;
}

/** The closing lines; the last one is `GO: …` or `NO-GO: failed: <step>, <step>`. */
export function formatSummary(report: SmokeReport): string[] {
  const count = (s: StepStatus) => report.steps.filter((r) => r.status === s).length;
  const total = report.steps.length;
  const counts = `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped, of ${total} steps`;
  return [counts, report.ok ? `GO: all ${total} steps passed` : `NO-GO: failed: ${report.failed.join(', ')}`];
}
