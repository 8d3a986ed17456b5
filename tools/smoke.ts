/**
 * `npm run smoke -- <base-url> [--auth-token TOKEN] [--public-base URL] [--timeout-ms N]`: the
 * GO/NO-GO checklist of a deployment. Prints PASS/FAIL per step and exits 0 (all passed),
 * 1 (a step failed, named on the last line) or 2 (bad arguments). The checks live in `smoke/`.
 */
import { runCli } from './smoke/cli.ts';

if (import.meta.main) {
  // `npm run smoke … | head` closes our stdout early: stop quietly instead of dying on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(1);
  });
  const code = await runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  // exitCode rather than exit(): let stdout drain when it is a pipe.
  process.exitCode = code;
}
