/**
 * One contract for the synthesis seams, run against the in-process fakes and against the real
 * Google adapters on the real SDK and the wire-level emulator. What a caller can observe must be
 * the same: audio for text, voices passed through, order kept, errors classified, aborts quiet.
 */
import { parseConfig } from '../../config/config.ts';
import { ProviderClients } from '../../media/providers/clients.ts';
import { FakeSynthesizer, fakeSynthesisAudio } from '../../media/providers/fakes/synthesizer.ts';
import { FakeStreamingSynthesizer } from '../../media/providers/fakes/streaming-synthesizer.ts';
import { GoogleStreamingSynthesizer } from '../../media/providers/google-tts-stream.ts';
import { GoogleSynthesizer } from '../../media/providers/google-tts.ts';
import { ProviderError } from '../../media/providers/types.ts';
import type { StreamingSynthesizer, SynthesisStream, Synthesizer } from '../../media/providers/types.ts';
import { fakeTtsAudio, startFakeTts } from '../../tools/emulators/index.ts';

jest.setTimeout(15_000);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Failure = 'unavailable' | 'quota';

/** One implementation of the unary seam, set up for one test. */
interface Unary {
  synth: Synthesizer;
  expected(text: string): Buffer;
  /** What reached the provider, in order. */
  requests(): Array<{ text: string; voice: string }>;
  /** Whether the provider saw request `index` cancelled. */
  cancelled(index: number): boolean;
  /** Every request from now on fails this way (after the implementation's own retries). */
  failAll(kind: Failure): void;
}

/** One implementation of the streaming seam, set up for one test. */
interface Streaming {
  synth: StreamingSynthesizer;
  expected(text: string): Buffer;
  streams(): Array<{ voice: string; texts: string[]; state: string }>;
  failAll(kind: Failure): void;
  /** Streams fail with UNAVAILABLE before sending chunk number `after` (0-based). */
  failAfterChunks(after: number): void;
}

interface Harness {
  name: string;
  unary(delayMs: (index: number) => number): Promise<Unary>;
  streaming(firstChunkMs: number): Promise<Streaming>;
}

const MS_PER_CHAR = 10;

const fakes: Harness = {
  name: 'the fakes',
  async unary(delayMs) {
    let failure: Failure | undefined;
    const synth = new FakeSynthesizer({
      msPerChar: MS_PER_CHAR,
      delayMs: (_t, i) => delayMs(i),
      fail: () => (failure === 'quota' ? 'QUOTA' : failure === 'unavailable' ? 'UNAVAILABLE' : undefined),
    });
    return {
      synth,
      expected: (text) => fakeSynthesisAudio(text, MS_PER_CHAR),
      requests: () => synth.calls.map(({ text, voice }) => ({ text, voice })),
      cancelled: (i) => synth.calls[i]?.outcome === 'aborted',
      failAll: (kind) => (failure = kind),
    };
  },
  async streaming(firstChunkMs) {
    let failure: Failure | undefined;
    let after = Infinity;
    const synth = new FakeStreamingSynthesizer({
      msPerChar: MS_PER_CHAR,
      firstChunkMs,
      chunkMs: 50,
      chunkIntervalMs: 5,
      fail: ({ chunksSent }) =>
        failure === 'quota' ? 'QUOTA' : failure === 'unavailable' || chunksSent >= after ? 'UNAVAILABLE' : undefined,
    });
    return {
      synth,
      expected: (text) => fakeSynthesisAudio(text, MS_PER_CHAR),
      streams: () => synth.streams.map(({ voice, texts, state }) => ({ voice, texts, state })),
      failAll: (kind) => (failure = kind),
      failAfterChunks: (n) => (after = n),
    };
  },
};

const google: Harness = {
  name: 'the Google adapters on the emulator',
  async unary(delayMs) {
    const fake = await startFakeTts({ msPerChar: MS_PER_CHAR, latencyMs: (_t, i) => delayMs(i) });
    const config = parseConfig({ GOOGLE_TTS_EMULATOR_HOST: fake.address }).voice;
    const clients = new ProviderClients(config);
    cleanups.push(
      () => fake.close(),
      () => clients.close(),
    );
    return {
      synth: new GoogleSynthesizer(clients, config, { retryDelayMs: 5 }),
      expected: (text) => fakeTtsAudio(text, { msPerChar: MS_PER_CHAR }),
      requests: () => fake.requests.map((r) => ({ text: r.text, voice: r.voice?.name ?? '' })),
      cancelled: (i) => fake.requests[i]?.cancelled === true,
      failAll: (kind) =>
        kind === 'quota' ? fake.setQuota('exhausted') : fake.failNext(14, 'The service is currently unavailable.', 99),
    };
  },
  async streaming(firstChunkMs) {
    let failure: Failure | undefined;
    let after = Infinity;
    const unavailable = { code: 14, details: 'The service is currently unavailable.' };
    const fake = await startFakeTts({
      msPerChar: MS_PER_CHAR,
      streaming: {
        firstChunkMs,
        chunkMs: 50,
        realTimeFactor: 0.1,
        fault: ({ chunksSent }) => (failure === 'unavailable' || chunksSent >= after ? unavailable : undefined),
      },
    });
    const config = parseConfig({
      GOOGLE_TTS_EMULATOR_HOST: fake.address,
      TTS_VOICE: 'he-IL-Chirp3-HD-Achernar',
    }).voice;
    const clients = new ProviderClients(config);
    cleanups.push(
      () => fake.close(),
      () => clients.close(),
    );
    return {
      synth: new GoogleStreamingSynthesizer(clients, config),
      expected: (text) => fakeTtsAudio(text, { msPerChar: MS_PER_CHAR }),
      streams: () => fake.streams.map((s) => ({ voice: s.config?.voice?.name ?? '', texts: s.inputs, state: s.state })),
      failAll: (kind) => (kind === 'quota' ? fake.setQuota('exhausted') : (failure = kind)),
      failAfterChunks: (n) => (after = n),
    };
  },
};

const live = () => new AbortController().signal;
const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};
async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(err)}`);
  return err;
}
/** Reads a stream to its end: the chunks, and the error it threw if any. */
async function drain(stream: SynthesisStream): Promise<{ chunks: Buffer[]; error?: ProviderError }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c);
    return { chunks };
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    return { chunks, error: e };
  }
}

describe.each([fakes, google])('Synthesizer contract: $name', (h) => {
  test('speaks text as μ-law whose length grows with the text, in the default voice', async () => {
    const u = await h.unary(() => 0);
    const [short, long] = ['שלום, איך אפשר לעזור היום?', 'שלום, איך אפשר לעזור היום? אני כאן בשבילך.'];
    const a = await u.synth.synthesize(short, live());
    const b = await u.synth.synthesize(long, live());
    expect(a.mulaw.equals(u.expected(short))).toBe(true);
    expect(b.mulaw.equals(u.expected(long))).toBe(true);
    expect(b.mulaw.length).toBeGreaterThan(a.mulaw.length);
    expect(u.requests()).toEqual([
      { text: short, voice: 'he-IL-Wavenet-A' },
      { text: long, voice: 'he-IL-Wavenet-A' },
    ]);
  });

  test('passes the per-request voice through', async () => {
    const u = await h.unary(() => 0);
    await u.synth.synthesize('שלום', live(), { voice: 'he-IL-Standard-B' });
    await u.synth.synthesize('שלום', live(), { voice: 'he-IL-Chirp3-HD-Kore' });
    expect(u.requests().map((r) => r.voice)).toEqual(['he-IL-Standard-B', 'he-IL-Chirp3-HD-Kore']);
  });

  test('gives each request its own audio when they complete out of order', async () => {
    const u = await h.unary((i) => [200, 0, 100][i] ?? 0);
    const texts = ['ראשון', 'שני ארוך יותר', 'שלישי'];
    const finished: number[] = [];
    const results = await Promise.all(
      texts.map((t, i) => u.synth.synthesize(t, live()).then((r) => (finished.push(i), r))),
    );
    expect(finished).toEqual([1, 2, 0]);
    results.forEach((r, i) => expect(r.mulaw.equals(u.expected(texts[i]!))).toBe(true));
  });

  test('an abort rejects with ABORTED at once and cancels the request', async () => {
    const u = await h.unary(() => 5000);
    const abort = new AbortController();
    const pending = u.synth.synthesize('שלום', abort.signal);
    await until(() => u.requests().length === 1);
    const started = Date.now();
    abort.abort();
    expect(await rejection(pending)).toMatchObject({ code: 'ABORTED', provider: 'tts', retryable: false });
    expect(Date.now() - started).toBeLessThan(1000);
    await until(() => u.cancelled(0));
  });

  test.each([
    ['an unknown voice', undefined, { voice: 'he-IL-Wavenet-Z' }, { code: 'BAD_REQUEST', permanent: true }],
    ['over 5,000 bytes', undefined, {}, { code: 'BAD_REQUEST', permanent: true }],
    ['an exhausted quota', 'quota', {}, { code: 'QUOTA', permanent: true }],
    ['an unavailable service', 'unavailable', {}, { code: 'UNAVAILABLE', retryable: true, permanent: false }],
  ] as const)('classifies %s', async (what, failure, opts, expected) => {
    const u = await h.unary(() => 0);
    if (failure) u.failAll(failure);
    const text = what === 'over 5,000 bytes' ? 'א'.repeat(2501) : 'שלום';
    expect(await rejection(u.synth.synthesize(text, live(), opts))).toMatchObject({ provider: 'tts', ...expected });
  });
});

describe.each([fakes, google])('StreamingSynthesizer contract: $name', (h) => {
  test('streams each sentence in order, in several chunks, the first before end()', async () => {
    const s = await h.streaming(50);
    const stream = s.synth.open(live());
    const reader = stream[Symbol.asyncIterator]();
    stream.write('משפט ראשון.');
    const first = await reader.next(); // audio before the reply is complete
    expect(first.done).toBe(false);
    stream.write('ומשפט שני, ארוך יותר.');
    stream.end();
    const chunks = [first.value as Buffer];
    for (let r = await reader.next(); !r.done; r = await reader.next()) chunks.push(r.value);
    const audio = Buffer.concat(chunks);
    expect(audio.equals(Buffer.concat([s.expected('משפט ראשון.'), s.expected('ומשפט שני, ארוך יותר.')]))).toBe(true);
    expect(chunks.length).toBeGreaterThan(2);
    expect(s.streams()).toEqual([
      { voice: 'he-IL-Chirp3-HD-Achernar', texts: ['משפט ראשון.', 'ומשפט שני, ארוך יותר.'], state: expect.any(String) },
    ]);
  });

  test('keeps chunk order when the reader is late', async () => {
    const s = await h.streaming(0);
    const stream = s.synth.open(live());
    const texts = ['א'.repeat(40), 'ב'.repeat(40), 'ג'.repeat(40)];
    for (const t of texts) stream.write(t);
    stream.end();
    await until(() => s.streams()[0]?.state !== 'open'); // everything produced before the first read
    const { chunks } = await drain(stream);
    expect(chunks.length).toBeGreaterThan(3);
    expect(Buffer.concat(chunks).equals(Buffer.concat(texts.map((t) => s.expected(t))))).toBe(true);
  });

  test('passes the voice through', async () => {
    const s = await h.streaming(0);
    const stream = s.synth.open(live(), { voice: 'he-IL-Chirp3-HD-Puck' });
    stream.write('שלום.');
    stream.end();
    expect((await drain(stream)).chunks.length).toBeGreaterThan(0);
    expect(s.streams()[0]!.voice).toBe('he-IL-Chirp3-HD-Puck');
  });

  test('an abort ends iteration quietly and cancels the stream', async () => {
    const s = await h.streaming(0);
    const abort = new AbortController();
    const stream = s.synth.open(abort.signal);
    stream.write('א'.repeat(300)); // 3 s of audio at 10 ms per letter
    const chunks: Buffer[] = [];
    for await (const c of stream) {
      chunks.push(c);
      if (chunks.length === 1) abort.abort();
    }
    expect(chunks).toHaveLength(1);
    await until(() => s.streams()[0]!.state !== 'open');
    expect(s.streams()[0]!.state).toMatch(/cancelled|aborted/);
  });

  test('a reader that stops early cancels the stream', async () => {
    const s = await h.streaming(0);
    const stream = s.synth.open(live());
    stream.write('א'.repeat(300));
    for await (const _ of stream) break;
    await until(() => s.streams()[0]!.state !== 'open');
    expect(s.streams()[0]!.state).toMatch(/cancelled|aborted/);
  });

  test('refuses text over 5,000 bytes at write() and stays usable', async () => {
    const s = await h.streaming(0);
    const stream = s.synth.open(live());
    expect(() => stream.write('א'.repeat(2501))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    stream.write('שלום.');
    stream.end();
    expect(Buffer.concat((await drain(stream)).chunks).equals(s.expected('שלום.'))).toBe(true);
    expect(s.streams()[0]!.texts).toEqual(['שלום.']);
  });

  test.each([
    ['a voice that does not stream', undefined, 'he-IL-Wavenet-A', { code: 'BAD_REQUEST', permanent: true }],
    ['an exhausted quota', 'quota', undefined, { code: 'QUOTA', permanent: true }],
    ['an unavailable service', 'unavailable', undefined, { code: 'UNAVAILABLE', retryable: true }],
  ] as const)('classifies %s', async (_what, failure, voice, expected) => {
    const s = await h.streaming(0);
    if (failure) s.failAll(failure);
    const stream = s.synth.open(live(), voice ? { voice } : {});
    stream.write('שלום.');
    stream.end();
    const { chunks, error } = await drain(stream);
    expect(chunks).toHaveLength(0);
    expect(error).toMatchObject({ provider: 'tts', ...expected });
  });

  test('a failure mid-stream is thrown after the audio that came before it', async () => {
    const s = await h.streaming(0);
    s.failAfterChunks(2);
    const stream = s.synth.open(live());
    stream.write('א'.repeat(50));
    stream.end();
    const { chunks, error } = await drain(stream);
    expect(chunks).toHaveLength(2);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });

  test('an aborted signal opens nothing and ends at once', async () => {
    const s = await h.streaming(0);
    const abort = new AbortController();
    abort.abort();
    const stream = s.synth.open(abort.signal);
    stream.write('שלום.');
    stream.end();
    expect(await drain(stream)).toEqual({ chunks: [] });
    expect(s.streams()).toEqual([]);
  });
});
