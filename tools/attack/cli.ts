/**
 * The command line of `npm run attack [-- --quick] [--only a,b] [--base URL …]` (entry: main.ts), the
 * bounded loopback attack suite.
 * Prints one line per attack, `HELD`, `BROKE` or `SKIP`, with what it measured; exits 0 when nothing
 * broke, 1 when an attack broke something, 2 for bad arguments, 130 when interrupted.
 *
 * Without `--base` every attack starts its own gateway child (`node gateway.ts`) with the settings it
 * needs, so its log, descriptors and memory can be measured. With `--base` (loopback only) the
 * attacks that need more than the wire are skipped, unless `--pid`, `--auth-token`… supply it.
 */
import { parseArgs } from 'node:util';
import { baseGatewayEnv } from '../gateway-child.ts';
import { ATTACKS, LIMITS, runSuite, type AttackResult } from './suite.ts';
import { externalTarget, launchChild, stopChild } from './target.ts';

/** Where the CLI writes. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const USAGE = `usage: npm run attack -- [options]

Attacks a gateway on this machine (loopback only, bounded in count and time) and prints, per attack,
HELD or BROKE with what it measured.

  --quick                  CI size: fewer connections and requests (a few minutes at most)
  --only NAMES             comma-separated attack names (see --list)
  --list                   print the attacks and exit
  --base URL               attack a running gateway instead of starting one per attack (loopback only)
  --pid N                  with --base: the gateway's process id (descriptors, memory from /proc)
  --auth-token TOKEN       with --base: its TWILIO_AUTH_TOKEN (signs like Twilio)
  --public-base URL        with --base: its PUBLIC_BASE_URL
  --metrics-token TOKEN    with --base: its METRICS_TOKEN

Exit code: 0 every attack held (or was skipped), 1 an attack broke something, 2 bad usage.`;

class UsageError extends Error {}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Runs the CLI; returns the exit code. Never throws for what a gateway does. */
export async function runAttackCli(argv: string[], io: CliIo, signal: AbortSignal): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        list: { type: 'boolean' },
        base: { type: 'string' },
        pid: { type: 'string' },
        'auth-token': { type: 'string' },
        'public-base': { type: 'string' },
        'metrics-token': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (values.list) {
      for (const a of ATTACKS) io.out(`${a.name.padEnd(26)} ${a.what}`);
      return 0;
    }
    const only = values.only
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = only?.filter((n) => !ATTACKS.some((a) => a.name === n)) ?? [];
    if (unknown.length) throw new UsageError(`unknown attack(s): ${unknown.join(', ')} (see --list)`);
    const attacks = only ? ATTACKS.filter((a) => only.includes(a.name)) : ATTACKS;
    const external = values.base ? externalFrom(values) : undefined;
    if (!values.base && (values.pid || values['auth-token'] || values['public-base'] || values['metrics-token']))
      throw new UsageError('--pid, --auth-token, --public-base and --metrics-token go with --base');
    const quick = values.quick ?? false;
    const limits = LIMITS[quick ? 'quick' : 'full'];
    const t0 = performance.now();
    io.out(
      `attack: ${attacks.length} attacks, ${quick ? 'quick' : 'full'} run, ${external ? `against ${external.base}` : 'a fresh gateway each'}`,
    );
    const results = await runSuite({
      attacks,
      limits,
      quick,
      launch: external ? undefined : (env) => launchChild(env, { baseEnv: { ...baseGatewayEnv(), LOG_LEVEL: 'info' } }),
      stop: (t) => stopChild(t),
      external,
      attackCapMs: quick ? 120_000 : 600_000,
      signal,
      onResult: (r) => io.out(formatResult(r)),
    });
    const broke = results.filter((r) => r.verdict === 'broke');
    const held = results.filter((r) => r.verdict === 'held').length;
    const skipped = results.filter((r) => r.verdict === 'skip').length;
    io.out(
      `attack: ${held} held, ${broke.length} broke, ${skipped} skipped in ${Math.round((performance.now() - t0) / 1000)} s` +
        (broke.length ? ` — broke: ${broke.map((r) => r.name).join(', ')}` : ''),
    );
    if (signal.aborted) return 130;
    return broke.length ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`attack: ${(err as Error).message}`);
      io.err('run with --help for usage');
      return 2;
    }
    throw err;
  }
}

function externalFrom(values: Record<string, string | boolean | undefined>) {
  let url: URL;
  try {
    url = new URL(String(values['base']));
  } catch {
    throw new UsageError(`--base: not a URL: ${String(values['base'])}`);
  }
  if (url.protocol !== 'http:') throw new UsageError('--base: only http:// (the gateway itself, not a TLS proxy)');
  if (!LOOPBACK.test(url.hostname))
    throw new UsageError(`--base: ${url.hostname} is not a loopback address; attacks stay on this machine`);
  const pid = values['pid'] === undefined ? undefined : Number(values['pid']);
  if (pid !== undefined && !Number.isInteger(pid)) throw new UsageError('--pid: expected a process id');
  const str = (k: string) => (typeof values[k] === 'string' ? values[k] : undefined);
  return externalTarget({
    base: url.origin,
    pid,
    authToken: str('auth-token'),
    publicBase: str('public-base'),
    metricsToken: str('metrics-token'),
  });
}

/** `HELD  slow-headers          conns 100, cut ≤5.2 s, … — finding; finding`. */
export function formatResult(r: AttackResult): string {
  const verdict = { held: 'HELD ', broke: 'BROKE', skip: 'SKIP ' }[r.verdict];
  const figures = Object.entries(r.figures)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const findings = r.findings.length
    ? ` — ${r.findings.slice(0, 4).join('; ')}${r.findings.length > 4 ? `; +${r.findings.length - 4} more` : ''}`
    : '';
  return `${verdict} ${r.name.padEnd(26)} ${figures}${figures ? ', ' : ''}${(r.ms / 1000).toFixed(1)} s${findings}`;
}
