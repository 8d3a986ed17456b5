/**
 * The attack tool's judgement: against a purposely weak stand-in gateway each attack below says
 * BROKE, against a good one HELD; the command line's exit codes; and a real run against the gateway.
 */
import { baseGatewayEnv } from '../../tools/gateway-child.ts';
import { runAttackCli } from '../../tools/attack/cli.ts';
import { ATTACKS, runSuite, type AttackResult } from '../../tools/attack/suite.ts';
import { launchChild, stopChild } from '../../tools/attack/target.ts';
import type { Limits } from '../../tools/attack/types.ts';

jest.setTimeout(180_000);

/** Small and quick: the stand-ins cut in about a second when they cut at all. */
const LIMITS: Limits = { cutWithinMs: 3000, answerWithinMs: 2000, fdSlack: 8, logBytesPerRequest: 4096, scale: 0.2 };
const JUDGED = [
  'slow-headers',
  'idle-sockets',
  'connection-cap',
  'hostile-upgrades',
  'never-start',
  'metrics-token',
  'corrupt-body',
  'caller-numbers',
  'drain-held',
];

async function against(kind: 'weak' | 'good'): Promise<Map<string, AttackResult>> {
  const results = await runSuite({
    attacks: ATTACKS.filter((a) => JUDGED.includes(a.name)),
    limits: LIMITS,
    quick: true,
    launch: (env) => launchChild(env, { script: 'tools/attack/stand-in.ts', args: [kind], baseEnv: baseGatewayEnv() }),
    stop: (t) => stopChild(t, 2000),
    external: undefined,
    attackCapMs: 60_000,
    signal: new AbortController().signal,
  });
  return new Map(results.map((r) => [r.name, r]));
}

describe('the attack tool', () => {
  let weak: Map<string, AttackResult>;
  let good: Map<string, AttackResult>;
  beforeAll(async () => {
    weak = await against('weak');
    good = await against('good');
  });

  it.each(JUDGED)('says BROKE for %s against a weak server, with a finding', (name) => {
    const r = weak.get(name)!;
    expect([name, r.verdict]).toEqual([name, 'broke']);
    expect(r.findings.length).toBeGreaterThan(0);
  });

  it.each(JUDGED)('says HELD for %s against a good server', (name) => {
    const r = good.get(name)!;
    expect([name, r.verdict, r.findings]).toEqual([name, 'held', []]);
  });

  it('reports figures with each verdict', () => {
    expect(weak.get('slow-headers')!.figures).toMatchObject({ conns: 20, statuses: 'none' });
    expect(good.get('slow-headers')!.figures).toMatchObject({ conns: 20, statuses: '408×20' });
    expect(String(weak.get('connection-cap')!.figures['fds during'])).toMatch(/^\d+→\d+$/);
  });
});

describe('npm run attack', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };

  it.each([
    [['--only', 'nope']],
    [['--base', 'http://10.0.0.1:5000']],
    [['--base', 'http://example.com']],
    [['--pid', '12']],
    [['--bogus']],
  ])('exits 2 on bad usage: %j', async (argv) => {
    const c = io();
    expect(await runAttackCli(argv, c.io, new AbortController().signal)).toBe(2);
    expect(c.err.join('\n')).toMatch(/attack: /);
  });

  it('lists every attack', async () => {
    const c = io();
    expect(await runAttackCli(['--list'], c.io, new AbortController().signal)).toBe(0);
    expect(c.out).toHaveLength(ATTACKS.length);
  });

  it('runs against the real gateway: HELD lines and exit 0', async () => {
    const c = io();
    const code = await runAttackCli(
      ['--quick', '--only', 'proto-reflection,subprotocol,metrics-token'],
      c.io,
      new AbortController().signal,
    );
    expect(c.out.filter((l) => /^(HELD|BROKE|SKIP)/.test(l))).toEqual([
      expect.stringMatching(/^HELD {2}proto-reflection /),
      expect.stringMatching(/^HELD {2}subprotocol /),
      expect.stringMatching(/^HELD {2}metrics-token /),
    ]);
    expect(c.out.at(-1)).toMatch(/^attack: 3 held, 0 broke, 0 skipped/);
    expect(code).toBe(0);
  });

  it('skips what a --base target cannot show, and attacks the rest', async () => {
    const g = await launchChild({}, { baseEnv: baseGatewayEnv() });
    try {
      const c = io();
      const code = await runAttackCli(
        ['--quick', '--base', g.base, '--only', 'caller-numbers,drain-held,subprotocol'],
        c.io,
        new AbortController().signal,
      );
      expect(c.out.filter((l) => /^(HELD|BROKE|SKIP)/.test(l)).map((l) => l.slice(0, 32).trim())).toEqual([
        'HELD  subprotocol',
        'SKIP  caller-numbers',
        'SKIP  drain-held',
      ]);
      expect(code).toBe(0);
    } finally {
      await stopChild(g);
    }
  });
});
