/**
 * The Speech-to-Text v2 adapter (Chirp) with the real v2 SpeechClient against the v2 emulator, its
 * settings, and the choice between v1 and v2. The session contract it shares with v1 (events,
 * restarts, rotation, hints, close) is in contract-recognizer.test.ts; this file holds what is v2's
 * own: the first request, the message size, the routing header, the regional endpoint, and what
 * Google refuses on v2.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../config/config.ts';
import { ProviderClients, speechV2Endpoint } from '../../media/providers/clients.ts';
import { createSpeechRecognizer } from '../../media/providers/google-stt-factory.ts';
import { GoogleSpeechRecognizer } from '../../media/providers/google-stt.ts';
import { GoogleSpeechRecognizerV2, sttV2FirstRequest } from '../../media/providers/google-stt-v2.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';
import { createVoiceServices, voiceCallFactory } from '../../media/voice/services.ts';
import { TwilioMediaClient } from '../../tools/twilio/media-client.ts';
import {
  DEFAULT_STT_TRANSCRIPTS,
  fakeTtsAudio,
  startFakeOpenAI,
  startFakeSttV2,
  startFakeTts,
} from '../../tools/emulators/index.ts';
import type { FakeSttV2Options } from '../../tools/emulators/index.ts';
import { eventually, startGateway } from '../helpers/gateway-harness.ts';
import { isType, runSession, silence, SPEECH, UTTERANCE } from '../helpers/recognizer-harness.ts';
import { parseConnectStream } from '../helpers/twiml.ts';

jest.setTimeout(15_000);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  // The status of a stream cut by the fake's shutdown arrives a moment later, and the SDK loads
  // files to parse it: let that happen before jest tears the module environment down.
  await new Promise((r) => setTimeout(r, 25));
});

const V2_ENV = { STT_API: 'v2', STT_LOCATION: 'eu', GOOGLE_CLOUD_PROJECT: 'acme-voice' };

async function start(env: Record<string, string> = {}, fakeOpts: FakeSttV2Options = {}, hints?: string[]) {
  const fake = await startFakeSttV2({ location: 'eu', ...fakeOpts });
  const config = parseConfig({ ...V2_ENV, GOOGLE_STT_EMULATOR_HOST: fake.address, ...env }).voice;
  const clients = new ProviderClients(config);
  cleanups.push(
    () => fake.close(),
    () => clients.close(),
  );
  const recognizer = new GoogleSpeechRecognizerV2(clients, config, { restartBaseDelayMs: 5, restartMaxDelayMs: 20 });
  const run = runSession(recognizer, cleanups, hints ? { hints } : {});
  return { fake, config, run };
}

describe('GoogleSpeechRecognizerV2', () => {
  test('sends the recognizer, explicit 8 kHz mono μ-law, STT_LANGUAGE, STT_MODEL and interim results; recognises Hebrew', async () => {
    const { fake, run } = await start({ STT_MODEL: 'chirp_2', STT_LANGUAGE: 'he-IL' });
    await run.stream(UTTERANCE);
    expect(await run.next(isType('final'))).toMatchObject({ text: DEFAULT_STT_TRANSCRIPTS[0] });
    expect(run.events.filter(isType('interim')).length).toBeGreaterThan(1);
    const first = fake.streams[0]!.config!;
    expect(first.recognizer).toBe('projects/acme-voice/locations/eu/recognizers/_');
    expect(first.streamingConfig).toMatchObject({
      config: {
        explicitDecodingConfig: { encoding: 'MULAW', sampleRateHertz: 8000, audioChannelCount: 1 },
        languageCodes: ['he-IL'],
        model: 'chirp_2',
        adaptation: null,
      },
      streamingFeatures: { interimResults: true },
    });
    // proto-loader names the oneof member that was set.
    expect((first.streamingConfig!.config as { decodingConfig?: string }).decodingConfig).toBe(
      'explicitDecodingConfig',
    );
  });

  test('STT_MODEL unset means chirp_3; the emulator project stands in for GOOGLE_CLOUD_PROJECT', async () => {
    const { fake, run } = await start({ GOOGLE_CLOUD_PROJECT: '' });
    run.feed(silence(200));
    await fake.waitForEvent('config');
    expect(fake.streams[0]!.config).toMatchObject({
      recognizer: 'projects/local-emulator/locations/eu/recognizers/_',
      streamingConfig: { config: { model: 'chirp_3', languageCodes: ['iw-IL'] } },
    });
  });

  test('hints become one inline phrase set, each phrase boosted by STT_HINT_BOOST, capped to Google’s limits', async () => {
    const hints = ['  דנה   כהן ', 'רחוב הרצל', 'דנה כהן', '', 'א'.repeat(101)];
    const { fake, run } = await start({ STT_HINT_BOOST: '7.5' }, {}, hints);
    run.feed(silence(200));
    await fake.waitForEvent('config');
    expect(fake.streams[0]!.config!.streamingConfig!.config!.adaptation).toMatchObject({
      phraseSets: [
        {
          inlinePhraseSet: {
            phrases: [
              { value: 'דנה כהן', boost: 7.5 },
              { value: 'רחוב הרצל', boost: 7.5 },
            ],
          },
        },
      ],
    });
    expect(fake.streams[0]!.recognition!.phrases).toEqual([
      { value: 'דנה כהן', boost: 7.5 },
      { value: 'רחוב הרצל', boost: 7.5 },
    ]);
  });

  test('STT_HINT_BOOST=0 sends the phrases without a boost', () => {
    const config = parseConfig({ ...V2_ENV, STT_HINT_BOOST: '0' }).voice;
    const phrases = sttV2FirstRequest(config, ['דנה']).streamingConfig!.config!.adaptation!.phraseSets![0]!
      .inlinePhraseSet!.phrases;
    expect(phrases).toEqual([{ value: 'דנה' }]);
  });

  test('audio written in pieces over 15,360 bytes is split into messages Google takes', async () => {
    const { fake, run } = await start();
    await fake.waitForEvent('config');
    run.session.write(silence(5000)); // 40,000 bytes in one write
    run.session.write(UTTERANCE);
    expect(await run.next(isType('final'))).toMatchObject({ text: DEFAULT_STT_TRANSCRIPTS[0] });
    const closed = fake.waitForEvent('closed');
    run.session.close(); // half-close: the fake ends the stream once it has read everything
    expect(await closed).toMatchObject({ state: 'ended' });
    expect(fake.streams[0]!.audioBytes).toBe(40_000 + UTTERANCE.length);
    expect(run.events.filter(isType('failed'))).toEqual([]);
  });

  test('the stream carries an x-goog-request-params header naming the recognizer', async () => {
    const { fake, run } = await start();
    run.feed(silence(100));
    await fake.waitForEvent('config');
    expect(fake.streams[0]!.metadata['x-goog-request-params']).toBe(
      `recognizer=${encodeURIComponent('projects/acme-voice/locations/eu/recognizers/_')}`,
    );
  });

  test.each([
    [{ STT_LOCATION: 'us' }, 'Expected resource location to be eu, but found us in resource name.'],
    [{ STT_MODEL: 'telephony' }, 'The language "iw-IL" is not supported by the model "telephony"'],
    [{ STT_MODEL: 'latest_short' }, 'The model "latest_short" does not exist in the location named "eu".'],
  ])('what Google refuses on v2 (%j) fails the session once as BAD_REQUEST', async (env, text) => {
    const { fake, run } = await start(env);
    run.feed(silence(300));
    const failed = await run.next(isType('failed'));
    expect(failed).toMatchObject({ error: { code: 'BAD_REQUEST', permanent: true, vendorCode: 3 } });
    expect((failed as { error: Error }).error.message).toContain(text);
    expect((failed as { error: Error }).error.message).toMatch(/check STT_LANGUAGE and STT_MODEL/);
    expect(await run.settle(100)).toEqual([]);
    expect(fake.streams).toHaveLength(1);
  });

  test('v2’s 5-minute cap (10 ABORTED) restarts the stream, and the hard limit rotates before it', async () => {
    const capped = await start({ STT_STREAM_LIMIT_MS: '60000' }, { maxStreamAudioMs: 1000 });
    await capped.run.stream(silence(1500));
    expect(await capped.run.next(isType('restarted'))).toMatchObject({
      reason: 'error',
      streamIndex: 1,
      error: { code: 'UNAVAILABLE', vendorCode: 10, retryable: true },
    });

    const rotating = await start({ STT_STREAM_LIMIT_MS: '10000' }, { maxStreamAudioMs: 10_500 });
    await rotating.run.stream(silence(22_000));
    await rotating.run.stream(UTTERANCE);
    expect(await rotating.run.next(isType('final'))).toMatchObject({ text: DEFAULT_STT_TRANSCRIPTS[0] });
    expect(rotating.run.events.filter(isType('restarted'))).toEqual([
      { type: 'restarted', reason: 'rotation', streamIndex: 1 },
      { type: 'restarted', reason: 'rotation', streamIndex: 2 },
    ]);
    expect(rotating.fake.streams.map((s) => s.fault)).toEqual([undefined, undefined, undefined]);
  });
});

describe('choosing the API and its endpoint', () => {
  test('createSpeechRecognizer picks v2 for STT_API=v2 and v1 otherwise', () => {
    const clients = new ProviderClients(parseConfig({}).voice);
    cleanups.push(() => clients.close());
    const v2 = parseConfig({ ...V2_ENV }).voice;
    expect(createSpeechRecognizer(clients, v2)).toBeInstanceOf(GoogleSpeechRecognizerV2);
    expect(createSpeechRecognizer(clients, parseConfig({}).voice)).toBeInstanceOf(GoogleSpeechRecognizer);
  });

  test('a regional location has its own endpoint; global uses the default host', () => {
    expect(speechV2Endpoint('eu')).toBe('eu-speech.googleapis.com');
    expect(speechV2Endpoint('us-central1')).toBe('us-central1-speech.googleapis.com');
    expect(speechV2Endpoint('global')).toBeUndefined();
  });

  test('on Google Cloud, the v2 client is created on the regional endpoint of STT_LOCATION', async () => {
    // A syntactically valid service account: the client initialises without contacting Google.
    const dir = mkdtempSync(join(tmpdir(), 'stt-v2-'));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(dir, 'key.json');
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: 'acme-voice',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        client_email: 'stt@acme-voice.iam.gserviceaccount.com',
      }),
    );
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
    try {
      for (const [location, endpoint] of [
        ['eu', 'eu-speech.googleapis.com'],
        ['global', 'speech.googleapis.com'],
      ]) {
        const clients = new ProviderClients(parseConfig({ ...V2_ENV, STT_LOCATION: location! }).voice);
        const client = await clients.speechV2();
        // The SDK's public `apiEndpoint` getter always reports the default host; the channel is
        // opened on the service path the client was given, which is what matters.
        expect((client as unknown as { _opts: { servicePath: string } })._opts.servicePath).toBe(endpoint);
        await clients.close();
      }
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('STT settings', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      parseConfig(env);
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return [...(e as ConfigError).problems];
    }
  };

  test('defaults: v1, location eu, no project, hint boost 10', () => {
    expect(parseConfig({}).voice).toMatchObject({
      sttApi: 'v1',
      sttLocation: 'eu',
      googleCloudProject: undefined,
      sttHintBoost: 10,
    });
  });

  test('STT_API=v2 needs GOOGLE_CLOUD_PROJECT unless an emulator is set, listed with every other problem', () => {
    const listed = problems({ STT_API: 'v2', EOU_MS: 'x' });
    expect(listed).toHaveLength(2);
    expect(listed.find((p) => p.startsWith('GOOGLE_CLOUD_PROJECT:'))).toMatch(/required when STT_API=v2/);
    expect(listed.find((p) => p.startsWith('EOU_MS:'))).toBeDefined();
    expect(problems({ STT_API: 'v2', GOOGLE_STT_EMULATOR_HOST: '127.0.0.1:9' })).toEqual([]);
    expect(problems({ STT_API: 'V2', GOOGLE_CLOUD_PROJECT: 'acme-voice' })).toEqual([]);
    expect(problems({ STT_API: 'v1' })).toEqual([]);
  });

  test.each([
    [{ STT_API: 'v3' }, 'STT_API'],
    [{ STT_LOCATION: 'eu west' }, 'STT_LOCATION'],
    [{ STT_LOCATION: 'eu/' }, 'STT_LOCATION'],
    [{ GOOGLE_CLOUD_PROJECT: 'projects/acme' }, 'GOOGLE_CLOUD_PROJECT'],
    [{ STT_HINT_BOOST: '21' }, 'STT_HINT_BOOST'],
    [{ STT_HINT_BOOST: '-1' }, 'STT_HINT_BOOST'],
    [{ STT_HINT_BOOST: 'high' }, 'STT_HINT_BOOST'],
  ])('refuses %j naming the variable', (env, name) => {
    const listed = problems(env);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.startsWith(`${name}:`)).toBe(true);
  });

  test('parses and normalises values', () => {
    const v = parseConfig({
      STT_API: 'V2',
      STT_LOCATION: 'US-Central1',
      GOOGLE_CLOUD_PROJECT: 'acme-voice',
      STT_HINT_BOOST: '12.5',
    }).voice;
    expect(v).toMatchObject({
      sttApi: 'v2',
      sttLocation: 'us-central1',
      googleCloudProject: 'acme-voice',
      sttHintBoost: 12.5,
    });
  });
});

describe('a whole call on STT_API=v2', () => {
  test('the caller’s Hebrew reaches the model through the v2 emulator, and the agent answers', async () => {
    const stt = await startFakeSttV2({ location: 'eu', transcript: () => 'אני רוצה לקבוע תור' });
    const tts = await startFakeTts({ msPerChar: 30 });
    const openai = await startFakeOpenAI();
    cleanups.push(() => Promise.all([stt.close(), tts.close(), openai.close()]));
    const env = {
      ...V2_ENV,
      GOOGLE_STT_EMULATOR_HOST: stt.address,
      GOOGLE_TTS_EMULATOR_HOST: tts.address,
      OPENAI_BASE_URL: openai.baseURL,
      OPENAI_API_KEY: 'test-key',
      AGENT_GREETING: 'שלום, במה אפשר לעזור?',
    };
    const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', ...env });
    const runtime = createVoiceServices(
      config.voice,
      createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] }),
    );
    const h = await startGateway(env, { callFactory: voiceCallFactory(runtime.services) });
    cleanups.push(() => runtime.close());
    cleanups.push(() => h.stop());

    const callSid = 'CA' + 'b'.repeat(32);
    const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: callSid, From: '+972501111111', To: '+972722222222' }),
    });
    const { parameters } = parseConnectStream(await res.text());
    const client = await TwilioMediaClient.connect(h.wsUrl, { callSid, customParameters: parameters });
    cleanups.push(() => client.close());
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(Buffer.concat([SPEECH, silence(100)]));

    const request = await openai.waitForRequest(0, 10_000);
    const messages = request.body.messages as Array<{ role: string; content: string }>;
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'אני רוצה לקבוע תור' });
    expect(stt.streams[0]!.config).toMatchObject({
      recognizer: 'projects/acme-voice/locations/eu/recognizers/_',
      streamingConfig: { config: { model: 'chirp_3', languageCodes: ['iw-IL'] } },
    });
    expect(h.logs.events('STT_FINAL').length).toBeGreaterThan(0);
    const greeting = fakeTtsAudio(env.AGENT_GREETING, { msPerChar: 30 }).length;
    await eventually(() => client.heard().length > greeting + 8000, 15_000, 'a second of the answer to play');
  });
});
