/**
 * `npm run smoke -- <base-url> …` as a function: parse the arguments, run the steps, print one
 * line per step as it finishes, then the summary. Returns the exit code instead of exiting, so
 * tests can run it in-process.
 */
import { parseSmokeArgs, USAGE } from './options.ts';
import { formatNote, formatStep, formatSummary } from './report.ts';
import { runSmoke } from './run.ts';

/** Where the CLI writes; each call is one line without its newline. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Exit codes: 0 every step passed, 1 a step failed, 2 bad arguments. */
export async function runCli(argv: readonly string[], output: CliOutput): Promise<0 | 1 | 2> {
  const parsed = parseSmokeArgs(argv);
  if (parsed.kind === 'help') {
    output.out(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    output.err(`smoke: ${parsed.message}`);
    output.err(USAGE);
    return 2;
  }
  const o = parsed.options;
  const via = o.publicBaseUrl === o.baseUrl ? '' : ` (public origin ${o.publicBaseUrl})`;
  // The token itself is never printed: smoke output ends up in CI logs.
  output.out(
    `smoke: ${o.baseUrl}${via}; ${o.authToken ? 'requests signed with the given auth token' : 'unsigned requests (no --auth-token)'}; ${o.timeoutMs} ms per step`,
  );
  const report = await runSmoke(o, {
    onStep: (step) => output.out(formatStep(step)),
    onNote: (note) => output.out(formatNote(note)),
  });
  for (const line of formatSummary(report)) output.out(line);
  return report.ok ? 0 : 1;
}
