/**
 * Plain HTTP: malformed requests, bodies that fail to decompress, forwarded schemes reflected into
 * TwiML, and `/metrics` without its token.
 */
import { readStreamTwiml } from '../../twilio/twilio-http.ts';
import { afterChecks, fdBaseline, Judge } from '../judge.ts';
import { httpRequest, rawExchange, tally } from '../net.ts';
import { randomSid } from '../probes.ts';
import type { Attack } from '../types.ts';

/** Malformed requests, as raw bytes. */
function malformed(host: string): Array<[string, string]> {
  const h: [string, string] = ['Host', host];
  const form: [string, string] = ['Content-Type', 'application/x-www-form-urlencoded'];
  const post = (headers: Array<[string, string]>, body = '') =>
    httpRequest('POST', '/webhook/incoming_call', [h, ...headers], body);
  return [
    ['garbage line', 'GARBAGE\r\n\r\n'],
    ['binary', '\x00\x01\x02\x03\xff\xfe\r\n\r\n'],
    ['HTTP/9.9', 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n'],
    ['HTTP/0.9', 'GET /healthz\r\n\r\n'],
    ['header without colon', httpRequest('GET', '/healthz', [h]).replace('\r\n\r\n', '\r\nNoColonHere\r\n\r\n')],
    ['space in header name', httpRequest('GET', '/healthz', [h, ['Bad Name', 'x']])],
    ['bare LF', 'GET /healthz HTTP/1.1\nHost: x\n\n'],
    ['obs-fold', httpRequest('GET', '/healthz', [h, ['X-A', 'a\r\n b']])],
    ['NUL in a value', httpRequest('GET', '/healthz', [h, ['X-A', 'a\x00b']])],
    ['no Host', 'GET /healthz HTTP/1.1\r\n\r\n'],
    ['bad Content-Length', post([form, ['Content-Length', 'abc']], 'a=b')],
    ['two Content-Lengths', post([form, ['Content-Length', '3'], ['Content-Length', '4']], 'a=bc')],
    ['negative Content-Length', post([form, ['Content-Length', '-1']])],
    ['huge Content-Length', post([form, ['Content-Length', '99999999999999999999']])],
    [
      'Content-Length and chunked',
      post([form, ['Content-Length', '3'], ['Transfer-Encoding', 'chunked']], '0\r\n\r\n'),
    ],
    ['bad chunk size', post([form, ['Transfer-Encoding', 'chunked']], 'zz\r\nabc\r\n0\r\n\r\n')],
    [
      'huge chunk extension',
      post([form, ['Transfer-Encoding', 'chunked']], `3;${'e'.repeat(20_000)}\r\nabc\r\n0\r\n\r\n`),
    ],
    ['gzip, chunked', post([form, ['Transfer-Encoding', 'gzip, chunked']], '0\r\n\r\n')],
    ['space in the URL', 'GET /heal thz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['DEL in the URL', 'GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['NUL in the method', 'G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['20 KB request line', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['20 KB header', httpRequest('GET', '/healthz', [h, ['X-Big', 'b'.repeat(20_000)]])],
    [
      '3000 headers',
      httpRequest('GET', '/healthz', [h, ...Array.from({ length: 3000 }, (_, i): [string, string] => [`X-${i}`, 'v'])]),
    ],
    ['body over the limit', post([form, ['Content-Length', '200000']], 'a='.padEnd(200_000, 'x'))],
    ['CONNECT', 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n'],
    ['TRACE', httpRequest('TRACE', '/', [h])],
    ['absolute URI', httpRequest('GET', 'http://evil.example/healthz', [h])],
    ['Expect without body', post([form, ['Expect', '100-continue'], ['Content-Length', '10']])],
    [
      'JSON bomb depth',
      httpRequest('POST', '/webhook/incoming_call', [h, ['Content-Type', 'application/json']], '['.repeat(50_000)),
    ],
    ['bad percent-encoding', post([form], 'CallSid=%E0%A4%A&From=%ZZ')],
  ];
}

export const malformedHttp: Attack = {
  name: 'malformed-http',
  what: 'malformed request lines, headers, lengths, chunking and bodies',
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const before = await fdBaseline(t);
    const cases = malformed(`${t.host}:${t.port}`);
    const statuses: Array<number | string> = [];
    for (const [name, raw] of cases) {
      if (ctx.signal.aborted) break;
      const r = await rawExchange(t.port, raw, {
        host: t.host,
        timeoutMs: ctx.limits.answerWithinMs,
        closeGraceMs: 500,
      });
      statuses.push(r.statuses[0] ?? (r.closedByServer ? 'closed' : 'none'));
      j.check(r.statuses.length === 0 && !r.closedByServer, `${name}: neither answered nor closed`);
      j.check(
        r.statuses.some((s) => s >= 500),
        `${name}: answered ${r.statuses.join(', ')}`,
      );
      const final = r.statuses.filter((s) => s >= 200);
      j.check(final.length > 1, `${name}: ${final.length} responses on one socket`);
    }
    j.fig('requests', cases.length);
    j.fig('statuses', tally(statuses));
    await afterChecks(j, t, before, ctx.limits.fdSlack);
    return j.outcome();
  },
};

export const corruptBody: Attack = {
  name: 'corrupt-body',
  what: 'webhook bodies that fail to decompress or decode (br, gzip, deflate, charsets)',
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const garbage = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 5) & 255));
    const cases: Array<[string, Record<string, string>, Buffer | string]> = [
      ['br', { 'content-encoding': 'br' }, garbage],
      ['gzip', { 'content-encoding': 'gzip' }, garbage],
      ['deflate', { 'content-encoding': 'deflate' }, garbage],
      ['gzip, br', { 'content-encoding': 'gzip, br' }, garbage],
      ['unknown encoding', { 'content-encoding': 'zstd2' }, garbage],
      ['charset utf-7', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-7' }, 'CallSid=CA1'],
      ['json latin1 bytes', { 'content-type': 'application/json' }, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ];
    const seen: string[] = [];
    for (const path of ['/webhook/incoming_call', '/webhook/call_status']) {
      for (const [name, headers, body] of cases) {
        let status: number | undefined;
        try {
          const res = await fetch(t.base + path, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
            body,
            signal: AbortSignal.timeout(5000),
          });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = undefined;
        }
        seen.push(String(status ?? 'none'));
        j.check(
          status === undefined || status < 400 || status >= 500,
          `${path} with ${name}: answered ${status ?? 'nothing'}, not 4xx`,
        );
      }
    }
    j.fig('requests', seen.length);
    j.fig('statuses', tally(seen));
    return j.outcome();
  },
};

export const protoReflection: Attack = {
  name: 'proto-reflection',
  what: 'X-Forwarded-Proto/Host from a trusted (loopback) peer carrying other schemes into TwiML',
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const protos = ['javascript', 'data', 'ftp', 'https://evil', 'file', 'javascript, https'];
    const seen: string[] = [];
    for (const proto of protos) {
      const res = await fetch(`${t.base}/webhook/incoming_call`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': proto },
        body: `CallSid=${randomSid('CA')}`,
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      const text = res ? await res.text() : '';
      seen.push(String(res?.status ?? 'none'));
      if (res?.status !== 200) continue;
      let urls: string[];
      try {
        const s = readStreamTwiml(text);
        urls = [s.streamUrl, s.connectAction ?? '', s.statusCallback ?? ''].filter(Boolean);
      } catch {
        urls = [...text.matchAll(/(?:url|action|statusCallback)="([^"]*)"/g)].map((m) => m[1]!);
      }
      const bad = urls.filter((u) => !/^(https?|wss):\/\//.test(u));
      j.check(bad.length > 0, `X-Forwarded-Proto "${proto}" reached TwiML: ${bad[0]}`);
    }
    j.fig('statuses', tally(seen));
    return j.outcome();
  },
};

const METRICS_TOKEN = 'attack-suite-metrics-token';

export const metricsToken: Attack = {
  name: 'metrics-token',
  what: 'METRICS_TOKEN set: /metrics without it, with a wrong one, and with it',
  env: { METRICS_TOKEN },
  needs: ['metricsToken'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const get = async (auth: string | undefined) => {
      try {
        const res = await fetch(`${t.base}/metrics`, {
          headers: auth ? { authorization: auth } : {},
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer();
        return res.status;
      } catch {
        return undefined;
      }
    };
    const none = await get(undefined);
    const wrong = await get('Bearer wrong-token');
    const basic = await get(`Basic ${Buffer.from(`x:${t.metricsToken}`).toString('base64')}`);
    const right = await get(`Bearer ${t.metricsToken}`);
    j.fig('statuses', `none ${none}, wrong ${wrong}, basic ${basic}, right ${right}`);
    j.check(none !== 401, `/metrics without a token answered ${none}`);
    j.check(wrong !== 401, `/metrics with a wrong token answered ${wrong}`);
    j.check(basic !== 401, `/metrics with Basic auth answered ${basic}`);
    j.check(right !== 200, `/metrics with the right token answered ${right}`);
    return j.outcome();
  },
};
