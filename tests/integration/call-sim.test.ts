/**
 * The call simulator (`npm run call`, `runCall`) against the real gateway in-process, with a scripted
 * agent behind the media socket: a 200 ms-chunked tone greeting with marks, a tone reply ~400 ms after
 * the caller's speech ends, `clear` when the caller speaks over a reply. Calls run in real time, so
 * the audio is short; timing checks are orderings and wide bounds, not precision.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rmsMulaw } from '../../media/audio/level.ts';
import type { CallFactory } from '../../media/twilio/call-handler.ts';
import { mulawToPcm16, pcm16ToMulaw } from '../../media/audio/mulaw.ts';
import { formatClear, formatMark, formatMedia } from '../../media/twilio/messages.ts';
import { buildWav, parseWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import { AudioInputError, callerAudioFromBytes, loadCallerAudio, wavToMulaw8k } from '../../tools/call/audio.ts';
import { resample } from '../../media/audio/resample.ts';
import { runCall } from '../../tools/call/run-call.ts';
import type { CallEvent, CallReport } from '../../tools/call/run-call.ts';
import { mediaSocketUrl, onBase, parseStreamTwiml } from '../../tools/call/twilio-requests.ts';
import { startGateway, type Harness } from '../helpers/gateway-harness.ts';
import { REPO_ROOT as ROOT } from '../../tools/gateway-child.ts';

const TOKEN = 'test-auth-token-0123456789abcdef';
const HEBREW = readFileSync(path.join(ROOT, 'tests/fixtures/caller-hebrew.ulaw'));
const TMP = mkdtempSync(path.join(tmpdir(), 'call-sim-'));

/** Sine samples on the PCM16 scale; a small phase offset keeps samples off exact zero crossings. */
function sine(hz: number, rate: number, ms: number, amplitude = 8000): Float32Array {
  const out = new Float32Array(Math.round((rate * ms) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate + 0.3);
  return out;
}
/** A PCM16 WAV with the same signal on every channel (or `right` on the second). */
function pcmWav(rate: number, left: Float32Array, right?: Float32Array): Buffer {
  const channels = right ? 2 : 1;
  const data = Buffer.alloc(left.length * 2 * channels);
  left.forEach((v, i) => {
    data.writeInt16LE(Math.round(v), i * 2 * channels);
    if (right) data.writeInt16LE(Math.round(right[i]!), i * 4 + 2);
  });
  return buildWav(data, { formatTag: WAV_FORMAT.PCM, channels, sampleRate: rate, bitsPerSample: 16 });
}
const tone = (ms: number, hz = 440) => pcm16ToMulaw(Int16Array.from(sine(hz, 8000, ms, 6000), Math.round));
const zeroCrossings = (pcm: ArrayLike<number>) => {
  let n = 0;
  for (let i = 1; i < pcm.length; i++) if (pcm[i - 1]! < 0 !== pcm[i]! < 0) n++;
  return n;
};
const rms = (x: ArrayLike<number>, from = 0, to = x.length) => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! ** 2;
  return Math.sqrt(sum / (to - from));
};
/** 16 kHz stereo PCM16 caller audio (a 1 kHz tone), to exercise the conversion path end to end. */
const STEREO_WAV = pcmWav(16000, sine(1000, 16000, 600), sine(1000, 16000, 600));
const SHORT = wavToMulaw8k(STEREO_WAV);
writeFileSync(path.join(TMP, 'caller.wav'), STEREO_WAV);

/** The agent: greeting on start, a reply after each utterance, `clear` when interrupted. */
function scriptedAgent({ greetingMs = 1000, replyMs = 1500, chunkMs = 200, endOfSpeechMs = 400 } = {}): CallFactory {
  return (ctx) => {
    const pending = new Set<string>();
    let marks = 0;
    let speaking = false;
    let quietMs = 0;
    const play = (label: string, ms: number) => {
      for (let at = 0; at < ms; at += chunkMs) {
        ctx.send(formatMedia(ctx.streamSid, tone(Math.min(chunkMs, ms - at))));
        const name = `${label}-${++marks}`;
        pending.add(name);
        ctx.send(formatMark(ctx.streamSid, name));
      }
    };
    play('greeting', greetingMs);
    return {
      onAudio({ mulaw }) {
        if (rmsMulaw(mulaw) >= 210) {
          quietMs = 0;
          if (!speaking && pending.size > 0) ctx.send(formatClear(ctx.streamSid));
          speaking = true;
        } else if (speaking && (quietMs += mulaw.length / 8) >= endOfSpeechMs) {
          speaking = false;
          play('reply', replyMs);
        }
      },
      onMark: (name) => void pending.delete(name),
      onDtmf() {},
      onStop() {},
      close() {},
    };
  };
}

/** Kinds of the timeline in order, for subsequence checks. */
const kinds = (r: CallReport) => r.timeline.map((e) => `${e.kind}${e.turn ? e.turn : ''}`);
function expectInOrder(actual: string[], expected: string[]): void {
  let i = 0;
  for (const k of actual) if (k === expected[i]) i++;
  expect({ found: expected.slice(0, i), expected }).toEqual({ found: expected, expected });
}

function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['tools/call.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: TMP, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('caller audio loading', () => {
  test('a 1 kHz sine at 16 kHz stereo becomes 8 kHz mono of the right length, frequency and level', () => {
    const mulaw = wavToMulaw8k(pcmWav(16000, sine(1000, 16000, 1000), sine(1000, 16000, 1000)));
    expect(mulaw.length).toBe(8000);
    const pcm = mulawToPcm16(mulaw);
    expect(zeroCrossings(pcm)).toBeGreaterThan(1960); // 2 per cycle × 1000 cycles
    expect(zeroCrossings(pcm)).toBeLessThan(2040);
    expect(rms(pcm, 100, 7900)).toBeGreaterThan(8000 * Math.SQRT1_2 * 0.9);
    expect(rms(pcm, 100, 7900)).toBeLessThan(8000 * Math.SQRT1_2 * 1.1);
  });

  test('downsampling low-passes first: a 6 kHz tone at 48 kHz does not alias into the voice band', () => {
    const out = resample(sine(6000, 48000, 500), 48000, 8000);
    expect(out.length).toBe(4000);
    expect(rms(out, 200, 3800)).toBeLessThan(8000 * Math.SQRT1_2 * 0.02);
    const kept = resample(sine(1000, 48000, 500), 48000, 8000); // while the band itself passes
    expect(rms(kept, 200, 3800)).toBeGreaterThan(8000 * Math.SQRT1_2 * 0.95);
    expect(resample(sine(500, 4000, 100), 4000, 8000).length).toBe(800);
  });

  test('channels are averaged, 8-bit PCM is unsigned, 8 kHz μ-law WAV passes through bit-exact', () => {
    const s = sine(1000, 16000, 100);
    expect(
      rms(
        mulawToPcm16(
          wavToMulaw8k(
            pcmWav(
              16000,
              s,
              s.map((v) => -v),
            ),
          ),
        ),
      ),
    ).toBeLessThan(10);
    const eightBit = buildWav(Buffer.from([128, 255, 0]), {
      formatTag: WAV_FORMAT.PCM,
      channels: 1,
      sampleRate: 8000,
      bitsPerSample: 8,
    });
    expect(Array.from(mulawToPcm16(wavToMulaw8k(eightBit))).map(Math.sign)).toEqual([0, 1, -1]);
    const sox = readFileSync(path.join(ROOT, 'tests/fixtures/sox-mulaw.wav'));
    expect(callerAudioFromBytes(sox, 'sox-mulaw.wav').equals(HEBREW.subarray(0, 2000))).toBe(true);
    expect(callerAudioFromBytes(HEBREW, 'caller.ulaw').equals(HEBREW)).toBe(true);
  });

  test('unusable input is an AudioInputError that says why', async () => {
    const alaw = buildWav(Buffer.alloc(10), { formatTag: 6, channels: 1, sampleRate: 8000, bitsPerSample: 8 });
    const cases: Array<[Buffer, string, RegExp]> = [
      [Buffer.alloc(0), 'a.wav', /a\.wav is empty/],
      [Buffer.from('hello'), 'notes.txt', /unknown audio type "\.txt"/],
      [STEREO_WAV.subarray(0, 30), 'cut.wav', /not a usable WAV file \(WAV_TRUNCATED/],
      [alaw, 'alaw.wav', /unsupported WAV encoding \(format tag 6/],
    ];
    for (const [bytes, name, message] of cases) {
      expect(() => callerAudioFromBytes(bytes, name)).toThrow(AudioInputError);
      expect(() => callerAudioFromBytes(bytes, name)).toThrow(message);
    }
    await expect(loadCallerAudio(path.join(TMP, 'missing.wav'))).rejects.toThrow(
      /cannot read .*missing\.wav: no such file/,
    );
  });
});

describe('Twilio requests', () => {
  test('reads the stream from TwiML and maps public URLs onto --base', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><Response><Connect action="https://gw.example.test/webhook/stream_ended"><Stream url="wss://gw.example.test/ws/twilio-media" statusCallback="https://gw.example.test/webhook/stream_status"><Parameter name="call_sid" value="CA1"/><Parameter name="token" value="a&amp;b"/></Stream></Connect></Response>`;
    expect(parseStreamTwiml(xml)).toEqual({
      streamUrl: 'wss://gw.example.test/ws/twilio-media',
      statusCallback: 'https://gw.example.test/webhook/stream_status',
      connectAction: 'https://gw.example.test/webhook/stream_ended',
      parameters: { call_sid: 'CA1', token: 'a&b' },
    });
    expect(() => parseStreamTwiml('<Response><Say>hi</Say></Response>')).toThrow(/no <Connect><Stream url/);
    expect(() => parseStreamTwiml('<Response><Connect><Stream url="ws://x/y"/></Connect></Response>')).toThrow(
      /not a wss:\/\/ URL/,
    );
    expect(mediaSocketUrl('wss://gw.example.test/ws/twilio-media?x=1', 'http://127.0.0.1:5000')).toBe(
      'ws://127.0.0.1:5000/ws/twilio-media',
    );
    expect(mediaSocketUrl('wss://gw.example.test/ws/twilio-media', 'https://gw.example.test')).toBe(
      'wss://gw.example.test/ws/twilio-media',
    );
    expect(onBase('https://gw.example.test/webhook/stream_status?a=1', 'http://127.0.0.1:5000')).toBe(
      'http://127.0.0.1:5000/webhook/stream_status?a=1',
    );
  });
});

describe('a simulated call against the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway({}, { callFactory: scriptedAgent() });
  });
  afterAll(() => h.stop());

  test('greeting, one turn, latency, webhooks: the full report', async () => {
    const live: CallEvent[] = [];
    const r = await runCall({ base: h.httpBase, audio: HEBREW, quietMs: 500, onEvent: (e) => live.push(e) });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.greeting).toMatchObject({ endReason: 'drained', receivedBytes: 8000, marksPlayed: 5 });
    expect(r.turns).toHaveLength(1);
    const t = r.turns[0]!;
    // Frames are paced by a real-time clock: generous bounds, the machine may be busy.
    expect(Math.abs(t.speechEndedAtMs - t.speechStartedAtMs - HEBREW.length / 8)).toBeLessThan(300);
    expect(t.speechStartedAtMs).toBeGreaterThanOrEqual(r.greeting!.endedAtMs!);
    expect(t.receiveLatencyMs).toBeGreaterThanOrEqual(350); // the agent waits 400 ms of quiet frames
    expect(t.receiveLatencyMs).toBeLessThan(3000);
    expect(t.playLatencyMs).toBeGreaterThanOrEqual(t.receiveLatencyMs!);
    expect(t).toMatchObject({ replyEndReason: 'drained', replyBytes: 12000, marksPlayed: 8, clears: 0 });
    expect(r.heard.length).toBe(8000 + 12000);
    expectInOrder(kinds(r), [
      'connected',
      'greeting-start',
      'greeting-end',
      'marks',
      'caller-start1',
      'caller-end1',
      'reply-received1',
      'reply-start1',
      'reply-end1',
      'marks1',
      'stop',
      'closed',
    ]);
    expect([...live].sort((a, b) => a.atMs - b.atMs)).toEqual(r.timeline);
    expect(r.webhooks.map((w) => [w.name, w.status])).toEqual([
      ['incoming_call', 200],
      ['stream_status stream-started', 204],
      ['stream_status stream-stopped', 204],
      ['call_status completed', 204],
    ]);
    const logged = (message: string) => h.logs.records.filter((l) => l.message === message && l.callSid === r.callSid);
    expect(logged('STREAM_STATUS').map((l) => l.streamEvent)).toEqual(['stream-started', 'stream-stopped']);
    expect(logged('CALL_STATUS')).toEqual([
      expect.objectContaining({ callStatus: 'completed', callDuration: expect.stringMatching(/^[1-9]\d*$/) }),
    ]);
  }, 20_000);

  test('barge-in: the caller speaks over reply 1, the gateway clears, the marks come back at once', async () => {
    const r = await runCall({ base: h.httpBase, audio: SHORT, bargeInAfterMs: 300, quietMs: 500 });
    expect(r.problems).toEqual([]);
    expect(r.turns).toHaveLength(2);
    const [first, second] = r.turns as [CallReport['turns'][0], CallReport['turns'][0]];
    expect(second.speechStartedAtMs - first.replyPlayedAtMs!).toBeGreaterThanOrEqual(260); // 300 ms, less up to one 20 ms frame
    expect(second.speechStartedAtMs - first.replyPlayedAtMs!).toBeLessThan(1000);
    expect(first).toMatchObject({ clears: 1, replyEndReason: 'cleared' });
    expect(first.marksFlushed).toBeGreaterThan(0);
    const flushed = r.clientEvents.filter((e) => e.kind === 'mark-echoed' && e.detail.cleared);
    expect(flushed).toHaveLength(first.marksFlushed);
    const clear = r.timeline.find((e) => e.kind === 'clear')!;
    expect(clear.text).toMatch(new RegExp(`${first.marksFlushed} marks echoed at once`));
    expectInOrder(kinds(r), [
      'reply-start1',
      'caller-start2',
      'clear1',
      'reply-end1',
      'caller-end2',
      'reply-start2',
      'reply-end2',
    ]);
    expect(second).toMatchObject({ replyEndReason: 'drained', clears: 0 });
  }, 20_000);

  test('concurrent calls in one process keep to themselves; an aborted call says so', async () => {
    const aborted = AbortSignal.timeout(500);
    const reports = await Promise.all([
      runCall({ base: h.httpBase, audio: SHORT, quietMs: 500 }),
      runCall({ base: h.httpBase, audio: SHORT, quietMs: 500 }),
      runCall({ base: h.httpBase, audio: SHORT, quietMs: 500, signal: aborted }),
    ]);
    const [a, b, c] = reports as [CallReport, CallReport, CallReport];
    for (const r of [a, b])
      expect({ problems: r.problems, heard: r.heard.length, turns: r.turns.length }).toEqual({
        problems: [],
        heard: 20000,
        turns: 1,
      });
    expect(new Set(reports.map((r) => r.streamSid)).size).toBe(3);
    expect(c.problems).toEqual(['the call was aborted']);
    expect(c.turns).toEqual([]);
    expect(c.webhooks.at(-1)).toMatchObject({ name: 'call_status completed', status: 204 });
  }, 20_000);

  test('the CLI as a child process prints the timeline, writes --out and exits 0', async () => {
    const out = path.join(TMP, 'reply.wav');
    const { code, stdout, stderr } = await runCli([
      '--base',
      h.httpBase,
      '--audio',
      path.join(TMP, 'caller.wav'),
      '--out',
      out,
      '--quiet-ms',
      '500',
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    for (const line of [
      'connected; start sent',
      'greeting starts playing',
      'caller turn 1 starts speaking',
      'reply 1: first audio received',
      'reply 1 starts playing',
      'result: OK',
    ]) {
      expect(stdout).toContain(line);
    }
    expect(stdout).toMatch(/turn 1: spoke \d+–\d+ +received \+\d+ ms +played \+\d+ ms/);
    const heardBytes = Number(/heard: [\d.]+ s \((\d+) bytes/.exec(stdout)?.[1]);
    const wav = parseWav(readFileSync(out));
    expect(wav).toMatchObject({ formatTag: WAV_FORMAT.MULAW, channels: 1, sampleRate: 8000, bitsPerSample: 8 });
    expect(wav.data.length).toBe(heardBytes);
    expect(heardBytes).toBeGreaterThan(8000); // greeting and reply (1 s each here at least)
  }, 20_000);

  test('the CLI exits 2 on bad usage or an unusable audio file', async () => {
    writeFileSync(path.join(TMP, 'broken.wav'), Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ', 'latin1'));
    const cases: Array<[string[], RegExp]> = [
      [[], /--base is required/],
      [['--base', h.httpBase, '--audio', path.join(TMP, 'broken.wav')], /broken\.wav: not a usable WAV file/],
      [
        ['--base', h.httpBase, '--audio', path.join(TMP, 'caller.wav'), '--turns', 'two'],
        /--turns must be a whole number/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(args);
      expect({ code, stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    }
  }, 20_000);
});

describe('signatures', () => {
  const PUBLIC = 'https://gw.example.test';
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway(
      { TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: PUBLIC },
      { callFactory: scriptedAgent({ greetingMs: 400, replyMs: 400 }) },
    );
  });
  afterAll(() => h.stop());

  test('a signed call through the public URL is accepted at every step', async () => {
    const r = await runCall({ base: h.httpBase, publicBase: PUBLIC, authToken: TOKEN, audio: SHORT, quietMs: 400 });
    expect(r.problems).toEqual([]);
    expect(r.streamUrl).toBe('wss://gw.example.test/ws/twilio-media');
    expect(r.dialledUrl).toBe(`${h.wsUrl}`);
    expect(r.webhooks.every((w) => w.status === w.expected)).toBe(true);
    const refusals = h.logs.records.filter((l) =>
      /SIGNATURE_INVALID|UPGRADE_REJECTED|TOKEN_REJECTED/.test(String(l.message)),
    );
    expect(refusals).toEqual([]);
  }, 20_000);

  test('a wrong or missing token fails clearly: exit code 1', async () => {
    const wrong = await runCall({ base: h.httpBase, publicBase: PUBLIC, authToken: 'wrong', audio: SHORT });
    expect(wrong.ok).toBe(false);
    expect(wrong.problems).toEqual([
      expect.stringMatching(/incoming_call answered 403, expected 200 \(signature refused/),
    ]);
    expect(wrong.streamSid).toBeUndefined();
    const cli = await runCli([
      '--base',
      h.httpBase,
      '--public-base',
      PUBLIC,
      '--audio',
      path.join(TMP, 'caller.wav'),
      '--auth-token',
      'wrong',
    ]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/result: FAILED\n {2}- incoming_call answered 403/);
    const unsigned = await runCall({ base: h.httpBase, publicBase: PUBLIC, audio: SHORT });
    expect(unsigned.problems[0]).toMatch(/403.*pass --auth-token/);
  }, 20_000);
});

describe('a gateway that breaks the protocol', () => {
  let h: Harness;
  beforeAll(async () => {
    const violating: CallFactory = (ctx) => {
      ctx.send(formatMedia(ctx.streamSid, tone(400)));
      ctx.send(
        JSON.stringify({
          event: 'media',
          streamSid: ctx.streamSid,
          media: { track: 'outbound', payload: tone(20).toString('base64') },
        }),
      );
      ctx.send('hello');
      ctx.send(JSON.stringify({ event: 'clear', streamSid: 'MZ-someone-else' }));
      return { onAudio() {}, onMark() {}, onDtmf() {}, onStop() {}, close() {} };
    };
    h = await startGateway({}, { callFactory: violating });
  });
  afterAll(() => h.stop());

  test('every violation is reported and the call fails', async () => {
    const r = await runCall({ base: h.httpBase, audio: SHORT, quietMs: 300, replyMaxWaitMs: 800 });
    expect(r.ok).toBe(false);
    expect(r.violations.map((v) => [v.code, v.dropped])).toEqual([
      ['31951', true],
      ['31951', true],
      ['31951', true],
    ]);
    expect(r.violations.map((v) => v.reason)).toEqual([
      expect.stringMatching(/unexpected field\(s\) media\.track/),
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/streamSid MZ-someone-else is not the active stream/),
    ]);
    expect(r.problems).toEqual(['3 protocol violation(s) in what the gateway sent']);
    expect(r.timeline.filter((e) => e.kind === 'violation')).toHaveLength(3);
    expect(r.heard.length).toBe(3200); // the valid greeting still played
    expect(r.notes).toContain('turn 1: no reply after 800 ms');
  }, 20_000);
});
