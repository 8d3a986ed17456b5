/**
 * The Google STT fake, driven by the real SDK client configured exactly as the gateway configures it.
 * (The TTS and OpenAI emulators have their own files: emulator-google-tts.test.ts, emulator-openai.test.ts.)
 * Audio is pushed much faster than real time: the STT fake counts audio time, not wall-clock time.
 */
import { grpc } from 'google-gax';
import { SpeechClient } from '@google-cloud/speech';
import { MULAW_SILENCE, pcm16ToMulaw } from '../../media/audio/mulaw.ts';
import { DEFAULT_STT_TRANSCRIPTS, startFakeStt } from '../../tools/emulators/index.ts';
import type { FakeSttOptions } from '../../tools/emulators/index.ts';

// Everything a test opens is closed after it, even when an assertion failed half-way.
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
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

describe('fake Google STT with the real SpeechClient', () => {
  async function setup(opts: FakeSttOptions = {}) {
    const fake = await startFakeStt(opts);
    const client = new SpeechClient(local(fake.port));
    cleanups.push(
      () => fake.close(),
      () => client.close(),
    );
    return { fake, client };
  }

  /** Writes `audio` through the helper stream; resolves when the stream ends or errors. */
  function recognize(
    client: SpeechClient,
    audio: Buffer[],
    { halfClose = true, config = STREAM_CONFIG as object } = {},
  ) {
    const stream = client.streamingRecognize(config);
    const run: SttRun = { responses: [] };
    const done = new Promise<SttRun>((resolve) => {
      stream.on('data', (r: unknown) => run.responses.push(r));
      stream.on('error', (err: Error & { code?: number; details?: string }) => {
        run.error = { code: err.code, details: err.details, message: err.message };
        resolve(run);
      });
      stream.on('end', () => resolve(run));
    });
    for (const chunk of audio) stream.write(chunk);
    if (halfClose) stream.end();
    return { stream, done };
  }

  const transcriptsOf = (run: SttRun) =>
    run.responses
      .flatMap((r) => r.results)
      .map((r: any) => ({ text: r.alternatives[0].transcript, isFinal: r.isFinal }));

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
