/**
 * One contract for every SpeechRecognizer: the FakeRecognizer the stage tests use, the v1 adapter
 * with the real SpeechClient on the v1 emulator, and the v2 adapter with the real v2 client on the
 * v2 emulator. Each target is reached through a small driver (how to speak into it, how to make
 * its provider fail, what its streams carried); the expectations are the same for all three, so
 * the fake cannot drift from what the real adapters do.
 */
import { parseConfig } from '../../config/config.ts';
import { ProviderClients } from '../../media/providers/clients.ts';
import { providerError } from '../../media/providers/errors.ts';
import { FakeRecognizer } from '../../media/providers/fakes/recognizer.ts';
import { createSpeechRecognizer } from '../../media/providers/google-stt-factory.ts';
import { GoogleSpeechRecognizer } from '../../media/providers/google-stt.ts';
import type { RecognizerEvent, SpeechRecognizer } from '../../media/providers/types.ts';
import { DEFAULT_STT_TRANSCRIPTS, startFakeStt, startFakeSttV2 } from '../../tools/emulators/index.ts';
import type { FakeStt, FakeSttV2, GrpcFault } from '../../tools/emulators/index.ts';
import { isType, runSession, silence, UTTERANCE } from '../helpers/recognizer-harness.ts';
import type { SessionRun } from '../helpers/recognizer-harness.ts';

jest.setTimeout(15_000);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  // The status of a stream cut by the fake's shutdown arrives a moment later, and the SDK loads
  // files to parse it: let that happen before jest tears the module environment down.
  await new Promise((r) => setTimeout(r, 25));
});

interface DriverOptions {
  streamLimitMs: number;
  maxConsecutiveFailures: number;
  /** Every session fails with AUTH at once. */
  authFails: boolean;
}

/** How the contract reaches one implementation. */
interface Driver {
  recognizer: SpeechRecognizer;
  /** The final text an utterance gives. */
  text: string;
  /** Speaks one utterance into the session. */
  speak(run: SessionRun): Promise<void>;
  /** Resolves once the provider has stream `index` open. */
  streamOpen(index: number): Promise<void>;
  /** Hints stream `index` carried. */
  hintsOf(index: number): string[];
  /** Streams the provider has seen. */
  streamCount(): number;
  /** Makes the provider fail the current stream. */
  failStream(kind: 'retryable' | 'fatal'): void;
  /** Makes the provider act on its stream after the session closed (a result, a failure). */
  provoke(): void;
}

const RETRYABLE: GrpcFault = { code: 14, details: 'Connection reset by peer' };
const FATAL: GrpcFault = { code: 3, details: "Invalid recognition 'config': bad encoding." };
const AUTH: GrpcFault = { code: 16, details: 'Request had invalid authentication credentials.' };
const TUNING = { restartBaseDelayMs: 5, restartMaxDelayMs: 20 };

/** Driver over a Google emulator (v1 or v2) and the matching adapter. */
function emulatorDriver(fake: FakeStt | FakeSttV2, recognizer: SpeechRecognizer): Driver {
  return {
    recognizer,
    text: DEFAULT_STT_TRANSCRIPTS[0]!,
    speak: (run) => run.stream(UTTERANCE),
    async streamOpen(index) {
      if (fake.streams[index]?.recognition) return;
      await fake.waitForEvent('config', (e) => e.stream === index);
    },
    hintsOf: (index) => fake.streams[index]?.recognition?.phrases.map((p) => p.value) ?? [],
    streamCount: () => fake.streams.length,
    failStream: (kind) => {
      const f = kind === 'retryable' ? RETRYABLE : FATAL;
      expect(fake.failActiveStreams(f.code, f.details)).toBe(1);
    },
    provoke: () => {
      fake.spuriousFinal({ text: 'שלום' });
      fake.failActiveStreams(RETRYABLE.code, RETRYABLE.details);
    },
  };
}

const targets: Array<[string, (o: DriverOptions) => Promise<Driver>]> = [
  [
    'FakeRecognizer',
    async (o) => {
      const recognizer = new FakeRecognizer({
        streamLimitMs: o.streamLimitMs,
        maxConsecutiveFailures: o.maxConsecutiveFailures,
        ...(o.authFails ? { failOnStart: providerError('stt', 'AUTH', AUTH.details, { vendorCode: 16 }) } : {}),
      });
      const text = 'שלום, אני רוצה לבדוק את מצב ההזמנה שלי';
      return {
        recognizer,
        text,
        async speak(run) {
          await run.stream(UTTERANCE);
          recognizer.last.say(text);
        },
        async streamOpen(index) {
          while (recognizer.last.streams <= index || recognizer.last.state === 'opening')
            await new Promise((r) => setTimeout(r, 1));
        },
        hintsOf: (index) => recognizer.last.streamHints[index] ?? [],
        streamCount: () => recognizer.last.streams,
        failStream: (kind) => {
          const f = kind === 'retryable' ? RETRYABLE : FATAL;
          const code = kind === 'retryable' ? 'UNAVAILABLE' : 'BAD_REQUEST';
          recognizer.last.fail(providerError('stt', code, f.details, { vendorCode: f.code }));
        },
        provoke: () => {
          recognizer.last.say('שלום');
          recognizer.last.fail(providerError('stt', 'UNAVAILABLE', RETRYABLE.details));
        },
      };
    },
  ],
  [
    'Google v1 adapter on the v1 emulator',
    async (o) => {
      const fake = await startFakeStt(o.authFails ? { rejectConfig: () => AUTH } : {});
      const config = parseConfig({ GOOGLE_STT_EMULATOR_HOST: fake.address, STT_STREAM_LIMIT_MS: `${o.streamLimitMs}` });
      const clients = new ProviderClients(config.voice);
      cleanups.push(
        () => fake.close(),
        () => clients.close(),
      );
      const opts = { ...TUNING, maxConsecutiveFailures: o.maxConsecutiveFailures };
      return emulatorDriver(fake, new GoogleSpeechRecognizer(clients, config.voice, opts));
    },
  ],
  [
    'Google v2 adapter on the v2 emulator',
    async (o) => {
      const fake = await startFakeSttV2({ location: 'eu', ...(o.authFails ? { rejectConfig: () => AUTH } : {}) });
      const config = parseConfig({
        STT_API: 'v2',
        STT_LOCATION: 'eu',
        GOOGLE_CLOUD_PROJECT: 'contract-test',
        GOOGLE_STT_EMULATOR_HOST: fake.address,
        STT_STREAM_LIMIT_MS: `${o.streamLimitMs}`,
      });
      const clients = new ProviderClients(config.voice);
      cleanups.push(
        () => fake.close(),
        () => clients.close(),
      );
      const opts = { ...TUNING, maxConsecutiveFailures: o.maxConsecutiveFailures };
      return emulatorDriver(fake, createSpeechRecognizer(clients, config.voice, opts));
    },
  ],
];

const kinds = (events: RecognizerEvent[]): string[] => events.map((e) => e.type);

describe.each(targets)('SpeechRecognizer contract: %s', (_name, make) => {
  const start = async (o: Partial<DriverOptions> = {}, hints?: string[]) => {
    const d = await make({ streamLimitMs: 10_000, maxConsecutiveFailures: 6, authFails: false, ...o });
    const run = runSession(d.recognizer, cleanups, hints ? { hints } : {});
    return { d, run };
  };

  test('speech gives interims, then the final with its text; nothing else', async () => {
    const { d, run } = await start();
    await d.speak(run);
    const final = await run.next(isType('final'));
    expect(final).toEqual({ type: 'final', text: d.text, confidence: expect.any(Number) });
    const firstFinal = run.events.indexOf(final);
    expect(firstFinal).toBeGreaterThan(0);
    expect(kinds(run.events.slice(0, firstFinal)).every((k) => k === 'interim')).toBe(true);
    expect(d.text.startsWith((run.events[0] as { text: string }).text)).toBe(true);
    expect(kinds(run.events)).not.toContain('failed');
    expect(kinds(run.events)).not.toContain('restarted');
  });

  test('AUTH: exactly one failed event, permanent; later writes do nothing', async () => {
    const { d, run } = await start({ authFails: true });
    run.feed(silence(300));
    const failed = await run.next(isType('failed'));
    expect(failed).toMatchObject({ error: { code: 'AUTH', provider: 'stt', retryable: false, permanent: true } });
    run.feed(UTTERANCE);
    run.session.quietMoment();
    run.session.setHints?.(['דנה'], true);
    expect(await run.settle(150)).toEqual([]);
    expect(run.events).toEqual([failed]);
    expect(d.streamCount()).toBeLessThanOrEqual(1);
  });

  test('a retryable stream failure restarts on a new stream and recognition goes on', async () => {
    const { d, run } = await start();
    await d.streamOpen(0);
    d.failStream('retryable');
    const restarted = await run.next(isType('restarted'));
    expect(restarted).toMatchObject({
      type: 'restarted',
      reason: 'error',
      streamIndex: 1,
      error: { code: 'UNAVAILABLE', retryable: true, provider: 'stt' },
    });
    await d.speak(run);
    expect(await run.next(isType('final'))).toMatchObject({ text: d.text });
    expect(kinds(run.events)).not.toContain('failed');
  });

  test('a non-retryable stream failure ends the session with one failed event', async () => {
    const { d, run } = await start();
    await d.streamOpen(0);
    d.failStream('fatal');
    const failed = await run.next(isType('failed'));
    expect(failed).toMatchObject({ error: { code: 'BAD_REQUEST', retryable: false, permanent: true } });
    await run.stream(UTTERANCE);
    expect(await run.settle(100)).toEqual([]);
    expect(kinds(run.events)).toEqual(['failed']);
    expect(d.streamCount()).toBe(1);
  });

  test('too many retryable failures in a row end the session with one failed event', async () => {
    const { d, run } = await start({ maxConsecutiveFailures: 3 });
    for (let i = 0; i < 3; i++) {
      await d.streamOpen(i);
      d.failStream('retryable');
      if (i < 2) await run.next((e) => e.type === 'restarted' && e.streamIndex === i + 1);
    }
    const failed = await run.next(isType('failed'));
    expect(failed).toMatchObject({ error: { code: 'UNAVAILABLE', retryable: false } });
    expect((failed as { error: Error }).error.message).toMatch(/gave up after 3 failed streams in a row/);
    expect(kinds(run.events)).toEqual(['restarted', 'restarted', 'failed']);
  });

  test('quietMoment() rotates only past 80 % of the stream limit', async () => {
    const { d, run } = await start({ streamLimitMs: 10_000 });
    await d.streamOpen(0);
    await run.stream(silence(5000));
    run.session.quietMoment();
    expect(await run.settle(50)).toEqual([]);
    await run.stream(silence(3500));
    run.session.quietMoment();
    expect(await run.next(isType('restarted'))).toEqual({ type: 'restarted', reason: 'rotation', streamIndex: 1 });
    await d.streamOpen(1);
    await d.speak(run);
    expect(await run.next(isType('final'))).toMatchObject({ text: d.text });
  });

  test('hints: the first stream carries them; setHints reopens at once, or waits for the next stream', async () => {
    const { d, run } = await start({ streamLimitMs: 10_000 }, ['דנה כהן', 'רחוב הרצל']);
    await d.streamOpen(0);
    expect(d.hintsOf(0)).toEqual(['דנה כהן', 'רחוב הרצל']);

    run.session.setHints!(['מספר הזמנה'], true);
    expect(await run.next(isType('restarted'))).toEqual({ type: 'restarted', reason: 'rotation', streamIndex: 1 });
    await d.streamOpen(1);
    expect(d.hintsOf(1)).toEqual(['מספר הזמנה']);

    run.session.setHints!(['אחר'], false);
    expect(await run.settle(100)).toEqual([]);
    expect(d.streamCount()).toBe(2);
    await run.stream(silence(8500));
    run.session.quietMoment();
    await run.next((e) => e.type === 'restarted' && e.streamIndex === 2);
    await d.streamOpen(2);
    expect(d.hintsOf(2)).toEqual(['אחר']);
  });

  test('close() is idempotent and silent: no event queued before it, nothing the provider does after it', async () => {
    const { d, run } = await start();
    await d.streamOpen(0);
    run.session.setHints!(['דנה'], true); // queues a 'restarted' event (events are delivered asynchronously)…
    run.session.close(); // …which must not arrive once the session is closed
    run.session.close();
    run.feed(UTTERANCE);
    run.session.quietMoment();
    run.session.setHints?.(['דנה'], true);
    d.provoke();
    expect(await run.settle(200)).toEqual([]);
    expect(run.events).toEqual([]);
  });

  test('aborting the signal closes the session, also before its first stream opened', async () => {
    const early = await start();
    early.run.abort.abort();
    early.run.feed(UTTERANCE);
    expect(await early.run.settle(200)).toEqual([]);

    const { d, run } = await start();
    await d.streamOpen(0);
    run.abort.abort();
    run.feed(UTTERANCE);
    d.provoke(); // the provider acts on the stream; a closed session hears none of it
    expect(await run.settle(200)).toEqual([]);
    expect(early.run.events).toEqual([]);
    expect(run.events).toEqual([]);
  });
});

describe('FakeRecognizer: what stage tests drive it with', () => {
  afterEach(() => jest.useRealTimers());
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };

  test('plays its script by audio time, counts writes, and records the options', async () => {
    const fake = new FakeRecognizer({
      script: [
        { atAudioMs: 200, type: 'interim', text: 'כן', stability: 0.5 },
        { atAudioMs: 300, type: 'say', text: 'כן בבקשה', confidence: 0.7 },
        { atAudioMs: 500, type: 'final', text: 'תודה', confidence: 0 },
      ],
    });
    const events: RecognizerEvent[] = [];
    const session = fake.start((e) => events.push(e), new AbortController().signal, { hints: ['דנה'] });
    session.write(silence(100));
    session.write(silence(150));
    await flush();
    expect(events).toEqual([{ type: 'interim', text: 'כן', stability: 0.5 }]);
    session.write(silence(300));
    await flush();
    expect(events.slice(1)).toEqual([
      { type: 'interim', text: 'כן', stability: 0.8 },
      { type: 'final', text: 'כן בבקשה', confidence: 0.7 },
      { type: 'final', text: 'תודה', confidence: 0 },
    ]);
    expect(fake.counters).toEqual({ sessions: 1, streams: 1, writes: 3, bytes: 550 * 8 });
    expect(session).toMatchObject({ writes: 3, audioMs: 550, options: { hints: ['דנה'] } });
    expect(session.currentHints).toEqual(['דנה']);
  });

  test('holds each stream for its delay (fake timers): nothing is recognised until it is open', async () => {
    jest.useFakeTimers();
    const fake = new FakeRecognizer({
      streamDelayMs: (i) => (i === 0 ? 300 : 1000),
      script: [{ atAudioMs: 100, type: 'final', text: 'הלו' }],
    });
    const events: RecognizerEvent[] = [];
    const session = fake.start((e) => events.push(e), new AbortController().signal);
    session.write(silence(200));
    await flush();
    expect(events).toEqual([]);
    expect(session.state).toBe('opening');
    jest.advanceTimersByTime(300);
    await flush();
    expect(events).toEqual([{ type: 'final', text: 'הלו', confidence: 0.9 }]);

    session.fail(providerError('stt', 'TIMEOUT', 'deadline'));
    jest.advanceTimersByTime(999);
    await flush();
    expect(events).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await flush();
    expect(events[1]).toMatchObject({ type: 'restarted', reason: 'error', streamIndex: 1, error: { code: 'TIMEOUT' } });
    expect(fake.counters.streams).toBe(2);
  });

  test('a session started on an aborted signal, or closed while a stream opens, stays silent', async () => {
    jest.useFakeTimers();
    const fake = new FakeRecognizer({ streamDelayMs: 100, script: [{ atAudioMs: 0, type: 'final', text: 'x' }] });
    const events: RecognizerEvent[] = [];
    const aborted = new AbortController();
    aborted.abort();
    fake.start((e) => events.push(e), aborted.signal).write(silence(100));
    const session = fake.start((e) => events.push(e), new AbortController().signal);
    session.write(silence(100));
    session.close();
    jest.advanceTimersByTime(1000);
    await flush();
    expect(events).toEqual([]);
    expect(fake.sessions.map((s) => s.state)).toEqual(['closed', 'closed']);
  });
});
