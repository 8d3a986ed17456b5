/**
 * `npm run bench` works: the tool runs as a child process exactly as the npm script starts it, with a
 * tiny level (2 calls, `--quick`), into a temporary directory. It checks that the outputs exist and
 * have the right shape; it never checks a latency, since the benchmark is a tool, not a timed test.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TABLE_COLUMNS } from '../../tools/bench/report.ts';

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

  beforeAll(async () => {
    run = await runBench(['--levels', '2', '--quick', '--out-dir', outDir]);
  }, 90_000);
  afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it('runs a tiny level and exits 0, printing the table', () => {
    // On failure, show what the tool printed (its FAIL lines say why).
    expect({ code: run.code, output: run.code === 0 ? '' : `${run.stdout}\n${run.stderr}` }).toEqual({
      code: 0,
      output: '',
    });
    expect(run.stdout).toContain(`| ${TABLE_COLUMNS.join(' | ')} |`);
    expect(run.stdout).toMatch(/^\| 2 \| 2 \| 0 \|/m);
  });

  it('writes latest.json with the config, the machine and the level, every number a number', () => {
    const results = JSON.parse(fs.readFileSync(path.join(outDir, 'latest.json'), 'utf8'));
    expect(results.ok).toBe(true);
    expect(results.config).toMatchObject({ levels: [2], sttFinalMs: 150, llmFirstTokenMs: 300, ttsMs: 200 });
    expect(isNumber(results.machine.cpus)).toBe(true);
    expect(results.machine.node).toMatch(/^v\d+/);
    expect(results.levels).toHaveLength(1);
    const level = results.levels[0];
    expect(level).toMatchObject({ calls: 2, completed: 2, failed: 0, violations: 0, ok: true });
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

  it('writes latest.md with the table and an explanation of every column', () => {
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
