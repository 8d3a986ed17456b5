/**
 * Hostile WebSocket upgrades and signatures steered by headers. Every upgrade must get a real status
 * line and a closed socket (a 101 only where the request really is valid); signatures must be checked
 * against the configured public origin whatever Host and X-Forwarded-* say; and a gateway that would
 * have to trust those headers (an auth token without PUBLIC_BASE_URL) must refuse to start.
 */
import { GatewayStartError } from '../../gateway-child.ts';
import { twilioSignature } from '../../twilio/twilio-http.ts';
import { afterChecks, fdBaseline, Judge, secs } from '../judge.ts';
import { httpRequest, pool, rawExchange, tally, upgradeHeaders, type RawResult } from '../net.ts';
import { callParams, MEDIA_PATH, postWebhook, publicStreamUrl, randomSid, upgradeAuth } from '../probes.ts';
import type { Attack, AttackContext, Target } from '../types.ts';

const TOKEN = 'attack-suite-auth-token-0123456789';
const PUBLIC = 'https://gw.attack.test';
const EVIL = 'evil.attack.test';

/** The hostile upgrade requests, as raw text, for a target whose valid signature is `sig`. */
function hostileRequests(t: Target, sig: string): Array<[string, string]> {
  const host: [string, string] = ['Host', `${t.host}:${t.port}`];
  const signed: [string, string] = ['X-Twilio-Signature', sig];
  const up = (extra: Array<[string, string]>, path = MEDIA_PATH, method = 'GET') =>
    httpRequest(method, path, upgradeHeaders(extra));
  return [
    ['host with a space', up([['Host', 'a b'], signed])],
    ['no host', up([signed])],
    ['empty host', up([['Host', ''], signed])],
    ['unclosed IPv6 host', up([['Host', '[::1'], signed])],
    ['host with a huge port', up([['Host', 'a:99999999999'], signed])],
    ['host with 8-bit bytes', up([['Host', '\xfc\xe9.example'], signed])],
    ['host with a path', up([['Host', 'a/b?c'], signed])],
    ['two hosts', up([host, ['Host', EVIL], signed])],
    ['forwarded host with a space', up([host, ['X-Forwarded-Host', 'a b'], signed])],
    ['forwarded proto junk', up([host, ['X-Forwarded-Proto', 'javascript'], signed])],
    ['two signatures', up([host, signed, signed])],
    ['8 KB signature', up([host, ['X-Twilio-Signature', 'A'.repeat(8192)]])],
    ['garbage signature', up([host, ['X-Twilio-Signature', '\x01\x02%%%']])],
    ['short key', up([host, signed, ['Sec-WebSocket-Key', 'short']])],
    ['version 99', up([host, signed, ['Sec-WebSocket-Version', '99']])],
    ['two upgrade headers', up([host, signed, ['Upgrade', 'h2c']])],
    ['upgrade to h2c', httpRequest('GET', MEDIA_PATH, [host, ['Connection', 'Upgrade'], ['Upgrade', 'h2c'], signed])],
    ['POST upgrade', up([host, signed], MEDIA_PATH, 'POST')],
    ['upgrade with a body', up([host, signed, ['Content-Length', '5']]) + 'hello'],
    ['unknown path', up([host, signed], '/ws/other')],
    ['dot-dot path', up([host, signed], '/ws/twilio-media/../../etc')],
    ['percent path', up([host, signed], '/ws/%')],
    ['8 KB path', up([host, signed], '/ws/' + 'a'.repeat(8000))],
    ['absolute URI', up([host, signed], `http://${EVIL}${MEDIA_PATH}`)],
    ['asterisk', up([host, signed], '*', 'OPTIONS')],
    ['20 KB header', up([host, signed, ['X-Big', 'b'.repeat(20_000)]])],
    ['protocol list junk', up([host, signed, ['Sec-WebSocket-Protocol', ',,,']])],
    ['8 KB protocol', up([host, signed, ['Sec-WebSocket-Protocol', 'p'.repeat(8192)]])],
    ['extension junk', up([host, signed, ['Sec-WebSocket-Extensions', 'permessage-deflate; x=;;']])],
    ['HTTP/1.0', up([host, signed]).replace('HTTP/1.1', 'HTTP/1.0')],
    ['garbage after the head', up([host, signed]) + '\x00\xff\x81garbage'],
    ['8 KB user agent', up([host, signed, ['User-Agent', 'u'.repeat(8192)]])],
  ];
}

/** A status line the gateway may answer an upgrade with. */
const ANSWERS = [101, 400, 403, 404, 405, 413, 414, 426, 431, 503];

/** Sends each request `rounds` times; records unanswered, unexpected and not-closed ones. */
async function sendAll(
  j: Judge,
  ctx: AttackContext,
  t: Target,
  requests: Array<[string, string]>,
  rounds: number,
): Promise<void> {
  const jobs = Array.from({ length: rounds }, () => requests).flat();
  const t0 = performance.now();
  const results: Array<[string, RawResult]> = await pool(jobs.length, 20, async (i) => {
    const [name, raw] = jobs[i]!;
    return [
      name,
      await rawExchange(t.port, raw, {
        host: t.host,
        timeoutMs: ctx.limits.answerWithinMs,
        closeGraceMs: 1000,
        signal: ctx.signal,
      }),
    ];
  });
  j.fig('requests', jobs.length);
  j.fig('time', secs(performance.now() - t0));
  j.fig('statuses', tally(results.map(([, r]) => r.statuses[0] ?? 'none')));
  const problems = new Map<string, string>();
  for (const [name, r] of results) {
    const status = r.statuses[0];
    if (status === undefined && !r.closedByServer) problems.set(name, 'never answered');
    else if (status !== undefined && !ANSWERS.includes(status)) problems.set(name, `answered ${status}`);
    else if (status !== undefined && status !== 101 && !r.closedByServer)
      problems.set(name, `answered ${status} but left open`);
  }
  for (const [name, why] of problems) j.check(true, `${name}: ${why}`);
}

export const hostileUpgrades: Attack = {
  name: 'hostile-upgrades',
  what: 'malformed, oversized and duplicate-header upgrades, with and without a valid signature',
  env: { TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: PUBLIC },
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const before = await fdBaseline(t);
    const sig = upgradeAuth(t)['x-twilio-signature'] ?? 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    await sendAll(j, ctx, t, hostileRequests(t, sig), Math.max(1, Math.round(5 * ctx.limits.scale)));
    await afterChecks(j, t, before, ctx.limits.fdSlack);
    return j.outcome();
  },
};

export const tokenWithoutPublicBase: Attack = {
  name: 'token-without-public-base',
  what: 'TWILIO_AUTH_TOKEN without PUBLIC_BASE_URL: refused at start-up, or no header may steer signatures',
  env: {},
  needs: ['child'],
  async run(ctx) {
    const j = new Judge();
    let t: Target;
    try {
      t = await ctx.launch!({ TWILIO_AUTH_TOKEN: TOKEN });
    } catch (err) {
      const said = err instanceof GatewayStartError ? err.message : String(err);
      j.fig('start-up', said.includes('PUBLIC_BASE_URL') ? 'refused, naming PUBLIC_BASE_URL' : 'failed');
      j.check(
        !said.includes('PUBLIC_BASE_URL'),
        `start-up failed without naming PUBLIC_BASE_URL: ${said.slice(0, 200)}`,
      );
      return j.outcome();
    }
    try {
      j.fig('start-up', 'accepted');
      const before = await fdBaseline(t);
      const sig = twilioSignature(TOKEN, `wss://a b${MEDIA_PATH}`, {});
      const spaced = (signature: string) =>
        httpRequest(
          'GET',
          MEDIA_PATH,
          upgradeHeaders([
            ['Host', 'a b'],
            ['X-Twilio-Signature', signature],
          ]),
        );
      const requests: Array<[string, string]> = [
        ['host with a space, any signature', spaced('AAAAAAAAAAAAAAAAAAAAAAAAAAA=')],
        ['host with a space, signed for it', spaced(sig)],
      ];
      await sendAll(j, ctx, t, requests, Math.round(50 * ctx.limits.scale));
      await steering(j, t, `https://${EVIL}`);
      await afterChecks(j, t, before, ctx.limits.fdSlack);
    } finally {
      await ctx.stop(t);
    }
    return j.outcome();
  },
};

/**
 * Webhooks and upgrades signed for `evilOrigin` (another host in the same account), sent with Host
 * and X-Forwarded-* claiming it: every one must be refused.
 */
async function steering(j: Judge, t: Target, evilOrigin: string): Promise<void> {
  const token = t.authToken ?? TOKEN;
  const evilHost = new URL(evilOrigin).host;
  const params = callParams(randomSid('CA'));
  const signUrl = `${evilOrigin}/webhook/incoming_call`;
  const hooks: Array<[string, Record<string, string>]> = [
    ['Host', { host: evilHost }],
    ['X-Forwarded-Host', { 'x-forwarded-host': evilHost, 'x-forwarded-proto': 'https' }],
  ];
  const seen: string[] = [];
  for (const [how, headers] of hooks) {
    const res = await postWebhook({ ...t, authToken: token }, '/webhook/incoming_call', params, { signUrl, headers });
    seen.push(`${how}:${res.status ?? 'none'}`);
    j.check(res.status === 200, `incoming_call signed for ${evilHost} accepted via ${how}`);
  }
  const wss = `wss://${evilHost}${MEDIA_PATH}`;
  const ups: Array<[string, Array<[string, string]>]> = [
    ['Host', [['Host', evilHost]]],
    [
      'X-Forwarded-Host',
      [
        ['Host', `${t.host}:${t.port}`],
        ['X-Forwarded-Host', evilHost],
        ['X-Forwarded-Proto', 'https'],
      ],
    ],
  ];
  for (const [how, headers] of ups) {
    const raw = httpRequest(
      'GET',
      MEDIA_PATH,
      upgradeHeaders([...headers, ['X-Twilio-Signature', twilioSignature(token, wss, {})]]),
    );
    const r = await rawExchange(t.port, raw, { host: t.host, timeoutMs: 3000, closeGraceMs: 200 });
    seen.push(`upgrade ${how}:${r.statuses[0] ?? 'none'}`);
    j.check(r.statuses[0] === 101, `upgrade signed for ${evilHost} accepted via ${how}`);
  }
  j.fig('steered', seen.join(' '));
}

export const signatureSteering: Attack = {
  name: 'signature-steering',
  what: 'requests signed for another host, with Host/X-Forwarded-Host claiming it',
  env: { TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: PUBLIC },
  needs: ['authToken'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    await steering(j, t, `https://${EVIL}`);
    // Control: what Twilio itself signs must still pass, or the refusals above prove nothing.
    const good = await postWebhook(t, '/webhook/incoming_call', callParams(randomSid('CA')));
    j.check(good.status !== 200, `a request signed for the public URL was refused (${good.status})`);
    const up = httpRequest(
      'GET',
      MEDIA_PATH,
      upgradeHeaders([
        ['Host', `${t.host}:${t.port}`],
        ['X-Twilio-Signature', twilioSignature(t.authToken!, publicStreamUrl(t), {})],
      ]),
    );
    const r = await rawExchange(t.port, up, { host: t.host, timeoutMs: 3000, closeGraceMs: 200 });
    j.check(r.statuses[0] !== 101, `an upgrade signed for the public URL was refused (${r.statuses[0]})`);
    j.fig('control', `${good.status}/${r.statuses[0] ?? 'none'}`);
    return j.outcome();
  },
};

export { TOKEN as ATTACK_AUTH_TOKEN, PUBLIC as ATTACK_PUBLIC_BASE };
