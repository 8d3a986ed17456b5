/**
 * Entry of `npm run attack`: runs the command line (cli.ts) with the process's arguments and output;
 * the first Ctrl-C stops the attacks and the gateway they started, a second one leaves at once.
 */
import { runAttackCli } from './cli.ts';

if (import.meta.main) {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    process.stderr.write('\nattack: interrupted; stopping the gateway (Ctrl-C again to force)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.exitCode = await runAttackCli(
    process.argv.slice(2),
    { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) },
    controller.signal,
  );
}
