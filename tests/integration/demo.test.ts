/**
 * `npm run demo`: run as a newcomer runs it (a child process on this Node, from the repository root)
 * and checked from outside: exit code, what it says, the WAV it writes, and that the gateway it
 * started is gone afterwards. Calls run in real time (a greeting, 2 s of speech, a reply), so a full
 * run takes 12–20 s. Passes with and without espeak-ng installed: only the TTS voice differs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import { GatewayStartError, startGatewayChild } from '../../tools/gateway-child.ts';
import { runDemo as runDemoInProcess } from '../../tools/demo/run-demo.ts';
import { callRecords, checkFlow, describeRecord, EXPECTED_FLOW } from '../../tools/demo/log-flow.ts';
import { REPO_ROOT as ROOT } from '../../tools/gateway-child.ts';

jest.setTimeout(60_000);

const TMP = mkdtempSync(path.join(tmpdir(), 'demo-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** What a test does while the demo runs: it sees stdout and stderr so far after every chunk. */
type Watcher = (out: { stdout: string; stderr: string }, child: ChildProcessWithoutNullStreams) => void;

/** Runs `node tools/demo.ts …` from the repository root. */
function runDemo(args: string[], watch?: Watcher): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['tools/demo.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: TMP },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    watch?.({ stdout, stderr }, child);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    watch?.({ stdout, stderr }, child);
  });
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 })),
  );
}

/**
 * Sends SIGINT (a Ctrl-C) once stdout matches `pattern`; with `twice`, a second one once the demo has
 * said it is shutting down (signals sent back to back can arrive as one).
 */
function ctrlCWhen(pattern: RegExp, twice = false): Watcher {
  let sent = 0;
  return ({ stdout, stderr }, child) => {
    if (sent === 0 && pattern.test(stdout)) {
      sent = 1;
      child.kill('SIGINT');
    } else if (twice && sent === 1 && stderr.includes('demo: interrupted')) {
      sent = 2;
      child.kill('SIGINT');
    }
  };
}

/** The gateway pid the demo printed (in the set-up table, and on the shutdown line). */
function gatewayPid(stdout: string): number {
  const m = /node gateway\.ts, pid (\d+)|the gateway \(pid (\d+)\)/.exec(stdout);
  expect(m).not.toBeNull();
  return Number(m![1] ?? m![2]);
}

/** Alive and not a zombie (a killed orphan stays a zombie until something reaps it). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (not Linux): signal 0 succeeding is all we know
  }
}

/** Whether `pid` is still running after a short grace (an orphan's exit can lag its parent's). */
async function stillRunning(pid: number): Promise<boolean> {
  for (let i = 0; i < 20 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return isRunning(pid);
}

/** Parses the WAV and checks it is what Twilio carries, with more than a second of audio. */
function expectReplyWav(file: string): number {
  const wav = parseWav(readFileSync(file));
  expect({
    formatTag: wav.formatTag,
    channels: wav.channels,
    sampleRate: wav.sampleRate,
    bitsPerSample: wav.bitsPerSample,
  }).toEqual({
    formatTag: WAV_FORMAT.MULAW,
    channels: 1,
    sampleRate: 8000,
    bitsPerSample: 8,
  });
  const ms = wav.data.length / 8;
  expect(ms).toBeGreaterThan(1000);
  expect(ms).toBeLessThan(20_000);
  return ms;
}

describe('npm run demo', () => {
  test('places a Hebrew call end to end, says what is emulated, shows the flow, writes the reply, leaves nothing running', async () => {
    const out = path.join(TMP, 'x.wav');
    const r = await runDemo(['--out', out]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('The speech recognizer and the language model are EMULATED');
    expect(r.stdout).toMatch(/speech-to-text\s+EMULATED/);
    expect(r.stdout).toMatch(/language model\s+EMULATED/);
    expect(r.stdout).toMatch(/text-to-speech\s+EMULATED .*(speaking Hebrew with espeak-ng|a tone instead of speech)/);
    expect(r.stdout).toContain('caller turn 1 ends speaking');
    expect(r.stdout).toMatch(/turn 1: caller spoke .* received \+\d+ ms/);
    expect(r.stdout).toContain('STT_FINAL     text="אני רוצה לקבוע תור למחר בבוקר"');
    expect(r.stdout).toMatch(/TURN\s+sttFinalMs=\d+/);
    expect(r.stdout).toContain(
      'flow check: PASS  WS_START → STT_PARTIAL → STT_FINAL → TTS_LEN_ms → MEDIA_TX, seen in this order',
    );
    expect(r.stdout).toContain(`8 kHz μ-law mono WAV → ${out}`);
    expect(r.stdout).toMatch(/shutdown: the gateway \(pid \d+\) drained and exited \(code 0\)/);
    expect(r.stdout).toContain('result: OK');
    expectReplyWav(out);

    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
    const url = /REAL\s+node gateway\.ts, pid \d+, (http:\/\/127\.0\.0\.1:\d+)/.exec(r.stdout)?.[1];
    expect(url).toBeDefined();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(r.ms).toBeLessThan(30_000);
  });

  test('--tone --quiet: the emulated TTS answers with a tone, and only the verdict is printed', async () => {
    const out = path.join(TMP, 'tone.wav');
    const r = await runDemo(['--tone', '--quiet', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('timeline');
    expect(r.stdout).toContain('flow check: PASS');
    expect(r.stdout).toMatch(/reply audio: the reply, [\d.]+ s of a tone/);
    expect(r.stdout).toContain(
      'result: OK: a Hebrew call went through the gateway end to end (recognizer and model emulated)',
    );
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    expectReplyWav(out);
    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
  });

  test('Ctrl-C during the call hangs up, shuts everything down and exits 130', async () => {
    const r = await runDemo(['--out', path.join(TMP, 'never.wav')], ctrlCWhen(/greeting starts playing/));
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('demo: interrupted');
    expect(r.stdout).toContain('stop sent (caller hangs up)');
    expect(r.stdout).toContain('result: INTERRUPTED');
    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
  });

  test('a second Ctrl-C leaves at once and still takes the gateway down', async () => {
    const r = await runDemo(['--out', path.join(TMP, 'never.wav')], ctrlCWhen(/greeting starts playing/, true));
    expect(r.code).toBe(130);
    expect(r.stdout).not.toContain('result:');
    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
  });

  test('output closed early (npm run demo | head) stops the demo and the gateway', async () => {
    const r = await runDemo(['--out', path.join(TMP, 'never.wav')], ({ stdout }, child) => {
      if (/node gateway\.ts, pid \d+/.test(stdout)) child.stdout.destroy();
    });
    expect(r.code).toBe(130);
    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
  });

  test('bad arguments exit 2 before anything starts', async () => {
    const missing = await runDemo(['--out', path.join(TMP, 'no-such-dir', 'x.wav')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--out: directory');
    expect(missing.stdout).toBe('');
    const unknown = await runDemo(['--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--bogus');
  });
});

describe('the log flow check', () => {
  const rec = (message: string, extra: Record<string, unknown> = {}) => ({ message, callSid: 'CA1', ...extra });

  test('finds the documented flow in order, with other events between', () => {
    const logs = [
      rec('INCOMING_CALL'),
      rec('WS_START'),
      rec('TTS_LEN_ms'),
      rec('MEDIA_TX'),
      { message: 'WS_START', callSid: 'CA2' },
      rec('STT_PARTIAL'),
      rec('STT_FINAL'),
      rec('TURN_COMMIT'),
      rec('TTS_LEN_ms'),
      rec('MEDIA_TX'),
    ];
    expect(callRecords(logs, 'CA1')).toHaveLength(9);
    expect(checkFlow(callRecords(logs, 'CA1'))).toEqual({
      ok: true,
      expected: EXPECTED_FLOW,
      found: [...EXPECTED_FLOW],
      missing: undefined,
    });
  });

  test('the greeting audio before the transcript does not count as the reply', () => {
    const logs = [
      rec('WS_START'),
      rec('TTS_LEN_ms'),
      rec('MEDIA_TX'),
      rec('STT_PARTIAL'),
      rec('STT_FINAL'),
      rec('TTS_ERROR'),
    ];
    expect(checkFlow(logs)).toMatchObject({
      ok: false,
      found: ['WS_START', 'STT_PARTIAL', 'STT_FINAL'],
      missing: 'TTS_LEN_ms',
    });
    expect(checkFlow([])).toMatchObject({ ok: false, found: [], missing: 'WS_START' });
  });

  test('each line shows the event and its key fields', () => {
    expect(describeRecord(rec('STT_FINAL', { text: 'שלום', confidence: 0.9200000166893005, level: 'info' }))).toBe(
      'STT_FINAL     text="שלום" confidence=0.92',
    );
    expect(describeRecord(rec('TTS_LEN_ms', { replyId: 2, sentence: 0, chars: 41, audioMs: 3524, synthMs: 40 }))).toBe(
      'TTS_LEN_ms    replyId=2 sentence=0 chars=41 audioMs=3524 synthMs=40',
    );
    expect(describeRecord(rec('TTS_ERROR', { level: 'warn', code: 'UNAVAILABLE' }))).toBe(
      'TTS_ERROR     [warn] code="UNAVAILABLE"',
    );
  });
});

describe('runDemo in-process', () => {
  test('an abort before the gateway starts returns an interrupted report and starts no gateway', async () => {
    const r = await runDemoInProcess({ signal: AbortSignal.abort(), outPath: path.join(TMP, 'aborted.wav') });
    expect(r).toMatchObject({
      ok: false,
      interrupted: true,
      setup: undefined,
      call: undefined,
      gatewayExit: undefined,
      problems: [],
    });
  });
});

describe('the gateway child', () => {
  test('a gateway that cannot start is reported with its exit code and what it said', async () => {
    const err = await startGatewayChild({ env: { EOU_MS: 'abc' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayStartError);
    expect((err as Error).message).toMatch(
      /^the gateway did not start: it exited with code 1; it said: gateway: invalid configuration:.*EOU_MS/s,
    );
  });
});
