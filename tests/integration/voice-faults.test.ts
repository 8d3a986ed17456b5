import { fakeTtsAudio, DEFAULT_OPENAI_REPLY } from '../../tools/emulators/index.ts';
import { APOLOGY_LINE, FALLBACK_LINE } from '../../media/voice/voice-call.ts';
import { SentenceSplitter } from '../../media/voice/sentence-splitter.ts';
import type { TwilioMediaClient } from '../../tools/twilio/media-client.ts';
import { eventually } from '../helpers/gateway-harness.ts';
import { startVoiceStack, HEBREW, silence, type VoiceStack } from '../helpers/voice-stack.ts';

jest.setTimeout(45_000);

const GREETING = 'שלום, במה אפשר לעזור?';
const audio = (text: string) => fakeTtsAudio(text, { msPerChar: 30 });
const contains = (haystack: Buffer, needle: Buffer) => haystack.indexOf(needle) !== -1;

async function greeted(stack: VoiceStack): Promise<TwilioMediaClient> {
  const client = await stack.call();
  await client.waitFor((e) => e.kind === 'playback-end', 10_000);
  return client;
}

describe('speech-to-text faults', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('keeps recognizing after the STT stream fails mid-call', async () => {
    stack = await startVoiceStack();
    const client = await greeted(stack);
    await eventually(() => stack.stt.activeStreams().length > 0, 5000, 'an open STT stream');
    expect(stack.stt.failActiveStreams(14, 'connection reset by peer')).toBeGreaterThan(0);
    await client.say(HEBREW);
    await stack.openai.waitForRequest(0, 10_000);
    expect(stack.h.logs.events('STT_RESTART').some((r) => r.reason === 'error')).toBe(true);
    expect(stack.stt.streams.length).toBeGreaterThanOrEqual(2);
    await client.stop();
  });

  it('rotates the stream before the provider limit, so long calls keep being understood', async () => {
    // The emulator ends a stream after 4 s of audio, like Google does after 305 s; the gateway's
    // limit is 3 s, so it must rotate first, at a quiet moment.
    stack = await startVoiceStack({ env: { STT_STREAM_LIMIT_MS: '3000' }, stt: { maxStreamAudioMs: 4000 } });
    const client = await greeted(stack);
    for (let i = 0; i < 3; i++) {
      await client.say(Buffer.concat([HEBREW, silence(1500)]));
      await stack.openai.waitForRequest(i, 10_000);
    }
    expect(stack.stt.streams.length).toBeGreaterThanOrEqual(3);
    expect(stack.stt.streams.filter((s) => s.state === 'failed')).toEqual([]);
    expect(stack.h.logs.events('STT_RESTART').some((r) => r.reason === 'rotation')).toBe(true);
    await client.stop();
  });

  it('recovers when the provider ends a stream at its limit (OUT_OF_RANGE)', async () => {
    stack = await startVoiceStack({ stt: { maxStreamAudioMs: 2500 } });
    const client = await greeted(stack);
    await client.say(silence(2000));
    await eventually(() => stack.stt.streams.some((s) => s.state === 'failed'), 5000, 'the emulator to end a stream');
    await client.say(HEBREW);
    await stack.openai.waitForRequest(0, 10_000);
    await client.stop();
  });

  it('apologizes and hangs up when the recognizer refuses the credentials', async () => {
    stack = await startVoiceStack({
      stt: { rejectConfig: () => ({ code: 16, details: 'Request had invalid authentication credentials.' }) },
    });
    const client = await stack.call();
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    expect(contains(client.heard(), audio(APOLOGY_LINE))).toBe(true);
    const failures = stack.h.logs.events('STT_FAILED');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.code).toBe('AUTH');
  });
});

describe('model faults', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('speaks the fallback line when the model answers an error, and the call goes on', async () => {
    // The first turn fails twice (the request and its one retry); the second turn is answered.
    stack = await startVoiceStack({
      openai: { reply: ({ index }) => (index < 2 ? { status: 500, error: { message: 'boom' } } : {}) },
    });
    const client = await greeted(stack);
    await client.say(HEBREW);
    await eventually(() => contains(client.heard(), audio(FALLBACK_LINE)), 10_000, 'the fallback line');
    await eventually(() => !client.isPlaying(), 10_000, 'fallback to finish');
    await client.say(HEBREW);
    const firstSentence = new SentenceSplitter().push(DEFAULT_OPENAI_REPLY)[0]!;
    await eventually(() => contains(client.heard(), audio(firstSentence)), 15_000, 'the next answer');
    expect(stack.h.logs.events('LLM_ERROR')[0]).toMatchObject({ code: 'UNAVAILABLE' });
    expect(stack.openai.requests.length).toBe(3);
    await client.stop();
  });

  it('speaks the fallback line when the model stalls before the first token', async () => {
    stack = await startVoiceStack({
      env: { LLM_FIRST_TOKEN_TIMEOUT_MS: '700' },
      openai: { reply: ({ index }) => (index === 0 ? { stallAfterChunks: 0 } : {}) },
    });
    const client = await greeted(stack);
    await client.say(HEBREW);
    await eventually(() => contains(client.heard(), audio(FALLBACK_LINE)), 10_000, 'the fallback line');
    expect(stack.openai.requests[0]!.abortedByClient).toBe(true);
    expect(stack.h.logs.events('LLM_ERROR')[0]).toMatchObject({ code: 'TIMEOUT' });
    await client.stop();
  });

  it('speaks what was generated before a stall mid-stream', async () => {
    stack = await startVoiceStack({
      env: { LLM_IDLE_TIMEOUT_MS: '600' },
      openai: { reply: () => ({ text: 'המשפט הראשון מגיע. והשני לעולם לא מגיע כי הזרם נתקע', stallAfterChunks: 9 }) },
    });
    const client = await greeted(stack);
    await client.say(HEBREW);
    await eventually(() => contains(client.heard(), audio('המשפט הראשון מגיע.')), 10_000, 'the first sentence');
    await eventually(() => stack.h.logs.events('LLM_ERROR').length > 0, 5000, 'LLM_ERROR');
    expect(stack.h.logs.events('LLM_ERROR')[0]).toMatchObject({ code: 'TIMEOUT', sentencesSpoken: 1 });
    await client.stop();
  });
});

describe('text-to-speech and socket faults', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('survives a failed synthesis: the other sentences play and the next turn works', async () => {
    const sentences = new SentenceSplitter().push(DEFAULT_OPENAI_REPLY);
    stack = await startVoiceStack({
      tts: { fail: (req) => (req.input?.text === sentences[0] ? { code: 3, details: 'bad input' } : undefined) },
    });
    const client = await greeted(stack);
    await client.say(HEBREW);
    await eventually(() => contains(client.heard(), audio(sentences[1]!)), 10_000, 'the second sentence');
    expect(contains(client.heard(), audio(sentences[0]!))).toBe(false);
    expect(stack.h.logs.events('TTS_ERROR')[0]).toMatchObject({ code: 'BAD_REQUEST', sentence: 0 });
    await eventually(() => !client.isPlaying(), 10_000, 'reply to finish');
    await client.say(HEBREW);
    await stack.openai.waitForRequest(1, 10_000);
    await client.stop();
  });

  it('ignores bad frames in the middle of a call', async () => {
    stack = await startVoiceStack();
    const client = await greeted(stack);
    client.sendRaw('this is not json');
    client.sendRaw(Buffer.from([0, 1, 2, 3]));
    client.sendRaw(JSON.stringify({ event: 'media', streamSid: client.streamSid, media: { payload: '%%%' } }));
    client.sendRaw(JSON.stringify({ event: 'hello' }));
    await client.say(HEBREW);
    await stack.openai.waitForRequest(0, 10_000);
    expect(stack.h.logs.events('WS_BAD_MESSAGE').length).toBeGreaterThanOrEqual(4);
    expect(client.violations).toEqual([]);
    await client.stop();
    expect(contains(client.heard(), audio(GREETING))).toBe(true);
  });
});
