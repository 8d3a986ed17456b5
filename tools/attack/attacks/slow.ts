/**
 * Slow and idle clients: headers that never finish, bodies that trickle, connections that say
 * nothing, more connections than the gateway allows. A gateway holds when it cuts them within a few
 * seconds with one `408` (or nothing) per socket, and its descriptors come back once they are gone.
 */
import { afterChecks, fdBaseline, Judge, secs } from '../judge.ts';
import { fdCount, httpRequest, rawExchange, sleep, tally, type RawResult } from '../net.ts';
import type { Attack, AttackContext } from '../types.ts';

/** Judges a batch of slow connections that the gateway should have cut with 408 (or silently). */
function judgeCut(j: Judge, ctx: AttackContext, results: RawResult[], allowed: number[]): void {
  const open = results.filter((r) => !r.closedByServer).length;
  const cut = results.map((r) => r.closedAtMs ?? Infinity).filter(Number.isFinite);
  j.fig('conns', results.length);
  j.fig('cut', cut.length ? `≤${secs(Math.max(...cut))}` : 'none');
  j.fig('statuses', tally(results.flatMap((r) => r.statuses)));
  j.check(open > 0, `${open} of ${results.length} still open after ${secs(ctx.limits.cutWithinMs)}`);
  const wrong = results.flatMap((r) => r.statuses).filter((s) => !allowed.includes(s));
  j.check(wrong.length > 0, `answered ${tally(wrong)} instead of ${allowed.join('/')}`);
  const twice = results.filter((r) => r.statuses.length > 1).length;
  j.check(twice > 0, `${twice} sockets got more than one response`);
}

const HEADER_LINE = 'X-Slow-Header: aaaaaaaaaaaaaaaa\r\n';

export const slowHeaders: Attack = {
  name: 'slow-headers',
  what: 'request headers that never finish (one byte a second)',
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const before = await fdBaseline(t);
    const n = Math.round(100 * ctx.limits.scale);
    const head = `POST /webhook/incoming_call HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\n`;
    const results = await Promise.all(
      Array.from({ length: n }, () =>
        rawExchange(t.port, head, {
          host: t.host,
          timeoutMs: ctx.limits.cutWithinMs,
          trickle: HEADER_LINE,
          trickleEveryMs: 1000,
          signal: ctx.signal,
        }),
      ),
    );
    judgeCut(j, ctx, results, [408]);
    await afterChecks(j, t, before, ctx.limits.fdSlack);
    return j.outcome();
  },
};

export const slowBody: Attack = {
  name: 'slow-body',
  what: 'webhook bodies that trickle in one byte a second',
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const before = await fdBaseline(t);
    const n = Math.round(50 * ctx.limits.scale);
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        rawExchange(
          t.port,
          httpRequest(
            'POST',
            i % 2 ? '/webhook/stream_status' : '/webhook/incoming_call',
            [
              ['Host', `${t.host}:${t.port}`],
              ['Content-Type', 'application/x-www-form-urlencoded'],
              ['Content-Length', '60000'],
            ],
            'CallSid=CA',
          ),
          { host: t.host, timeoutMs: ctx.limits.cutWithinMs, trickle: 'a', trickleEveryMs: 1000, signal: ctx.signal },
        ),
      ),
    );
    judgeCut(j, ctx, results, [408]);
    await afterChecks(j, t, before, ctx.limits.fdSlack);
    return j.outcome();
  },
};

export const idleSockets: Attack = {
  name: 'idle-sockets',
  what: 'TCP connections that never send a byte',
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const before = await fdBaseline(t);
    const n = Math.round(200 * ctx.limits.scale);
    const results = await Promise.all(
      Array.from({ length: n }, () =>
        rawExchange(t.port, '', { host: t.host, timeoutMs: ctx.limits.cutWithinMs, signal: ctx.signal }),
      ),
    );
    judgeCut(j, ctx, results, [408]);
    await afterChecks(j, t, before, ctx.limits.fdSlack);
    return j.outcome();
  },
};

/** The cap this attack sets, and how many connections it opens against it. */
const CAP = 100;

export const connectionCap: Attack = {
  name: 'connection-cap',
  what: `MAX_CONNECTIONS=${CAP}, then three times as many idle connections at once`,
  env: { MAX_CONNECTIONS: String(CAP) },
  needs: ['pid'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const before = await fdBaseline(t);
    const n = CAP * 3;
    const hold = new AbortController();
    const onAbort = () => hold.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const all = Promise.all(
      Array.from({ length: n }, () =>
        rawExchange(t.port, '', { host: t.host, timeoutMs: 10_000, signal: hold.signal }),
      ),
    );
    await sleep(1500, ctx.signal);
    const during = fdCount(t.pid);
    hold.abort();
    ctx.signal.removeEventListener('abort', onAbort);
    const results = await all;
    const dropped = results.filter((r) => r.closedByServer && (r.closedAtMs ?? Infinity) < 1500).length;
    j.fig('conns', n);
    j.fig('cap', CAP);
    j.fig('fds during', before === undefined ? 'n/a' : `${before}→${during}`);
    j.fig('refused at once', dropped);
    if (before !== undefined && during !== undefined) {
      j.check(
        during > before + CAP + ctx.limits.fdSlack,
        `${during - before} descriptors held for ${n} connections: the cap of ${CAP} was not enforced`,
      );
    }
    await afterChecks(j, t, before, ctx.limits.fdSlack);
    return j.outcome();
  },
};
