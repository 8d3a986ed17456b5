/**
 * The Twilio-side media client against a tiny gateway played by a `ws` server on port 0, plus the pure
 * pieces it is built from (outbound validator, playout model, caller frames) driven with plain numbers.
 * Timing assertions use wide bounds: they check behaviour (ordering, "not before the audio played"),
 * not timer precision.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ServerOptions, WebSocket } from 'ws';
import { CallerAudioQueue } from '../../tools/twilio/caller-audio.ts';
import { TwilioHandshakeError, TwilioMediaClient } from '../../tools/twilio/media-client.ts';
import { validateOutbound } from '../../tools/twilio/outbound-validator.ts';
import type { ValidationContext } from '../../tools/twilio/outbound-validator.ts';
import { PlayoutBuffer } from '../../tools/twilio/playout-buffer.ts';
import type { PlayoutListener } from '../../tools/twilio/playout-buffer.ts';

/** What the fake gateway saw, in the loose shape Twilio's inbound messages have. */
interface Seen {
  atMs: number;
  binary: boolean;
  msg: {
    event?: string;
    sequenceNumber?: string;
    streamSid?: string;
    protocol?: string;
    version?: string;
    start?: {
      streamSid: string;
      accountSid: string;
      callSid: string;
      tracks: string[];
      customParameters: Record<string, string>;
      mediaFormat: { encoding: string; sampleRate: number; channels: number };
    };
    media?: { track: string; chunk: string; timestamp: string; payload: string };
    mark?: { name: string };
    dtmf?: { track: string; digit: string };
    stop?: { accountSid: string; callSid: string };
  };
}

/** The gateway's role: one connection, records everything, sends what the test says. */
class FakeGateway {
  readonly server: WebSocketServer;
  readonly seen: Seen[] = [];
  socket: WebSocket | undefined;
  request: IncomingMessage | undefined;
  readonly connected: Promise<WebSocket>;

  static async start(options: ServerOptions = {}): Promise<FakeGateway> {
    const gateway = new FakeGateway(options);
    await new Promise((resolve) => gateway.server.once('listening', resolve));
    return gateway;
  }

  private constructor(options: ServerOptions) {
    this.server = new WebSocketServer({ port: 0, ...options });
    this.connected = new Promise((resolve) => {
      this.server.on('connection', (ws, req) => {
        this.socket = ws;
        this.request = req;
        ws.on('message', (data, binary) => {
          const text = binary ? '{}' : String(data);
          this.seen.push({ atMs: performance.now(), binary, msg: JSON.parse(text) as Seen['msg'] });
        });
        resolve(ws);
      });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws/twilio-media`;
  }

  send(message: object): number {
    this.socket?.send(JSON.stringify(message));
    return performance.now();
  }

  audio(streamSid: string, bytes: Buffer): number {
    return this.send({ event: 'media', streamSid, media: { payload: bytes.toString('base64') } });
  }

  mark(streamSid: string, name: string): number {
    return this.send({ event: 'mark', streamSid, mark: { name } });
  }

  of(event: string): Seen[] {
    return this.seen.filter((s) => s.msg.event === event);
  }

  async next(test: (s: Seen) => boolean, timeoutMs = 3000): Promise<Seen> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.seen.find(test);
      if (hit !== undefined) return hit;
      if (performance.now() > deadline) throw new Error('fake gateway: timed out waiting for a message');
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    for (const ws of this.server.clients) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const echoOf = (name: string) => (s: Seen) => s.msg.event === 'mark' && s.msg.mark?.name === name;

let gateway: FakeGateway;
let client: TwilioMediaClient | undefined;

beforeEach(async () => {
  gateway = await FakeGateway.start();
  client = undefined;
});

afterEach(async () => {
  await client?.close();
  await gateway.close();
});

async function connect(options: Parameters<typeof TwilioMediaClient.connect>[1] = {}): Promise<TwilioMediaClient> {
  client = await TwilioMediaClient.connect(gateway.url, options);
  await gateway.connected;
  return client;
}

describe('validateOutbound', () => {
  const ctx: ValidationContext = { streamSid: 'MZ1', seenMarks: new Set(['used']) };
  const check = (msg: unknown, c = ctx) => validateOutbound(JSON.stringify(msg), false, c);
  const codeOf = (msg: unknown, c = ctx) => {
    const r = check(msg, c);
    return r.ok ? 'ok' : r.violation.code;
  };

  test('accepts exactly the three documented messages', () => {
    expect(codeOf({ event: 'media', streamSid: 'MZ1', media: { payload: '/w==' } })).toBe('ok');
    expect(codeOf({ event: 'mark', streamSid: 'MZ1', mark: { name: 'a' } })).toBe('ok');
    expect(codeOf({ event: 'clear', streamSid: 'MZ1' })).toBe('ok');
  });

  test('refuses binary frames with 31950 and malformed messages with 31951', () => {
    expect(validateOutbound(Buffer.from([0xff]), true, ctx)).toMatchObject({ ok: false, violation: { code: '31950' } });
    expect(validateOutbound('{"event":', false, ctx)).toMatchObject({ ok: false, violation: { code: '31951' } });
    const bad: unknown[] = [
      [],
      { event: 'stop', streamSid: 'MZ1' },
      { event: 'media', streamSid: 'MZ1', media: { payload: '/w==', track: 'outbound' } },
      { event: 'media', streamSid: 'MZ1', media: { payload: '/w==' }, sequenceNumber: '1' },
      { event: 'media', streamSid: 'MZ2', media: { payload: '/w==' } },
      { event: 'media', streamSid: 'MZ1', media: { payload: '' } },
      { event: 'media', streamSid: 'MZ1', media: { payload: '/w=' } },
      { event: 'media', streamSid: 'MZ1', media: { payload: '/x==' } },
      { event: 'media', streamSid: 'MZ1', media: { payload: '//8 /w==' } },
      { event: 'mark', streamSid: 'MZ1', mark: {} },
      { event: 'mark', streamSid: 'MZ1', mark: { name: '' } },
      { event: 'mark', streamSid: 'MZ1' },
      { event: 'clear' },
    ];
    for (const msg of bad) expect([msg, codeOf(msg)]).toEqual([msg, '31951']);
  });

  test('refuses anything before start, when no stream exists', () => {
    expect(codeOf({ event: 'clear', streamSid: 'MZ1' }, { streamSid: undefined, seenMarks: new Set() })).toBe('31951');
  });

  test('flags reused mark names and container headers without refusing them', () => {
    const dup = check({ event: 'mark', streamSid: 'MZ1', mark: { name: 'used' } });
    expect(dup).toMatchObject({ ok: true, warnings: [{ code: 'duplicate-mark' }] });
    const wav = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVEfmt '), Buffer.alloc(32, 0xff)]);
    const media = check({ event: 'media', streamSid: 'MZ1', media: { payload: wav.toString('base64') } });
    expect(media).toMatchObject({ ok: true, warnings: [{ code: 'container-header' }] });
  });
});

describe('PlayoutBuffer (model, fake time)', () => {
  function model() {
    const log: string[] = [];
    const heard: Buffer[] = [];
    const listener: PlayoutListener = {
      playbackStarted: (at) => log.push(`start@${at}`),
      chunkStarted: (id, at) => log.push(`chunk${id}@${at}`),
      played: (b) => heard.push(b),
      markReached: (name, at, cleared) => log.push(`${name}${cleared ? '(cleared)' : ''}@${at}`),
      playbackEnded: (at, why) => log.push(`end-${why}@${at}`),
    };
    return { buffer: new PlayoutBuffer(listener), log, heard: () => Buffer.concat(heard).length };
  }

  test('plays 8 bytes per ms and echoes a mark only when the audio before it has played', () => {
    const { buffer, log, heard } = model();
    buffer.enqueueMark('idle', 0);
    buffer.enqueueAudio(Buffer.alloc(8000), 1, 0);
    buffer.enqueueMark('a', 0);
    buffer.enqueueAudio(Buffer.alloc(800), 2, 10);
    buffer.enqueueMark('b', 10);
    buffer.advance(500);
    expect(heard()).toBe(4000);
    expect(buffer.bufferedMs(999)).toBe(101);
    expect(log).toEqual(['idle@0', 'start@0', 'chunk1@0']);
    buffer.advance(1200);
    expect(log).toEqual(['idle@0', 'start@0', 'chunk1@0', 'a@1000', 'chunk2@1000', 'b@1100', 'end-drained@1100']);
    expect(heard()).toBe(8800);
  });

  test('clear drops queued audio and echoes every pending mark at once', () => {
    const { buffer, log, heard } = model();
    buffer.enqueueAudio(Buffer.alloc(8000), 1, 0);
    buffer.enqueueMark('m1', 0);
    buffer.enqueueAudio(Buffer.alloc(8000), 2, 0);
    buffer.enqueueMark('m2', 0);
    expect(buffer.clear(250)).toEqual({ discardedBytes: 14000, marks: ['m1', 'm2'] });
    expect(log.slice(-3)).toEqual(['end-cleared@250', 'm1(cleared)@250', 'm2(cleared)@250']);
    buffer.advance(5000);
    expect(heard()).toBe(2000);
    expect(buffer.isPlaying(5000)).toBe(false);
  });

  test('a gap between chunks restarts playback at the arrival time', () => {
    const { buffer, log } = model();
    buffer.enqueueAudio(Buffer.alloc(80), 1, 0);
    buffer.enqueueAudio(Buffer.alloc(80), 2, 50);
    expect(log).toEqual(['start@0', 'chunk1@0', 'end-drained@10', 'start@50']);
  });
});

describe('CallerAudioQueue', () => {
  test('cuts speech into full frames padded with silence and reports when it was on the line', async () => {
    const queue = new CallerAudioQueue();
    const first = queue.push(Buffer.alloc(200, 1));
    const second = queue.push(Buffer.alloc(100, 2));
    const f0 = queue.nextFrame(160, 0, 8);
    const f1 = queue.nextFrame(160, 20, 8);
    const f2 = queue.nextFrame(160, 40, 8);
    expect([f0.payload.length, f1.payload.length, f2.payload.length]).toEqual([160, 160, 160]);
    expect([...f1.payload.subarray(0, 40)].every((b) => b === 1)).toBe(true);
    expect([...f1.payload.subarray(40, 140)].every((b) => b === 2)).toBe(true);
    expect([...f1.payload.subarray(140)].every((b) => b === 0xff)).toBe(true);
    expect(f2).toEqual({ payload: Buffer.alloc(160, 0xff), speech: false });
    await expect(first).resolves.toEqual({ startedAtMs: 0, endedAtMs: 25 });
    await expect(second).resolves.toEqual({ startedAtMs: 25, endedAtMs: 37.5 });
  });
});

describe('TwilioMediaClient', () => {
  test('opens with connected and start as Twilio sends them, offering the given protocols and headers', async () => {
    const c = await connect({
      protocols: ['audio.twilio.com'],
      headers: { 'x-twilio-signature': 'sig' },
      customParameters: { token: 't1' },
    });
    const [connected, start] = await Promise.all([
      gateway.next((s) => s.msg.event === 'connected'),
      gateway.next((s) => s.msg.event === 'start'),
    ]);
    expect(gateway.seen.indexOf(connected)).toBe(0);
    expect(connected.msg).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(start.msg).toEqual({
      event: 'start',
      sequenceNumber: '1',
      streamSid: c.streamSid,
      start: {
        streamSid: c.streamSid,
        accountSid: c.accountSid,
        callSid: c.callSid,
        tracks: ['inbound'],
        customParameters: { token: 't1' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    expect([c.streamSid, c.callSid, c.accountSid]).toEqual([
      expect.stringMatching(/^MZ[0-9a-f]{32}$/),
      expect.stringMatching(/^CA[0-9a-f]{32}$/),
      expect.stringMatching(/^AC[0-9a-f]{32}$/),
    ]);
    expect(gateway.request?.headers['x-twilio-signature']).toBe('sig');
    expect(c.protocol).toBe('audio.twilio.com');
  });

  test('sends a silent 160-byte frame about every 20 ms with string counters that only go up', async () => {
    const c = await connect();
    await sleep(500);
    const frames = gateway.of('media');
    expect(frames.length).toBeGreaterThanOrEqual(15);
    expect(frames.length).toBeLessThanOrEqual(30);
    const stalled = c.events.some((e) => e.kind === 'frames-skipped'); // a stalled event loop skips frames
    let previous = -20;
    frames.forEach((f, i) => {
      expect(f.msg).toMatchObject({
        sequenceNumber: String(i + 2),
        streamSid: c.streamSid,
        media: { track: 'inbound', chunk: String(i + 1) },
      });
      const timestamp = Number(f.msg.media?.timestamp);
      expect([timestamp % 20, f.msg.media?.timestamp]).toEqual([0, String(stalled ? timestamp : previous + 20)]);
      expect(timestamp).toBeGreaterThan(previous);
      previous = timestamp;
      expect(Buffer.from(f.msg.media?.payload ?? '', 'base64')).toEqual(Buffer.alloc(160, 0xff));
    });
  });

  test('puts said audio on the line in order and resolves each utterance once it was sent', async () => {
    const c = await connect();
    const a = Buffer.alloc(400, 0x11);
    const b = Buffer.alloc(240, 0x22);
    const [ta, tb] = await Promise.all([c.say(a), c.say(b)]);
    expect(ta.endedAtMs - ta.startedAtMs).toBe(50);
    expect(tb.startedAtMs).toBeGreaterThanOrEqual(ta.endedAtMs);
    expect(tb.endedAtMs).toBeLessThanOrEqual(c.now() + 1);
    await sleep(30);
    const line = Buffer.concat(gateway.of('media').map((f) => Buffer.from(f.msg.media?.payload ?? '', 'base64')));
    const speech = Buffer.from([...line].filter((x) => x !== 0xff));
    expect(speech).toEqual(Buffer.concat([a, b]));
  });

  test('plays gateway audio in real time: a mark after 1 s of audio is echoed no sooner than ~1 s later', async () => {
    const c = await connect();
    const sid = c.streamSid;
    const idleSentAt = gateway.mark(sid, 'idle');
    const idleEcho = await gateway.next(echoOf('idle'));
    expect(idleEcho.atMs - idleSentAt).toBeLessThan(300);
    for (let i = 0; i < 5; i++) gateway.audio(sid, Buffer.alloc(1600, 0x10 + i));
    const aSentAt = gateway.mark(sid, 'a');
    gateway.audio(sid, Buffer.alloc(800, 0x20));
    gateway.mark(sid, 'b');
    await sleep(400);
    expect(c.isPlaying()).toBe(true);
    expect(c.bufferedMs()).toBeGreaterThan(100);
    expect(gateway.seen.some(echoOf('a'))).toBe(false);
    const [aEcho, bEcho] = await Promise.all([gateway.next(echoOf('a')), gateway.next(echoOf('b'))]);
    expect(aEcho.atMs - aSentAt).toBeGreaterThanOrEqual(900);
    expect(Number(bEcho.msg.sequenceNumber)).toBeGreaterThan(Number(aEcho.msg.sequenceNumber));
    expect(bEcho.atMs - aEcho.atMs).toBeGreaterThanOrEqual(50);
    await c.waitFor((e) => e.kind === 'playback-end' && e.detail.reason === 'drained');
    expect(c.heard().length).toBe(8800);
    const seqs = gateway.seen
      .filter((s) => s.msg.sequenceNumber !== undefined)
      .map((s) => Number(s.msg.sequenceNumber));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const first = c.firstAudioAfter(0);
    expect(first?.playStartedAtMs).toBeGreaterThanOrEqual(first?.receivedAtMs ?? Infinity);
  });

  test('clear stops playback, echoes all pending marks at once and the heard audio stops growing', async () => {
    const c = await connect();
    const sid = c.streamSid;
    gateway.audio(sid, Buffer.alloc(8000, 0x30));
    gateway.mark(sid, 'm1');
    gateway.audio(sid, Buffer.alloc(8000, 0x31));
    gateway.mark(sid, 'm2');
    await sleep(300);
    expect(gateway.seen.some(echoOf('m1'))).toBe(false);
    const clearedAt = gateway.send({ event: 'clear', streamSid: sid });
    const [m1, m2] = await Promise.all([gateway.next(echoOf('m1')), gateway.next(echoOf('m2'))]);
    expect(m1.atMs - clearedAt).toBeLessThan(300);
    expect(Math.abs(m2.atMs - m1.atMs)).toBeLessThan(50);
    const cleared = await c.waitFor('cleared');
    expect(cleared.detail.marks).toEqual(['m1', 'm2']);
    const heardAfterClear = c.heard().length;
    expect(heardAfterClear).toBeGreaterThan(1000);
    expect(heardAfterClear).toBeLessThan(8000);
    expect(c.isPlaying()).toBe(false);
    await sleep(150);
    expect(c.heard().length).toBe(heardAfterClear);
    expect(c.events.filter((e) => e.kind === 'mark-echoed').map((e) => e.detail)).toEqual([
      { name: 'm1', sequenceNumber: Number(m1.msg.sequenceNumber), cleared: true },
      { name: 'm2', sequenceNumber: Number(m2.msg.sequenceNumber), cleared: true },
    ]);
  });

  test('records every message Twilio would refuse and plays none of them', async () => {
    const c = await connect();
    const sid = c.streamSid;
    const payload = Buffer.alloc(160, 0x40).toString('base64');
    gateway.socket?.send(Buffer.alloc(160, 0x40));
    gateway.send({ event: 'media', streamSid: sid, media: { payload, track: 'outbound' } });
    gateway.send({ event: 'media', streamSid: 'MZ00000000000000000000000000000000', media: { payload } });
    gateway.send({ event: 'media', streamSid: sid, media: { payload: 'not base64!' } });
    gateway.send({ event: 'stop', streamSid: sid });
    gateway.mark(sid, 'last');
    await c.waitFor('mark-echoed');
    expect(c.violations.map((v) => [v.code, v.dropped])).toEqual([
      ['31950', true],
      ['31951', true],
      ['31951', true],
      ['31951', true],
      ['31951', true],
    ]);
    expect(c.heard().length).toBe(0);
    expect(c.events.some((e) => e.kind === 'recv-media')).toBe(false);
  });

  test('stop sends stop with the call identity, then closes with 1000 and no more frames', async () => {
    const c = await connect();
    await sleep(60);
    c.sendDtmf('#');
    const info = await c.stop();
    expect(info).toEqual({ code: 1000, reason: '', initiatedBy: 'client' });
    const stop = await gateway.next((s) => s.msg.event === 'stop');
    expect(stop.msg).toEqual({
      event: 'stop',
      sequenceNumber: String(gateway.of('media').length + 3),
      streamSid: c.streamSid,
      stop: { accountSid: c.accountSid, callSid: c.callSid },
    });
    expect(gateway.of('dtmf')[0]?.msg).toMatchObject({
      streamSid: c.streamSid,
      dtmf: { track: 'inbound_track', digit: '#' },
    });
    const sent = gateway.seen.length;
    await sleep(60);
    expect(gateway.seen.length).toBe(sent);
    expect(gateway.seen.at(-1)).toBe(stop);
  });

  test('reports the close code the gateway used and fails what can no longer happen', async () => {
    const c = await connect();
    const waiting = c.waitFor('mark-echoed', 2000);
    gateway.socket?.close(1011, 'pipeline failed');
    await expect(c.closed).resolves.toEqual({ code: 1011, reason: 'pipeline failed', initiatedBy: 'gateway' });
    await expect(waiting).rejects.toThrow('stream closed before mark-echoed');
    await expect(c.say(Buffer.alloc(160, 1))).rejects.toThrow('stream closed');
  });

  test('sendRaw sends a Buffer as a binary frame', async () => {
    await connect();
    client?.sendRaw(Buffer.from([1, 2, 3]));
    expect((await gateway.next((s) => s.binary)).binary).toBe(true);
  });

  test('fails to connect with the HTTP status when the gateway refuses the upgrade', async () => {
    await gateway.close();
    gateway = await FakeGateway.start({ verifyClient: (_info, done) => done(false, 403) });
    await expect(TwilioMediaClient.connect(gateway.url)).rejects.toEqual(
      expect.objectContaining({ name: 'TwilioHandshakeError', statusCode: 403 }),
    );
    await expect(TwilioMediaClient.connect(gateway.url)).rejects.toBeInstanceOf(TwilioHandshakeError);
  });
});

describe('timeline subscription', () => {
  it('replays past events, then feeds new ones, until unsubscribed; a throwing listener is dropped', async () => {
    const { Timeline } = await import('../../tools/twilio/timeline.ts');
    const t = new Timeline();
    t.record('recv-clear', {}, 1);
    const seen: number[] = [];
    const stop = t.subscribe((e) => seen.push(e.atMs));
    t.subscribe(() => {
      throw new Error('bad observer');
    });
    t.record('recv-clear', {}, 2);
    stop();
    t.record('recv-clear', {}, 3);
    expect(seen).toEqual([1, 2]);
    expect(t.events.map((e) => e.atMs)).toEqual([1, 2, 3]);
  });
});
