/**
 * GoogleStreamingSynthesizer with the real TextToSpeechClient against the TTS emulator: what it
 * sends, WAV headers on streamed audio, the TTS_TIMEOUT_MS watchdog, bounded buffering, how
 * failures are classified; and the TTS_STREAMING setting that decides when it is used.
 */
import { ConfigError, parseConfig } from '../../config/config.ts';
import { buildWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import { ProviderClients } from '../../media/providers/clients.ts';
import { GoogleStreamingSynthesizer } from '../../media/providers/google-tts-stream.ts';
import type { GoogleSynthesisStream } from '../../media/providers/google-tts-stream.ts';
import { usesStreamingSynthesis } from '../../media/providers/google-tts-voices.ts';
import { ProviderError } from '../../media/providers/types.ts';
import { fakeTtsAudio, startFakeTts } from '../../tools/emulators/index.ts';
import type { FakeTts, FakeTtsOptions } from '../../tools/emulators/index.ts';

jest.setTimeout(15_000);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const CHIRP = 'he-IL-Chirp3-HD-Achernar';
const FAST = { firstChunkMs: 0, chunkMs: 100, realTimeFactor: 0 };

async function setup(
  streaming: FakeTtsOptions['streaming'] = FAST,
  env: Record<string, string> = {},
  opts: { maxBufferedBytes?: number } = {},
): Promise<{ fake: FakeTts; tts: GoogleStreamingSynthesizer }> {
  const fake = await startFakeTts({ streaming });
  const config = parseConfig({ GOOGLE_TTS_EMULATOR_HOST: fake.address, TTS_VOICE: CHIRP, ...env }).voice;
  const clients = new ProviderClients(config);
  cleanups.push(
    () => fake.close(),
    () => clients.close(),
  );
  return { fake, tts: new GoogleStreamingSynthesizer(clients, config, opts) };
}

/** Writes `texts`, ends, and reads everything: the chunks, and the ProviderError thrown if any. */
async function speak(
  stream: GoogleSynthesisStream,
  texts: string[],
): Promise<{ chunks: Buffer[]; error?: ProviderError }> {
  for (const t of texts) stream.write(t);
  stream.end();
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c);
    return { chunks };
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    return { chunks, error: e };
  }
}

const live = () => new AbortController().signal;

/**
 * Opens a stream and waits until the emulator has it, so a watchdog test measures Google's
 * silence and not the SDK's first load (which can take longer than a short TTS_TIMEOUT_MS).
 */
async function opened(fake: FakeTts, tts: GoogleStreamingSynthesizer): Promise<GoogleSynthesisStream> {
  const before = fake.streams.length;
  const stream = tts.open(live());
  while (fake.streams.length === before) await new Promise((r) => setTimeout(r, 5));
  return stream;
}

describe('GoogleStreamingSynthesizer', () => {
  test('sends one config (voice, its language, MULAW 8 kHz), one input per write, then half-closes', async () => {
    const { fake, tts } = await setup();
    const texts = ['שלום.', 'מה שלומך?'];
    const { chunks, error } = await speak(tts.open(live()), ['', ...texts, '   ']);
    expect(error).toBeUndefined();
    expect(Buffer.concat(chunks).equals(Buffer.concat(texts.map((t) => fakeTtsAudio(t))))).toBe(true);
    expect(fake.streams).toHaveLength(1);
    expect(fake.streams[0]).toMatchObject({
      config: {
        voice: { languageCode: 'he-IL', name: CHIRP },
        streamingAudioConfig: { audioEncoding: 'MULAW', sampleRateHertz: 8000 },
      },
      inputs: texts, // blank writes are not sent
      halfClosed: true,
      state: 'ended',
    });
  });

  test('the per-request voice goes into the config with its own language', async () => {
    const { fake, tts } = await setup();
    await speak(tts.open(live(), { voice: 'en-US-Chirp3-HD-Kore' }), ['hello.']);
    expect(fake.streams[0]!.config?.voice).toMatchObject({ languageCode: 'en-US', name: 'en-US-Chirp3-HD-Kore' });
  });

  test.each(['first', 'each-input', 'first-split'] as const)(
    'strips a streamed WAV header (%s) and keeps every audio byte',
    async (wavHeader) => {
      const { fake, tts } = await setup({ ...FAST, wavHeader });
      const texts = ['אחת.', 'שתיים.'];
      const { chunks, error } = await speak(tts.open(live()), texts);
      expect(error).toBeUndefined();
      expect(fake.streams[0]!.headers).toBeGreaterThan(0);
      expect(Buffer.concat(chunks).equals(Buffer.concat(texts.map((t) => fakeTtsAudio(t))))).toBe(true);
    },
  );

  test('a streamed header that is not μ-law 8 kHz mono is BAD_AUDIO, and nothing of it is played', async () => {
    const pcmHeader = buildWav(Buffer.alloc(0), {
      formatTag: WAV_FORMAT.PCM,
      channels: 1,
      sampleRate: 24000,
      bitsPerSample: 16,
    });
    const { tts } = await setup({ ...FAST, wavHeader: 'first', wavHeaderBytes: pcmHeader });
    const { chunks, error } = await speak(tts.open(live()), ['שלום.']);
    expect(chunks).toHaveLength(0);
    expect(error).toMatchObject({ code: 'BAD_AUDIO', provider: 'tts' });
  });

  test('TIMEOUT when the first chunk does not come within TTS_TIMEOUT_MS; the call is cancelled', async () => {
    const { fake, tts } = await setup({ ...FAST, firstChunkMs: 5000 }, { TTS_TIMEOUT_MS: '300' });
    const stream = await opened(fake, tts);
    const started = Date.now();
    const { chunks, error } = await speak(stream, ['שלום.']);
    expect(chunks).toHaveLength(0);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await fake.waitForStreamClosed(0)).toMatchObject({ state: 'cancelled' });
  });

  test('TIMEOUT when audio stops after end() and Google does not finish', async () => {
    // One 100 ms chunk, then each further chunk takes 2 s to produce.
    const { fake, tts } = await setup({ firstChunkMs: 0, chunkMs: 100, realTimeFactor: 20 }, { TTS_TIMEOUT_MS: '300' });
    const { chunks, error } = await speak(await opened(fake, tts), ['שלום לכולם.']);
    expect(chunks).toHaveLength(1);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(error!.message).toMatch(/no more audio/);
  });

  test('no TIMEOUT while no text is owed (before the first sentence, between sentences), nor while audio keeps coming', async () => {
    const { fake, tts } = await setup(
      { firstChunkMs: 100, chunkMs: 100, realTimeFactor: 1 },
      { TTS_TIMEOUT_MS: '250' },
    );
    const [first, second] = ['שלום לכולם.', 'מה שלומכם היום?']; // 0.66 s and 0.9 s of audio, a chunk every 100 ms
    const stream = await opened(fake, tts);
    const reader = stream[Symbol.asyncIterator]();
    const chunks: Buffer[] = [];
    await new Promise((r) => setTimeout(r, 400)); // the model is still thinking: nothing written yet
    stream.write(first);
    while (Buffer.concat(chunks).length < fakeTtsAudio(first).length)
      chunks.push((await reader.next()).value as Buffer);
    await new Promise((r) => setTimeout(r, 400)); // the next sentence is late
    stream.write(second);
    stream.end();
    for (let r = await reader.next(); !r.done; r = await reader.next()) chunks.push(r.value);
    expect(Buffer.concat(chunks).equals(Buffer.concat([fakeTtsAudio(first), fakeTtsAudio(second)]))).toBe(true);
  });

  test('holds at most maxBufferedBytes for a reader that is behind, and loses nothing', async () => {
    const { fake, tts } = await setup(FAST, {}, { maxBufferedBytes: 8000 });
    const text = 'א'.repeat(200); // 12 s of audio, 96,000 bytes, all sent at once
    const stream = tts.open(live());
    stream.write(text);
    stream.end();
    await fake.waitForStreamClosed(0);
    await new Promise((r) => setTimeout(r, 200)); // nobody reads meanwhile
    expect(stream.stats()).toMatchObject({ paused: true });
    expect(stream.stats().bufferedBytes).toBeGreaterThan(8000);
    expect(stream.stats().bufferedBytes).toBeLessThanOrEqual(8000 + 800); // one chunk past the bound at most
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c);
    expect(Buffer.concat(chunks).equals(fakeTtsAudio(text))).toBe(true);
  });

  test('an abort cancels the gRPC call at once and ends iteration without an error', async () => {
    const { fake, tts } = await setup({ firstChunkMs: 0, chunkMs: 100, realTimeFactor: 1 });
    const abort = new AbortController();
    const stream = tts.open(abort.signal);
    stream.write('א'.repeat(100));
    const chunks: Buffer[] = [];
    for await (const c of stream) {
      chunks.push(c);
      abort.abort();
    }
    expect(chunks).toHaveLength(1);
    expect(await fake.waitForStreamClosed(0, 1000)).toMatchObject({ state: 'cancelled' });
    stream.write('לא יישלח.'); // ignored after the abort
    expect(fake.streams[0]!.inputs).toHaveLength(1);
  });

  test.each([
    [16, 'Request had invalid authentication credentials.', 'AUTH', false],
    [8, 'Resource has been exhausted (e.g. check quota).', 'QUOTA', false],
    [14, 'The service is currently unavailable.', 'UNAVAILABLE', true],
    [1, 'Cancelled by a proxy.', 'UNAVAILABLE', true], // a cancel we did not ask for
  ])('classifies status %i', async (code, details, ours, retryable) => {
    const { fake, tts } = await setup();
    fake.failNextStream(code, details);
    const { error } = await speak(tts.open(live()), ['שלום.']);
    expect(error).toMatchObject({ provider: 'tts', code: ours, retryable, vendorCode: code });
    expect(error!.message).toContain(details);
    expect(fake.streams).toHaveLength(1); // no retry: audio may already have been played
  });
});

describe('TTS_STREAMING', () => {
  test('auto (the default) streams the Chirp 3 HD voices only; true and false decide for every voice', () => {
    expect(parseConfig({}).voice.ttsStreaming).toBe('auto');
    expect(usesStreamingSynthesis('auto', 'he-IL-Chirp3-HD-Achernar')).toBe(true);
    expect(usesStreamingSynthesis('auto', 'he-IL-Wavenet-A')).toBe(false);
    expect(usesStreamingSynthesis('auto', 'he-IL-Chirp3-HD')).toBe(false);
    expect(usesStreamingSynthesis(false, 'he-IL-Chirp3-HD-Achernar')).toBe(false);
    expect(usesStreamingSynthesis(true, 'he-IL-Wavenet-A')).toBe(true);
    expect(parseConfig({ TTS_STREAMING: 'OFF' }).voice.ttsStreaming).toBe(false);
    expect(parseConfig({ TTS_STREAMING: 'true', TTS_VOICE: CHIRP }).voice.ttsStreaming).toBe(true);
  });

  test('true with a voice that is not Chirp 3 HD is refused at start-up, naming both variables', () => {
    let err: unknown;
    try {
      parseConfig({ TTS_STREAMING: 'true', TTS_VOICE: 'he-IL-Wavenet-A' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(/^TTS_STREAMING: .*TTS_VOICE.*he-IL-Wavenet-A/),
    ]);
  });

  test('anything but auto or a boolean word is refused', () => {
    expect(() => parseConfig({ TTS_STREAMING: 'sometimes' })).toThrow(/TTS_STREAMING: expected auto, true or false/);
  });
});
