/**
 * The preflight checks in-process, with the real SDK clients against the strict emulators: GO when
 * everything is right, and NO-GO naming the setting to change when TTS_VOICE, STT_MODEL,
 * STT_LANGUAGE, OPENAI_MODEL, OPENAI_REASONING_EFFORT, OPENAI_API_KEY or an agent's voice is wrong.
 * The recognition check streams the 2.2 s clip in real time, so each full run takes about 3 s.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../config/config.ts';
import { runPreflight, runPreflightFromEnv } from '../../media/providers/preflight.ts';
import type { PreflightCheck, PreflightReport } from '../../media/providers/preflight.ts';
import { runCheck } from '../../media/providers/preflight-check.ts';
import { PREFLIGHT_SENTENCE } from '../../media/providers/preflight-google.ts';
import { readPreflightClip } from '../../media/providers/preflight-stt.ts';
import {
  DEFAULT_STT_TRANSCRIPTS,
  startFakeOpenAI,
  startFakeStt,
  startFakeSttV2,
  startFakeTts,
} from '../../tools/emulators/index.ts';
import type { FakeOpenAI, FakeStt, FakeSttOptions, FakeTts } from '../../tools/emulators/index.ts';

jest.setTimeout(60_000);

const KEY = 'sk-preflight-test-key-0123456789SECRET';
const TOKEN = 'twilio-auth-token-SECRET-42';

let stt: FakeStt;
let tts: FakeTts;
let openai: FakeOpenAI;
const extra: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  [stt, tts, openai] = await Promise.all([startFakeStt(), startFakeTts(), startFakeOpenAI({ apiKey: KEY })]);
});
afterAll(async () => {
  // gRPC statuses of streams the checks closed arrive a moment later; the SDK decodes them lazily
  // (a require), which must happen before jest tears the module system down.
  const open = () => [stt, ...extra].some((f) => 'streams' in f && (f as FakeStt).activeStreams().length > 0);
  for (let i = 0; i < 50 && open(); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all([stt, tts, openai, ...extra].map((f) => f?.close()));
});

function env(over: Record<string, string> = {}, sttFake: FakeStt = stt): Record<string, string> {
  return {
    GOOGLE_STT_EMULATOR_HOST: sttFake.address,
    GOOGLE_TTS_EMULATOR_HOST: tts.address,
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: KEY,
    ...over,
  };
}

const run = (over: Record<string, string> = {}, sttFake?: FakeStt): Promise<PreflightReport> =>
  runPreflightFromEnv(env(over, sttFake), { stt: { finalWaitMs: 3000 } });

function named(report: PreflightReport, name: string): PreflightCheck {
  const c = report.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check ${name} in ${report.checks.map((x) => x.name).join(', ')}`);
  return c;
}

async function extraStt(opts: FakeSttOptions): Promise<FakeStt> {
  const fake = await startFakeStt(opts);
  extra.push(fake);
  return fake;
}

describe('GO', () => {
  test('every check passes against the emulators, each saying what it measured', async () => {
    const before = { tts: tts.requests.length, voices: tts.listVoicesRequests.length, llm: openai.requests.length };
    const streamsBefore = stt.streams.length;
    const r = await run();
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      ['google-credentials', true],
      ['tts-voice', true],
      ['tts-synthesis', true],
      ['stt-recognition', true],
      ['openai-model', true],
      ['openai-first-token', true],
      ['twilio-public-url', true],
      ['twilio-auth-token', true],
    ]);
    expect(r).toMatchObject({ go: true, failed: [], warnings: ['twilio-public-url', 'twilio-auth-token'] });
    expect(named(r, 'google-credentials').measured).toContain(`stt: emulator ${stt.address}`);
    expect(named(r, 'tts-voice').measured).toMatch(/^he-IL-Wavenet-A listed \(\d+ he-IL voices/);
    expect(named(r, 'tts-synthesis').measured).toMatch(/^synthesis \d+ ms, [\d.]+ s of 8 kHz μ-law audio/);
    const sttCheck = named(r, 'stt-recognition');
    expect(sttCheck.measured).toMatch(/^final \d+ ms after the clip/);
    expect(sttCheck.measured).toContain(`"${DEFAULT_STT_TRANSCRIPTS[0]}"`);
    expect(named(r, 'openai-first-token').measured).toMatch(/^first token \d+ ms \(limit 4\.0 s; gpt-5\.4-mini/);

    // What the providers were asked.
    expect(tts.listVoicesRequests.slice(before.voices)).toEqual(['he-IL']);
    expect(tts.requests.slice(before.tts).map((q) => q.text)).toEqual([PREFLIGHT_SENTENCE]);
    const llm = openai.requests.slice(before.llm);
    expect(llm.map((q) => `${q.method} ${q.path}`)).toEqual([
      'GET /v1/models/gpt-5.4-mini',
      'POST /v1/chat/completions',
    ]);
    expect(llm[1]!.body).toMatchObject({ reasoning_effort: 'none', max_completion_tokens: 1024, stream: true });
    // The whole clip went through one stream as 8 kHz μ-law, at real-time pace.
    const streams = stt.streams.slice(streamsBefore);
    expect(streams).toHaveLength(1);
    expect(streams[0]!.config?.config).toMatchObject({
      languageCode: 'iw-IL',
      encoding: 'MULAW',
      sampleRateHertz: 8000,
    });
    const clipMs = (await readPreflightClip()).length / 8;
    expect(streams[0]!.audioMs).toBeGreaterThanOrEqual(clipMs);
    expect(sttCheck.ms).toBeGreaterThanOrEqual(clipMs - 100);
  });

  test('a Chirp 3 HD voice adds one streamed synthesis, timed to its first audio', async () => {
    const before = tts.streams.length;
    const r = await run({ TTS_VOICE: 'he-IL-Chirp3-HD-Achernar' });
    expect(r.go).toBe(true);
    expect(r.checks.map((c) => c.name)).toContain('tts-streaming');
    expect(named(r, 'tts-streaming').measured).toMatch(/^first audio \d+ ms, [\d.]+ (s|ms) of audio .*Achernar/);
    expect(tts.streams.length).toBe(before + 1);
  });

  test('TTS_STREAMING=false: no streamed synthesis even for a Chirp 3 HD voice', async () => {
    const r = await run({ TTS_VOICE: 'he-IL-Chirp3-HD-Achernar', TTS_STREAMING: 'false' });
    expect(r.go).toBe(true);
    expect(r.checks.map((c) => c.name)).not.toContain('tts-streaming');
  });

  test('Twilio settings: an https origin and a token pass without warnings; plain http warns', async () => {
    const good = await run({ PUBLIC_BASE_URL: 'https://gw.example.com', TWILIO_AUTH_TOKEN: TOKEN });
    expect(good).toMatchObject({ go: true, warnings: [] });
    expect(named(good, 'twilio-public-url').measured).toBe('https://gw.example.com (https origin, no path)');
    expect(JSON.stringify(good)).not.toContain(TOKEN);
    const http = await runPreflightFromEnv(env({ PUBLIC_BASE_URL: 'http://gw.example.com' }), {
      signal: AbortSignal.abort(), // only the instant checks matter here
    });
    expect(named(http, 'twilio-public-url')).toMatchObject({ ok: true, variable: 'PUBLIC_BASE_URL' });
    expect(named(http, 'twilio-public-url').warn).toMatch(/wss/);
  });
});

describe('NO-GO naming the setting to change', () => {
  test('an unknown TTS_VOICE: tts-voice and tts-synthesis fail naming TTS_VOICE, with valid voices listed', async () => {
    const r = await run({ TTS_VOICE: 'he-IL-Wavenet-Z' });
    expect(r.go).toBe(false);
    expect(r.failed).toEqual(['tts-voice', 'tts-synthesis']);
    expect(named(r, 'tts-voice')).toMatchObject({ variable: 'TTS_VOICE' });
    expect(named(r, 'tts-voice').detail).toMatch(/he-IL-Wavenet-A, he-IL-Wavenet-B/);
    expect(named(r, 'tts-synthesis')).toMatchObject({ variable: 'TTS_VOICE' });
    expect(named(r, 'tts-synthesis').detail).toMatch(/INVALID_ARGUMENT/);
  });

  test('STT_MODEL latest_short with iw-IL: stt-recognition fails naming STT_MODEL with Google’s words', async () => {
    const r = await run({ STT_MODEL: 'latest_short' });
    expect(r.failed).toEqual(['stt-recognition']);
    expect(named(r, 'stt-recognition')).toMatchObject({ ok: false, variable: 'STT_MODEL' });
    expect(named(r, 'stt-recognition').detail).toContain('not supported for language : iw-IL');
  });

  test('an unknown STT_LANGUAGE: stt-recognition fails naming STT_LANGUAGE, even with a model set', async () => {
    const r = await run({ STT_LANGUAGE: 'xx-XX', STT_MODEL: 'default' });
    expect(r.failed).toEqual(['stt-recognition']);
    expect(named(r, 'stt-recognition')).toMatchObject({ variable: 'STT_LANGUAGE' });
  });

  test('an unknown OPENAI_MODEL: both OpenAI checks fail naming OPENAI_MODEL', async () => {
    const r = await run({ OPENAI_MODEL: 'gpt-nonexistent' });
    expect(r.failed).toEqual(['openai-model', 'openai-first-token']);
    expect(named(r, 'openai-model')).toMatchObject({ variable: 'OPENAI_MODEL' });
    expect(named(r, 'openai-model').detail).toMatch(/model not found/);
    expect(named(r, 'openai-first-token')).toMatchObject({ variable: 'OPENAI_MODEL' });
  });

  test('a reasoning effort the model refuses names OPENAI_REASONING_EFFORT', async () => {
    const r = await run({ OPENAI_REASONING_EFFORT: 'max' });
    expect(r.failed).toEqual(['openai-first-token']);
    expect(named(r, 'openai-first-token')).toMatchObject({ variable: 'OPENAI_REASONING_EFFORT' });
  });

  test('a key OpenAI refuses names OPENAI_API_KEY, and the key is never in the report', async () => {
    const wrong = 'sk-wrong-key-0000000000SECRETVALUE';
    const r = await run({ OPENAI_API_KEY: wrong, TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: 'https://gw.example.com' });
    expect(r.failed).toEqual(['openai-model', 'openai-first-token']);
    expect(named(r, 'openai-model')).toMatchObject({ variable: 'OPENAI_API_KEY' });
    const text = JSON.stringify(r);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(TOKEN);
  });

  test('a secret pasted into another setting is masked in every text of the report', async () => {
    const r = await run({
      TTS_VOICE: `he-IL-${TOKEN}`,
      TWILIO_AUTH_TOKEN: TOKEN,
      PUBLIC_BASE_URL: 'https://gw.example.com',
    });
    expect(named(r, 'tts-voice')).toMatchObject({ ok: false, variable: 'TTS_VOICE' });
    expect(named(r, 'tts-voice').measured).toContain('he-IL-[redacted]');
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  test("an agent's own unknown voice fails tts-voice naming AGENTS_FILE", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'preflight-agents-'));
    const file = path.join(dir, 'agents.json');
    const agent = (id: string, voice?: string) => ({ id, greeting: 'שלום', instructions: 'ענה בקצרה.', voice });
    writeFileSync(file, JSON.stringify({ defaultAgent: 'a', agents: [agent('a'), agent('sales', 'he-IL-Wavenet-Q')] }));
    const r = await run({ AGENTS_FILE: file });
    expect(r.failed).toEqual(['tts-voice']);
    expect(named(r, 'tts-voice')).toMatchObject({ variable: 'AGENTS_FILE' });
    expect(named(r, 'tts-voice').measured).toContain('he-IL-Wavenet-Q (agent sales)');
  });

  test('a bad configuration: one failed check named config, listing the variable, nothing contacted', async () => {
    const before = openai.requests.length;
    const r = await run({ EOU_MS: 'abc', OPENAI_API_KEY: KEY });
    expect(r).toMatchObject({ go: false, failed: ['config'] });
    expect(named(r, 'config')).toMatchObject({ variable: 'EOU_MS' });
    expect(openai.requests.length).toBe(before);
  });

  test('no final result from the recognizer: stt-recognition fails after the wait', async () => {
    const deaf = await extraStt({ speechRms: 1e9 }); // hears no speech at all
    const r = await runPreflightFromEnv(env({}, deaf), { stt: { finalWaitMs: 500 } });
    expect(r.failed).toEqual(['stt-recognition']);
    expect(named(r, 'stt-recognition').measured).toMatch(/^no final result within 500 ms after the 2\.2 s clip/);
  });

  test('a recognition stream that breaks mid-clip fails, naming the emulator it talks to', async () => {
    const flaky = await extraStt({ failStreamAfterAudioMs: 500, failStreamCount: 1 });
    const r = await run({}, flaky);
    expect(r.failed).toEqual(['stt-recognition']);
    expect(named(r, 'stt-recognition')).toMatchObject({ variable: 'GOOGLE_STT_EMULATOR_HOST' });
    expect(named(r, 'stt-recognition').measured).toMatch(/^stream failed after/);
  });
});

describe('Speech-to-Text v2 (STT_API=v2)', () => {
  test('GO with chirp_3 on the v2 emulator, and NO-GO naming STT_MODEL for a model it refuses for Hebrew', async () => {
    const v2 = await startFakeSttV2({ location: 'eu' });
    extra.push(v2);
    const base = { STT_API: 'v2', STT_LOCATION: 'eu', GOOGLE_CLOUD_PROJECT: 'demo-project' };
    const good = await run({ ...base, GOOGLE_STT_EMULATOR_HOST: v2.address, STT_MODEL: 'chirp_3' });
    expect(named(good, 'stt-recognition')).toMatchObject({ ok: true });
    expect(v2.streams.at(-1)!.config).toMatchObject({ recognizer: 'projects/demo-project/locations/eu/recognizers/_' });
    const bad = await run({ ...base, GOOGLE_STT_EMULATOR_HOST: v2.address, STT_MODEL: 'telephony' });
    expect(bad.failed).toEqual(['stt-recognition']);
    expect(named(bad, 'stt-recognition')).toMatchObject({ ok: false, variable: 'STT_MODEL' });
  });
});

describe('limits', () => {
  test('a check still running at its time limit is abandoned: failed, its signal aborted', async () => {
    let seen: AbortSignal | undefined;
    const c = await runCheck({ name: 'slow', limitMs: 50, timeoutVariable: 'SOME_SETTING' }, (signal) => {
      seen = signal;
      return new Promise(() => undefined);
    });
    expect(c).toMatchObject({ name: 'slow', ok: false, measured: 'no result within 50 ms', variable: 'SOME_SETTING' });
    expect(seen?.aborted).toBe(true);
  });

  test('a check that throws is a failure, never a rejection', async () => {
    const c = await runCheck({ name: 'boom', limitMs: 1000 }, () => Promise.reject(new Error('kaput')));
    expect(c).toMatchObject({ name: 'boom', ok: false, detail: 'kaput' });
  });

  test('aborting the run cancels the provider checks at once', async () => {
    const config = parseConfig(env());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const t0 = performance.now();
    const r = await runPreflight(config, { signal: controller.signal });
    expect(performance.now() - t0).toBeLessThan(2000); // the clip alone would take 2.2 s
    expect(r.go).toBe(false);
    expect(named(r, 'stt-recognition').ok).toBe(false);
  });
});
