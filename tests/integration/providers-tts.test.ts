/**
 * GoogleSynthesizer, SynthesisCache and listVoices with the real TextToSpeechClient against the
 * wire-level TTS emulator, whose MULAW answers are WAV files with `fact` and `LIST` chunks before
 * `data`, and which refuses what Google refuses.
 */
import net from 'node:net';
import { parseConfig } from '../../config/config.ts';
import { buildWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import { ProviderClients } from '../../media/providers/clients.ts';
import { GoogleSynthesizer, mulawPayload, SynthesisCache, voiceLanguage } from '../../media/providers/google-tts.ts';
import { listVoices } from '../../media/providers/google-tts-voices.ts';
import { ProviderError } from '../../media/providers/types.ts';
import type { Synthesis, Synthesizer } from '../../media/providers/types.ts';
import { CHIRP3_HD_PERSONAS, fakeTtsAudio, startFakeTts, TTS_TEXTS } from '../../tools/emulators/index.ts';
import type { FakeTts, FakeTtsOptions } from '../../tools/emulators/index.ts';

jest.setTimeout(15_000);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const TEXT = 'שלום, איך אפשר לעזור?';

async function setup(
  env: Record<string, string> = {},
  fakeOpts: FakeTtsOptions = {},
): Promise<{ fake: FakeTts; tts: GoogleSynthesizer; clients: ProviderClients }> {
  const fake = await startFakeTts(fakeOpts);
  const config = parseConfig({ GOOGLE_TTS_EMULATOR_HOST: fake.address, ...env }).voice;
  const clients = new ProviderClients(config);
  cleanups.push(
    () => fake.close(),
    () => clients.close(),
  );
  return { fake, tts: new GoogleSynthesizer(clients, config, { retryDelayMs: 10 }), clients };
}

/** The ProviderError `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(err)}`);
  return err;
}

describe('GoogleSynthesizer', () => {
  test('returns exactly the μ-law of the data chunk, header and extra chunks stripped', async () => {
    const { fake, tts } = await setup();
    const result = await tts.synthesize(TEXT, new AbortController().signal);

    expect(result.mulaw.equals(fakeTtsAudio(TEXT))).toBe(true);
    expect(result.synthMs).toBeGreaterThanOrEqual(0);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      text: TEXT,
      voice: { languageCode: 'he-IL', name: 'he-IL-Wavenet-A' },
      audioConfig: { audioEncoding: 'MULAW', sampleRateHertz: 8000 },
      code: 0,
    });
  });

  test('derives the language code from TTS_VOICE', async () => {
    const { fake, tts } = await setup({ TTS_VOICE: 'he-IL-Standard-B' });
    await tts.synthesize(TEXT, new AbortController().signal);
    expect(fake.requests[0]!.voice).toMatchObject({ languageCode: 'he-IL', name: 'he-IL-Standard-B' });
    expect(voiceLanguage('he-IL-Chirp3-HD-Achernar')).toBe('he-IL');
    expect(voiceLanguage('cmn-CN-Wavenet-A')).toBe('cmn-CN');
  });

  test('uses the per-request voice, with the language its name starts with', async () => {
    const { fake, tts } = await setup();
    await tts.synthesize(TEXT, new AbortController().signal, { voice: 'he-IL-Chirp3-HD-Kore' });
    await tts.synthesize('hello', new AbortController().signal, { voice: 'en-US-Wavenet-D' });
    await tts.synthesize(TEXT, new AbortController().signal);
    expect(fake.requests.map((r) => r.voice)).toMatchObject([
      { languageCode: 'he-IL', name: 'he-IL-Chirp3-HD-Kore' },
      { languageCode: 'en-US', name: 'en-US-Wavenet-D' },
      { languageCode: 'he-IL', name: 'he-IL-Wavenet-A' },
    ]);
    expect(fake.requests.map((r) => r.code)).toEqual([0, 0, 0]);
  });

  test.each([
    ['TTS_VOICE', { TTS_VOICE: 'he-IL-Wavenet-Z' }, undefined],
    ['a per-request voice', {}, 'he-IL-Wavenet-Z'],
  ])('an unknown %s is a permanent BAD_REQUEST carrying Google’s text, not retried', async (_what, env, voice) => {
    const { fake, tts } = await setup(env);
    const err = await rejection(tts.synthesize(TEXT, new AbortController().signal, voice ? { voice } : {}));
    expect(err).toMatchObject({ code: 'BAD_REQUEST', permanent: true, vendorCode: 3 });
    expect(err.message).toContain(TTS_TEXTS.unknownVoice('he-IL-Wavenet-Z'));
    expect(err.message).toContain('TTS_VOICE'); // the hint names the setting to change
    expect(fake.requests).toHaveLength(1);
  });

  test('an exhausted quota is a permanent QUOTA; a per-minute quota is RATE_LIMITED and retried once', async () => {
    const { fake, tts } = await setup({}, { quota: 'exhausted' });
    expect(await rejection(tts.synthesize(TEXT, new AbortController().signal))).toMatchObject({
      code: 'QUOTA',
      permanent: true,
      vendorCode: 8,
    });
    expect(fake.requests).toHaveLength(1);
    fake.setQuota('rate');
    expect(await rejection(tts.synthesize(TEXT, new AbortController().signal))).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
    });
    expect(fake.requests).toHaveLength(3);
  });

  test.each([
    [3, 'Voice he-IL-Nope does not exist.', 'BAD_REQUEST', 1],
    [16, 'Request had invalid authentication credentials.', 'AUTH', 1],
    [7, 'Cloud Text-to-Speech API has not been used in project 42.', 'AUTH', 1],
  ])('a fault %i is classified and not retried', async (code, details, ours, requests) => {
    const { fake, tts } = await setup();
    fake.failNext(code, details);
    const err = await rejection(tts.synthesize(TEXT, new AbortController().signal));
    expect(err).toMatchObject({ provider: 'tts', code: ours, vendorCode: code, retryable: false });
    expect(err.message).toMatch(/^Google Text-to-Speech: /);
    expect(err.message).toContain(details);
    expect(fake.requests).toHaveLength(requests);
  });

  test('a retryable fault is retried once: success on the second try', async () => {
    const { fake, tts } = await setup();
    fake.failNext(14, 'The service is currently unavailable.');
    const result = await tts.synthesize(TEXT, new AbortController().signal);
    expect(result.mulaw.equals(fakeTtsAudio(TEXT))).toBe(true);
    expect(fake.requests.map((r) => r.code)).toEqual([14, 0]);
  });

  test('a retryable fault twice gives UNAVAILABLE after exactly two requests', async () => {
    const { fake, tts } = await setup();
    fake.failNext(14, 'The service is currently unavailable.', 2);
    const err = await rejection(tts.synthesize(TEXT, new AbortController().signal));
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true, vendorCode: 14 });
    expect(fake.requests).toHaveLength(2);
  });

  test('TTS_TIMEOUT_MS bounds the call: TIMEOUT, and no retry once the budget is spent', async () => {
    const { fake, tts } = await setup({ TTS_TIMEOUT_MS: '200' }, { latencyMs: 3000 });
    const err = await rejection(tts.synthesize(TEXT, new AbortController().signal));
    expect(err).toMatchObject({ code: 'TIMEOUT', vendorCode: 4 });
    expect(fake.requests).toHaveLength(1);
  });

  test('rejects with ABORTED as soon as the signal aborts, before the fake answers', async () => {
    const { fake, tts } = await setup({}, { latencyMs: 3000 });
    const abort = new AbortController();
    const pending = tts.synthesize(TEXT, abort.signal);
    await new Promise<void>((resolve) => {
      const poll = (): unknown => (fake.requests.length > 0 ? resolve() : setTimeout(poll, 2));
      poll();
    });
    abort.abort();
    const err = await rejection(pending);
    expect(err).toMatchObject({ code: 'ABORTED', provider: 'tts', retryable: false });
    expect(fake.requests[0]!.code).toBeUndefined(); // still pending on the server side
    expect(fake.requests).toHaveLength(1);
  });

  test('an already aborted signal sends nothing', async () => {
    const { fake, tts } = await setup();
    const abort = new AbortController();
    abort.abort();
    expect(await rejection(tts.synthesize(TEXT, abort.signal))).toMatchObject({ code: 'ABORTED' });
    expect(fake.requests).toHaveLength(0);
  });

  test('refuses empty text and text over 5000 UTF-8 bytes before calling', async () => {
    const { fake, tts } = await setup({}, { msPerChar: 1 });
    const long = 'א'.repeat(2501); // 5002 bytes
    expect(await rejection(tts.synthesize(long, new AbortController().signal))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await rejection(tts.synthesize('  ', new AbortController().signal))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(fake.requests).toHaveLength(0);
    await expect(tts.synthesize('א'.repeat(2500), new AbortController().signal)).resolves.toBeDefined();
  });
});

describe('mulawPayload', () => {
  const audio = fakeTtsAudio('בדיקה');
  const mulawFmt = { formatTag: WAV_FORMAT.MULAW, channels: 1, sampleRate: 8000, bitsPerSample: 8 };

  test('takes the data chunk of a μ-law 8 kHz mono WAV, and headerless bytes as they are', () => {
    expect(mulawPayload(buildWav(audio, mulawFmt)).equals(audio)).toBe(true);
    expect(mulawPayload(audio).equals(audio)).toBe(true);
    expect(mulawPayload(new Uint8Array(audio)).equals(audio)).toBe(true);
  });

  test.each([
    [
      'PCM16',
      buildWav(Buffer.alloc(800), { formatTag: WAV_FORMAT.PCM, channels: 1, sampleRate: 8000, bitsPerSample: 16 }),
    ],
    ['μ-law at 24 kHz', buildWav(audio, { ...mulawFmt, sampleRate: 24000 })],
    ['stereo μ-law', buildWav(audio, { ...mulawFmt, channels: 2 })],
    ['a truncated WAV', buildWav(audio, mulawFmt).subarray(0, 30)],
    ['a WAV without audio', buildWav(Buffer.alloc(0), mulawFmt)],
    ['nothing', Buffer.alloc(0)],
  ])('refuses %s with BAD_AUDIO', (_what, body) => {
    expect(() => mulawPayload(body)).toThrow(expect.objectContaining({ code: 'BAD_AUDIO', provider: 'tts' }));
  });
});

describe('SynthesisCache', () => {
  test('concurrent requests for the same text share one synthesis; later ones are hits', async () => {
    const { fake, tts } = await setup({}, { latencyMs: 50 });
    const cache = new SynthesisCache(tts, { voice: 'he-IL-Wavenet-A' });
    const signal = new AbortController().signal;
    const [a, b, c] = await Promise.all([
      cache.synthesize(TEXT, signal),
      cache.synthesize(TEXT, signal),
      cache.synthesize('אחר', signal),
    ]);
    expect(fake.requests.map((r) => r.text).sort()).toEqual([TEXT, 'אחר'].sort());
    expect(a.mulaw.equals(fakeTtsAudio(TEXT))).toBe(true);
    expect(b.mulaw).toBe(a.mulaw);
    expect(c.mulaw.equals(fakeTtsAudio('אחר'))).toBe(true);

    const again = await cache.synthesize(TEXT, signal);
    expect(again).toEqual({ mulaw: a.mulaw, synthMs: 0 });
    expect(fake.requests).toHaveLength(2);
  });

  test('failures are not cached', async () => {
    const { fake, tts } = await setup();
    const cache = new SynthesisCache(tts, { voice: 'he-IL-Wavenet-A' });
    fake.failNext(3, 'bad');
    await expect(cache.synthesize(TEXT, new AbortController().signal)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(cache.synthesize(TEXT, new AbortController().signal)).resolves.toMatchObject({
      mulaw: expect.any(Buffer),
    });
    expect(fake.requests).toHaveLength(2);
  });

  test('one waiter aborting does not cancel the others; all aborting cancels the synthesis', async () => {
    const calls: AbortSignal[] = [];
    let release: ((s: Synthesis) => void) | undefined;
    const inner: Synthesizer = {
      synthesize: (_text, signal) => {
        calls.push(signal);
        return new Promise((resolve) => (release = resolve));
      },
    };
    const cache = new SynthesisCache(inner, { voice: 'v' });
    const first = new AbortController();
    const second = new AbortController();
    const p1 = cache.synthesize(TEXT, first.signal);
    const p2 = cache.synthesize(TEXT, second.signal);
    first.abort();
    await expect(p1).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls[0]!.aborted).toBe(false);
    release!({ mulaw: Buffer.from([1, 2, 3]), synthMs: 5 });
    await expect(p2).resolves.toMatchObject({ mulaw: Buffer.from([1, 2, 3]) });

    const third = new AbortController();
    const p3 = cache.synthesize('אחר', third.signal);
    third.abort();
    await expect(p3).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls[1]!.aborted).toBe(true);
  });

  test('keys by voice: the same text in another voice is synthesized again, in that voice', async () => {
    const { fake, tts } = await setup();
    const cache = new SynthesisCache(tts, { voice: 'he-IL-Wavenet-A' });
    const s = new AbortController().signal;
    await cache.synthesize(TEXT, s);
    await cache.synthesize(TEXT, s, { voice: 'he-IL-Wavenet-A' });
    await cache.synthesize(TEXT, s, { voice: 'he-IL-Standard-B' });
    await cache.synthesize(TEXT, s, { voice: 'he-IL-Standard-B' });
    expect(fake.requests.map((r) => r.voice?.name)).toEqual(['he-IL-Wavenet-A', 'he-IL-Standard-B']);
  });

  test('keeps at most maxEntries texts, evicting the least recently used', async () => {
    let n = 0;
    const inner: Synthesizer = { synthesize: async () => ({ mulaw: Buffer.from([n++]), synthMs: 1 }) };
    const cache = new SynthesisCache(inner, { voice: 'v', maxEntries: 2 });
    const s = new AbortController().signal;
    await cache.synthesize('a', s);
    await cache.synthesize('b', s);
    await cache.synthesize('a', s); // a is now the most recent
    await cache.synthesize('c', s); // evicts b
    expect(n).toBe(3);
    await cache.synthesize('a', s);
    expect(n).toBe(3);
    await cache.synthesize('b', s);
    expect(n).toBe(4);
  });
});

describe('listVoices', () => {
  test("lists Google's voices for a language, with TTS_VOICE among them", async () => {
    const { fake, clients } = await setup();
    const voices = await listVoices(clients, 'he-IL');
    expect(voices).toHaveLength(8 + CHIRP3_HD_PERSONAS.length);
    expect(voices).toContainEqual({
      name: 'he-IL-Wavenet-A',
      languageCodes: ['he-IL'],
      ssmlGender: 'FEMALE',
      naturalSampleRateHertz: 24000,
    });
    expect(await listVoices(clients, 'xx-XX')).toEqual([]);
    expect(fake.listVoicesRequests).toEqual(['he-IL', 'xx-XX']);
  });

  test('classifies failures and never retries them', async () => {
    const { fake, clients } = await setup({}, { quota: 'exhausted' });
    await expect(listVoices(clients, 'he-IL')).rejects.toMatchObject({ provider: 'tts', code: 'QUOTA' });
    expect(fake.listVoicesRequests).toHaveLength(1);
  });

  test('gives up with TIMEOUT after timeoutMs when the server never answers', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket)); // accepts, never speaks HTTP/2
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const port = (silent.address() as net.AddressInfo).port;
    const config = parseConfig({ GOOGLE_TTS_EMULATOR_HOST: `127.0.0.1:${port}` }).voice;
    const clients = new ProviderClients(config);
    cleanups.push(() => clients.close());
    const started = Date.now();
    await expect(listVoices(clients, 'he-IL', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('an abort rejects with ABORTED at once', async () => {
    const { clients } = await setup();
    const abort = new AbortController();
    abort.abort();
    await expect(listVoices(clients, 'he-IL', { signal: abort.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
