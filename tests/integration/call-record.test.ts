/**
 * Nothing said on a call is lost, end to end: a call placed by the Twilio-like simulator against
 * the gateway process (`node gateway.ts`, SQLite in a temp DATA_DIR) shows up in `/api/calls` with
 * its transcript and latency, the CRM's webhook receiver gets the record signed, and the console
 * in a real browser lists it and shows its transcript.
 */
import { runCall } from '../../tools/call/run-call.ts';
import { startGatewayChild, type GatewayChild } from '../../tools/gateway-child.ts';
import {
  DEFAULT_OPENAI_REPLY,
  DEFAULT_STT_TRANSCRIPTS,
  startFakeCrm,
  startFakeOpenAI,
  startFakeStt,
  startFakeTts,
  type FakeCrm,
  type FakeOpenAI,
  type FakeStt,
  type FakeTts,
} from '../../tools/emulators/index.ts';
import { verifySignature } from '../../server/signing.ts';
import { eventually } from '../helpers/gateway-harness.ts';
import { describeWithBrowser, launchBrowser } from '../helpers/browser.ts';
import { HEBREW } from '../helpers/voice-stack.ts';

jest.setTimeout(90_000);

const SECRET = 'record-test-secret-0123456789';

let stt: FakeStt;
let tts: FakeTts;
let openai: FakeOpenAI;
let crm: FakeCrm;
let g: GatewayChild;
let callSid: string;

beforeAll(async () => {
  [stt, tts, openai, crm] = await Promise.all([
    startFakeStt(),
    startFakeTts({ msPerChar: 20 }),
    startFakeOpenAI(),
    startFakeCrm({ secret: SECRET }),
  ]);
  g = await startGatewayChild({
    env: {
      GOOGLE_STT_EMULATOR_HOST: stt.address,
      GOOGLE_TTS_EMULATOR_HOST: tts.address,
      OPENAI_BASE_URL: openai.baseURL,
      CALL_WEBHOOK_URL: crm.webhookUrl,
      WEBHOOK_SECRET: SECRET,
    },
  });
  const report = await runCall({ base: g.url, audio: HEBREW, turns: 1 });
  expect(report.ok).toBe(true);
  callSid = report.callSid;
  // Every test reads the finished record, whatever order the tests run in.
  await eventually(() => ended, 15_000, 'the call to be recorded as ended');
}, 60_000);

let ended = false;
const poll = setInterval(() => {
  if (!g || !callSid || ended) return;
  void fetch(`${g.url}/api/calls/${callSid}`)
    .then((r) => (r.ok ? r.json() : undefined))
    .then((doc: any) => {
      if (doc?.call?.endedAt) ended = true;
    })
    .catch(() => undefined);
}, 100);

afterAll(async () => {
  clearInterval(poll);
  g?.process.kill('SIGKILL');
  await Promise.all([stt?.close(), tts?.close(), openai?.close(), crm?.close()]);
});

async function api(pathname: string): Promise<any> {
  const res = await fetch(`${g.url}${pathname}`);
  expect(res.status).toBe(200);
  return res.json();
}

describe('the call record', () => {
  it('lists the call, ended, newest first', async () => {
    const body = await api('/api/calls');
    const found = body.calls.find((c: any) => c.callSid === callSid);
    expect(found).toMatchObject({ callSid, agentId: 'default', live: false, endReason: 'caller-hangup', turnCount: 1 });
    expect(found.durationMs).toBeGreaterThan(1000);
  });

  it('has the turn with what the caller said, what the model said, what was heard, and the latency components', async () => {
    const doc = await api(`/api/calls/${callSid}`);
    expect(doc.call).toMatchObject({
      callSid,
      streamSid: expect.stringMatching(/^MZ/),
      from: '+972500000001',
      to: '+97230000001',
    });
    expect(doc.turns).toHaveLength(1);
    const [turn] = doc.turns;
    expect(turn).toMatchObject({
      index: 1,
      callerText: DEFAULT_STT_TRANSCRIPTS[0],
      agentText: DEFAULT_OPENAI_REPLY,
      heardText: DEFAULT_OPENAI_REPLY,
      interrupted: false,
    });
    for (const k of [
      'committedMs',
      'llmRequestMs',
      'firstTokenMs',
      'firstSentenceMs',
      'ttsDoneMs',
      'firstMediaMs',
      'firstMarkMs',
    ]) {
      expect(typeof turn.latency[k]).toBe('number');
    }
    expect(doc.usage.llmInputTokens).toBeGreaterThan(0);
    expect(doc.usage.ttsChars).toBeGreaterThan(DEFAULT_OPENAI_REPLY.length);
    expect(doc.usage.sttSeconds).toBeGreaterThan(1);
  });

  it('answers 404 for an unknown call', async () => {
    const res = await fetch(`${g.url}/api/calls/CA${'0'.repeat(32)}`);
    expect(res.status).toBe(404);
  });

  it('is pushed to the CRM signed, with the call as Idempotency-Key', async () => {
    const hook = await eventually(
      () => crm.requests.find((r) => r.route === 'webhook'),
      15_000,
      'the post-call webhook',
    );
    expect(hook.idempotencyKey).toBe(callSid);
    expect(hook.signature).toBe('valid');
    const headers = {
      timestamp: hook.headers['x-gateway-timestamp'] as string,
      signature: hook.headers['x-gateway-signature'] as string,
    };
    expect(verifySignature(SECRET, headers, hook.rawBody)).toBe(true);
    expect((hook.json as any).call.callSid).toBe(callSid);
    expect((hook.json as any).turns[0].callerText).toBe(DEFAULT_STT_TRANSCRIPTS[0]);
    await g.waitForLog('WEBHOOK_DELIVERED', 5000, (r) => r['callSid'] === callSid);
  });
});

describeWithBrowser('the console with a real call', () => {
  it('lists the call by its CallSid and shows its transcript', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${g.url}/console`);
      const row = page.getByText(callSid, { exact: false }).first();
      await row.waitFor({ timeout: 15_000 });
      await row.click();
      await page.getByText(DEFAULT_STT_TRANSCRIPTS[0]!, { exact: false }).first().waitFor({ timeout: 15_000 });
      const body = await page.textContent('body');
      expect(body).toContain(DEFAULT_STT_TRANSCRIPTS[0]!);
      expect(body).toContain(DEFAULT_OPENAI_REPLY.split('.')[0]!);
      expect(page.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
