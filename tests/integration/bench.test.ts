/**
 * `npm run bench` works: the tool runs as a child process exactly as the npm script starts it, with a
 * tiny level (2 calls, `--quick`, which also runs every section tiny: the streaming path, one
 * acknowledgement and one interruption, the energy detector), into a temporary directory. It checks
 * that the outputs exist, have the right shape, and that each section measured what it claims (the
 * streaming run streamed, the acknowledgement resumed the reply, the interruption stopped it, the
 * energy run used the energy VAD); it never checks a latency, since the benchmark is a tool, not a
 * timed test. The pure parts (options, sections' reuse, matching what the caller heard) are tested
 * on their own below.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallReport } from '../../tools/call/run-call.ts';
import { alignHeard } from '../../tools/bench/alignment.ts';
import { interruptionSample } from '../../tools/bench/interruptions.ts';
import type { LevelResult } from '../../tools/bench/measure.ts';
import { parseBenchArgs, UsageError } from '../../tools/bench/options.ts';
import { TABLE_COLUMNS } from '../../tools/bench/report.ts';
import { runSections } from '../../tools/bench/sections.ts';

const ROOT = path.resolve(__dirname, '..', '..');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['tools/bench/bench.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

describe('npm run bench', () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  let run: { code: number | null; stdout: string; stderr: string };
  let results: any; // the parsed latest.json

  beforeAll(async () => {
    run = await runBench(['--levels', '2', '--quick', '--out-dir', outDir]);
    if (run.code === 0) results = JSON.parse(fs.readFileSync(path.join(outDir, 'latest.json'), 'utf8'));
  }, 300_000);
  afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it('runs a tiny level and its sections and exits 0, printing the tables', () => {
    // On failure, show what the tool printed (its FAIL lines say why).
    expect({ code: run.code, output: run.code === 0 ? '' : `${run.stdout}\n${run.stderr}` }).toEqual({
      code: 0,
      output: '',
    });
    expect(run.stdout).toContain(`| ${TABLE_COLUMNS.join(' | ')} |`);
    expect(run.stdout).toMatch(/^\| 2 \| 2 \| 0 \|/m);
    expect(run.stdout).toContain('## Interruptions: acknowledgements vs real interruptions');
  });

  it('writes latest.json with the config, the machine and the level, every number a number', () => {
    expect(results.ok).toBe(true);
    expect(results.config).toMatchObject({ levels: [2], sttFinalMs: 150, llmFirstTokenMs: 300, ttsMs: 200 });
    expect(isNumber(results.machine.cpus)).toBe(true);
    expect(results.machine.node).toMatch(/^v\d+/);
    expect(results.levels).toHaveLength(1);
    const level = results.levels[0];
    expect(level).toMatchObject({ calls: 2, completed: 2, failed: 0, violations: 0, ok: true });
    expect(level.variant).toEqual({ ttsPath: 'unary', speechDetector: 'auto', scenario: 'standard' });
    expect(level.bargeIn.calls).toBe(1);
    const numbers = {
      overheadP50: level.overheadMs.p50,
      overheadMax: level.overheadMs.max,
      voiceToVoiceP50: level.voiceToVoiceMs.p50,
      bargeInP50: level.bargeIn.clientMs.p50,
      gatewayReaction: level.bargeIn.gatewayReactionMs.p50,
      gatewayLoopP99: level.gateway.loopDelayP99Ms,
      cpuPerCall: level.gateway.cpuMsPerCall,
      rssPerCall: level.gateway.rssMBPerCall,
      usPerFrame: level.gateway.usPerFrame,
      loadLoopP99: level.loadGenerator.loopDelayP99Ms,
      sttStage: level.stagesMs.sttFinal.p50,
      machineBusy: level.machine.cpuBusy,
    };
    for (const [name, value] of Object.entries(numbers))
      expect({ name, ok: isNumber(value) }).toEqual({ name, ok: true });
    expect(level.overheadMs.n).toBeGreaterThanOrEqual(3); // 2 turns of the barge-in call + 1 of the other
  });

  it('compares the synthesis paths: the ladder run is reused for unary, the streaming run really streams', () => {
    const [unary, streaming] = results.sections.ttsPaths.runs;
    expect([unary.label, unary.reused, streaming.label, streaming.reused]).toEqual(['unary', true, 'streaming', false]);
    expect(streaming.level.variant.ttsPath).toBe('streaming');
    expect(unary.level.ttsStream.replies).toBe(0);
    expect(streaming.level.ttsStream.replies).toBeGreaterThanOrEqual(3); // one per answer: 3 turns in 2 calls
    for (const r of [unary, streaming]) {
      expect(r.level).toMatchObject({ completed: 2, violations: 0 });
      expect([isNumber(r.level.receiveMs.p50), isNumber(r.level.voiceToVoiceMs.p50)]).toEqual([true, true]);
    }
  });

  it('speaks over the reply: an acknowledgement resumes it, an interruption stops it and is answered', () => {
    const [ack, cut] = results.sections.interruptions.runs.map((r: { level: LevelResult }) => r.level.interruptions);
    expect(ack).toMatchObject({ kind: 'backchannel', calls: 1, cleared: 1, resumed: 1, answered: 0 });
    expect(ack).toMatchObject({ gatewayBackchannels: 1, gatewayBargeIns: 0 });
    expect(ack.heardShare.p50).toBeGreaterThanOrEqual(0.95); // everything heard, whatever the order
    expect(cut).toMatchObject({ kind: 'interrupt', calls: 1, cleared: 1, resumed: 0, answered: 1 });
    expect(cut).toMatchObject({ gatewayBackchannels: 0, gatewayBargeIns: 1 });
    expect(cut.heardShare.p50).toBeLessThan(0.9);
    for (const i of [ack, cut]) expect(isNumber(i.onsetToClearMs.p50) && isNumber(i.clearToAudioMs.p50)).toBe(true);
  });

  it('compares the speech detectors: the model on the ladder run, the energy VAD on the other', () => {
    const runs = results.sections.speechDetector.runs;
    expect(runs.map((r: { label: string; reused: boolean }) => [r.label, r.reused])).toEqual([
      ['auto', true],
      ['energy', false],
    ]);
    expect(runs.map((r: { level: LevelResult }) => r.level.speechDetectorInUse)).toEqual(['model', 'energy']);
    for (const r of runs)
      expect(isNumber(r.level.gateway.usPerFrame) && isNumber(r.level.gateway.cpuMsPerCall)).toBe(true);
  });

  it('writes latest.md with the table, an explanation of every column and the three sections', () => {
    const md = fs.readFileSync(path.join(outDir, 'latest.md'), 'utf8');
    expect(md).toContain(`| ${TABLE_COLUMNS.join(' | ')} |`);
    expect(md).toMatch(/^\| 2 \| 2 \| 0 \|/m);
    for (const column of [
      'calls',
      'completed',
      'violations',
      'overhead',
      'voice-to-voice',
      'barge-in',
      'gw loop p99',
      'CPU ms/call',
      'RSS MB/call',
      'µs/frame',
      'loadgen loop p99',
    ]) {
      expect(md).toContain(`- **${column}**:`);
    }
    for (const row of [/^\| streaming \| he-IL-Chirp3-HD-/m, /^\| backchannel \| 1 \| 1 \|/m, /^\| energy \| energy/m])
      expect(md).toMatch(row);
  });

  it('writes latest.png, a real PNG of a real size', () => {
    const png = fs.readFileSync(path.join(outDir, 'latest.png'));
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBeGreaterThan(300); // width
    expect(png.readUInt32BE(20)).toBeGreaterThan(200); // height
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('refuses a bad command line with exit code 2', async () => {
    const bad = await runBench(['--levels', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--levels');
  });
});

describe('bench options', () => {
  const parse = (...argv: string[]) => parseBenchArgs(argv, ROOT)!;

  it('times the first streamed chunk like a unary answer unless told, and sizes --quick sections to the first level', () => {
    expect(parse().ttsFirstChunkMs).toBe(200);
    expect(parse('--tts-ms', '300').ttsFirstChunkMs).toBe(300);
    expect(parse('--tts-ms', '300', '--tts-first-chunk-ms', '50').ttsFirstChunkMs).toBe(50);
    expect(parse('--quick', '--levels', '3,7')).toMatchObject({ ttsCalls: 3, detectorCalls: 3, interruptCalls: 1 });
    expect(parse('--quick', '--detector-calls', '0')).toMatchObject({ detectorCalls: 0 });
    expect([parse().reuseRuns, parse('--reuse').reuseRuns, parse('--quick').reuseRuns]).toEqual([false, true, true]);
    expect(parse('--tts-streaming', '--speech-detector', 'energy', '--tts-paths', 'streaming')).toMatchObject({
      ttsPath: 'streaming',
      speechDetector: 'energy',
      ttsPaths: ['streaming'],
    });
  });

  it.each([
    [['--speech-detector', 'neural'], '--speech-detector'],
    [['--tts-paths', 'unary,unary'], '--tts-paths'],
    [['--detectors', 'auto,vad'], '--detectors'],
    [['--tts-rtf', '0'], '--tts-rtf'],
    [['--tts-chunk-ms', '0'], '--tts-chunk-ms'],
  ])('refuses %j', (argv, flag) => {
    expect(() => parse(...argv)).toThrow(UsageError);
    expect(() => parse(...argv)).toThrow(flag);
  });
});

describe('bench sections', () => {
  const cfg = {
    ...parseBenchArgs(['--levels', '4', '--reuse'], ROOT)!,
    ttsCalls: 4,
    interruptCalls: 2,
    detectorCalls: 4,
  };
  const level = (calls: number, variant: LevelResult['variant']) => ({ calls, variant, ok: true }) as LevelResult;
  const ladder = [level(4, { ttsPath: 'unary', speechDetector: 'auto', scenario: 'standard' })];
  const sections = async (reuseRuns: boolean) => {
    const made: string[] = [];
    const s = await runSections(
      { ...cfg, reuseRuns },
      ladder,
      (calls, v) => {
        made.push(`${calls} ${v.ttsPath} ${v.speechDetector} ${v.scenario}`);
        return Promise.resolve(level(calls, v));
      },
      () => undefined,
    );
    return { made, s };
  };

  it('with --reuse, reuses the ladder run of the same variant and size, and runs the rest once each', async () => {
    const { made, s } = await sections(true);
    expect(made).toEqual([
      '4 streaming auto standard',
      '2 unary auto backchannel',
      '2 unary auto interrupt',
      '4 unary energy standard',
    ]);
    expect(s.ttsPaths.runs.map((r) => r.reused)).toEqual([true, false]);
    expect(s.speechDetector.runs[0]!.level).toBe(ladder[0]);
  });

  it('without it, runs every pair back to back', async () => {
    const { made } = await sections(false);
    expect(made).toEqual([
      '4 unary auto standard',
      '4 streaming auto standard',
      '2 unary auto backchannel',
      '2 unary auto interrupt',
      '4 unary auto standard',
      '4 unary energy standard',
    ]);
  });
});

/** Deterministic bytes that never repeat a 20 ms block (a stand-in for speech). */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return b;
}

describe('what the caller heard of the reply', () => {
  const ref = noise(16_000, 7); // 2 s

  it('finds a pause and resume with a short repeat, and audio that is no part of the reply', () => {
    // Something else first (its end is not on a 20 ms boundary), then the reply cut, resumed 203 bytes
    // back, then 40 ms of digital silence (not counted) and an answer.
    const silence = Buffer.alloc(320, 0xff);
    const heard = Buffer.concat([noise(1000, 42), ref.subarray(0, 5003), ref.subarray(4800), silence, noise(3200, 99)]);
    const a = alignHeard(heard, ref);
    expect(a.segments).toEqual([
      { heardAt: 1000, refAt: 0, bytes: 5003 },
      { heardAt: 6003, refAt: 4800, bytes: 11_200 },
    ]);
    expect([a.coveredBytes, a.repeatedBytes, a.otherBytes]).toEqual([16_000, 203, 4200]);
  });

  it('places a run of a periodic sound where it keeps matching, not at its first look-alike', () => {
    // A tone that repeats every 400 bytes between a distinct fade-in and fade-out: a run that starts
    // mid-tone occurs every 400 bytes, but only the right place matches all the way to the fade-out.
    const periods = Array.from({ length: 30 }, () => noise(400, 3));
    const tone = Buffer.concat([noise(200, 11), ...periods, noise(320, 5)]);
    const a = alignHeard(Buffer.concat([tone.subarray(0, 2700), tone.subarray(6330)]), tone);
    expect(a.segments.map((s) => s.refAt)).toEqual([0, 6330]);
    expect(a.coveredBytes).toBe(tone.length - (6330 - 2700));
  });

  it('measures onset → clear and what was heard from a call report', () => {
    const report = {
      turns: [{ speechStartedAtMs: 1000 }, { speechStartedAtMs: 5000 }],
      greeting: { endReason: 'drained', receivedBytes: 800 },
      heard: Buffer.concat([noise(800, 1), ref.subarray(0, 4000), ref.subarray(3900)]),
      clientEvents: [
        { atMs: 4990, kind: 'recv-clear', detail: {} },
        { atMs: 5243, kind: 'recv-clear', detail: {} },
        { atMs: 5600, kind: 'recv-media', detail: {} },
        { atMs: 5601, kind: 'playback-start', detail: {} },
      ],
    } as unknown as CallReport;
    const s = interruptionSample('backchannel', report, { audioBase64: ref.toString('base64') });
    expect(s).toMatchObject({ onsetToClearMs: 243, clearToAudioMs: 357, clearToPlayMs: 358, segments: 2 });
    expect(s).toMatchObject({
      resumed: true,
      inOrder: true,
      heardShare: 1,
      repeatedMs: 12.5,
      unheardMs: 0,
      otherMs: 0,
    });
    // Resumed 500 ms further on: a jump ahead, half a second never heard.
    const skipped = { ...report, heard: Buffer.concat([noise(800, 1), ref.subarray(0, 4000), ref.subarray(8000)]) };
    const t = interruptionSample('backchannel', skipped, { audioBase64: ref.toString('base64') });
    expect(t).toMatchObject({ resumed: true, inOrder: false, heardShare: 0.75, repeatedMs: 0, unheardMs: 500 });
  });
});
