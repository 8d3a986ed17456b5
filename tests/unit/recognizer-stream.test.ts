/**
 * RecognizerStream with an in-memory dialect: a Duplex stands in for the gRPC stream, so
 * backpressure and failures of the SDK can be produced exactly when a test wants them. What the
 * base does with real Google streams is in the contract suite and providers-stt*.test.ts.
 */
import { Duplex } from 'node:stream';
import { providerError } from '../../media/providers/errors.ts';
import { RecognizerStream } from '../../media/providers/recognizer-stream.ts';
import type { RecognizerCall, RecognizerDialect, TranscriptEvent } from '../../media/providers/recognizer-stream.ts';
import type { RecognizerEvent } from '../../media/providers/types.ts';

/** Records what is written; while `hold` is set, writes are not completed, so the stream pushes back. */
class FakeCall extends Duplex {
  readonly written: unknown[] = [];
  hold = false;
  private held: Array<() => void> = [];
  constructor(highWaterMark: number) {
    super({ objectMode: true, writableHighWaterMark: highWaterMark });
  }
  override _write(msg: unknown, _encoding: string, done: () => void): void {
    this.written.push(msg);
    if (this.hold) this.held.push(done);
    else done();
  }
  override _read(): void {}
  /** Completes the writes held so far (later ones are held again while `hold` is set). */
  complete(): number {
    const held = this.held.splice(0);
    for (const done of held) done();
    return held.length;
  }
}

const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close(); // clears the stream-limit timers
});

interface Harness {
  streams: FakeCall[];
  writes: boolean[];
  events: RecognizerEvent[];
  session: RecognizerStream<object, TranscriptEvent[]>;
}

/** A session whose streams are PassThroughs that hold `highWaterMark` messages before pushing back. */
async function start(opts: { highWaterMark?: number; openFails?: (index: number) => boolean } = {}): Promise<Harness> {
  const streams: FakeCall[] = [];
  const writes: boolean[] = [];
  const dialect: RecognizerDialect<object, TranscriptEvent[]> = {
    client: () => Promise.resolve({}),
    open(_client, hints) {
      if (opts.openFails?.(streams.length)) throw new Error('14 UNAVAILABLE: channel closed');
      const stream = new FakeCall(opts.highWaterMark ?? 16);
      const write = stream.write.bind(stream);
      stream.write = ((msg: unknown) => {
        const ok = write(msg);
        if (Buffer.isBuffer(msg)) writes.push(ok);
        return ok;
      }) as typeof stream.write;
      streams.push(stream);
      stream.write({ config: true, hints });
      return stream as RecognizerCall;
    },
    audio: (chunk) => chunk,
    maxAudioBytes: 100,
    translate: (events) => events,
    classify: (err) => providerError('stt', 'UNAVAILABLE', String(err), { cause: err }),
  };
  const events: RecognizerEvent[] = [];
  const session = new RecognizerStream(dialect, 60_000, {}, (e) => events.push(e), new AbortController().signal);
  opened.push(session);
  await new Promise((r) => setImmediate(r)); // the client resolves and the first stream opens
  return { streams, writes, events, session };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const bytes = (n: number, from: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) % 256));

describe('RecognizerStream', () => {
  test('splits writes to the message limit and, under backpressure, loses and reorders nothing', async () => {
    const h = await start({ highWaterMark: 2 });
    const first = bytes(100, 0);
    const second = bytes(100, 100);
    const long = bytes(450, 200); // 5 messages
    const last = bytes(50, 650);
    const call = h.streams[0]!;
    call.hold = true; // every write stays in flight until complete(): the stream pushes back at 2
    h.session.write(first);
    h.session.write(second); // the stream pushes back from here on
    h.session.write(long); // waits in the buffer…
    h.session.write(last); // …and this after it
    expect(h.session.stats().queuedBytes).toBe(500);
    // Let the stream make progress one write at a time: the flush of `long` meets backpressure half-way.
    for (let round = 0; round < 50 && (call.complete() > 0 || h.session.stats().queuedBytes > 0); round++)
      await settle();

    const messages = h.streams[0]!.written;
    expect(messages[0]).toEqual({ config: true, hints: [] });
    const audio = messages.slice(1) as Buffer[];
    expect(audio.every((m) => Buffer.isBuffer(m) && m.length <= 100)).toBe(true);
    expect(Buffer.concat(audio).equals(Buffer.concat([first, second, long, last]))).toBe(true);
    expect(h.writes).toContain(false); // backpressure did happen, also inside the long write
    expect(h.session.stats()).toMatchObject({ queuedBytes: 0, droppedBytes: 0 });
  });

  test('a stream the SDK refuses to open fails the session once; the caller never sees a throw', async () => {
    const h = await start({ openFails: (index) => index === 1 });
    expect(() => h.session.setHints(['דנה'], true)).not.toThrow();
    expect(() => h.session.write(bytes(100, 0))).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(h.events).toEqual([{ type: 'failed', error: expect.objectContaining({ code: 'UNAVAILABLE' }) }]);
    expect(h.streams).toHaveLength(1);
    expect(h.streams[0]!.writableEnded).toBe(true); // the old stream was half-closed with everything else
  });

  test('translated responses become events, in order, after the call that caused them returns', async () => {
    const h = await start();
    h.streams[0]!.emit('data', [
      { type: 'final', text: 'כן', confidence: 0.5 },
      { type: 'interim', text: 'אני', stability: 0.2 },
    ]);
    expect(h.events).toEqual([]);
    await Promise.resolve();
    expect(h.events).toEqual([
      { type: 'final', text: 'כן', confidence: 0.5 },
      { type: 'interim', text: 'אני', stability: 0.2 },
    ]);
  });
});
