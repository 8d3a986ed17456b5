/**
 * `npm run demo`: run as a newcomer runs it (a child process on this Node, from the repository root)
 * and checked from outside: exit code, what it says (the caller greeted by name, the booking's tool
 * call and filler, the transfer's next step, where to see the call), the WAV it writes, that the
 * gateway it started is gone afterwards and that its temporary call store is removed (or kept, and
 * served again, with --keep). The library run checks the two addresses itself while the gateway
 * runs. Calls run in real time (a greeting, two caller turns, a slow CRM, the replies), so a full
 * run takes 20–25 s. Passes with and without espeak-ng installed: only the TTS voice differs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import { GatewayStartError, startGatewayChild } from '../../tools/gateway-child.ts';
import { runDemo as runDemoInProcess } from '../../tools/demo/run-demo.ts';
import type { DemoSetup } from '../../tools/demo/run-demo.ts';
import { runDemoCli } from '../../tools/demo/cli.ts';
import { callRecords, checkFlow, describeRecord, EXPECTED_FLOW } from '../../tools/demo/log-flow.ts';
import { BOOKING_DELAY_MS, CALLER_NAME, CALLER_TURNS, TRANSFER_SUMMARY } from '../../tools/demo/conversation.ts';
import { DATA_DIR_PREFIX } from '../../tools/demo/setup.ts';
import { REPO_ROOT as ROOT } from '../../tools/gateway-child.ts';

jest.setTimeout(90_000);

const TMP = mkdtempSync(path.join(tmpdir(), 'demo-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** The demo's temporary DATA_DIRs in the children's temp directory (TMPDIR is TMP for them). */
const dataDirs = () => readdirSync(TMP).filter((n) => n.startsWith(DATA_DIR_PREFIX));

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
    env: { PATH: process.env.PATH ?? '', HOME: TMP, TMPDIR: TMP },
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

/** Parses the WAV and checks it is what Twilio carries, with more than a few seconds of audio (greeting, filler, answers). */
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
  expect(ms).toBeGreaterThan(4000);
  expect(ms).toBeLessThan(30_000);
  return ms;
}

describe('npm run demo', () => {
  test('greets the caller by name, books with a tool call and a filler, transfers, says where to see the call; --keep keeps the store', async () => {
    const out = path.join(TMP, 'x.wav');
    const r = await runDemo(['--out', out, '--keep']);
    // What the demo said went wrong (its "!" and "-" lines) is part of the comparison, so a failure shows why.
    const failures = r.stdout.split('\n').filter((l) => /^ {2,3}[!-] /.test(l));
    expect({ code: r.code, stderr: r.stderr, failures }).toEqual({ code: 0, stderr: '', failures: [] });
    expect(r.stdout).toContain("The speech recognizer, the language model and the business's CRM are EMULATED");
    expect(r.stdout).toMatch(/speech-to-text\s+EMULATED/);
    expect(r.stdout).toMatch(/language model\s+EMULATED/);
    expect(r.stdout).toMatch(/business CRM\s+EMULATED/);
    expect(r.stdout).toMatch(/text-to-speech\s+EMULATED .*(speaking Hebrew with espeak-ng|a tone instead of speech)/);
    expect(r.stdout).toContain('caller turn 1 ends speaking');
    expect(r.stdout).toContain('caller turn 2 ends speaking');
    expect(r.stdout).toMatch(/turn 1: caller spoke .* received \+\d+ ms/);
    expect(r.stdout).toContain(`STT_FINAL     text="${CALLER_TURNS[0]!.transcript}"`);
    expect(r.stdout).toContain(`STT_FINAL     text="${CALLER_TURNS[1]!.transcript}"`);
    expect(r.stdout).toMatch(/TOOL_CALL\s+tool="book_appointment" outcome="ok" status=200/);
    expect(r.stdout).toMatch(/TURN\s+sttFinalMs=\d+/);
    const callSid = /gateway log for call (CA[0-9a-f]{32})/.exec(r.stdout)?.[1];
    expect(callSid).toBeDefined();

    // 1. Recognised by name: the CRM's name for the caller's number is in the greeting heard.
    expect(r.stdout).toContain('1. the caller recognised by name: PASS');
    expect(r.stdout).toContain(`the CRM's context answer for the caller's number: name "${CALLER_NAME}"`);
    const greeting = /greeting heard \([\d.]+ s\): "([^"]*)"/.exec(r.stdout)?.[1];
    expect(greeting).toContain(CALLER_NAME);
    expect(greeting).not.toContain('{{');

    // 2. The booking: the tool call with its arguments, slower than the CRM's delay; the filler heard before the answer.
    expect(r.stdout).toContain('2. a booking made with a tool call: PASS');
    const tool = /tool call: book_appointment \{"date":"מחר","time":"08:30"\} → ok \(HTTP 200\) in (\d+) ms/.exec(
      r.stdout,
    );
    expect(Number(tool?.[1])).toBeGreaterThanOrEqual(BOOKING_DELAY_MS);
    expect(r.stdout).toContain('filler said while the CRM was slow: "רגע, אני בודקת ביומן."');
    expect(r.stdout).toContain('heard in that turn: "רגע, אני בודקת ביומן. קבעתי לך תור מחר בשמונה וחצי."');

    // 3. The transfer: Twilio's next step after the gateway ended the stream, and the whisper.
    expect(r.stdout).toContain('3. a transfer to a person: PASS');
    expect(r.stdout).toContain('media socket closed 1000 "transfer" by the gateway');
    expect(r.stdout).toContain(
      'then (<Connect action>): Twilio dials +97231234567 (caller ID +97237654321, digits ww12, whispers a summary to whoever answers)',
    );
    expect(r.stdout).toContain(`the person who answers hears first: "${TRANSFER_SUMMARY}"`);

    // 4. Where to see the call: both addresses of this call answered 200 while the gateway ran.
    expect(r.stdout).toContain('4. where to see the call: PASS');
    const url = /REAL\s+node gateway\.ts, pid \d+, (http:\/\/127\.0\.0\.1:\d+)/.exec(r.stdout)?.[1];
    expect(url).toBeDefined();
    expect(r.stdout).toContain(`console  ${url}/console/calls/${callSid}   200`);
    expect(r.stdout).toContain(`API      ${url}/api/calls/${callSid}   200 (2 turns, 2 tool calls, recorded)`);

    expect(r.stdout).toContain(
      'flow check: PASS  WS_START → STT_PARTIAL → STT_FINAL → TTS_LEN_ms → MEDIA_TX, seen in this order',
    );
    expect(r.stdout).toContain(`8 kHz μ-law mono WAV → ${out}`);
    expect(r.stdout).toMatch(/shutdown: the gateway \(pid \d+\) drained and exited \(code 0\)/);
    expect(r.stdout).toContain('result: OK');
    expectReplyWav(out);
    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    // --keep: the store is left where it says, and a gateway started on it serves the call again.
    const kept = /call store: kept in (\S+); DATA_DIR=\1 PORT=\d+ npm start serves the two addresses above again/.exec(
      r.stdout,
    )?.[1];
    expect(kept).toBeDefined();
    expect(dataDirs()).toContain(path.basename(kept!));
    const again = await startGatewayChild({ env: { DATA_DIR: kept! } });
    try {
      const res = await fetch(`${again.url}/api/calls/${callSid}`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { turns: Array<{ callerText: string }>; toolCalls: Array<{ name: string }> };
      expect(doc.turns.map((t) => t.callerText)).toEqual(CALLER_TURNS.map((t) => t.transcript));
      expect(doc.toolCalls.map((t) => t.name)).toEqual(['book_appointment', 'transfer_call']);
    } finally {
      await again.stop(5000);
      rmSync(kept!, { recursive: true, force: true });
    }
  });

  test('in-process with --tone --quiet: the two addresses answer while the gateway runs; only the verdicts are printed; the store is removed', async () => {
    const out = path.join(TMP, 'tone.wav');
    const lines: string[] = [];
    const seen: Array<{ url: string; status: number; type: string | null; body: string }> = [];
    let setup: DemoSetup | undefined;
    const code = await runDemoCli(
      ['--tone', '--quiet', '--out', out],
      { out: (l) => lines.push(...l.split('\n')), err: (l) => lines.push(`stderr: ${l}`) },
      {
        onReady: (s) => (setup = s),
        // The test's own requests, while the gateway still runs.
        beforeShutdown: async (lookup) => {
          for (const url of [lookup.consoleUrl, lookup.apiUrl]) {
            const res = await fetch(url);
            seen.push({ url, status: res.status, type: res.headers.get('content-type'), body: await res.text() });
          }
        },
      },
    );
    expect(code).toBe(0);
    expect(seen.map((s) => [s.status, s.type?.split(';')[0]])).toEqual([
      [200, 'text/html'],
      [200, 'application/json'],
    ]);
    const doc = JSON.parse(seen[1]!.body) as {
      call: { callSid: string; endedAt: string | null; endReason: string };
      turns: Array<{ heardText: string }>;
    };
    expect(seen[0]!.url).toMatch(new RegExp(`^${setup!.gatewayUrl}/console/calls/${doc.call.callSid}$`));
    expect(doc.call).toMatchObject({ endReason: 'transfer', endedAt: expect.any(String) });
    expect(doc.turns[0]!.heardText).toContain('רגע, אני בודקת ביומן.');

    expect(lines.filter((l) => /^\d\. .*: PASS$/.test(l))).toHaveLength(4);
    expect(lines).toContain(`   console  ${seen[0]!.url}   200`);
    expect(lines.join('\n')).not.toContain('timeline');
    expect(lines.join('\n')).not.toContain('   tool call:');
    expect(lines).toContain(
      'flow check: PASS  WS_START → STT_PARTIAL → STT_FINAL → TTS_LEN_ms → MEDIA_TX, seen in this order',
    );
    expect(lines.some((l) => /^heard audio: everything the caller heard, [\d.]+ s of a tone/.test(l))).toBe(true);
    expect(lines).toContain(
      'call store: the temporary DATA_DIR was removed (run with --keep to look at the call afterwards)',
    );
    expect(lines.at(-1)).toMatch(/^result: OK: a Hebrew call went through the gateway end to end/);
    expect(lines).toHaveLength(11);
    expectReplyWav(out);
    expect(existsSync(setup!.dataDir)).toBe(false);
    expect(await stillRunning(setup!.gatewayPid)).toBe(false);
  });

  test('Ctrl-C during the call hangs up, shuts everything down and exits 130', async () => {
    const before = dataDirs();
    const r = await runDemo(['--out', path.join(TMP, 'never.wav')], ctrlCWhen(/greeting starts playing/));
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('demo: interrupted');
    expect(r.stdout).toContain('stop sent (caller hangs up)');
    expect(r.stdout).toContain('result: INTERRUPTED');
    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
    expect(dataDirs()).toEqual(before);
  });

  test('a second Ctrl-C leaves at once and still takes the gateway and the temporary store down', async () => {
    const before = dataDirs();
    const r = await runDemo(['--out', path.join(TMP, 'never.wav')], ctrlCWhen(/greeting starts playing/, true));
    expect(r.code).toBe(130);
    expect(r.stdout).not.toContain('result:');
    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
    expect(dataDirs()).toEqual(before);
  });

  test('output closed early (npm run demo | head) stops the demo and the gateway', async () => {
    const before = dataDirs();
    const r = await runDemo(['--out', path.join(TMP, 'never.wav')], ({ stdout }, child) => {
      if (/node gateway\.ts, pid \d+/.test(stdout)) child.stdout.destroy();
    });
    expect(r.code).toBe(130);
    expect(await stillRunning(gatewayPid(r.stdout))).toBe(false);
    expect(dataDirs()).toEqual(before);
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
    expect(existsSync(r.dataDir!.path)).toBe(false);
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
