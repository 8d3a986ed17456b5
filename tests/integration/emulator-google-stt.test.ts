/**
 * The Google STT emulators (v1 and v2), driven by the real SDK clients configured exactly as the
 * gateway configures them: what they recognise, and every refusal they share with Google. Audio is
 * pushed much faster than real time: the fakes count audio time, not wall-clock time.
 */
import { grpc } from 'google-gax';
import { SpeechClient, v2 } from '@google-cloud/speech';
import { MULAW_SILENCE, pcm16ToMulaw } from '../../media/audio/mulaw.ts';
import { DEFAULT_STT_TRANSCRIPTS, startFakeStt, startFakeSttV2 } from '../../tools/emulators/index.ts';
import type { FakeSttOptions, FakeSttV2Options, SttV2Request } from '../../tools/emulators/index.ts';

// Everything a test opens is closed after it, even when an assertion failed half-way.
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  // The status of a stream cut by the fake's shutdown arrives a moment later, and the SDK loads
  // files to parse it: let that happen before jest tears the module environment down.
  await new Promise((r) => setTimeout(r, 25));
});

/** `ms` of a loud 440 Hz tone as 8 kHz μ-law: "speech" to the fake's energy detector. */
function tone(ms: number): Buffer {
  const pcm = new Int16Array(ms * 8);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return pcm16ToMulaw(pcm);
}

/** `ms` of μ-law digital silence. */
function silence(ms: number): Buffer {
  return Buffer.alloc(ms * 8, MULAW_SILENCE);
}

/** Cuts audio into 100 ms writes, the size the gateway batches Twilio frames into. */
function frames(...parts: Buffer[]): Buffer[] {
  const all = Buffer.concat(parts);
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += 800) out.push(all.subarray(i, i + 800));
  return out;
}

/** Client options that point a Google client at a local fake (providers.md §3.1). */
function local(port: number) {
  return {
    apiEndpoint: '127.0.0.1',
    port,
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
}

const STREAM_CONFIG = {
  config: {
    encoding: 'MULAW' as const,
    sampleRateHertz: 8000,
    languageCode: 'iw-IL',
    enableAutomaticPunctuation: true,
  },
  interimResults: true,
};

interface SttRun {
  responses: any[];
  error?: { code?: number; details?: string; message: string };
}

/** Collects a stream's responses; resolves on its end or error. */
function collect(stream: NodeJS.EventEmitter): Promise<SttRun> {
  const run: SttRun = { responses: [] };
  return new Promise<SttRun>((resolve) => {
    stream.on('data', (r: unknown) => run.responses.push(r));
    stream.on('error', (err: Error & { code?: number; details?: string }) => {
      run.error = { code: err.code, details: err.details, message: err.message };
      resolve(run);
    });
    stream.on('end', () => resolve(run));
  });
}

const transcriptsOf = (run: SttRun) =>
  run.responses.flatMap((r) => r.results).map((r: any) => ({ text: r.alternatives[0].transcript, isFinal: r.isFinal }));

async function setup(opts: FakeSttOptions = {}) {
  const fake = await startFakeStt(opts);
  const client = new SpeechClient(local(fake.port));
  cleanups.push(
    () => fake.close(),
    () => client.close(),
  );
  return { fake, client };
}

/** Writes `audio` through the v1 helper stream; `done` resolves when the stream ends or errors. */
function recognize(client: SpeechClient, audio: Buffer[], { halfClose = true, config = STREAM_CONFIG as object } = {}) {
  const stream = client.streamingRecognize(config);
  const done = collect(stream);
  for (const chunk of audio) stream.write(chunk);
  if (halfClose) stream.end();
  return { stream, done };
}

/** The v1 raw stream with exactly the messages given (no helper adding the config). */
function rawV1(client: SpeechClient, messages: object[]) {
  const stream = client._streamingRecognize();
  const done = collect(stream);
  for (const m of messages) stream.write(m);
  stream.end();
  return done;
}

/** A v1 config with `patch` merged into its RecognitionConfig. */
const v1Config = (patch: object, extra: object = {}) => ({
  ...STREAM_CONFIG,
  ...extra,
  config: { ...STREAM_CONFIG.config, ...patch },
});

describe('fake Google STT v1 with the real SpeechClient', () => {
  test('sends interims with a growing prefix every 300 ms of speech, then the final after 300 ms of silence', async () => {
    const { fake, client } = await setup();
    const finalSeen = fake.waitForEvent('final');
    const run = await recognize(client, frames(silence(200), tone(1000), silence(600))).done;

    expect(run.error).toBeUndefined();
    const words = DEFAULT_STT_TRANSCRIPTS[0]!.split(' ');
    expect(transcriptsOf(run)).toEqual([
      { text: words.slice(0, 1).join(' '), isFinal: false },
      { text: words.slice(0, 2).join(' '), isFinal: false },
      { text: words.slice(0, 3).join(' '), isFinal: false },
      { text: DEFAULT_STT_TRANSCRIPTS[0], isFinal: true },
    ]);
    const final = run.responses.at(-1).results[0];
    expect(final.resultEndTime).toEqual({ seconds: '1', nanos: 200_000_000 }); // speech ended at 200 + 1000 ms of audio
    expect(final.languageCode).toBe('iw-il');
    expect(await finalSeen).toMatchObject({ stream: 0, utterance: 0, resultEndMs: 1200 });
    expect(fake.streams[0]).toMatchObject({ audioBytes: 1800 * 8, state: 'ended', results: 4 });
    expect(fake.streams[0]!.config).toMatchObject({
      interimResults: true,
      config: { encoding: 'MULAW', sampleRateHertz: 8000, languageCode: 'iw-IL' },
    });
  });

  test('gives each utterance its own transcript and honours interimResults: false', async () => {
    const seen: unknown[] = [];
    const { client } = await setup({
      transcript: (ctx) => {
        seen.push(ctx);
        return `משפט ${ctx.utteranceIndex}`;
      },
    });
    const config = { ...STREAM_CONFIG, interimResults: false };
    const run = await recognize(client, frames(tone(400), silence(400), tone(600), silence(400)), { config }).done;

    expect(transcriptsOf(run)).toEqual([
      { text: 'משפט 0', isFinal: true },
      { text: 'משפט 1', isFinal: true },
    ]);
    expect(seen).toEqual([
      { utteranceIndex: 0, streamIndex: 0, speechMs: 400 },
      { utteranceIndex: 1, streamIndex: 0, speechMs: 600 },
    ]);
  });

  test('finalDelayMs holds a final back without reordering it against later results', async () => {
    const { client } = await setup({ finalDelayMs: 50, transcript: ({ utteranceIndex }) => `תור ${utteranceIndex}` });
    const run = await recognize(client, frames(tone(400), silence(300), tone(300), silence(300))).done;
    expect(transcriptsOf(run)).toEqual([
      { text: 'תור', isFinal: false },
      { text: 'תור 0', isFinal: true },
      { text: 'תור', isFinal: false },
      { text: 'תור 1', isFinal: true },
    ]);
  });

  test('treats speech shorter than minSpeechMs as noise and sends nothing', async () => {
    const { fake, client } = await setup();
    const noise = fake.waitForEvent('noise');
    const run = await recognize(client, frames(silence(100), tone(100), silence(500))).done;

    expect(run.error).toBeUndefined();
    expect(run.responses).toEqual([]);
    expect(await noise).toMatchObject({ speechMs: 100 });
  });

  test('recognises pending speech when the client half-closes mid-utterance', async () => {
    const { client } = await setup();
    const run = await recognize(client, frames(tone(500))).done;
    expect(transcriptsOf(run).at(-1)).toEqual({ text: DEFAULT_STT_TRANSCRIPTS[0], isFinal: true });
  });

  test('sends voice-activity events when asked', async () => {
    const { client } = await setup();
    const config = { ...STREAM_CONFIG, interimResults: false, enableVoiceActivityEvents: true };
    const run = await recognize(client, frames(silence(100), tone(400), silence(400)), { config }).done;
    expect(run.responses.map((r) => r.speechEventType)).toEqual([
      'SPEECH_ACTIVITY_BEGIN',
      'SPEECH_ACTIVITY_END',
      'SPEECH_EVENT_UNSPECIFIED',
    ]);
    expect(run.responses[0].speechEventTime).toEqual({ seconds: '0', nanos: 100_000_000 });
  });

  test('ends a stream that carries more than maxStreamAudioMs of audio with 11 OUT_OF_RANGE', async () => {
    const { fake, client } = await setup({ maxStreamAudioMs: 1000 });
    const run = await recognize(client, frames(silence(1500)), { halfClose: false }).done;
    expect(run.error).toMatchObject({ code: 11, details: 'Exceeded maximum allowed stream duration of 305 seconds.' });
    expect(fake.streams[0]).toMatchObject({ state: 'failed', fault: { code: 11 } });
  });

  test('ends an idle stream with the Audio Timeout error', async () => {
    const { client } = await setup({ idleTimeoutMs: 100 });
    const run = await recognize(client, frames(silence(100)), { halfClose: false }).done;
    expect(run.error?.code).toBe(11);
    expect(run.error?.details).toMatch(/^Audio Timeout Error/);
  });

  test('failActiveStreams reaches the client as an error with that code', async () => {
    const { fake, client } = await setup();
    const configured = fake.waitForEvent('config');
    const { done } = recognize(client, frames(silence(100)), { halfClose: false });
    await configured;
    expect(fake.activeStreams()).toHaveLength(1);
    expect(fake.failActiveStreams(14, 'connection reset')).toBe(1);
    const run = await done;
    expect(run.error).toMatchObject({ code: 14, details: 'connection reset' });
    expect(fake.activeStreams()).toHaveLength(0);
  });

  test('failStreamAfterAudioMs fails only the first failStreamCount streams', async () => {
    const { fake, client } = await setup({ failStreamAfterAudioMs: 500, failStreamCount: 1 });
    const first = await recognize(client, frames(silence(1000)), { halfClose: false }).done;
    expect(first.error).toMatchObject({ code: 14 });
    expect(fake.streams[0]!.audioBytes).toBeGreaterThanOrEqual(500 * 8);
    const second = await recognize(client, frames(silence(1000))).done;
    expect(second.error).toBeUndefined();
    expect(fake.streams.map((s) => s.state)).toEqual(['failed', 'ended']);
  });

  test('rejects configs: by the rejectConfig hook and for encodings it cannot decode', async () => {
    const { client } = await setup({
      rejectConfig: (cfg) => (cfg.config?.languageCode === 'xx-XX' ? { code: 7, details: 'denied' } : undefined),
    });
    const denied = await recognize(client, frames(silence(100)), {
      config: { config: { ...STREAM_CONFIG.config, languageCode: 'xx-XX' } },
    }).done;
    expect(denied.error).toMatchObject({ code: 7, details: 'denied' });
    const flac = await recognize(client, frames(silence(100)), {
      config: { config: { ...STREAM_CONFIG.config, encoding: 'FLAC' } },
    }).done;
    expect(flac.error?.code).toBe(3);
  });

  test('sees a cancel of the raw gax stream as a cancelled stream', async () => {
    const { fake, client } = await setup();
    const configured = fake.waitForEvent('config');
    const closed = fake.waitForEvent('closed');
    const raw = client._streamingRecognize();
    raw.on('error', () => {}); // the client side reports 1 CANCELLED; only the server's view matters here
    raw.write({ streamingConfig: STREAM_CONFIG });
    await configured;
    raw.cancel();
    expect(await closed).toMatchObject({ stream: 0, state: 'cancelled' });
  });

  test('documents an SDK trap: destroy() on the helper stream does not cancel the call, so it idles out', async () => {
    const { fake, client } = await setup({ idleTimeoutMs: 100 });
    const configured = fake.waitForEvent('config');
    const closed = fake.waitForEvent('closed');
    const { stream } = recognize(client, frames(silence(100)), { halfClose: false });
    await configured;
    stream.destroy();
    expect(await closed).toMatchObject({ stream: 0, state: 'failed', code: 11 });
  });
});

describe('v1 refuses what Google refuses', () => {
  const modelText = (lang: string) =>
    `Invalid recognition 'config': The requested model is currently not supported for language : ${lang}.`;

  test.each([
    ['iw-IL', undefined],
    ['iw-IL', 'default'],
    ['iw-IL', 'command_and_search'],
    ['he-IL', undefined],
    ['he-IL', 'command_and_search'],
    ['en-US', 'latest_short'],
  ])('accepts %s with model %s', async (languageCode, model) => {
    const { fake, client } = await setup();
    const run = await recognize(client, frames(tone(400), silence(400)), {
      config: v1Config({ languageCode, ...(model ? { model } : {}) }),
    }).done;
    expect(run.error).toBeUndefined();
    expect(transcriptsOf(run).at(-1)).toEqual({ text: DEFAULT_STT_TRANSCRIPTS[0], isFinal: true });
    expect(fake.streams[0]!.recognition).toEqual({ languages: [languageCode], model: model ?? '', phrases: [] });
  });

  test.each([
    ['iw-IL', 'latest_short'],
    ['iw-IL', 'latest_long'],
    ['iw-IL', 'phone_call'],
    ['he-IL', 'telephony'],
    ['he-IL', 'no_such_model'],
  ])('refuses %s with model %s with INVALID_ARGUMENT and Google’s text', async (languageCode, model) => {
    const { fake, client } = await setup();
    const run = await recognize(client, frames(silence(100)), { config: v1Config({ languageCode, model }) }).done;
    expect(run.error).toMatchObject({ code: 3, details: modelText(languageCode) });
    expect(fake.streams[0]).toMatchObject({ state: 'failed', recognition: null, audioBytes: 0 });
  });

  test('languageModels replaces the table (an UNCONFIRMED model can be allowed in a test)', async () => {
    const { client } = await setup({ languageModels: { 'iw-il': ['latest_long'] } });
    const ok = await recognize(client, frames(silence(100)), { config: v1Config({ model: 'latest_long' }) }).done;
    expect(ok.error).toBeUndefined();
    const unset = await recognize(client, frames(silence(100))).done;
    expect(unset.error).toMatchObject({ code: 3, details: modelText('iw-IL') });
  });

  test.each([
    [{ languageCode: 'xx-XX' }, "Invalid recognition 'config': bad language code."],
    [{ languageCode: '' }, "Invalid recognition 'config': missing language_code."],
    [{ encoding: 'ENCODING_UNSPECIFIED' }, "Invalid recognition 'config': bad encoding."],
    [{ encoding: 'FLAC' }, 'The fake recognizer supports MULAW and LINEAR16, not FLAC.'],
    [{ sampleRateHertz: 7999 }, "Invalid recognition 'config': bad sample rate hertz."],
    [{ sampleRateHertz: 48001 }, "Invalid recognition 'config': bad sample rate hertz."],
    [{ audioChannelCount: 2 }, 'Invalid audio channel count'],
  ])('refuses the config %j', async (patch, details) => {
    const { client } = await setup();
    const run = await recognize(client, frames(silence(100)), { config: v1Config(patch) }).done;
    expect(run.error).toMatchObject({ code: 3, details });
  });

  test('takes 8000 to 48000 Hz and an explicit single channel for MULAW', async () => {
    const { client } = await setup();
    for (const patch of [{ sampleRateHertz: 48000 }, { audioChannelCount: 1 }]) {
      const run = await recognize(client, frames(silence(100)), { config: v1Config(patch) }).done;
      expect(run.error).toBeUndefined();
    }
  });

  test('allows single_utterance only where the proto does', async () => {
    const { client } = await setup();
    const refused = await recognize(client, frames(silence(100)), {
      config: v1Config({ languageCode: 'en-US', model: 'latest_long' }, { singleUtterance: true }),
    }).done;
    expect(refused.error).toMatchObject({ code: 3 });
    expect(refused.error?.details).toMatch(/single_utterance/);
    const allowed = await recognize(client, frames(silence(100)), { config: v1Config({}, { singleUtterance: true }) })
      .done;
    expect(allowed.error).toBeUndefined();
  });

  test('a first message that is audio, or a second config, is malordered', async () => {
    const { client } = await setup();
    const malordered = {
      code: 3,
      details: 'Malordered Data Received. Send exactly one config, followed by audio data.',
    };
    expect((await rawV1(client, [{ audioContent: silence(100) }])).error).toMatchObject(malordered);
    const twice = await rawV1(client, [{ streamingConfig: STREAM_CONFIG }, { streamingConfig: STREAM_CONFIG }]);
    expect(twice.error).toMatchObject(malordered);
  });

  test('refuses an audio message over 25,600 bytes and takes one of exactly that size', async () => {
    const { fake, client } = await setup();
    const fits = await rawV1(client, [{ streamingConfig: STREAM_CONFIG }, { audioContent: silence(3200) }]);
    expect(fits.error).toBeUndefined();
    expect(fake.streams[0]!.audioBytes).toBe(25_600);
    const tooLong = await rawV1(client, [
      { streamingConfig: STREAM_CONFIG },
      { audioContent: Buffer.alloc(25_601, 0xff) },
    ]);
    expect(tooLong.error).toMatchObject({ code: 3, details: 'Invalid audio content: too long.' });
    expect(fake.streams[1]!.audioBytes).toBe(0);
  });

  test('records speech contexts, and refuses phrases beyond Google’s limits', async () => {
    const { fake, client } = await setup();
    const speechContexts = [{ phrases: ['מספר הזמנה', 'רחוב הרצל'], boost: 12 }, { phrases: ['דנה'] }];
    const run = await recognize(client, frames(silence(100)), { config: v1Config({ speechContexts }) }).done;
    expect(run.error).toBeUndefined();
    expect(fake.streams[0]!.recognition!.phrases).toEqual([
      { value: 'מספר הזמנה', boost: 12 },
      { value: 'רחוב הרצל', boost: 12 },
      { value: 'דנה', boost: 0 },
    ]);
    const limits: Array<[string[], RegExp]> = [
      [Array.from({ length: 5001 }, (_, i) => `p${i}`), /5001 phrases exceed the limit of 5000/],
      [['א'.repeat(101)], /101 characters exceeds the limit of 100/],
      [Array.from({ length: 1001 }, (_, i) => `${i}`.padEnd(100, 'ב')), /100100 characters of phrases exceed/],
    ];
    for (const [phrases, text] of limits) {
      const refused = await recognize(client, frames(silence(100)), {
        config: v1Config({ speechContexts: [{ phrases }] }),
      }).done;
      expect(refused.error).toMatchObject({ code: 3 });
      expect(refused.error?.details).toMatch(text);
    }
  });

  test('spurious-final mode: finals without speech, after N ms of audio and on demand', async () => {
    const { fake, client } = await setup({ spuriousFinalAtMs: [300, 600], spuriousFinalText: 'אהה' });
    const { stream, done } = recognize(client, frames(silence(700)), { halfClose: false });
    await fake.waitForEvent('final', (e) => e.resultEndMs === 600);
    expect(fake.spuriousFinal({ text: 'כן', confidence: 0.4 })).toBe(1);
    await fake.waitForEvent('final', (e) => e.transcript === 'כן');
    stream.end();
    const run = await done;
    expect(run.error).toBeUndefined();
    expect(run.responses.map((r) => r.results[0].alternatives[0])).toEqual([
      { transcript: 'אהה', confidence: 0, words: [] },
      { transcript: 'אהה', confidence: 0, words: [] },
      { transcript: 'כן', confidence: expect.closeTo(0.4, 5), words: [] },
    ]);
    expect(run.responses.every((r) => r.results[0].isFinal)).toBe(true);
    expect(fake.spuriousFinal()).toBe(0); // no open stream
  });

  test('finalConfidence sets the confidence of finals of real speech; spurious ones are flagged', async () => {
    const events: unknown[] = [];
    const { client } = await setup({ finalConfidence: 0, spuriousFinalAtMs: [100], onEvent: (e) => events.push(e) });
    const run = await recognize(client, frames(silence(100), tone(400), silence(400)), {
      config: { ...STREAM_CONFIG, interimResults: false },
    }).done;
    expect(run.responses.map((r) => r.results[0].alternatives[0].confidence)).toEqual([0, 0]);
    expect(events.filter((e: any) => e.type === 'final')).toMatchObject([
      { spurious: true, utterance: -1, transcript: 'אה' },
      { spurious: false, utterance: 0, transcript: DEFAULT_STT_TRANSCRIPTS[0] },
    ]);
  });
});

async function setupV2(opts: FakeSttV2Options = {}) {
  const fake = await startFakeSttV2(opts);
  const client = new v2.SpeechClient(local(fake.port));
  cleanups.push(
    () => fake.close(),
    () => client.close(),
  );
  return { fake, client };
}

const RECOGNIZER = 'projects/p1/locations/eu/recognizers/_';

/** A valid first v2 request, with `config`/`features` patched in. */
function firstV2(patch: { recognizer?: string; config?: object; features?: object } = {}): SttV2Request {
  return {
    recognizer: patch.recognizer ?? RECOGNIZER,
    streamingConfig: {
      config: {
        explicitDecodingConfig: { encoding: 'MULAW', sampleRateHertz: 8000, audioChannelCount: 1 },
        languageCodes: ['iw-IL'],
        model: 'chirp_3',
        ...patch.config,
      },
      streamingFeatures: { interimResults: true, ...patch.features },
    },
  };
}

/** The raw v2 stream: the first request, then `audio` messages, then a half-close. */
function recognizeV2(client: v2.SpeechClient, first: object, audio: Buffer[], { halfClose = true } = {}) {
  const stream = client._streamingRecognize();
  const done = collect(stream);
  stream.write(first);
  for (const chunk of audio) stream.write({ audio: chunk });
  if (halfClose) stream.end();
  return { stream, done };
}

describe('fake Google STT v2 with the real v2 SpeechClient', () => {
  test('recognises speech with interims, a final and resultEndOffset, and records the request', async () => {
    const { fake, client } = await setupV2();
    const adaptation = {
      phraseSets: [{ inlinePhraseSet: { phrases: [{ value: 'רחוב הרצל', boost: 15 }, { value: 'דנה' }], boost: 5 } }],
    };
    const first = firstV2({ config: { adaptation } });
    const run = await recognizeV2(client, first, frames(silence(200), tone(1000), silence(600))).done;

    expect(run.error).toBeUndefined();
    const words = DEFAULT_STT_TRANSCRIPTS[0]!.split(' ');
    expect(transcriptsOf(run)).toEqual([
      { text: words.slice(0, 1).join(' '), isFinal: false },
      { text: words.slice(0, 2).join(' '), isFinal: false },
      { text: words.slice(0, 3).join(' '), isFinal: false },
      { text: DEFAULT_STT_TRANSCRIPTS[0], isFinal: true },
    ]);
    const final = run.responses.at(-1).results[0];
    expect(final.resultEndOffset).toEqual({ seconds: '1', nanos: 200_000_000 });
    expect(final).not.toHaveProperty('resultEndTime');
    expect(final.languageCode).toBe('iw-il');
    expect(fake.streams[0]).toMatchObject({
      state: 'ended',
      audioBytes: 1800 * 8,
      config: { recognizer: RECOGNIZER, streamingConfig: { config: { model: 'chirp_3', languageCodes: ['iw-IL'] } } },
      recognition: {
        languages: ['iw-IL'],
        model: 'chirp_3',
        phrases: [
          { value: 'רחוב הרצל', boost: 15 },
          { value: 'דנה', boost: 5 },
        ],
      },
    });
  });

  test.each([
    'projects/p1/recognizers/_',
    'projects/p1/locations/eu/recognizers/',
    'locations/eu/recognizers/_',
    'projects//locations/eu/recognizers/_',
    '',
  ])('refuses the malformed recognizer path %j', async (recognizer) => {
    const { client } = await setupV2();
    const run = await recognizeV2(client, firstV2({ recognizer }), frames(silence(100))).done;
    expect(run.error).toMatchObject({ code: 3, details: 'Invalid resource field value in the request.' });
  });

  test('with a location set, refuses a recognizer in another location, as a regional endpoint does', async () => {
    const { client } = await setupV2({ location: 'eu' });
    const us = await recognizeV2(client, firstV2({ recognizer: 'projects/p1/locations/us/recognizers/_' }), []).done;
    expect(us.error).toMatchObject({
      code: 3,
      details: 'Expected resource location to be eu, but found us in resource name.',
    });
    const eu = await recognizeV2(client, firstV2(), frames(silence(100))).done;
    expect(eu.error).toBeUndefined();
  });

  test('a named recognizer other than "_" is not found', async () => {
    const { client } = await setupV2();
    const run = await recognizeV2(client, firstV2({ recognizer: 'projects/p1/locations/eu/recognizers/mine' }), [])
      .done;
    expect(run.error).toMatchObject({ code: 5 });
  });

  test.each([
    ['autoDecodingConfig', { explicitDecodingConfig: null, autoDecodingConfig: {} }],
    ['no decoding config', { explicitDecodingConfig: null }],
  ])('headerless μ-law with %s is refused on the first audio', async (_name, config) => {
    const { fake, client } = await setupV2();
    const run = await recognizeV2(client, firstV2({ config }), frames(silence(100))).done;
    expect(run.error).toMatchObject({ code: 3 });
    expect(run.error?.details).toMatch(/^Audio data does not appear to be in a supported encoding/);
    expect(fake.streams[0]).toMatchObject({ audioBytes: 0, state: 'failed' });
  });

  test.each([
    [{ encoding: 'MULAW', sampleRateHertz: 8000, audioChannelCount: 0 }, /audio channel count value: 0/],
    [{ encoding: 'MULAW', sampleRateHertz: 0, audioChannelCount: 1 }, /sample rate hertz value: 0/],
    [{ encoding: 'MULAW', sampleRateHertz: 8000, audioChannelCount: 9 }, /maximum allowed value is 8/],
    [{ encoding: 'AUDIO_ENCODING_UNSPECIFIED', sampleRateHertz: 8000, audioChannelCount: 1 }, /encoding/],
  ])('refuses the explicit decoding config %j', async (explicitDecodingConfig, text) => {
    const { client } = await setupV2();
    const run = await recognizeV2(client, firstV2({ config: { explicitDecodingConfig } }), []).done;
    expect(run.error).toMatchObject({ code: 3 });
    expect(run.error?.details).toMatch(text);
  });

  test('checks the model/language pair against its table (an emulator option)', async () => {
    const { client } = await setupV2();
    const unknown = await recognizeV2(client, firstV2({ config: { model: 'latest_foo' } }), []).done;
    expect(unknown.error).toMatchObject({
      code: 3,
      details: 'The model "latest_foo" does not exist in the location named "eu".',
    });
    const hebrewTelephony = await recognizeV2(client, firstV2({ config: { model: 'telephony' } }), []).done;
    expect(hebrewTelephony.error).toMatchObject({
      code: 3,
      details: 'The language "iw-IL" is not supported by the model "telephony" in the location named "eu".',
    });
    for (const model of ['chirp_3', 'chirp_2']) {
      const ok = await recognizeV2(
        client,
        firstV2({ config: { model, languageCodes: ['he-IL'] } }),
        frames(silence(100)),
      ).done;
      expect(ok.error).toBeUndefined();
    }
    const none = await recognizeV2(client, firstV2({ config: { languageCodes: [] } }), []).done;
    expect(none.error).toMatchObject({ code: 3 });

    const { client: custom } = await setupV2({ modelLanguages: { telephony: ['iw-IL'] } });
    const allowed = await recognizeV2(custom, firstV2({ config: { model: 'telephony' } }), frames(silence(100))).done;
    expect(allowed.error).toBeUndefined();
  });

  test('refuses an audio message over 15,360 bytes with Google’s text, and an empty one', async () => {
    const { client } = await setupV2();
    const fits = await recognizeV2(client, firstV2(), [Buffer.alloc(15_360, 0xff)]).done;
    expect(fits.error).toBeUndefined();
    const tooLong = await recognizeV2(client, firstV2(), [Buffer.alloc(15_361, 0xff)]).done;
    expect(tooLong.error).toMatchObject({
      code: 3,
      details: 'Audio chunk can be of a a maximum of 15360 bytes. Received audio of 15361 bytes instead.',
    });
    const empty = await recognizeV2(client, firstV2(), [Buffer.alloc(0)]).done;
    expect(empty.error).toMatchObject({ code: 3 });
    expect(empty.error?.details).toMatch(/Expected audio but none was set/);
  });

  test('audio before the config is malordered', async () => {
    const { client } = await setupV2();
    const stream = client._streamingRecognize();
    const done = collect(stream);
    stream.write({ recognizer: RECOGNIZER, audio: silence(100) });
    stream.end();
    expect((await done).error).toMatchObject({ code: 3, details: expect.stringMatching(/^Malordered Data Received/) });
  });

  test('refuses phrase boosts outside 0–20', async () => {
    const { client } = await setupV2();
    const adaptation = { phraseSets: [{ inlinePhraseSet: { phrases: [{ value: 'דנה', boost: 21 }] } }] };
    const run = await recognizeV2(client, firstV2({ config: { adaptation } }), []).done;
    expect(run.error).toMatchObject({ code: 3, details: expect.stringMatching(/between 0 and 20/) });
  });

  test('ends a stream at its duration limit with 10 ABORTED, as v2 does', async () => {
    const { client } = await setupV2({ maxStreamAudioMs: 1000 });
    const run = await recognizeV2(client, firstV2(), frames(silence(1500)), { halfClose: false }).done;
    expect(run.error).toMatchObject({ code: 10, details: 'Max duration of 5 minutes reached for stream.' });
  });

  test('shares scripting, spurious finals and faults with v1', async () => {
    const { fake, client } = await setupV2({ transcript: () => 'בדיקה', spuriousFinalAtMs: [100] });
    const { stream, done } = recognizeV2(
      client,
      firstV2({ features: { interimResults: false } }),
      frames(silence(200), tone(400), silence(400)),
      {
        halfClose: false,
      },
    );
    await fake.waitForEvent('final', (e) => !e.spurious);
    expect(fake.failActiveStreams(14, 'connection reset')).toBe(1);
    const run = await done;
    stream.destroy();
    expect(transcriptsOf(run)).toEqual([
      { text: 'אה', isFinal: true },
      { text: 'בדיקה', isFinal: true },
    ]);
    expect(run.error).toMatchObject({ code: 14, details: 'connection reset' });
  });
});
