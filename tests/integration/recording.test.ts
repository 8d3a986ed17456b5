/**
 * Call recordings end to end. Through the voice stack (real SDKs against the emulators, an
 * in-process gateway, a Twilio-like client that models Twilio's playout): a call with a barge-in is
 * recorded, and the WAV read back is compared with what the client sent and what it played. Then a
 * gateway process started with RECORD_CALLS=true serves a call's recording from its API, and the
 * console's audio player in Chromium plays it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mulawToPcm16 } from '../../media/audio/mulaw.ts';
import { parseWav } from '../../media/audio/wav.ts';
import type { StoreOp } from '../../server/store/records.ts';
import { runCall } from '../../tools/call/run-call.ts';
import type { CallReport } from '../../tools/call/types.ts';
import { startGatewayChild, type GatewayChild } from '../../tools/gateway-child.ts';
import {
  fakeTtsAudio,
  startFakeOpenAI,
  startFakeStt,
  startFakeTts,
  type FakeOpenAI,
  type FakeStt,
  type FakeTts,
} from '../../tools/emulators/index.ts';
import type { ClientEvent } from '../../tools/twilio/media-client.ts';
import { describeWithBrowser, launchBrowser } from '../helpers/browser.ts';
import { eventually } from '../helpers/gateway-harness.ts';
import { HEBREW, startVoiceStack, type VoiceStack } from '../helpers/voice-stack.ts';
import { stereoChannels } from '../helpers/wav-sink.ts';

jest.setTimeout(60_000);

const GREETING = 'שלום, במה אפשר לעזור?';
// Five sentences of about 1.2 s of audio each (30 ms per character in the TTS emulator).
const SENTENCES = [
  'המרפאה שלנו פתוחה בימים ראשון עד חמישי.',
  'שעות הפעילות הן משמונה בבוקר ועד שש בערב.',
  'ביום שישי אנחנו פתוחים רק עד הצהריים.',
  'אפשר לקבוע תור גם דרך האתר שלנו בכל שעה.',
  'האם תרצו שאקבע עבורכם תור כבר עכשיו?',
];
const audio = (text: string) => fakeTtsAudio(text, { msPerChar: 30 });
/** How far (samples) the recording may place agent audio from where the client played it: 150 ms. */
const TOLERANCE = 1200;

/**
 * The caller channel the recording must hold: every frame the client sent, at its `media.timestamp`;
 * speech frames carry the utterances' bytes in order (each utterance starts on a frame boundary).
 */
function expectedCaller(events: readonly ClientEvent[], utterances: Buffer[]): Int16Array {
  const frames = events.filter((e) => e.kind === 'sent-media');
  const last = frames.at(-1)!;
  const out = new Int16Array(last.detail.timestamp * 8 + 160);
  let u = 0;
  let off = 0;
  for (const f of frames) {
    if (!f.detail.speech) continue;
    const bytes = utterances[u]!.subarray(off, off + 160);
    out.set(mulawToPcm16(bytes), f.detail.timestamp * 8);
    off += 160;
    if (off >= utterances[u]!.length) [u, off] = [u + 1, 0];
  }
  return out;
}

/** Where `needle` starts in `hay`, searched within TOLERANCE of `around`; undefined if nowhere. */
function locate(hay: Int16Array, needle: Int16Array, around: number): number | undefined {
  for (let d = 0; d <= TOLERANCE; d++) {
    for (const at of [around - d, around + d]) {
      if (at < 0 || at + needle.length > hay.length) continue;
      let i = 0;
      while (i < needle.length && hay[at + i] === needle[i]) i++;
      if (i === needle.length) return at;
    }
  }
  return undefined;
}

/** The first index where `needle` occurs in `hay`, or -1. */
function find(hay: Int16Array, needle: Int16Array): number {
  outer: for (let at = 0; at + needle.length <= hay.length; at++) {
    for (let i = 0; i < needle.length; i++) if (hay[at + i] !== needle[i]) continue outer;
    return at;
  }
  return -1;
}

/** How many samples from `at` on equal `ref` from its start. */
function matchingPrefix(hay: Int16Array, at: number, ref: Int16Array): number {
  let i = 0;
  while (i < ref.length && at + i < hay.length && hay[at + i] === ref[i]) i++;
  return i;
}

describe('a recorded call with a barge-in', () => {
  let stack: VoiceStack;
  let dir: string;
  const ops: StoreOp[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'recordings-'));
    stack = await startVoiceStack({
      // The model streams slowly, so the reply is still being generated when the caller cuts in.
      openai: { reply: () => ({ text: SENTENCES.join(' '), chunkDelayMs: 45 }) },
      recordings: { dir, records: { writer: { enqueue: (op) => ops.push(op) } } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the caller on the left and, on the right, the greeting and the reply as heard, silent after the cut', async () => {
    const client = await stack.call();
    const greetingStart = await client.waitFor('playback-start', 10_000);
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const turn = await client.say(HEBREW);
    const replyStart = await client.waitFor((e) => e.kind === 'playback-start' && e.atMs > turn.endedAtMs, 15_000);
    await new Promise((r) => setTimeout(r, 1800));
    const interruptAt = client.now();
    const speaking = client.say(HEBREW);
    const clear = await client.waitFor((e) => e.kind === 'recv-clear' && e.atMs > interruptAt, 5000);
    const heardAtClear = client.heard().length;
    await speaking;
    await new Promise((r) => setTimeout(r, 300));
    await client.stop();

    // The call's end waits for the file, so the record (and the post-call webhook) names it.
    const op = await eventually(
      () => ops.find((o) => o.kind === 'call.end' && o.callSid === client.callSid),
      10_000,
      'the call.end op',
    );
    if (op.kind !== 'call.end' || !op.recordingPath) throw new Error(`no recording in ${JSON.stringify(op)}`);
    expect(op.recordingPath).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}/${client.callSid}_${client.streamSid}\\.wav$`));
    const file = readFileSync(path.join(dir, op.recordingPath));
    expect(parseWav(file)).toMatchObject({ formatTag: 1, channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    const { left, right } = stereoChannels(file);

    // Left: every frame the client sent, sample for sample, at its timestamp.
    const caller = expectedCaller(client.events, [HEBREW, HEBREW]);
    expect(left.length).toBeGreaterThanOrEqual(caller.length);
    expect(left.length - caller.length).toBeLessThan(TOLERANCE);
    expect(Buffer.from(left.buffer, 0, caller.length * 2).equals(Buffer.from(caller.buffer))).toBe(true);

    // Right: the greeting whole, where the client started playing it.
    const greeting = mulawToPcm16(audio(GREETING));
    const g = locate(right, greeting, Math.round(greetingStart.atMs * 8));
    expect(g).toBeDefined();
    expect(right.subarray(0, g).every((s) => s === 0)).toBe(true);

    // Then the reply, from where the client started playing it, up to about where the clear cut it.
    const reply = mulawToPcm16(Buffer.concat(SENTENCES.map(audio)));
    const r = locate(right, reply.subarray(0, 800), Math.round(replyStart.atMs * 8));
    expect(r).toBeDefined();
    const recorded = matchingPrefix(right, r!, reply);
    const heard = heardAtClear - greeting.length;
    expect(heard).toBeGreaterThan(audio(SENTENCES[0]!).length); // the cut came during sentence 2
    expect(Math.abs(recorded - heard)).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(r! + recorded - clear.atMs * 8)).toBeLessThanOrEqual(TOLERANCE);

    // After the cut: silence (the second of audio Twilio had buffered is not in it) until any next reply.
    const next = client.events.find((e) => e.kind === 'playback-start' && e.atMs > clear.atMs);
    const silentTo = next ? Math.round(next.atMs * 8) - TOLERANCE : right.length;
    const after = right.subarray(r! + recorded + 8, silentTo);
    expect(after.length).toBeGreaterThan(8000); // at least a second to look at
    expect(after.every((s) => s === 0)).toBe(true);

    const done = stack.h.logs.events('RECORDING_DONE').find((l) => l.callSid === client.callSid);
    expect(done).toMatchObject({ file: op.recordingPath, complete: true, droppedMs: 0, agentDroppedMs: 0 });
    expect(client.violations).toEqual([]);
  });
});

describe('a gateway started with RECORD_CALLS=true', () => {
  let stt: FakeStt;
  let tts: FakeTts;
  let openai: FakeOpenAI;
  let g: GatewayChild;
  let report: CallReport;
  beforeAll(async () => {
    [stt, tts, openai] = await Promise.all([startFakeStt(), startFakeTts({ msPerChar: 20 }), startFakeOpenAI()]);
    g = await startGatewayChild({
      env: {
        GOOGLE_STT_EMULATOR_HOST: stt.address,
        GOOGLE_TTS_EMULATOR_HOST: tts.address,
        OPENAI_BASE_URL: openai.baseURL,
        RECORD_CALLS: 'true',
      },
    });
    report = await runCall({ base: g.url, audio: HEBREW, turns: 1 });
  });
  afterAll(async () => {
    g?.process.kill('SIGKILL');
    await Promise.all([stt?.close(), tts?.close(), openai?.close()]);
  });

  it('serves the call recording as audio/wav: stereo 8 kHz PCM16 as long as the call, caller and agent both in it', async () => {
    expect(report.ok).toBe(true);
    await g.waitForLog('RECORDING_DONE', 10_000, (r) => r['callSid'] === report.callSid);
    let doc: any;
    for (let i = 0; i < 100 && !doc?.call?.recording; i++) {
      doc = await (await fetch(`${g.url}/api/calls/${report.callSid}`)).json();
      if (!doc?.call?.recording) await new Promise((r) => setTimeout(r, 100));
    }
    expect(doc.call.recording).toBe(true);

    const res = await fetch(`${g.url}/api/calls/${report.callSid}/recording`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await res.arrayBuffer());
    expect(parseWav(wav)).toMatchObject({ formatTag: 1, channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8); // finished: the sizes were patched
    const { left, right } = stereoChannels(wav);
    expect(Math.abs(left.length / 8 - report.streamMs)).toBeLessThan(500);
    // The caller's utterance, sample for sample, somewhere on the left; agent audio on the right.
    const speech = mulawToPcm16(HEBREW);
    expect(find(left, speech)).toBeGreaterThan(0);
    expect(right.filter((s) => Math.abs(s) > 1000).length / 8).toBeGreaterThan(1000); // ms of greeting and reply
  });

  describeWithBrowser('in the console', () => {
    it("plays in the call page's audio player, for the whole call", async () => {
      await g.waitForLog('RECORDING_DONE', 10_000, (r) => r['callSid'] === report.callSid);
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        await page.goto(`${g.url}/console/calls/${report.callSid}`);
        const audio = page.locator('audio');
        await audio.waitFor({ state: 'attached', timeout: 15_000 });
        const duration = await audio.evaluate(
          (el: any) =>
            new Promise<number>((resolve, reject) => {
              if (el.readyState >= 1) return resolve(el.duration);
              el.addEventListener('loadedmetadata', () => resolve(el.duration), { once: true });
              el.addEventListener('error', () => reject(new Error(`audio error ${el.error?.code}`)), { once: true });
            }),
        );
        // Chromium decoded the header: a finite length, the call's (not the "unknown" placeholder's).
        expect(Math.abs(duration * 1000 - report.streamMs)).toBeLessThan(500);
        expect(page.errors).toEqual([]);
      } finally {
        await browser.close();
      }
    });
  });
});
