/**
 * `npm run call -- --base URL --audio FILE [--out FILE] [--auth-token T] [--public-base URL] …`:
 * one simulated Twilio phone call against a running gateway, with a live timeline, per-turn latency,
 * protocol violations and webhook statuses. Exits 0 (call completed, no violations, caller heard
 * something), 1 (otherwise; the reasons are printed) or 2 (bad arguments or audio file). The library
 * (`runCall`, usable in-process by other tools) lives in `call/`.
 */
import { runCli } from './call/cli.ts';

if (import.meta.main) {
  const code = await runCli(
    process.argv.slice(2),
    {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    },
    process.env,
  );
  // exitCode rather than exit(): let stdout drain when it is a pipe.
  process.exitCode = code;
}
