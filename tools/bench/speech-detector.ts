/**
 * `npm exec -- node tools/bench/speech-detector.ts`: how well the speech detector tells a caller's
 * speech from line noise, next to the energy VAD (frame RMS ≥ VAD_RMS), on tests/fixtures/noise,
 * and what it costs in CPU.
 *
 * For every case (each noise alone at three levels; the long Hebrew phrase over each noise at 10, 5
 * and 0 dB SNR, starting 1.5 s in; the phrase alone after 1.5 s of silence; silence) it prints, per
 * detector: frames of noise called speech, barge-ins during noise, frames of the phrase called
 * speech, and the delays from the phrase's first sample to the first speech frame and to the
 * barge-in. "Barge-in" is today's rule: media/voice/turn-detector.ts fed each frame's verdict,
 * firing 'sustained' after BARGE_IN_MIN_MS (200) of speech in one run (runs survive 120 ms gaps).
 *
 * Options: `--rounds N` repeats the CPU measurement (default 3). Exit code 0, or 1 when the model
 * cannot be loaded. A tool, not a test: it asserts nothing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { rmsMulaw } from '../../media/audio/level.ts';
import { MULAW_SILENCE, mulawToPcm16, pcm16ToMulaw } from '../../media/audio/mulaw.ts';
import { createSpeechDetector, loadSpeechDetectorModel } from '../../media/audio/speech-detector.ts';
import { TurnDetector } from '../../media/voice/turn-detector.ts';

const FIXTURES = path.resolve(import.meta.dirname, '..', '..', 'tests', 'fixtures');
const FRAME = 160; // 20 ms
const FRAME_MS = 20;
const VAD_RMS = 210;
const BARGE_IN_MIN_MS = 200;
const KINDS = ['white', 'pink', 'car', 'street', 'hum', 'babble'] as const;
const SNRS = [10, 5, 0] as const;
/** The phrase starts this many frames into every mix (SPEECH_AT=1.5 s in make-noise-fixtures.sh). */
const SPEECH_AT = 75;
/** Whole frames of caller-hebrew-long.ulaw. */
const SPEECH_FRAMES = 173;

interface Case {
  name: string;
  audio: Uint8Array;
  /** First frame of the phrase, or undefined for noise or silence alone. */
  speechAt: number | undefined;
  /** Frames of the phrase (from speechAt) loud enough to be heard over the noise. */
  audible?: boolean[];
}

/** One detector over one case: a speech flag per frame. */
type Detect = (audio: Uint8Array) => boolean[];

interface Row {
  noiseHits: number;
  noiseFrames: number;
  noiseBargeIns: number;
  speechHits: number;
  audibleHits: number;
  firstMs: number | undefined;
  bargeInMs: number | undefined;
}

const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));

/** μ-law audio scaled by `db` (decoded, scaled, re-encoded; clips at full scale). */
function scaled(mulaw: Uint8Array, db: number): Uint8Array {
  const g = 10 ** (db / 20);
  const pcm = mulawToPcm16(mulaw).map((s) => Math.max(-32768, Math.min(32767, Math.round(s * g))));
  return pcm16ToMulaw(pcm);
}

/**
 * Which frames of the phrase stand above the noise: the phrase's second half is about 17 dB
 * quieter than its first 1.5 s (espeak-ng's voicing), so at a given overall SNR much of it is
 * under the noise, and no detector should be blamed for missing it. A frame counts when its RMS in
 * the mix (the phrase is 3 dB down there) reaches the RMS of the mix's noise-only lead-in, and VAD_RMS.
 */
function audibleFrames(mix: Uint8Array, gainDb: number): boolean[] {
  const phrase = fixture('caller-hebrew-long.ulaw');
  const noise = rmsMulaw(mix.subarray(0, SPEECH_AT * FRAME));
  const g = 10 ** (gainDb / 20);
  return Array.from(
    { length: SPEECH_FRAMES },
    (_, i) => rmsMulaw(phrase.subarray(i * FRAME, (i + 1) * FRAME)) * g >= Math.max(noise, VAD_RMS),
  );
}

/** The cases, in table order. */
export function benchCases(): Case[] {
  const silence = new Uint8Array(48_000).fill(MULAW_SILENCE);
  const cases: Case[] = [{ name: 'silence', audio: silence, speechAt: undefined }];
  const clean = silence.slice();
  clean.set(fixture('caller-hebrew-long.ulaw'), SPEECH_AT * FRAME);
  cases.push({ name: 'phrase, no noise', audio: clean, speechAt: SPEECH_AT, audible: audibleFrames(clean, 0) });
  for (const kind of ['street', 'babble']) {
    const later = silence.slice();
    later.set(fixture(`noise/${kind}.ulaw`).subarray(0, 32_000), 16_000);
    cases.push({ name: `${kind} starting at 2 s`, audio: later, speechAt: undefined });
  }
  for (const kind of KINDS) {
    const noise = fixture(`noise/${kind}.ulaw`);
    for (const db of [6, 0, -12]) {
      const level = Math.round(rmsMulaw(scaled(noise, db)));
      cases.push({
        name: `${kind} ${db >= 0 ? '+' : ''}${db} dB (RMS ${level})`,
        audio: scaled(noise, db),
        speechAt: undefined,
      });
    }
    for (const snr of SNRS) {
      const mix = fixture(`noise/${kind}-speech-${snr}db.ulaw`);
      cases.push({
        name: `${kind} + phrase, ${snr} dB SNR`,
        audio: mix,
        speechAt: SPEECH_AT,
        audible: audibleFrames(mix, -3),
      });
    }
  }
  return cases;
}

/** Frame-by-frame verdicts of each detector. */
function frames(audio: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + FRAME <= audio.length; i += FRAME) out.push(audio.subarray(i, i + FRAME));
  return out;
}
const energy: Detect = (audio) => frames(audio).map((f) => rmsMulaw(f) >= VAD_RMS);
function neural(): Detect {
  const detector = createSpeechDetector();
  if (!detector) throw new Error('speech detector unavailable');
  return (audio) => {
    detector.reset();
    return frames(audio).map((f) => detector.frame(f).speech);
  };
}

/** Scores one detector's verdicts on one case. */
function score(flags: boolean[], c: Case): Row {
  const turn = new TurnDetector({ vadRms: 1, eouMs: 100_000, bargeInMinMs: BARGE_IN_MIN_MS });
  const end = c.speechAt === undefined ? flags.length : c.speechAt;
  const row: Row = {
    noiseHits: 0,
    noiseFrames: end,
    noiseBargeIns: 0,
    speechHits: 0,
    audibleHits: 0,
    firstMs: undefined,
    bargeInMs: undefined,
  };
  flags.forEach((speech, i) => {
    const events = turn.frame(speech ? 1 : 0, FRAME_MS, i * FRAME_MS);
    const sustained = events.some((e) => e.type === 'sustained');
    if (i < end) {
      if (speech) row.noiseHits++;
      if (sustained) row.noiseBargeIns++;
      return;
    }
    const at = c.speechAt!;
    if (i >= at + SPEECH_FRAMES) return;
    const sinceOnsetMs = (i + 1 - at) * FRAME_MS; // the verdict is known at the end of frame i
    if (speech) {
      row.speechHits++;
      if (c.audible?.[i - at]) row.audibleHits++;
      row.firstMs ??= sinceOnsetMs;
    }
    if (sustained) row.bargeInMs ??= sinceOnsetMs;
  });
  return row;
}

const pct = (n: number, d: number): string => (d === 0 ? '—' : `${Math.round((100 * n) / d)}%`);
const ms = (v: number | undefined, c: Case): string =>
  c.speechAt === undefined ? '' : v === undefined ? 'never' : `${v}`;

function cells(r: Row, c: Case): string[] {
  return [
    pct(r.noiseHits, r.noiseFrames),
    String(r.noiseBargeIns),
    c.speechAt === undefined ? '' : pct(r.speechHits, SPEECH_FRAMES),
    c.audible === undefined ? '' : pct(r.audibleHits, c.audible.filter(Boolean).length),
    ms(r.firstMs, c),
    ms(r.bargeInMs, c),
  ];
}

/** CPU µs per 20 ms frame of one detector over all cases, best of `rounds`. */
function cpuPerFrame(detect: Detect, cases: Case[], rounds: number): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = process.cpuUsage();
    for (const c of cases) n += detect(c.audio).length;
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / n);
  }
  return best;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
  const rounds = Math.max(1, Number.parseInt(values.rounds, 10) || 3);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const status = await loadSpeechDetectorModel();
  const loadMs = performance.now() - t0;
  if (!status.available) {
    console.error(`speech detector unavailable: ${status.code}: ${status.message}`);
    return 1;
  }
  const cases = benchCases();
  const detectors: [string, Detect][] = [
    ['energy VAD (RMS ≥ 210)', energy],
    ['speech detector', neural()],
  ];
  const header = [
    'case',
    ...detectors.flatMap(([n]) => [
      `${n}: noise→speech`,
      'noise barge-ins',
      'phrase→speech',
      'audible→speech',
      'first ms',
      'barge-in ms',
    ]),
  ];
  const body = cases.map((c) => [c.name, ...detectors.flatMap(([, d]) => cells(score(d(c.audio), c), c))]);
  console.log(
    `Speech detector bench: model ${path.relative(process.cwd(), status.path)} (sha256 ${status.sha256.slice(0, 16)}…, measured: ${status.measured})`,
  );
  console.log(
    "noise→speech: frames before the phrase (or of the whole noise) called speech; barge-ins: TurnDetector 'sustained' events there;\n" +
      'phrase→speech: frames of the phrase called speech; audible→speech: the same over the frames of the phrase louder than the\n' +
      "noise and VAD_RMS; first / barge-in: ms from the phrase's first sample to the first speech frame / to the barge-in.\n",
  );
  console.log(markdown([header, ...body]));
  const energyUs = cpuPerFrame(energy, cases, rounds);
  const neuralUs = cpuPerFrame(detectors[1]![1], cases, rounds);
  const perMinute = (us: number): string => ((us * 3000) / 1000).toFixed(1);
  console.log('\nCPU (one core, single-threaded; best of %d rounds over all cases):', rounds);
  console.log(
    markdown([
      ['detector', 'µs per 20 ms frame', 'CPU ms per minute of call audio', 'share of one core per call'],
      ['energy VAD', energyUs.toFixed(2), perMinute(energyUs), `${((energyUs / 20_000) * 100).toFixed(3)}%`],
      ['speech detector', neuralUs.toFixed(1), perMinute(neuralUs), `${((neuralUs / 20_000) * 100).toFixed(2)}%`],
    ]),
  );
  console.log(
    `\nmodel load ${loadMs.toFixed(0)} ms; RSS +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(0)} MB after loading and running; Node ${process.version}`,
  );
  return 0;
}

function markdown(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

if (import.meta.main) process.exitCode = await main();
