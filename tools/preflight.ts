/**
 * `npm run preflight [-- --json]`: GO/NO-GO of the provider configuration, with the same
 * environment as `npm start`. Prints PASS/WARN/FAIL per check and exits 0 (GO), 1 (NO-GO, the
 * last line names the failed checks) or 2 (bad arguments, --help). The checks live in
 * media/providers/preflight*.ts; printing in preflight/.
 */
import { runCli } from './preflight/cli.ts';

if (import.meta.main) {
  // `npm run preflight | head` closes our stdout early: stop quietly instead of dying on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(1);
  });
  const code = await runCli(process.argv.slice(2), process.env, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  // exitCode rather than exit(): let stdout drain when it is a pipe.
  process.exitCode = code;
}
