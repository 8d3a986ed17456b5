/**
 * `npm run preflight` as the user runs it (npm from the repository root, the environment pointing
 * at the emulators), CI's `tools/preflight/ci.ts`, and PREFLIGHT_ON_START=true in a gateway child:
 * exit codes, the last line, the `--json` document, no secrets in the output, and `/healthz`
 * answering while the checks run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, startGatewayChild, type GatewayChild } from '../../tools/gateway-child.ts';
import { startFakeOpenAI, startFakeStt, startFakeTts } from '../../tools/emulators/index.ts';
import type { FakeOpenAI, FakeStt, FakeTts } from '../../tools/emulators/index.ts';

jest.setTimeout(90_000);

const KEY = 'sk-preflight-cli-key-0123456789SECRET';
const TOKEN = 'twilio-auth-token-CLI-SECRET-77';
const HOME = mkdtempSync(path.join(tmpdir(), 'preflight-cli-'));

let stt: FakeStt;
let tts: FakeTts;
let openai: FakeOpenAI;
const gateways: GatewayChild[] = [];

beforeAll(async () => {
  [stt, tts, openai] = await Promise.all([startFakeStt(), startFakeTts(), startFakeOpenAI({ apiKey: KEY })]);
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop(5000)));
});
afterAll(async () => {
  await Promise.all([stt?.close(), tts?.close(), openai?.close()]);
});

/** The emulators, a key and a token; nothing inherited from the shell but PATH. */
function env(over: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME,
    METADATA_SERVER_DETECTION: 'none',
    npm_config_update_notifier: 'false',
    GOOGLE_STT_EMULATOR_HOST: stt.address,
    GOOGLE_TTS_EMULATOR_HOST: tts.address,
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: KEY,
    TWILIO_AUTH_TOKEN: TOKEN,
    PUBLIC_BASE_URL: 'https://gw.example.com',
    ...over,
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], childEnv: Record<string, string>): Promise<Run> {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** `npm run preflight -- …args`; `silent` drops npm's own header lines (for --json). */
const npmPreflight = (args: string[], over: Record<string, string> = {}, silent = false): Promise<Run> =>
  exec(
    'npm',
    ['run', ...(silent ? ['--silent'] : []), 'preflight', ...(args.length ? ['--', ...args] : [])],
    env(over),
  );

const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';

describe('npm run preflight', () => {
  test('GO: exit 0, a PASS line per check, GO as the last line, and no secret printed', async () => {
    const r = await npmPreflight([]);
    expect(r.code).toBe(0);
    expect(lastLine(r.stdout)).toBe('GO');
    for (const name of ['google-credentials', 'tts-voice', 'tts-synthesis', 'stt-recognition', 'openai-model'])
      expect(r.stdout).toMatch(new RegExp(`^PASS  ${name} +\\S`, 'm'));
    expect(r.stdout).toMatch(/^PASS {2}openai-first-token +first token \d+ ms/m);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  test('NO-GO: exit 1, the failed check and its setting on the last line, the setting under it', async () => {
    const r = await npmPreflight([], { TTS_VOICE: 'he-IL-Wavenet-Z' });
    expect(r.code).toBe(1);
    expect(lastLine(r.stdout)).toBe('NO-GO: failed: tts-voice (TTS_VOICE), tts-synthesis (TTS_VOICE)');
    expect(r.stdout).toMatch(/^FAIL {2}tts-voice +he-IL-Wavenet-Z \(TTS_VOICE\) not listed/m);
    expect(r.stdout).toMatch(/^ +change: TTS_VOICE$/m);
  });

  test('--json: one JSON document; credentials and model failures named for machines', async () => {
    const r = await npmPreflight(
      ['--json'],
      // No STT emulator and a credentials file that does not exist: the STT client cannot be set up.
      {
        GOOGLE_STT_EMULATOR_HOST: '',
        GOOGLE_APPLICATION_CREDENTIALS: path.join(HOME, 'missing.json'),
        OPENAI_MODEL: 'gpt-nonexistent',
      },
      true,
    );
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      verdict: string;
      go: boolean;
      failed: string[];
      checks: Array<{ name: string; status: string; variable?: string; measured: string }>;
    };
    expect(doc).toMatchObject({ verdict: 'NO-GO', go: false });
    expect(doc.failed).toEqual(['google-credentials', 'stt-recognition', 'openai-model', 'openai-first-token']);
    const by = Object.fromEntries(doc.checks.map((c) => [c.name, c]));
    expect(by['google-credentials']).toMatchObject({ status: 'FAIL', variable: 'GOOGLE_APPLICATION_CREDENTIALS' });
    expect(by['stt-recognition']).toMatchObject({ status: 'FAIL', variable: 'GOOGLE_APPLICATION_CREDENTIALS' });
    expect(by['openai-model']).toMatchObject({ status: 'FAIL', variable: 'OPENAI_MODEL' });
    expect(by['tts-synthesis']).toMatchObject({ status: 'PASS' });
    expect(by['twilio-auth-token']).toMatchObject({ status: 'PASS', measured: expect.stringMatching(/^set/) });
    expect(r.stdout).not.toContain(TOKEN);
  });

  test('a bad configuration is a NO-GO naming the variable, before any provider is contacted', async () => {
    const before = openai.requests.length;
    const r = await npmPreflight([], { EOU_MS: 'abc' });
    expect(r.code).toBe(1);
    expect(lastLine(r.stdout)).toBe('NO-GO: failed: config (EOU_MS)');
    expect(openai.requests.length).toBe(before);
  });

  test('bad arguments and --help: exit 2 with the usage, nothing checked', async () => {
    const before = openai.requests.length;
    const unknown = await npmPreflight(['--bogus'], {}, true);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--bogus'/);
    expect(unknown.stderr).toMatch(/^usage: npm run preflight/m);
    const stray = await npmPreflight(['now'], {}, true);
    expect(stray.code).toBe(2);
    const help = await npmPreflight(['--help'], {}, true);
    expect(help.code).toBe(2);
    expect(help.stdout).toMatch(/^usage: npm run preflight/);
    expect(help.stdout).toMatch(/exit codes: 0 GO, 1 NO-GO/);
    expect(openai.requests.length).toBe(before);
  });
});

describe("CI's preflight against its own emulators", () => {
  test('tools/preflight/ci.ts starts the emulators, runs the preflight and exits with its code', async () => {
    const r = await exec(process.execPath, ['tools/preflight/ci.ts', '--json'], {
      PATH: process.env['PATH'] ?? '',
      HOME,
      // Must not leak into (or change) the run: ci.ts gives its child a clean environment.
      OPENAI_MODEL: 'gpt-nonexistent',
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'GO', failed: [] });
    const bad = await exec(process.execPath, ['tools/preflight/ci.ts', '--bogus'], {
      PATH: process.env['PATH'] ?? '',
      HOME,
    });
    expect(bad.code).toBe(2);
  });
});

describe('PREFLIGHT_ON_START', () => {
  async function gateway(over: Record<string, string>): Promise<GatewayChild> {
    const { PATH: _p, HOME: _h, npm_config_update_notifier: _n, ...rest } = env(over);
    const g = await startGatewayChild({ env: rest });
    gateways.push(g);
    return g;
  }

  test('true: checks run after the gateway listens, /healthz answers meanwhile, PREFLIGHT_OK follows', async () => {
    const g = await gateway({ PREFLIGHT_ON_START: 'true' });
    await g.waitForLog('PREFLIGHT_STARTED', 5000);
    const res = await fetch(`${g.url}/healthz`);
    expect(res.status).toBe(200);
    // The recognition alone streams a 2.2 s clip in real time: /healthz came back before it ended.
    expect(g.logs.some((r) => r.message === 'PREFLIGHT_OK' || r.message === 'PREFLIGHT_FAILED')).toBe(false);
    const ok = await g.waitForLog('PREFLIGHT_OK', 30_000);
    const checks = ok['checks'] as Array<{ name: string; status: string; measured: string }>;
    expect(checks.map((c) => c.name)).toContain('stt-recognition');
    expect(checks.every((c) => c.status === 'PASS')).toBe(true);
    expect(JSON.stringify(g.logs)).not.toContain(KEY);
  });

  test('true with an unknown voice: PREFLIGHT_FAILED names TTS_VOICE; the gateway keeps serving', async () => {
    const g = await gateway({ PREFLIGHT_ON_START: 'true', TTS_VOICE: 'he-IL-Wavenet-Z' });
    const failed = await g.waitForLog('PREFLIGHT_FAILED', 30_000);
    expect(failed['level']).toBe('error');
    expect(failed['failed']).toEqual([
      expect.objectContaining({ name: 'tts-voice', variable: 'TTS_VOICE' }),
      expect.objectContaining({ name: 'tts-synthesis', variable: 'TTS_VOICE' }),
    ]);
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
  });

  test('unset: no checks run', async () => {
    const g = await gateway({});
    // The provider status lines are logged right before the preflight would start.
    await g.waitForLog('PROVIDER_CONFIGURED', 5000, (r) => r['provider'] === 'openai');
    await new Promise((r) => setTimeout(r, 300));
    expect(g.logs.some((r) => String(r.message).startsWith('PREFLIGHT_'))).toBe(false);
  });
});
