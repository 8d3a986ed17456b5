/**
 * The TTS and OpenAI fakes, driven by the real SDK clients configured exactly as the gateway
 * configures them. The STT fakes have their own file (emulator-google-stt.test.ts).
 */
import { grpc } from 'google-gax';
import { TextToSpeechClient } from '@google-cloud/text-to-speech';
import OpenAI from 'openai';
import { parseWav, wavPayload, WAV_FORMAT } from '../../media/audio/wav.ts';
import { DEFAULT_OPENAI_REPLY, fakeTtsAudio, startFakeOpenAI, startFakeTts } from '../../tools/emulators/index.ts';
import type { FakeTtsOptions, FakeOpenAIOptions } from '../../tools/emulators/index.ts';

// Everything a test opens is closed after it, even when an assertion failed half-way.
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Client options that point a Google client at a local fake (providers.md §3.1). */
function local(port: number) {
  return {
    apiEndpoint: '127.0.0.1',
    port,
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
}

describe('fake Google TTS with the real TextToSpeechClient', () => {
  async function setup(opts: FakeTtsOptions = {}) {
    const fake = await startFakeTts(opts);
    const client = new TextToSpeechClient(local(fake.port));
    cleanups.push(
      () => fake.close(),
      () => client.close(),
    );
    return { fake, client };
  }
  const request = (text: string, audioEncoding: string = 'MULAW') => ({
    input: { text },
    voice: { languageCode: 'he-IL', name: 'he-IL-Wavenet-A' },
    audioConfig: { audioEncoding: audioEncoding as 'MULAW', sampleRateHertz: 8000 },
  });
  // The gateway's per-call options: bounded, and no hidden retries (providers.md §2.5).
  const NO_RETRY = { timeout: 2000, retry: { retryCodes: [] } };

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
    expect(fake.requests).toMatchObject([
      { index: 0, text, voice: { languageCode: 'he-IL' }, audioConfig: { audioEncoding: 'MULAW' }, code: 0 },
    ]);
  });

  test('makes the same audio for the same text and different audio for different text', () => {
    expect(fakeTtsAudio('אחת').equals(fakeTtsAudio('אחת'))).toBe(true);
    expect(fakeTtsAudio('אחת').equals(fakeTtsAudio('שתיים'))).toBe(false);
    expect(fakeTtsAudio('')).toHaveLength(200 * 8); // never shorter than 200 ms
  });

  test('failNext is answered with its code, and retry: { retryCodes: [] } stops the client retrying', async () => {
    const { fake, client } = await setup();
    fake.failNext(14, 'backend unavailable');
    await expect(client.synthesizeSpeech(request('שלום'), NO_RETRY)).rejects.toMatchObject({
      code: 14,
      details: 'backend unavailable',
    });
    expect(fake.requests).toHaveLength(1);

    // Without per-call options the generated client retries UNAVAILABLE: the retry hits the fake again.
    fake.failNext(14, 'backend unavailable');
    await client.synthesizeSpeech(request('שלום'));
    expect(fake.requests.map((r) => r.code)).toEqual([14, 14, 0]);
  });

  test('rejects what Google rejects with INVALID_ARGUMENT, and consults opts.fail with the index', async () => {
    const { fake, client } = await setup({
      fail: (_req, index) => (index === 2 ? { code: 8, details: 'quota' } : undefined),
    });
    await expect(client.synthesizeSpeech(request('א'.repeat(2501)), NO_RETRY)).rejects.toMatchObject({ code: 3 }); // 5002 UTF-8 bytes
    await expect(client.synthesizeSpeech(request('שלום', 'MP3'), NO_RETRY)).rejects.toMatchObject({ code: 3 });
    await expect(client.synthesizeSpeech(request('שלום'), NO_RETRY)).rejects.toMatchObject({
      code: 8,
      details: 'quota',
    });
    expect(fake.requests.map((r) => r.code)).toEqual([3, 3, 8]);
  });

  test('holds answers for latencyMs, so a short client timeout ends in DEADLINE_EXCEEDED', async () => {
    const { client } = await setup({ latencyMs: 1000 });
    await expect(
      client.synthesizeSpeech(request('שלום'), { timeout: 100, retry: { retryCodes: [] } }),
    ).rejects.toMatchObject({ code: 4 });
  });

  test("voice: 'espeak' falls back to the tone when espeak-ng is not installed", async () => {
    const { fake, client } = await setup({ voice: 'espeak' });
    const [res] = await client.synthesizeSpeech(request('שלום'), NO_RETRY);
    const payload = wavPayload(Buffer.from(res.audioContent as Uint8Array));
    if (fake.espeak) {
      expect(fake.requests[0]!.engine).toBe('espeak');
      expect(payload.length).toBeGreaterThan(0);
    } else {
      expect(fake.requests[0]!.engine).toBe('tone');
      expect(payload.equals(fakeTtsAudio('שלום'))).toBe(true);
    }
  });

  test('lists Hebrew voices', async () => {
    const { client } = await setup();
    const [res] = await client.listVoices({ languageCode: 'he-IL' });
    expect(res.voices?.map((v) => v.name)).toContain('he-IL-Wavenet-A');
  });
});

describe('fake OpenAI with the real openai SDK', () => {
  async function setup(opts: FakeOpenAIOptions = {}, maxRetries = 0) {
    const fake = await startFakeOpenAI(opts);
    const client = new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, maxRetries });
    cleanups.push(() => fake.close());
    return { fake, client };
  }
  const messages = [{ role: 'user' as const, content: 'שלום' }];

  test('streams the reply in small chunks that assemble to the full text', async () => {
    const { fake, client } = await setup();
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      messages,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: unknown;
    let pieces = 0;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta?.content) pieces++;
      text += choice?.delta?.content ?? '';
      finish = choice?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(DEFAULT_OPENAI_REPLY);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) });
    expect(pieces).toBe(fake.requests[0]!.chunksSent);
    expect(pieces).toBeGreaterThan(10);
    expect(fake.requests[0]).toMatchObject({
      path: '/v1/chat/completions',
      abortedByClient: false,
      body: { model: 'gpt-test', stream: true, messages },
    });
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer test');
  });

  test('answers non-streaming requests with a JSON completion', async () => {
    const { client } = await setup({ reply: () => ({ text: 'בסדר.' }) });
    const res = await client.chat.completions.create({ model: 'gpt-test', messages });
    expect(res.choices[0]?.message.content).toBe('בסדר.');
  });

  test('sees an abort in the middle of the stream as abortedByClient', async () => {
    const { fake, client } = await setup({ reply: () => ({ chunkDelayMs: 20 }) });
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-test', stream: true, messages },
      { signal: ac.signal },
    );
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content && ++received === 2) ac.abort(); // barge-in
    }
    const rec = await fake.waitForAbort(0);
    expect(rec.abortedByClient).toBe(true);
    expect(rec.chunksSent).toBeLessThan(Array.from(DEFAULT_OPENAI_REPLY).length / 3);
  });

  test('keeps a stalled stream open until the client gives up', async () => {
    const { fake, client } = await setup({ reply: () => ({ chunks: ['שלום', ' לך', '!'], stallAfterChunks: 2 }) });
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-test', stream: true, messages },
      { signal: ac.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    const got: string[] = [];
    while (got.length < 2) {
      const { value } = await it.next();
      if (value?.choices[0]?.delta?.content) got.push(value.choices[0].delta.content);
    }
    expect(got).toEqual(['שלום', ' לך']);
    // Nothing more comes, and the fake has not ended the response.
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise((resolve) => (timer = setTimeout(resolve, 150, 'quiet')));
    expect(await Promise.race([it.next().then(() => 'data'), quiet])).toBe('quiet');
    clearTimeout(timer);
    expect(fake.requests[0]!.finishedAt).toBeUndefined();
    ac.abort();
    expect(await fake.waitForAbort(0)).toMatchObject({ abortedByClient: true, chunksSent: 2 });
  });

  test('maps HTTP 500 and 429 to the SDK error classes, and x-should-retry: false stops its retries', async () => {
    const { fake, client } = await setup(
      { reply: ({ index }) => (index === 0 ? { status: 500 } : { status: 429 }) },
      2,
    );
    const r500 = client.chat.completions.create({ model: 'gpt-test', stream: true, messages });
    await expect(r500).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const r429 = client.chat.completions.create({ model: 'gpt-test', stream: true, messages });
    await expect(r429).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(r429).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(fake.requests.map((r) => r.status)).toEqual([500, 429]); // maxRetries: 2, yet one request each
  });

  test('a mid-stream error frame makes the iterator throw after the text already yielded', async () => {
    const { client } = await setup({ reply: () => ({ chunks: ['א', 'ב', 'ג', 'ד'], midStreamError: true }) });
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, messages });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(text).toBe('אב');
  });
});
