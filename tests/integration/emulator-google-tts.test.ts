/**
 * The Google TTS emulator driven by the real TextToSpeechClient, configured as the gateway
 * configures it: what it answers, what it refuses (with Google's codes and texts), its quota mode,
 * its per-request delays, and StreamingSynthesize with modelled timing.
 */
import { grpc } from 'google-gax';
import { TextToSpeechClient } from '@google-cloud/text-to-speech';
import { parseWav, wavPayload, WAV_FORMAT } from '../../media/audio/wav.ts';
import { CHIRP3_HD_PERSONAS, fakeTtsAudio, startFakeTts, TTS_TEXTS } from '../../tools/emulators/index.ts';
import type { FakeTtsOptions } from '../../tools/emulators/index.ts';

jest.setTimeout(15_000);

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: FakeTtsOptions = {}) {
  const fake = await startFakeTts(opts);
  const client = new TextToSpeechClient({
    apiEndpoint: '127.0.0.1',
    port: fake.port,
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
  cleanups.push(
    () => fake.close(),
    () => client.close(),
  );
  return { fake, client };
}

const request = (text: string, voice = 'he-IL-Wavenet-A', audio: Record<string, unknown> = {}) => ({
  input: { text },
  voice: { languageCode: voice.slice(0, 5), name: voice },
  audioConfig: { audioEncoding: 'MULAW' as const, sampleRateHertz: 8000, ...audio },
});
// The gateway's per-call options: bounded, and no hidden retries (providers.md §2.5).
const NO_RETRY = { timeout: 2000, retry: { retryCodes: [] } };

/** The gRPC status a promise rejects with. */
async function status(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  const err = (await promise.then(
    () => ({ code: 0, details: '' }),
    (e: unknown) => e,
  )) as { code: number; details: string };
  return { code: err.code, details: err.details };
}

describe('SynthesizeSpeech', () => {
  test('answers MULAW as a WAV with fact and LIST chunks around exactly fakeTtsAudio(text)', async () => {
    const { fake, client } = await setup();
    const text = 'שלום, במה אפשר לעזור?';
    const [res] = await client.synthesizeSpeech(request(text), NO_RETRY);
    const wav = Buffer.from(res.audioContent as Uint8Array);

    expect(parseWav(wav)).toMatchObject({
      formatTag: WAV_FORMAT.MULAW,
      channels: 1,
      sampleRate: 8000,
      bitsPerSample: 8,
    });
    expect(wavPayload(wav).equals(fakeTtsAudio(text))).toBe(true);
    expect(wavPayload(wav)).toHaveLength(Array.from(text).length * 60 * 8); // 60 ms per character at 8 bytes/ms
    expect(wav.indexOf('fact')).toBeGreaterThan(0);
    expect(wav.indexOf('LIST')).toBeGreaterThan(0);
    expect(wav.indexOf('data')).toBeGreaterThan(44); // a 44-byte-header assumption would play header bytes
    expect(fake.requests).toMatchObject([{ index: 0, text, voice: { name: 'he-IL-Wavenet-A' }, code: 0 }]);
  });

  test('makes the same audio for the same text and different audio for different text', () => {
    expect(fakeTtsAudio('אחת').equals(fakeTtsAudio('אחת'))).toBe(true);
    expect(fakeTtsAudio('אחת').equals(fakeTtsAudio('שתיים'))).toBe(false);
    expect(fakeTtsAudio('')).toHaveLength(200 * 8); // never shorter than 200 ms
  });

  test('speaks every Hebrew voice family, Chirp 3 HD included, and PCM without a header', async () => {
    const { client } = await setup();
    for (const voice of ['he-IL-Standard-D', 'he-IL-Wavenet-C', 'he-IL-Chirp3-HD-Achernar']) {
      const [res] = await client.synthesizeSpeech(request('שלום', voice), NO_RETRY);
      expect(wavPayload(Buffer.from(res.audioContent as Uint8Array)).equals(fakeTtsAudio('שלום'))).toBe(true);
    }
    const [pcm] = await client.synthesizeSpeech(request('שלום', undefined, { audioEncoding: 'PCM' }), NO_RETRY);
    expect(
      Buffer.from(pcm.audioContent as Uint8Array)
        .subarray(0, 4)
        .toString('latin1'),
    ).not.toBe('RIFF');
    expect(pcm.audioContent).toHaveLength(4 * 60 * 8 * 2); // 4 letters × 60 ms of 16-bit samples at 8 kHz
  });

  test.each([
    ['an unknown voice', request('שלום', 'he-IL-Wavenet-Z'), TTS_TEXTS.unknownVoice('he-IL-Wavenet-Z')],
    [
      'a voice of another language than voice.languageCode',
      { ...request('שלום'), voice: { languageCode: 'en-US', name: 'he-IL-Wavenet-A' } },
      TTS_TEXTS.languageMismatch('en-US', 'he-IL-Wavenet-A', 'he-IL'),
    ],
    ['no language code', { ...request('שלום'), voice: { name: 'he-IL-Wavenet-A' } }, TTS_TEXTS.emptyLanguage],
    ['a language without voices', { ...request('שלום'), voice: { languageCode: 'xx-XX' } }, TTS_TEXTS.noVoice],
    ['no input', { ...request('x'), input: {} }, TTS_TEXTS.noInput],
    ['input over 5,000 bytes', request('א'.repeat(2500) + 'a'), TTS_TEXTS.tooLong],
    ['no encoding', request('שלום', undefined, { audioEncoding: undefined }), TTS_TEXTS.noEncoding],
    ['M4A', request('שלום', undefined, { audioEncoding: 'M4A' }), TTS_TEXTS.encodingNotSupported],
    ['4 kHz', request('שלום', undefined, { sampleRateHertz: 4000 }), TTS_TEXTS.sampleRate(4000)],
    ['96 kHz', request('שלום', undefined, { sampleRateHertz: 96000 }), TTS_TEXTS.sampleRate(96000)],
    ['speakingRate 3', request('שלום', undefined, { speakingRate: 3 }), TTS_TEXTS.speakingRate(3)],
  ])('refuses %s with INVALID_ARGUMENT and Google’s text', async (_what, body, details) => {
    const { fake, client } = await setup();
    expect(await status(client.synthesizeSpeech(body as never, NO_RETRY))).toEqual({ code: 3, details });
    expect(fake.requests.map((r) => r.code)).toEqual([3]);
  });

  test('accepts exactly 5,000 bytes, and a voice chosen by language alone', async () => {
    const { client } = await setup({ msPerChar: 1 });
    await expect(client.synthesizeSpeech(request('א'.repeat(2500)), NO_RETRY)).resolves.toBeDefined();
    const byLanguage = { ...request('שלום'), voice: { languageCode: 'he-IL' } };
    await expect(client.synthesizeSpeech(byLanguage, NO_RETRY)).resolves.toBeDefined();
  });

  test('answers an encoding Google has but the emulator cannot make with UNIMPLEMENTED, not a fake refusal', async () => {
    const { client } = await setup();
    expect(
      await status(client.synthesizeSpeech(request('שלום', undefined, { audioEncoding: 'MP3' }), NO_RETRY)),
    ).toEqual({
      code: 12,
      details: TTS_TEXTS.emulatorEncoding('MP3'),
    });
  });

  test('failNext and opts.fail answer first; retry: { retryCodes: [] } stops the client retrying', async () => {
    const { fake, client } = await setup({
      fail: (_r, index) => (index === 1 ? { code: 13, details: 'x' } : undefined),
    });
    fake.failNext(14, 'backend unavailable');
    expect(await status(client.synthesizeSpeech(request('שלום'), NO_RETRY))).toEqual({
      code: 14,
      details: 'backend unavailable',
    });
    expect(await status(client.synthesizeSpeech(request('שלום'), NO_RETRY))).toEqual({ code: 13, details: 'x' });
    // Without per-call options the generated client retries UNAVAILABLE: the retry hits the emulator again.
    fake.failNext(14, 'backend unavailable');
    await client.synthesizeSpeech(request('שלום'));
    expect(fake.requests.map((r) => r.code)).toEqual([14, 13, 14, 0]);
  });

  test('per-request delays make answers complete out of order', async () => {
    const delays = [300, 0, 150];
    const { fake, client } = await setup({ latencyMs: (_text, index) => delays[index] ?? 0 });
    const done: string[] = [];
    await Promise.all(
      ['ראשון', 'שני', 'שלישי'].map(async (text) => {
        await client.synthesizeSpeech(request(text), NO_RETRY);
        done.push(text);
      }),
    );
    expect(done).toEqual(['שני', 'שלישי', 'ראשון']);
    const answered = [...fake.requests].sort((a, b) => a.answeredAt! - b.answeredAt!).map((r) => r.index);
    expect(answered).toEqual([1, 2, 0]);
  });

  test('delays by text too, and a short client timeout ends in DEADLINE_EXCEEDED', async () => {
    const { client } = await setup({ latencyMs: (text) => (text === 'איטי' ? 1000 : 0) });
    await expect(client.synthesizeSpeech(request('מהיר'), NO_RETRY)).resolves.toBeDefined();
    expect(
      (await status(client.synthesizeSpeech(request('איטי'), { timeout: 100, retry: { retryCodes: [] } }))).code,
    ).toBe(4);
  });

  test("voice: 'espeak' speaks Hebrew when espeak-ng is installed, else falls back to the tone", async () => {
    const { fake, client } = await setup({ voice: 'espeak' });
    const [res] = await client.synthesizeSpeech(request('שלום'), NO_RETRY);
    const payload = wavPayload(Buffer.from(res.audioContent as Uint8Array));
    expect(fake.requests[0]!.engine).toBe(fake.espeak ? 'espeak' : 'tone');
    expect(payload.equals(fakeTtsAudio('שלום'))).toBe(!fake.espeak);
    expect(payload.length).toBeGreaterThan(0);
  });
});

describe('ListVoices', () => {
  test("lists Google's Hebrew voices in Google's shape", async () => {
    const { fake, client } = await setup();
    const [res] = await client.listVoices({ languageCode: 'he-IL' }, NO_RETRY);
    const names = res.voices!.map((v) => v.name);
    expect(names).toHaveLength(8 + CHIRP3_HD_PERSONAS.length);
    expect(names).toEqual(expect.arrayContaining(['he-IL-Standard-A', 'he-IL-Wavenet-D', 'he-IL-Chirp3-HD-Zephyr']));
    expect(res.voices!.find((v) => v.name === 'he-IL-Wavenet-B')).toEqual({
      name: 'he-IL-Wavenet-B',
      languageCodes: ['he-IL'],
      ssmlGender: 'MALE',
      naturalSampleRateHertz: 24000,
    });
    expect(fake.listVoicesRequests).toEqual(['he-IL']);
  });

  test.each([
    ['he', 8 + CHIRP3_HD_PERSONAS.length, 'he-IL-'],
    ['HE-il', 8 + CHIRP3_HD_PERSONAS.length, 'he-IL-'],
    ['en-US', 3, 'en-US-'],
    ['xx-XX', 0, ''],
  ])('filters by languageCode %s', async (languageCode, count, prefix) => {
    const { client } = await setup();
    const [res] = await client.listVoices({ languageCode }, NO_RETRY);
    expect(res.voices).toHaveLength(count);
    for (const v of res.voices!) expect(v.name!.startsWith(prefix)).toBe(true);
  });

  test('lists every voice without a language', async () => {
    const { client } = await setup();
    const [res] = await client.listVoices({}, NO_RETRY);
    expect(new Set(res.voices!.flatMap((v) => v.languageCodes))).toEqual(new Set(['he-IL', 'en-US', 'ar-XA', 'ru-RU']));
  });
});

describe('quota mode', () => {
  test('answers every RPC with RESOURCE_EXHAUSTED and Google’s text until switched off', async () => {
    const { fake, client } = await setup({ quota: 'exhausted' });
    const exhausted = { code: 8, details: TTS_TEXTS.quotaExhausted };
    expect(await status(client.synthesizeSpeech(request('שלום'), NO_RETRY))).toEqual(exhausted);
    expect(await status(client.listVoices({ languageCode: 'he-IL' }, NO_RETRY))).toEqual(exhausted);
    const stream = streamOf(client, [CHIRP_CONFIG, { input: { text: 'שלום' } }]);
    expect((await stream.done).error).toEqual(exhausted);

    fake.setQuota('rate');
    const rate = await status(client.synthesizeSpeech(request('שלום'), NO_RETRY));
    expect(rate).toEqual({ code: 8, details: TTS_TEXTS.quotaRate });
    expect(rate.details).toMatch(/per minute/);

    fake.setQuota(undefined);
    await expect(client.synthesizeSpeech(request('שלום'), NO_RETRY)).resolves.toBeDefined();
  });
});

// ---------------------------------------------------------------- StreamingSynthesize

const CHIRP_CONFIG = {
  streamingConfig: {
    voice: { languageCode: 'he-IL', name: 'he-IL-Chirp3-HD-Achernar' },
    streamingAudioConfig: { audioEncoding: 'MULAW', sampleRateHertz: 8000 },
  },
};

interface StreamOutcome {
  chunks: Buffer[];
  at: number[];
  error?: { code: number; details: string };
}

/** Writes `messages` on a new StreamingSynthesize call (then half-closes unless told not to) and collects what comes back. */
function streamOf(client: TextToSpeechClient, messages: object[], halfClose = true) {
  const stream = client.streamingSynthesize({ retry: { retryCodes: [] } });
  const out: StreamOutcome = { chunks: [], at: [] };
  const done = new Promise<StreamOutcome>((resolve) => {
    stream.on('data', (r: { audioContent: Buffer }) => {
      out.chunks.push(Buffer.from(r.audioContent));
      out.at.push(Date.now());
    });
    stream.on('error', (e: { code: number; details: string }) =>
      resolve({ ...out, error: { code: e.code, details: e.details } }),
    );
    stream.on('end', () => resolve(out));
  });
  for (const m of messages) stream.write(m);
  if (halfClose) stream.end();
  return { stream, out, done };
}

describe('StreamingSynthesize', () => {
  test('streams each input as several chunks, after firstChunkMs and at the modelled pace', async () => {
    const { fake, client } = await setup({ streaming: { firstChunkMs: 300, chunkMs: 100, realTimeFactor: 0.5 } });
    const texts = ['שלום לך.', 'מה שלומך היום?'];
    const sent = Date.now();
    const { done } = streamOf(client, [CHIRP_CONFIG, ...texts.map((text) => ({ input: { text } }))]);
    const { chunks, at, error } = await done;

    expect(error).toBeUndefined();
    expect(Buffer.concat(chunks).equals(Buffer.concat(texts.map((t) => fakeTtsAudio(t))))).toBe(true);
    const audioMs = Buffer.concat(chunks).length / 8;
    expect(chunks.length).toBeGreaterThanOrEqual(Math.floor(audioMs / 100));
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(800);
    expect(at[0]! - sent).toBeGreaterThanOrEqual(290); // never before the modelled time to first chunk
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual((audioMs - 100) * 0.5 - 20); // never faster than realTimeFactor
    expect(fake.streams[0]).toMatchObject({
      state: 'ended',
      voice: 'he-IL-Chirp3-HD-Achernar',
      inputs: texts,
      halfClosed: true,
    });
  });

  test.each([
    [
      'a voice that is not Chirp 3 HD',
      [
        {
          streamingConfig: {
            ...CHIRP_CONFIG.streamingConfig,
            voice: { languageCode: 'he-IL', name: 'he-IL-Wavenet-A' },
          },
        },
      ],
      TTS_TEXTS.streamingVoice('he-IL-Wavenet-A'),
    ],
    [
      'an unknown voice',
      [{ streamingConfig: { voice: { languageCode: 'he-IL', name: 'he-IL-Chirp3-HD-Nope' } } }],
      TTS_TEXTS.unknownVoice('he-IL-Chirp3-HD-Nope'),
    ],
    ['input before the config', [{ input: { text: 'שלום' } }], TTS_TEXTS.configFirst],
    ['a second config', [CHIRP_CONFIG, CHIRP_CONFIG], TTS_TEXTS.configOnce],
    [
      'LINEAR16',
      [{ streamingConfig: { ...CHIRP_CONFIG.streamingConfig, streamingAudioConfig: { audioEncoding: 'LINEAR16' } } }],
      TTS_TEXTS.streamingEncoding('LINEAR16'),
    ],
    ['an input over 5,000 bytes', [CHIRP_CONFIG, { input: { text: 'א'.repeat(2501) } }], TTS_TEXTS.tooLong],
    ['an empty input', [CHIRP_CONFIG, { input: { text: '' } }], TTS_TEXTS.noInput],
  ])('refuses %s with INVALID_ARGUMENT', async (_what, messages, details) => {
    const { fake, client } = await setup();
    const { chunks, error } = await streamOf(client, messages).done;
    expect(error).toEqual({ code: 3, details });
    expect(chunks).toHaveLength(0);
    expect(fake.streams[0]).toMatchObject({ state: 'failed', fault: { code: 3 } });
  });

  test('a client cancel stops production at once', async () => {
    const { fake, client } = await setup({ streaming: { firstChunkMs: 20, chunkMs: 100, realTimeFactor: 1 } });
    const { stream, out } = streamOf(client, [CHIRP_CONFIG, { input: { text: 'א'.repeat(100) } }], false); // 6 s of audio
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.cancel();
    expect(await fake.waitForStreamClosed(0)).toMatchObject({ state: 'cancelled' });
    const sentAtCancel = fake.streams[0]!.chunkAt.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.streams[0]!.chunkAt).toHaveLength(sentAtCancel);
    expect(sentAtCancel).toBeLessThan(10);
    expect(out.chunks.length).toBeLessThanOrEqual(sentAtCancel);
  });

  test.each([
    ['first', 1],
    ['each-input', 2],
  ] as const)("wavHeader '%s' puts a streaming WAV header before the audio", async (wavHeader, headers) => {
    const { fake, client } = await setup({ streaming: { firstChunkMs: 0, realTimeFactor: 0, wavHeader } });
    const { chunks } = await streamOf(client, [
      CHIRP_CONFIG,
      { input: { text: 'אחת.' } },
      { input: { text: 'שתיים.' } },
    ]).done;
    const isHeader = (c: Buffer) => c.subarray(0, 4).toString('latin1') === 'RIFF';
    expect(chunks.filter(isHeader)).toHaveLength(headers);
    expect(isHeader(chunks[0]!)).toBe(true);
    expect(parseWav(chunks[0]!)).toMatchObject({
      formatTag: WAV_FORMAT.MULAW,
      sampleRate: 8000,
      data: Buffer.alloc(0),
    });
    const audio = Buffer.concat(chunks.filter((c) => !isHeader(c)));
    expect(audio.equals(Buffer.concat([fakeTtsAudio('אחת.'), fakeTtsAudio('שתיים.')]))).toBe(true);
    expect(fake.streams[0]!.headers).toBe(headers);
  });

  test('streaming.fault ends the stream mid-way with its status; failNextStream refuses the next config', async () => {
    const fault = { code: 14, details: 'The service is currently unavailable.' };
    const { fake, client } = await setup({
      streaming: { firstChunkMs: 0, realTimeFactor: 0, fault: (c) => (c.chunksSent === 2 ? fault : undefined) },
    });
    const first = await streamOf(client, [CHIRP_CONFIG, { input: { text: 'א'.repeat(20) } }]).done;
    expect(first.error).toEqual(fault);
    expect(first.chunks).toHaveLength(2);

    fake.failNextStream(7, 'Permission denied.');
    expect((await streamOf(client, [CHIRP_CONFIG]).done).error).toEqual({ code: 7, details: 'Permission denied.' });
    expect(fake.streams.map((s) => s.state)).toEqual(['failed', 'failed']);
  });

  test('without streamingAudioConfig answers headerless 16-bit PCM at 24 kHz; half-close without input ends OK', async () => {
    const { client } = await setup({ streaming: { firstChunkMs: 0, realTimeFactor: 0 } });
    const config = { streamingConfig: { voice: CHIRP_CONFIG.streamingConfig.voice } };
    const { chunks, error } = await streamOf(client, [config, { input: { text: 'שלום' } }]).done;
    expect(error).toBeUndefined();
    expect(Buffer.concat(chunks)).toHaveLength(4 * 60 * 24 * 2); // 4 letters × 60 ms × 24 samples/ms × 2 bytes
    expect(await streamOf(client, [CHIRP_CONFIG]).done).toEqual({ chunks: [], at: [] });
  });
});
