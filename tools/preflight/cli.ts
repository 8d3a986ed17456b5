/**
 * `npm run preflight [-- --json]` as a function: parse the arguments, run the checks with the
 * environment's configuration (the one `npm start` would use), print the report. Returns the exit
 * code instead of exiting, so tests can run it in-process.
 */
import { parseArgs } from 'node:util';
import { runPreflightFromEnv } from '../../media/providers/preflight.ts';
import type { PreflightOptions } from '../../media/providers/preflight.ts';
import { jsonReport, textReport } from './format.ts';

/** Where the CLI writes; each call is one line (or one JSON document) without its newline. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Printed for `--help` and for bad arguments. `--help` exits 2 like a bad argument: exit 0 means
 * only "checked, GO", so a script that runs `npm run preflight … && deploy` never deploys on a typo.
 */
export const USAGE = `usage: npm run preflight [-- --json]

Checks the providers with the configuration \`npm start\` would use (the same environment variables):
Google credentials, TTS_VOICE in Google's voice list, one synthesis (and one streamed synthesis
for Chirp 3 HD voices), one real-time recognition of a bundled Hebrew clip, OPENAI_MODEL and the
time to its first token, PUBLIC_BASE_URL and TWILIO_AUTH_TOKEN.

  --json    print one JSON document instead of the text report
  --help    print this text (exit code 2)

exit codes: 0 GO, 1 NO-GO (the last line names the failed checks), 2 bad arguments`;

/** Exit codes: 0 GO, 1 NO-GO, 2 bad arguments (and --help). */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  output: CliOutput,
  opts: Omit<PreflightOptions, 'agents'> = {},
): Promise<0 | 1 | 2> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    // parseArgs names the unknown option or the stray argument well; keep its words.
    output.err(`preflight: ${(err as Error).message}`);
    output.err(USAGE);
    return 2;
  }
  if (values.help) {
    output.out(USAGE);
    return 2;
  }
  if (!values.json) output.out('preflight: checking the providers with the configuration of `npm start`…');
  const report = await runPreflightFromEnv(env, opts);
  if (values.json) output.out(jsonReport(report));
  else for (const line of textReport(report)) output.out(line);
  return report.go ? 0 : 1;
}
