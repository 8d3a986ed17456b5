/**
 * The CRM emulator over real HTTP: scripted answers per route, failures, hangs, the gateway↔CRM
 * contract it enforces, signature verification with server/signing.ts, idempotency keys.
 */
import { signatureHeaders } from '../../server/signing.ts';
import { startFakeCrm } from '../../tools/emulators/index.ts';
import type { CrmRequest, FakeCrm, FakeCrmOptions } from '../../tools/emulators/index.ts';

const SECRET = 'whsec-test-0123456789';
const CONTEXT = { callSid: 'CA0001', from: '+972501234567', to: '+97231234567', agentId: 'clinic' };
const toolBody = (callId: string, args: Record<string, unknown> = { day: 'ראשון' }) => ({
  callSid: 'CA0001',
  agentId: 'clinic',
  tool: 'book',
  arguments: args,
  callId,
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: FakeCrmOptions = {}): Promise<FakeCrm> {
  const crm = await startFakeCrm(opts);
  cleanups.push(() => crm.close());
  return crm;
}

/** POSTs JSON like the gateway does: signed with `secret` when given, at `nowMs`. */
async function post(
  url: string,
  body: unknown,
  o: { secret?: string; headers?: Record<string, string>; nowMs?: number; signal?: AbortSignal } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signatureHeaders(o.secret, raw, o.nowMs), ...o.headers },
    body: raw,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const key = (callId: string) => ({ 'idempotency-key': `CA0001:${callId}` });

describe('CRM emulator', () => {
  test('context: the default answer, and the request recorded with raw body, JSON and a verified signature', async () => {
    const crm = await setup({ secret: SECRET });
    const r = await post(crm.contextUrl, CONTEXT, { secret: SECRET });
    expect(r).toMatchObject({ status: 200, json: { variables: {}, instructions: '', hints: [] } });
    expect(crm.requests[0]).toMatchObject<Partial<CrmRequest>>({
      route: 'context',
      method: 'POST',
      path: '/context',
      rawBody: JSON.stringify(CONTEXT),
      json: CONTEXT,
      signature: 'valid',
      duplicate: false,
      problems: [],
      status: 200,
    });
    expect(crm.requests[0]!.headers['x-gateway-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  test('signature: tampered body or stale timestamp is invalid, no headers is missing, no secret is unchecked', async () => {
    const crm = await setup({ secret: SECRET });
    const raw = JSON.stringify(CONTEXT);
    const signedOther = signatureHeaders(SECRET, JSON.stringify({ ...CONTEXT, from: '+972500000000' }));
    await post(crm.contextUrl, raw, { headers: signedOther });
    await post(crm.contextUrl, CONTEXT, { secret: SECRET, nowMs: Date.now() - 10 * 60_000 });
    await post(crm.contextUrl, CONTEXT);
    await post(crm.contextUrl, CONTEXT, { secret: 'another-secret' });
    expect(crm.requests.map((r) => r.signature)).toEqual(['invalid', 'invalid', 'missing', 'invalid']);
    expect(crm.requests.map((r) => r.status)).toEqual([200, 200, 200, 200]); // recorded, not refused
    const plain = await setup();
    await post(plain.contextUrl, CONTEXT, { secret: SECRET });
    expect(plain.requests[0]!.signature).toBe('unchecked');
  });

  test('requireSignature: 401 unless the signature verifies', async () => {
    const crm = await setup({ secret: SECRET, requireSignature: true });
    expect((await post(crm.contextUrl, CONTEXT)).status).toBe(401);
    expect((await post(crm.contextUrl, CONTEXT, { secret: 'wrong-secret' })).status).toBe(401);
    expect((await post(crm.contextUrl, CONTEXT, { secret: SECRET })).status).toBe(200);
  });

  test('tools: an answer computed from the request; a repeated Idempotency-Key is flagged and replayed, not re-run', async () => {
    let runs = 0;
    const crm = await setup({
      tools: {
        book: {
          body: (req: CrmRequest) => {
            runs++;
            return { booked: (req.json as { arguments: { day: string } }).arguments.day, run: runs };
          },
        },
      },
    });
    const first = await post(crm.toolUrl('book'), toolBody('call_1'), { headers: key('call_1') });
    const again = await post(crm.toolUrl('book'), toolBody('call_1'), { headers: key('call_1') });
    const other = await post(crm.toolUrl('book'), toolBody('call_2', { day: 'שני' }), { headers: key('call_2') });
    expect([first.json, again.json, other.json]).toEqual([
      { booked: 'ראשון', run: 1 },
      { booked: 'ראשון', run: 1 },
      { booked: 'שני', run: 2 },
    ]);
    expect(crm.requests.map((r) => [r.tool, r.idempotencyKey, r.duplicate])).toEqual([
      ['book', 'CA0001:call_1', false],
      ['book', 'CA0001:call_1', true],
      ['book', 'CA0001:call_2', false],
    ]);
  });

  test('replayDuplicates false runs the tool again but still flags the duplicate; tools without an entry use the default', async () => {
    const crm = await setup({ replayDuplicates: false, tool: { body: { generic: true } } });
    await post(crm.toolUrl('book'), toolBody('c'), { headers: key('c') });
    const again = await post(crm.toolUrl('book'), toolBody('c'), { headers: key('c') });
    expect(again.json).toEqual({ generic: true });
    expect(crm.requests[1]!.duplicate).toBe(true);
  });

  test('the contract: missing fields, a key that does not match, a tool that does not match the path, not JSON → 400', async () => {
    const crm = await setup();
    const missing = await post(crm.contextUrl, { callSid: 'CA1', from: '+972501234567' });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatch(/"to" must be a non-empty string; "agentId" must be a non-empty string/);
    const wrongKey = await post(crm.toolUrl('book'), toolBody('call_1'), { headers: key('call_9') });
    expect(wrongKey.json.error).toMatch(/Idempotency-Key is CA0001:call_9, expected CA0001:call_1/);
    expect((await post(crm.toolUrl('book'), toolBody('call_1'))).json.error).toMatch(/Idempotency-Key header missing/);
    const wrongTool = await post(crm.toolUrl('cancel'), toolBody('call_1'), { headers: key('call_1') });
    expect(wrongTool.json.error).toMatch(/"tool" is book but the path names cancel/);
    const args = await post(crm.toolUrl('book'), { ...toolBody('c'), arguments: '{}' }, { headers: key('c') });
    expect(args.json.error).toMatch(/"arguments" must be a JSON object/);
    expect((await post(crm.contextUrl, '{"callSid":')).json.error).toMatch(/not a JSON object/);
    const text = await post(crm.contextUrl, CONTEXT, { headers: { 'content-type': 'text/plain' } });
    expect(text.json.error).toMatch(/Content-Type is not application\/json/);
    expect(crm.requests.every((r) => r.status === 400 && r.problems.length > 0)).toBe(true);
    expect((await fetch(crm.contextUrl)).status).toBe(405);
    expect((await post(`${crm.url}/nowhere`, CONTEXT)).status).toBe(404);
  });

  test('failFirst, status, bad JSON and delay', async () => {
    const crm = await setup({ context: { failFirst: 2, body: { variables: { name: 'דנה' } } } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(crm.contextUrl, CONTEXT)).status);
    expect(statuses).toEqual([503, 503, 200]);
    crm.configure('context', { badJson: true });
    const bad = await post(crm.contextUrl, CONTEXT);
    expect(bad.status).toBe(200);
    expect(bad.json).toBeUndefined();
    expect(bad.text.length).toBeGreaterThan(0);
    crm.configure('context', { status: 500 });
    expect(await post(crm.contextUrl, CONTEXT)).toMatchObject({ status: 500, json: { error: 'scripted 500' } });
    crm.configure('context', { delayMs: 150 });
    const t0 = Date.now();
    expect((await post(crm.contextUrl, CONTEXT)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  test('a hanging route never answers; the client giving up is recorded, and close() does not wait for it', async () => {
    const crm = await startFakeCrm({ tool: { hang: true } });
    const gaveUp = post(crm.toolUrl('book'), toolBody('c'), { headers: key('c'), signal: AbortSignal.timeout(200) });
    await expect(gaveUp).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(crm.requests[0]).toMatchObject({ abortedByClient: true });
    expect(crm.requests[0]!.status).toBeUndefined();
    const pending = post(crm.toolUrl('book'), toolBody('d'), { headers: key('d') }).then(
      () => 'answered',
      () => 'closed',
    );
    await crm.waitForRequest(1);
    await crm.close();
    expect(await pending).toBe('closed');
  });

  test('webhook: 204 by default (delivered); a scripted failure, then delivered after configure()', async () => {
    const crm = await setup({ webhook: { status: 500 } });
    const record = { callSid: 'CA0001', outcome: 'completed' };
    expect((await post(crm.webhookUrl, record, { secret: SECRET })).status).toBe(500);
    crm.configure('webhook', {});
    expect(await post(crm.webhookUrl, record)).toMatchObject({ status: 204, text: '' });
    expect(crm.requests.map((r) => r.route)).toEqual(['webhook', 'webhook']);
  });
});
