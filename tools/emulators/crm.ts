/**
 * An emulator of the business's own systems (its CRM), for tests, the demo and the bench: a bare
 * `node:http` server with the three endpoints the gateway calls.
 *
 *   POST /context           { callSid, from, to, agentId }              → { variables, instructions, hints }
 *   POST /tools/<name>      { callSid, agentId, tool, arguments, callId }  → any JSON
 *                           header Idempotency-Key: <callSid>:<callId>
 *   POST /webhook/call-ended  the post-call record                      → 2xx = delivered
 *
 * Each route's answer is scriptable ({@link CrmRouteBehaviour}: body or a function of the request,
 * status, delay, bad JSON, a hang, the first N failing). Every request is recorded with its raw
 * body, whether its `X-Gateway-Signature` verified (server/signing.ts) and whether its
 * Idempotency-Key was seen before. A request that breaks the contract (wrong method, not JSON,
 * missing fields, a key that does not match the body) is answered 400 with the problems listed.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADERS, verifySignature } from '../../server/signing.ts';
import type {
  CrmRequest,
  CrmRouteBehaviour,
  CrmRouteName,
  FakeCrm,
  FakeCrmOptions,
  SignatureCheck,
} from './crm-types.ts';

export type {
  CrmRequest,
  CrmRouteBehaviour,
  CrmRouteName,
  FakeCrm,
  FakeCrmOptions,
  SignatureCheck,
} from './crm-types.ts';

/** The emulator's paths. */
export const CRM_PATHS = { context: '/context', toolPrefix: '/tools/', webhook: '/webhook/call-ended' } as const;

const DEFAULT_BODY: Readonly<Record<CrmRouteName, unknown>> = {
  context: { variables: {}, instructions: '', hints: [] },
  tool: { ok: true },
  webhook: undefined,
};

/** Starts the emulator (default 127.0.0.1, an ephemeral port); rejects if the port cannot be bound. */
export async function startFakeCrm(opts: FakeCrmOptions = {}): Promise<FakeCrm> {
  const host = opts.host ?? '127.0.0.1';
  const requests: CrmRequest[] = [];
  const behaviours = new Map<string, CrmRouteBehaviour>();
  if (opts.context) behaviours.set('context', opts.context);
  if (opts.webhook) behaviours.set('webhook', opts.webhook);
  if (opts.tool) behaviours.set('tool', opts.tool);
  for (const [name, b] of Object.entries(opts.tools ?? {})) behaviours.set(`tool:${name}`, b);
  const counts = new Map<string, number>(); // requests per route key, for failFirst
  const seenKeys = new Set<string>();
  const stored = new Map<string, { status: number; text: string }>(); // 2xx answers per Idempotency-Key
  const bus = new EventEmitter();
  const shutdown = new AbortController();
  let closing = false;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) answer(res, undefined, 500, { error: `crm emulator internal error: ${String(err)}` });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, opts.maxBodyBytes ?? 1 << 20);
    const path = new URL(req.url ?? '/', 'http://crm').pathname;
    const { route, tool } = routeOf(path);
    const key = header(req, 'idempotency-key');
    const rec: CrmRequest = {
      index: requests.length,
      route,
      ...(tool === undefined ? {} : { tool }),
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      rawBody: raw ?? '',
      json: parseJson(raw),
      signature: checkSignature(req, raw ?? ''),
      ...(key === undefined ? {} : { idempotencyKey: key }),
      duplicate: key !== undefined && seenKeys.has(key),
      problems: [],
      receivedAt: Date.now(),
      abortedByClient: false,
    };
    if (key !== undefined) seenKeys.add(key);
    requests.push(rec);
    res.on('close', () => {
      if (!res.writableEnded && !closing) rec.abortedByClient = true;
    });
    bus.emit('request', rec);

    if (raw === undefined) return answer(res, rec, 413, { error: 'body too large' });
    if (route === 'unknown') return answer(res, rec, 404, { error: `no route ${path}` });
    if (rec.method !== 'POST') return answer(res, rec, 405, { error: 'only POST' });
    if (opts.requireSignature && rec.signature !== 'valid')
      return answer(res, rec, 401, { error: `signature ${rec.signature}` });
    rec.problems = contractProblems(rec, req);
    if (rec.problems.length) return answer(res, rec, 400, { error: rec.problems.join('; ') });

    const replay =
      route === 'tool' && key !== undefined && opts.replayDuplicates !== false ? stored.get(key) : undefined;
    if (replay) return send(res, rec, replay.status, replay.text);

    const routeKey = route === 'tool' ? `tool:${tool}` : route;
    const b = behaviours.get(routeKey) ?? (route === 'tool' ? behaviours.get('tool') : undefined) ?? {};
    const n = (counts.get(routeKey) ?? 0) + 1;
    counts.set(routeKey, n);
    if (n <= (b.failFirst ?? 0)) {
      const status = b.failStatus ?? 503;
      return answer(res, rec, status, { error: `scripted failure ${n} of ${b.failFirst}` });
    }
    if (!(await pause(b.delayMs))) return;
    if (b.hang) return; // never answered: close() or the client ends it
    if (b.badJson) return send(res, rec, 200, '{"variables": {"name": "דנה"'); // cut JSON
    const body = typeof b.body === 'function' ? await (b.body as (r: CrmRequest) => unknown)(rec) : b.body;
    const status = b.status ?? (route === 'webhook' ? 204 : 200);
    const text =
      status === 204
        ? ''
        : JSON.stringify(body ?? (status < 400 ? DEFAULT_BODY[route] : { error: `scripted ${status}` }));
    if (route === 'tool' && key !== undefined && status >= 200 && status < 300) stored.set(key, { status, text });
    send(res, rec, status, text);
  }

  function checkSignature(req: IncomingMessage, raw: string): SignatureCheck {
    const timestamp = header(req, SIGNATURE_HEADERS.timestamp);
    const signature = header(req, SIGNATURE_HEADERS.signature);
    if (!opts.secret) return 'unchecked';
    if (timestamp === undefined && signature === undefined) return 'missing';
    const ok = verifySignature(opts.secret, { timestamp, signature }, raw, {
      toleranceS: opts.signatureToleranceS ?? 300,
    });
    return ok ? 'valid' : 'invalid';
  }

  async function pause(ms: number | undefined): Promise<boolean> {
    if (!ms || ms <= 0) return !shutdown.signal.aborted;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        shutdown.signal.removeEventListener('abort', done);
        resolve();
      }
      shutdown.signal.addEventListener('abort', done);
    });
    return !shutdown.signal.aborted;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    contextUrl: url + CRM_PATHS.context,
    webhookUrl: url + CRM_PATHS.webhook,
    toolUrl: (name) => url + CRM_PATHS.toolPrefix + encodeURIComponent(name),
    requests,
    configure(route, behaviour) {
      behaviours.set(route, behaviour);
    },
    waitForRequest(index, timeoutMs = 5000) {
      const now = requests[index];
      if (now) return Promise.resolve(now);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          bus.off('request', listener);
          reject(new Error(`CRM emulator: request ${index} did not arrive within ${timeoutMs} ms`));
        }, timeoutMs);
        function listener(r: CrmRequest): void {
          if (r.index !== index) return;
          clearTimeout(timer);
          bus.off('request', listener);
          resolve(r);
        }
        bus.on('request', listener);
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        shutdown.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function routeOf(path: string): { route: CrmRouteName | 'unknown'; tool?: string } {
  if (path === CRM_PATHS.context) return { route: 'context' };
  if (path === CRM_PATHS.webhook) return { route: 'webhook' };
  if (path.startsWith(CRM_PATHS.toolPrefix) && path.length > CRM_PATHS.toolPrefix.length)
    return { route: 'tool', tool: decodeURIComponent(path.slice(CRM_PATHS.toolPrefix.length)) };
  return { route: 'unknown' };
}

/** What the gateway's request must look like on each route. */
function contractProblems(rec: CrmRequest, req: IncomingMessage): string[] {
  const problems: string[] = [];
  if (!/^application\/json\b/i.test(header(req, 'content-type') ?? ''))
    problems.push('Content-Type is not application/json');
  const body = rec.json;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return [...problems, 'body is not a JSON object'];
  const b = body as Record<string, unknown>;
  const strings = (...names: string[]) => {
    for (const n of names)
      if (typeof b[n] !== 'string' || b[n] === '') problems.push(`"${n}" must be a non-empty string`);
  };
  if (rec.route === 'context') strings('callSid', 'from', 'to', 'agentId');
  if (rec.route === 'tool') {
    strings('callSid', 'agentId', 'tool', 'callId');
    if (typeof b.arguments !== 'object' || b.arguments === null || Array.isArray(b.arguments))
      problems.push('"arguments" must be a JSON object');
    if (typeof b.tool === 'string' && b.tool !== rec.tool)
      problems.push(`"tool" is ${b.tool} but the path names ${rec.tool}`);
    const expected = `${String(b.callSid)}:${String(b.callId)}`;
    if (rec.idempotencyKey === undefined) problems.push('Idempotency-Key header missing');
    else if (rec.idempotencyKey !== expected)
      problems.push(`Idempotency-Key is ${rec.idempotencyKey}, expected ${expected}`);
  }
  return problems;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(raw: string | undefined): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size <= limit) parts.push(part as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(parts).toString('utf8');
}

function answer(res: ServerResponse, rec: CrmRequest | undefined, status: number, body: unknown): void {
  send(res, rec, status, JSON.stringify(body));
}

function send(res: ServerResponse, rec: CrmRequest | undefined, status: number, text: string): void {
  if (res.destroyed || res.writableEnded) return;
  if (rec) {
    rec.status = status;
    rec.answeredAt = Date.now();
  }
  res.writeHead(status, text ? { 'content-type': 'application/json; charset=utf-8' } : {});
  res.end(text);
}
