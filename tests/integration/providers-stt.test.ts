/**
 * GoogleSpeechRecognizer with the real SpeechClient against the wire-level STT fake. The fake
 * counts audio time, so audio is written far faster than real time and results do not depend on
 * the machine's speed. Long stretches are written a second at a time, each once the session's
 * queue is empty, so the recognizer's backpressure cap (which drops audio a real call would never
 * produce this fast) does not kick in, except in the test about that cap.
 *
 * Unhandled rejections: jest-circus listens on the real process and fails the running test on any
 * unhandled rejection; a `process.on` listener inside a jest sandbox never sees them. The real
 * listener check runs in a child process (tests/providers-clients.test.ts).
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../config/config.ts';
import { ProviderClients } from '../../media/providers/clients.ts';
import { GoogleSpeechRecognizer, googleV1Dialect } from '../../media/providers/google-stt.ts';
import type { GoogleRecognizerSession, GoogleSttOptions } from '../../media/providers/google-stt.ts';
import type { RecognizerEvent } from '../../media/providers/types.ts';
import { DEFAULT_STT_TRANSCRIPTS, startFakeStt } from '../../tools/emulators/index.ts';
import type { FakeStt, FakeSttOptions } from '../../tools/emulators/index.ts';

jest.setTimeout(15_000);

/** 2.16 s of real Hebrew speech, 8 kHz μ-law, no trailing silence. */
const SPEECH = readFileSync(new URL('../fixtures/caller-hebrew.ulaw', import.meta.url));
const silence = (ms: number): Buffer => Buffer.alloc(ms * 8, 0xff);
/** Speech followed by enough silence for the fake to end the utterance. */
const UTTERANCE = Buffer.concat([SPEECH, silence(600)]);
const tick = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  // The status of a stream cut by the fake's shutdown arrives a moment later, and the SDK loads
  // files to parse it: let that happen before jest tears the module environment down.
  await new Promise((r) => setTimeout(r, 25));
});

interface Run {
  fake: FakeStt;
  session: GoogleRecognizerSession;
  events: RecognizerEvent[];
  abort: AbortController;
  /** Writes `audio` in 100 ms chunks, synchronously. */
  feed(audio: Buffer): void;
  /** Writes `audio` a second at a time, waiting for the session's queue to empty in between. */
  stream(audio: Buffer): Promise<void>;
  /** Closes the session and resolves when the fake has closed stream `index`. */
  closeAndSettle(index: number): Promise<void>;
  /** Resolves with the first event (from index `from`) matching `pred`. */
  next(pred: (e: RecognizerEvent) => boolean, from?: number, timeoutMs?: number): Promise<RecognizerEvent>;
}

async function run(
  env: Record<string, string> = {},
  fakeOpts: FakeSttOptions = {},
  opts: GoogleSttOptions = {},
  hints?: string[],
): Promise<Run> {
  const fake = await startFakeStt(fakeOpts);
  const config = parseConfig({ GOOGLE_STT_EMULATOR_HOST: fake.address, ...env }).voice;
  const clients = new ProviderClients(config);
  const recognizer = new GoogleSpeechRecognizer(clients, config, opts);
  const events: RecognizerEvent[] = [];
  const listeners = new Set<() => void>();
  const abort = new AbortController();
  const session = recognizer.start(
    (e) => {
      events.push(e);
      for (const l of [...listeners]) l();
    },
    abort.signal,
    hints ? { hints } : {},
  );
  cleanups.push(
    () => fake.close(),
    () => clients.close(),
    () => session.close(),
  );
  const feed = (audio: Buffer): void => {
    for (let i = 0; i < audio.length; i += 800) session.write(audio.subarray(i, i + 800));
  };
  return {
    fake,
    session,
    events,
    abort,
    feed,
    async stream(audio) {
      for (let i = 0; i < audio.length; i += 8000) {
        while (session.stats().queuedBytes > 0) await tick();
        feed(audio.subarray(i, i + 8000));
      }
      while (session.stats().queuedBytes > 0) await tick();
    },
    async closeAndSettle(index) {
      const record = fake.streams[index];
      if (!record || record.state !== 'open') return;
      const closed = fake.waitForEvent('closed', (e) => e.stream === index);
      session.close();
      await closed;
    },
    next(pred, from = 0, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = events.slice(from).find(pred);
          if (!found) return false;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const listener = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
        }, timeoutMs);
        listeners.add(listener);
        check();
      });
    },
  };
}

const isFinal = (e: RecognizerEvent): boolean => e.type === 'final';
const isType =
  (type: RecognizerEvent['type']) =>
  (e: RecognizerEvent): boolean =>
    e.type === type;

describe('GoogleSpeechRecognizer', () => {
  test('turns real Hebrew speech into interims and a final, with the configured recognition config', async () => {
    const r = await run();
    const config = await r.fake.waitForEvent('config');
    await r.stream(UTTERANCE);
    const final = await r.next(isFinal);

    expect(final).toEqual({ type: 'final', text: DEFAULT_STT_TRANSCRIPTS[0], confidence: expect.any(Number) });
    const interims = r.events.filter((e) => e.type === 'interim');
    expect(interims.length).toBeGreaterThan(1);
    expect(interims[0]).toMatchObject({
      type: 'interim',
      text: DEFAULT_STT_TRANSCRIPTS[0]!.split(' ')[0],
      stability: expect.any(Number),
    });
    expect(r.events.indexOf(interims[0]!)).toBeLessThan(r.events.indexOf(final));
    expect(config.config).toMatchObject({
      interimResults: true,
      singleUtterance: false,
      config: {
        encoding: 'MULAW',
        sampleRateHertz: 8000,
        languageCode: 'iw-IL',
        enableAutomaticPunctuation: true,
        model: '',
      },
    });
    expect(r.fake.streams).toHaveLength(1);
  });

  test('STT_LANGUAGE and STT_MODEL reach the config', async () => {
    const r = await run({ STT_LANGUAGE: 'he-IL', STT_MODEL: 'command_and_search' });
    const config = await r.fake.waitForEvent('config');
    expect(config.config.config).toMatchObject({ languageCode: 'he-IL', model: 'command_and_search' });
  });

  test('hints become one speech context boosted by STT_HINT_BOOST, capped to Google’s limits; none, no context', async () => {
    const many = Array.from({ length: 5003 }, (_, i) => `מילה ${i}`);
    const hinted = await run({ STT_HINT_BOOST: '15' }, {}, {}, ['רחוב הרצל', ' רחוב  הרצל ', 'ב'.repeat(101), ...many]);
    const config = await hinted.fake.waitForEvent('config');
    const contexts = config.config.config!.speechContexts!;
    expect(contexts).toHaveLength(1);
    expect(contexts[0]!.boost).toBe(15);
    expect(contexts[0]!.phrases).toHaveLength(5000);
    expect(contexts[0]!.phrases!.slice(0, 2)).toEqual(['רחוב הרצל', 'מילה 0']);
    expect(config.recognition.phrases[0]).toEqual({ value: 'רחוב הרצל', boost: 15 });

    const plain = await run({ STT_HINT_BOOST: '0' }, {}, {}, ['דנה']);
    expect((await plain.fake.waitForEvent('config')).config.config!.speechContexts).toEqual([
      { phrases: ['דנה'], boost: 0 },
    ]);
    const none = await run();
    expect((await none.fake.waitForEvent('config')).config.config!.speechContexts).toEqual([]);
  });

  test('a response carrying an error field is a stream error, classified like the status it names', () => {
    const config = parseConfig({}).voice;
    const dialect = googleV1Dialect(new ProviderClients(config), config);
    const out = dialect.translate({ error: { code: 11, message: 'Audio Timeout Error' }, results: [] });
    expect(out).toEqual({ error: { code: 11, details: 'Audio Timeout Error', message: 'Audio Timeout Error' } });
    expect(dialect.classify((out as { error: unknown }).error)).toMatchObject({ code: 'STREAM_LIMIT', vendorCode: 11 });
    const results = [
      { isFinal: true, alternatives: [{ transcript: ' שלום ', confidence: 0.5 }] },
      { isFinal: false, stability: 0.9, alternatives: [{ transcript: 'מה' }] },
      { isFinal: false, stability: 0.1, alternatives: [{ transcript: 'נשמע' }] },
    ];
    expect(dialect.translate({ results })).toEqual([
      { type: 'final', text: 'שלום', confidence: 0.5 },
      { type: 'interim', text: 'מה נשמע', stability: 0.9 },
    ]);
  });

  test('a write over 25,600 bytes is split into messages Google takes', async () => {
    const r = await run();
    await r.fake.waitForEvent('config');
    r.session.write(silence(4000)); // 32,000 bytes at once
    await r.stream(UTTERANCE);
    expect(await r.next(isFinal)).toMatchObject({ text: DEFAULT_STT_TRANSCRIPTS[0] });
    await r.closeAndSettle(0);
    expect(r.fake.streams[0]).toMatchObject({ state: 'ended', audioBytes: 32_000 + UTTERANCE.length });
    expect(r.events.filter(isType('failed'))).toEqual([]);
  });

  test('audio written before the client is ready is delivered in order once the stream opens', async () => {
    const r = await run();
    r.feed(SPEECH.subarray(0, 12_000)); // 1.5 s, written synchronously: no stream exists yet
    expect(r.fake.streams).toHaveLength(0);
    await r.fake.waitForEvent('config');
    await r.stream(Buffer.concat([SPEECH.subarray(12_000), silence(600)]));

    expect(await r.next(isFinal)).toMatchObject({ text: DEFAULT_STT_TRANSCRIPTS[0] });
    await r.closeAndSettle(0);
    expect(r.fake.streams[0]!.audioBytes).toBe(UTTERANCE.length);
    expect(r.session.stats().droppedBytes).toBe(0);
  });

  test('keeps only the newest 2 s while no stream is open', async () => {
    const r = await run();
    r.feed(silence(3000));
    expect(r.session.stats()).toMatchObject({ droppedBytes: 1000 * 8, queuedBytes: 2000 * 8, streams: 0 });
    await r.fake.waitForEvent('config');
    await r.stream(Buffer.alloc(0));
    await r.closeAndSettle(0);
    expect(r.fake.streams[0]!.audioBytes).toBe(2000 * 8);
    expect(r.session.stats()).toMatchObject({ droppedBytes: 1000 * 8, queuedBytes: 0, streams: 1 });
  });

  test('caps what waits behind a backpressured stream at 5 s, dropping the oldest audio', async () => {
    const r = await run();
    await r.fake.waitForEvent('config');
    const total = 20_000 * 8;
    r.feed(silence(20_000)); // all at once: the gRPC stream pushes back long before this is written
    const { queuedBytes, droppedBytes } = r.session.stats();
    expect(queuedBytes).toBe(5000 * 8);
    expect(droppedBytes).toBeGreaterThan(0);
    await r.stream(Buffer.alloc(0));
    await r.closeAndSettle(0);
    expect(r.fake.streams[0]!.audioBytes).toBe(total - droppedBytes);
  });

  test('rotates at a quiet moment once past 80 % of the limit; the old stream ends cleanly and recognition goes on', async () => {
    const r = await run({ STT_STREAM_LIMIT_MS: '20000' });
    await r.fake.waitForEvent('config');
    await r.stream(silence(10_000));
    r.session.quietMoment(); // 50 %: too young to rotate
    expect(r.session.stats().streams).toBe(1);
    await r.stream(silence(6_500));
    const oldClosed = r.fake.waitForEvent('closed', (e) => e.stream === 0);
    r.session.quietMoment(); // 82.5 %
    expect(await r.next(isType('restarted'))).toEqual({ type: 'restarted', reason: 'rotation', streamIndex: 1 });

    await r.stream(UTTERANCE);
    expect(await r.next(isFinal)).toMatchObject({ text: DEFAULT_STT_TRANSCRIPTS[0] });
    expect(await oldClosed).toMatchObject({ state: 'ended' });
    expect(r.fake.streams.map((s) => s.state)).toEqual(['ended', 'open']);
    await r.closeAndSettle(1);
    expect(r.fake.streams.map((s) => s.audioMs)).toEqual([16_500, UTTERANCE.length / 8]);
  });

  test('rotates at the hard limit without a quiet moment, before Google would cut the stream', async () => {
    // The fake fails any stream with more than 10.5 s of audio, as Google does past 305 s.
    const r = await run({ STT_STREAM_LIMIT_MS: '10000' }, { maxStreamAudioMs: 10_500 });
    await r.fake.waitForEvent('config');
    await r.stream(silence(22_000));
    await r.stream(UTTERANCE);

    const final = await r.next(isFinal);
    expect(final).toMatchObject({ text: DEFAULT_STT_TRANSCRIPTS[0] });
    expect(r.events.filter(isType('restarted'))).toEqual([
      { type: 'restarted', reason: 'rotation', streamIndex: 1 },
      { type: 'restarted', reason: 'rotation', streamIndex: 2 },
    ]);
    await r.fake.waitForEvent('closed', (e) => e.stream === 1);
    expect(r.fake.streams.map((s) => s.state)).toEqual(['ended', 'ended', 'open']);
    await r.closeAndSettle(2);
    expect(r.fake.streams.map((s) => s.audioMs)).toEqual([10_000, 10_000, 2000 + UTTERANCE.length / 8]);
  });

  test.each([
    [14, 'Connection reset by peer', 'UNAVAILABLE'],
    [11, 'Audio Timeout Error: Long duration elapsed without audio.', 'STREAM_LIMIT'],
  ])('a stream failing with %i mid-call is replaced and recognition continues', async (code, details, ours) => {
    const r = await run();
    await r.fake.waitForEvent('config');
    r.feed(silence(500));
    await r.fake.waitForEvent('closed', () => false, 100).catch(() => undefined); // the audio reaches the fake
    expect(r.fake.failActiveStreams(code, details)).toBe(1);

    const restarted = await r.next(isType('restarted'));
    expect(restarted).toMatchObject({
      type: 'restarted',
      reason: 'error',
      streamIndex: 1,
      error: { code: ours, provider: 'stt', vendorCode: code },
    });
    expect((restarted as { error: Error }).error.message).toContain(details);
    await r.stream(UTTERANCE);
    expect(await r.next(isFinal)).toMatchObject({ text: DEFAULT_STT_TRANSCRIPTS[0] });
    expect(r.fake.streams.map((s) => s.state)).toEqual(['failed', 'open']);
    expect(r.events.filter(isType('failed'))).toEqual([]);
  });

  test.each([
    [3, 'Invalid recognition config: language not supported.', 'BAD_REQUEST'],
    [16, 'Request had invalid authentication credentials.', 'AUTH'],
  ])('a non-retryable error (%i) fails the session once and opens no more streams', async (code, details, ours) => {
    const r = await run({}, { rejectConfig: () => ({ code, details }) });
    r.feed(silence(300));
    const failed = await r.next(isType('failed'));
    expect(failed).toMatchObject({ error: { code: ours, retryable: false, vendorCode: code } });
    r.feed(UTTERANCE); // ignored
    r.session.quietMoment();
    await r.next(() => false, 0, 300).catch(() => undefined);
    expect(r.events).toEqual([failed]);
    expect(r.fake.streams).toHaveLength(1);
  });

  test('gives up with one failed event after maxConsecutiveFailures streams fail in a row', async () => {
    const r = await run(
      {},
      { failStreamAfterAudioMs: 100 },
      { maxConsecutiveFailures: 3, restartBaseDelayMs: 5, restartMaxDelayMs: 20 },
    );
    const pump = setInterval(() => r.feed(silence(100)), 5);
    cleanups.push(() => clearInterval(pump));
    const failed = await r.next(isType('failed'));
    clearInterval(pump);

    expect(failed).toMatchObject({ error: { code: 'UNAVAILABLE', retryable: false } });
    expect((failed as { error: Error }).error.message).toMatch(/gave up after 3 failed streams/);
    expect(r.events.filter(isType('restarted'))).toHaveLength(2);
    expect(r.fake.streams).toHaveLength(3);
    expect(r.events.filter(isType('failed'))).toHaveLength(1);
  });

  test('close() half-closes the stream, emits nothing more and is idempotent', async () => {
    const r = await run();
    await r.fake.waitForEvent('config');
    r.feed(SPEECH); // mid-utterance
    const closed = r.fake.waitForEvent('closed');
    r.session.close();
    r.session.close();
    r.feed(UTTERANCE);
    r.session.quietMoment();

    expect(await closed).toMatchObject({ stream: 0, state: 'ended' });
    await r.next(() => false, 0, 200).catch(() => undefined);
    expect(r.fake.activeStreams()).toEqual([]);
    expect(r.events.filter((e) => e.type === 'final' || e.type === 'restarted' || e.type === 'failed')).toEqual([]);
    expect(r.session.stats().queuedBytes).toBe(0);
  });

  test('aborting the signal closes the session, also before the stream opened', async () => {
    const r = await run();
    r.abort.abort();
    r.feed(SPEECH);
    await r.next(() => false, 0, 300).catch(() => undefined);
    expect(r.fake.streams).toEqual([]);
    expect(r.events).toEqual([]);
    expect(r.session.stats()).toMatchObject({ streams: 0, queuedBytes: 0 });
  });

  test('a stream failing after close() stays silent', async () => {
    const r = await run({}, { idleTimeoutMs: 60_000 });
    await r.fake.waitForEvent('config');
    r.feed(silence(200));
    r.session.close();
    r.fake.failActiveStreams(14, 'late failure');
    await r.next(() => false, 0, 200).catch(() => undefined);
    expect(r.events).toEqual([]);
  });
});
