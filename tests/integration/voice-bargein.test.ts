import { fakeTtsAudio } from '../../tools/emulators/index.ts';
import { INTERRUPTION_MARKER } from '../../media/voice/conversation.ts';
import type { TwilioMediaClient } from '../../tools/twilio/media-client.ts';
import { eventually } from '../helpers/gateway-harness.ts';
import { startVoiceStack, HEBREW, NOISE, type VoiceStack } from '../helpers/voice-stack.ts';

jest.setTimeout(40_000);

// Five sentences of about 1.2 s of audio each (30 ms per character in the TTS emulator).
const SENTENCES = [
  'המרפאה שלנו פתוחה בימים ראשון עד חמישי.',
  'שעות הפעילות הן משמונה בבוקר ועד שש בערב.',
  'ביום שישי אנחנו פתוחים רק עד הצהריים.',
  'אפשר לקבוע תור גם דרך האתר שלנו בכל שעה.',
  'האם תרצו שאקבע עבורכם תור כבר עכשיו?',
];
const LONG_REPLY = SENTENCES.join(' ');
const audio = (text: string) => fakeTtsAudio(text, { msPerChar: 30 });

/** Waits until the reply to the caller's turn is audibly playing, `intoMs` into it. */
async function replyPlaying(client: TwilioMediaClient, afterMs: number, intoMs: number): Promise<number> {
  const start = await client.waitFor((e) => e.kind === 'playback-start' && e.atMs > afterMs, 15_000);
  await new Promise((r) => setTimeout(r, intoMs));
  return start.atMs;
}

/** Client-clock time of the first speech frame sent after `afterMs`. */
function speechOnset(client: TwilioMediaClient, afterMs: number): number {
  const e = client.events.find((x) => x.kind === 'sent-media' && x.detail.speech && x.atMs > afterMs);
  if (!e) throw new Error('no speech frame sent');
  return e.atMs;
}

describe('barge-in', () => {
  let stack: VoiceStack;
  beforeAll(async () => {
    stack = await startVoiceStack({
      // The model streams slowly, so the reply is still being generated when the caller cuts in.
      openai: { reply: () => ({ text: LONG_REPLY, chunkDelayMs: 45 }) },
    });
  });
  afterAll(() => stack.stop());

  it('clears Twilio, aborts the model, and keeps only what the caller heard in the history', async () => {
    const firstRequest = stack.openai.requests.length;
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const turn1 = await client.say(HEBREW);
    await stack.openai.waitForRequest(firstRequest, 10_000);
    // About 1.8 s into the reply: sentence 1 heard whole, sentence 2 partly.
    await replyPlaying(client, turn1.endedAtMs, 1800);
    const interruptAt = client.now();
    const speaking = client.say(HEBREW);
    const clear = await client.waitFor((e) => e.kind === 'recv-clear' && e.atMs > interruptAt, 5000);
    const onset = speechOnset(client, interruptAt);
    expect(clear.atMs - onset).toBeLessThanOrEqual(300);

    // The model request of the interrupted reply was cancelled.
    const aborted = await stack.openai.waitForAbort(firstRequest, 5000);
    expect(aborted.abortedByClient).toBe(true);

    // Twilio echoed the pending marks at once; nothing of that reply plays afterwards.
    const heardAtClear = client.heard().length;
    await speaking;
    const next = await stack.openai.waitForRequest(firstRequest + 1, 10_000);
    const history = next.body.messages as Array<{ role: string; content: string }>;
    const cut = history.filter((m) => m.role === 'assistant').at(-1)!.content;
    expect(cut.endsWith(INTERRUPTION_MARKER)).toBe(true);
    expect(cut.startsWith(SENTENCES[0]!)).toBe(true);
    for (const unheard of SENTENCES.slice(2)) expect(cut).not.toContain(unheard);
    expect(history.at(-1)!.role).toBe('user');

    // What the caller heard of the cut reply is exactly sentence 1 plus the start of sentence 2.
    const greeting = audio('שלום, במה אפשר לעזור?');
    const heardReply = client.heard().subarray(greeting.length, heardAtClear);
    const s1 = audio(SENTENCES[0]!);
    expect(heardReply.subarray(0, s1.length).equals(s1)).toBe(true);
    expect(heardReply.length).toBeLessThan(s1.length + audio(SENTENCES[1]!).length);

    const log = stack.h.logs.events('BARGE_IN').find((r) => r.callSid === client.callSid);
    expect(log).toBeDefined();
    expect(log!.heardChars as number).toBeGreaterThanOrEqual(SENTENCES[0]!.length);
    expect(log!.reactionMs as number).toBeLessThanOrEqual(300);
    expect(client.violations).toEqual([]);
    await client.stop();
  });

  it('does not let a short noise cut the agent off', async () => {
    const before = stack.openai.requests.length;
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const turn = await client.say(HEBREW);
    await stack.openai.waitForRequest(before, 10_000);
    await replyPlaying(client, turn.endedAtMs, 800);
    await client.say(NOISE);
    const expected = audio('שלום, במה אפשר לעזור?').length + SENTENCES.reduce((n, s) => n + audio(s).length, 0);
    await eventually(() => client.heard().length >= expected, 20_000, 'the whole reply');
    expect(client.events.some((e) => e.kind === 'recv-clear')).toBe(false);
    expect(stack.openai.requests[before]!.abortedByClient).toBe(false);
    await client.stop();
  });
});

describe('with BARGE_IN=false', () => {
  let stack: VoiceStack;
  beforeAll(async () => {
    stack = await startVoiceStack({
      env: { BARGE_IN: 'false' },
      openai: { reply: () => ({ text: SENTENCES.slice(0, 3).join(' ') }) },
    });
  });
  afterAll(() => stack.stop());

  it('keeps talking through caller speech and answers it afterwards', async () => {
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const turn = await client.say(HEBREW);
    await stack.openai.waitForRequest(0, 10_000);
    await replyPlaying(client, turn.endedAtMs, 500);
    await client.say(HEBREW);
    const second = await stack.openai.waitForRequest(1, 15_000);
    expect(client.events.some((e) => e.kind === 'recv-clear')).toBe(false);
    const assistant = (second.body.messages as Array<{ role: string; content: string }>)
      .filter((m) => m.role === 'assistant')
      .at(-1)!;
    expect(assistant.content).toBe(SENTENCES.slice(0, 3).join(' '));
    await client.stop();
  });
});
