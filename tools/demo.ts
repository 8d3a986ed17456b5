/**
 * `npm run demo [-- --out FILE] [--keep] [--quiet] [--tone]`: the whole thing on one machine, no
 * accounts. Starts the real gateway with the demo's agents file and local emulators of Google STT,
 * Google TTS, OpenAI and a CRM, places a simulated Hebrew call (greeted by name, a booking through a
 * tool call, a transfer), prints the timeline, the gateway's log flow and where to see the call,
 * writes what the caller heard to a WAV and shuts everything down. Exits 0 (everything seen),
 * 1 (failed; reasons printed), 2 (bad arguments) or 130 (interrupted). The library (`runDemo`)
 * lives in `demo/`.
 */
import { rmSync } from 'node:fs';
import { runDemoCli } from './demo/cli.ts';

if (import.meta.main) {
  const controller = new AbortController();
  let gatewayPid: number | undefined;
  let dataDir: string | undefined; // the temporary call store, unless --keep
  let finished = false;
  let signals = 0;
  let outputGone = false;

  // First Ctrl-C: hang up and shut down in order. Second: leave now.
  const onSignal = (): void => {
    if (++signals === 1) {
      process.stderr.write('\ndemo: interrupted; hanging up and shutting everything down (Ctrl-C again to force)\n');
      controller.abort();
      return;
    }
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `npm run demo | head`: once nobody reads the output, stop the demo rather than crash on EPIPE
  // and leave the gateway behind.
  process.stdout.on('error', () => {
    outputGone = true;
    controller.abort();
  });
  // Last resort for any exit before the orderly shutdown finished (forced Ctrl-C, a crash): the
  // gateway must not outlive the demo, nor its temporary call store. SIGKILL, because a gateway
  // whose stdout reader is gone may no longer react to SIGTERM.
  process.on('exit', () => {
    if (finished || gatewayPid === undefined) return;
    try {
      process.kill(gatewayPid, 'SIGKILL');
    } catch {
      // already gone: that is what we wanted
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
  });

  const code = await runDemoCli(
    process.argv.slice(2),
    {
      out: (line) => void (outputGone || process.stdout.write(`${line}\n`)),
      err: (line) => process.stderr.write(`${line}\n`),
    },
    {
      signal: controller.signal,
      // npm runs scripts from the package root; INIT_CWD is where `npm run demo` was typed.
      cwd: process.env['INIT_CWD'] ?? process.cwd(),
      onReady: (setup) => {
        gatewayPid = setup.gatewayPid;
        if (!setup.keep) dataDir = setup.dataDir;
      },
    },
  );
  finished = true;
  // exitCode rather than exit(): let stdout drain when it is a pipe.
  process.exitCode = code;
}
