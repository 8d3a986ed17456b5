/**
 * The call recording's timeline on a hand-driven clock: caller frames every 20 ms, the agent audio
 * the Player sends (directly through the tap, or a real Player wired to it), and a memory sink, so
 * the finished WAV can be read back sample by sample.
 */
import { CallRecording, recordingName } from '../../media/voice/call-recording.ts';
import { ManualClock } from '../../media/voice/clock.ts';
import { Player } from '../../media/voice/playout.ts';
import { mulawDecodeSample } from '../../media/audio/mulaw.ts';
import { MemorySink, settle, stereoChannels } from '../helpers/wav-sink.ts';

/** μ-law codes that decode to distinct, non-zero levels, so every stretch is recognisable. */
const CALLER = 0x20;
const AGENT_A = 0x30;
const AGENT_B = 0x40;
const level = (code: number) => mulawDecodeSample(code);

type Log = { level: string; message: string; fields: Record<string, unknown> };

function setup(opts: { maxQueueBytes?: number; maxAheadMs?: number; sink?: MemorySink } = {}) {
  const clock = new ManualClock(1000);
  const sink = opts.sink ?? new MemorySink();
  const logs: Log[] = [];
  const log = Object.fromEntries(
    ['info', 'warn', 'error'].map((l) => [
      l,
      (message: string, fields: Record<string, unknown>) => logs.push({ level: l, message, fields }),
    ]),
  ) as unknown as ConstructorParameters<typeof CallRecording>[0]['log'];
  const rec = new CallRecording({
    dir: '/recordings',
    callSid: 'CA0123',
    streamSid: 'MZ0456',
    clock,
    log,
    open: async () => sink,
    date: new Date('2025-03-04T23:59:00Z'),
    ...(opts.maxQueueBytes ? { maxQueueBytes: opts.maxQueueBytes } : {}),
    ...(opts.maxAheadMs ? { maxAheadMs: opts.maxAheadMs } : {}),
  });
  let ts = 0;
  /** `n` caller frames of 20 ms, 20 ms apart on the clock (each arrives as its 20 ms end). */
  const frames = (n: number, code = CALLER, each?: () => void) => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      each?.();
      rec.caller(Buffer.alloc(160, code), ts);
      ts += 20;
    }
  };
  const skip = (ms: number) => (ts += ms);
  const read = async () => {
    const file = await rec.finish();
    return { file, ...stereoChannels(sink.bytes) };
  };
  return { clock, sink, logs, rec, frames, skip, read };
}

/** The runs of equal samples in a channel: [value, from, to) in samples. */
function runs(ch: Int16Array): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < ch.length; i++) {
    const last = out.at(-1);
    if (last && last[0] === ch[i]) last[2] = i + 1;
    else out.push([ch[i]!, i, i + 1]);
  }
  return out;
}

afterEach(() => jest.useRealTimers());

describe('the call recording', () => {
  it('is a stereo 8 kHz file named by date, call and stream, with the caller on the left', async () => {
    const { frames, read, logs, sink } = setup();
    frames(10);
    const { file, channels, rate, left, right } = await read();
    expect(file).toBe('2025-03-04/CA0123_MZ0456.wav');
    expect(sink.bytes.readUInt32LE(40)).toBe(1600 * 4); // finished: the data size is declared
    expect(channels).toBe(2);
    expect(rate).toBe(8000);
    expect(runs(left)).toEqual([[level(CALLER), 0, 1600]]);
    expect(runs(right)).toEqual([[0, 0, 1600]]);
    expect(logs.map((l) => l.message)).toEqual(['RECORDING_STARTED', 'RECORDING_DONE']);
    expect(logs[1]!.fields).toMatchObject({ ms: 200, complete: true, droppedMs: 0 });
  });

  it('plays agent audio sent ahead at the caller time it was sent, one piece after another', async () => {
    const { rec, frames, clock, read } = setup();
    frames(10); // 200 ms of caller audio
    clock.advance(5); // 5 ms after the last frame
    rec.tap.sent(Buffer.alloc(800, AGENT_A)); // the Player sends a second ahead at once
    rec.tap.sent(Buffer.alloc(800, AGENT_B));
    frames(30);
    const { right } = await read();
    expect(runs(right)).toEqual([
      [0, 0, 1640],
      [level(AGENT_A), 1640, 2440],
      [level(AGENT_B), 2440, 3240],
      [0, 3240, right.length],
    ]);
  });

  it('starts audio sent after a silence at that moment, not where the last audio ended', async () => {
    const { rec, frames, read } = setup();
    rec.tap.sent(Buffer.alloc(400, AGENT_A)); // plays 0–50 ms
    frames(10);
    rec.tap.sent(Buffer.alloc(400, AGENT_B)); // the buffer ran dry at 50 ms: this starts at 200 ms
    frames(10);
    const { right } = await read();
    expect(runs(right)).toEqual([
      [level(AGENT_A), 0, 400],
      [0, 400, 1600],
      [level(AGENT_B), 1600, 2000],
      [0, 2000, 3200],
    ]);
  });

  it('places audio sent while frames are late at the time it was sent, not at the last frame', async () => {
    const { rec, frames, clock, read } = setup();
    frames(5);
    clock.advance(100); // no frame for 100 ms: they are late, not lost (no jump in timestamps)
    rec.tap.sent(Buffer.alloc(400, AGENT_A));
    frames(15);
    const { right } = await read();
    expect(runs(right)).toEqual([
      [0, 0, 1600],
      [level(AGENT_A), 1600, 2000],
      [0, 2000, 3200],
    ]);
  });

  it("starts the file at the stream start when Twilio's first frame comes later", async () => {
    const { frames, skip, read } = setup();
    skip(60);
    frames(2);
    const { left } = await read();
    expect(runs(left)).toEqual([
      [0, 0, 480],
      [level(CALLER), 480, 800],
    ]);
  });

  it('cuts the agent where a clear was sent and starts the next audio there', async () => {
    const { rec, frames, read } = setup();
    rec.tap.sent(Buffer.alloc(8000, AGENT_A)); // a second of agent audio
    frames(15); // 300 ms heard
    rec.tap.cleared();
    rec.tap.sent(Buffer.alloc(800, AGENT_B));
    frames(25);
    const { right, left } = await read();
    expect(runs(right)).toEqual([
      [level(AGENT_A), 0, 2400],
      [level(AGENT_B), 2400, 3200],
      [0, 3200, 6400],
    ]);
    expect(runs(left)).toEqual([[level(CALLER), 0, 6400]]);
  });

  it('fills a jump in Twilio timestamps with silence so later audio keeps its time', async () => {
    const { rec, frames, skip, read } = setup();
    rec.tap.sent(Buffer.alloc(2400, AGENT_A)); // 300 ms of agent audio plays through the gap
    frames(3);
    skip(100); // five frames lost between Twilio and us
    frames(2, 0x50);
    const { left, right } = await read();
    expect(runs(left)).toEqual([
      [level(CALLER), 0, 480],
      [0, 480, 1280],
      [level(0x50), 1280, 1600],
    ]);
    expect(runs(right)).toEqual([
      [level(AGENT_A), 0, 1600], // then finish() writes the rest that could have played by now
    ]);
  });

  it('writes at the end only the agent audio that could have played by then', async () => {
    const { rec, frames, clock, read } = setup();
    frames(5);
    rec.tap.sent(Buffer.alloc(8000, AGENT_A));
    frames(5);
    clock.advance(10); // the call ends 10 ms after the last frame: 800 ms of the agent never played
    const { right, left } = await read();
    expect(right.length).toBe(1600 + 80);
    expect(runs(right)).toEqual([
      [0, 0, 800],
      [level(AGENT_A), 800, 1680],
    ]);
    expect(runs(left)).toEqual([
      [level(CALLER), 0, 1600],
      [0, 1600, 1680],
    ]);
  });

  it('follows a real Player through pause and resume: cut at the pause, the rest after the resume', async () => {
    jest.useFakeTimers();
    const { rec, frames, clock, read } = setup();
    const sent: string[] = [];
    const player = new Player({
      streamSid: 'MZ0456',
      send: (m) => (sent.push(JSON.parse(m).event), true),
      onEvent: () => undefined,
      now: () => clock.now(),
      tap: rec.tap,
    });
    const tick = () => jest.advanceTimersByTime(20);
    const reply = Buffer.concat([Buffer.alloc(8000, AGENT_A), Buffer.alloc(16000, AGENT_B)]); // 3 s
    player.enqueue({ replyId: 1, index: 0, text: 'x' }, reply);
    frames(50, CALLER, tick); // 1 s: the caller hears the first second
    player.pause();
    frames(20, CALLER, tick); // 400 ms of quiet from the agent
    player.resume(0);
    frames(120, CALLER, tick); // the remaining 2 s, and more
    player.close();
    expect(sent).toContain('clear');
    const { right } = await read();
    expect(runs(right)).toEqual([
      [level(AGENT_A), 0, 8000],
      [0, 8000, 11200],
      [level(AGENT_B), 11200, 27200],
      [0, 27200, 30400],
    ]);
  });

  it('follows a real Player through a barge-in: nothing after the interrupt, though a second more was sent', async () => {
    jest.useFakeTimers();
    const { rec, frames, read } = setup();
    let sentBytes = 0;
    const player = new Player({
      streamSid: 'MZ0456',
      send: (m) => {
        const msg = JSON.parse(m);
        if (msg.event === 'media') sentBytes += Buffer.from(msg.media.payload, 'base64').length;
        return true;
      },
      onEvent: () => undefined,
      now: () => Date.now(),
      tap: rec.tap,
    });
    player.enqueue({ replyId: 1, index: 0, text: 'x' }, Buffer.alloc(24000, AGENT_A));
    frames(25, CALLER, () => jest.advanceTimersByTime(20));
    player.interrupt();
    expect(sentBytes).toBeGreaterThan(4000 + 7000); // Twilio had about a second more
    frames(50, CALLER, () => jest.advanceTimersByTime(20));
    const { right } = await read();
    expect(runs(right)).toEqual([
      [level(AGENT_A), 0, 4000],
      [0, 4000, 12000],
    ]);
  });
});

describe('bounded memory', () => {
  it('holds no more agent audio than maxAheadMs when caller frames stop coming', async () => {
    const { rec, frames, read } = setup({ maxAheadMs: 3000 });
    frames(1);
    for (let i = 0; i < 100; i++) rec.tap.sent(Buffer.alloc(800, AGENT_A)); // 10 s, no frames meanwhile
    expect(rec.stats.heldAgentBytes).toBeLessThanOrEqual(3000 * 8);
    expect(rec.stats.agentDroppedBytes).toBe(7000 * 8);
    frames(200); // 4 s of frames: 3 s held audio, then the dropped stretch is silent
    const { right } = await read();
    expect(runs(right)).toEqual([
      [0, 0, 160],
      [level(AGENT_A), 160, 160 + 24000],
      [0, 160 + 24000, 160 + 32000],
    ]);
  });

  it('keeps the writer queue bounded on a slow disk, and the timeline aligned once it catches up', async () => {
    const sink = new MemorySink();
    sink.held = true;
    const { rec, frames, logs, read } = setup({ sink, maxQueueBytes: 32_000 }); // 1 s of stereo PCM16
    let maxQueued = 0;
    frames(500, CALLER, () => (maxQueued = Math.max(maxQueued, rec.stats.queuedBytes))); // 10 s
    expect(maxQueued).toBeLessThanOrEqual(32_000);
    expect(rec.stats.droppedBytes).toBeGreaterThan(0);
    expect(logs.filter((l) => l.message === 'RECORDING_BEHIND')).toHaveLength(1);
    sink.release();
    await settle();
    frames(10, 0x50); // after the disk caught up: exactly at 10.0 s
    const { left } = await read();
    expect(left.length).toBe(510 * 160);
    expect(runs(left).at(-1)).toEqual([level(0x50), 500 * 160, 510 * 160]);
    const done = logs.find((l) => l.message === 'RECORDING_DONE')!;
    expect(done.fields.droppedMs).toBeGreaterThan(0);
  });
});

describe('failures never reach the call', () => {
  it('logs one RECORDING_FAILED when the disk fails, keeps taking frames, and still reports the playable part', async () => {
    const sink = new MemorySink();
    sink.failAt = 3;
    const { rec, frames, logs } = setup({ sink });
    frames(5);
    await settle();
    expect(() => {
      frames(5);
      rec.tap.sent(Buffer.alloc(160, AGENT_A));
      rec.tap.cleared();
    }).not.toThrow();
    const file = await rec.finish();
    expect(logs.filter((l) => l.message === 'RECORDING_FAILED')).toHaveLength(1);
    expect(file).toBe('2025-03-04/CA0123_MZ0456.wav');
    expect(logs.find((l) => l.message === 'RECORDING_DONE')!.fields).toMatchObject({ complete: false });
  });

  it('abandons the recording, never the call, when something inside it throws', async () => {
    const { rec, frames, logs } = setup();
    frames(2);
    expect(() => rec.caller(undefined as unknown as Buffer, 40)).not.toThrow();
    expect(() => frames(2)).not.toThrow();
    expect(logs.filter((l) => l.message === 'RECORDING_FAILED')).toHaveLength(1);
    expect(await rec.finish()).toBe('2025-03-04/CA0123_MZ0456.wav'); // what was written before stays playable
  });

  it('reports no file when it could not be created', async () => {
    const clock = new ManualClock();
    const messages: string[] = [];
    const log = {
      info: (m: string) => messages.push(m),
      warn: (m: string) => messages.push(m),
      error: (m: string) => messages.push(m),
    };
    const rec = new CallRecording({
      dir: '/r',
      callSid: 'CA1',
      streamSid: 'MZ1',
      clock,
      log,
      open: () => Promise.reject(new Error('EACCES: permission denied')),
    });
    rec.caller(Buffer.alloc(160, CALLER), 0);
    expect(await rec.finish()).toBeUndefined();
    expect(messages.filter((m) => m === 'RECORDING_FAILED')).toHaveLength(1);
  });

  it('gives the file up when the disk does not finish it in time', async () => {
    const sink = new MemorySink();
    sink.held = true;
    const { rec, frames, clock, logs } = setup({ sink });
    frames(3);
    const finished = rec.finish();
    await settle();
    clock.advance(5000);
    expect(await finished).toBeUndefined();
    expect(logs.find((l) => l.message === 'RECORDING_FAILED')!.fields.error).toMatch(/not finished within 5000 ms/);
  });

  it('names files safely whatever the ids hold', () => {
    expect(recordingName('../../etc', 'MZ/1', new Date('2025-01-02T03:04:05Z'))).toBe('2025-01-02/______etc_MZ_1.wav');
  });
});
