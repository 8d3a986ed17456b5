/**
 * The agent listens like a person, end to end with the Twilio-like client and real Hebrew speech:
 * an acknowledgement (כן) during the agent's reply pauses it and it goes on (heard to its end, not
 * a turn, not an interruption), a real word interrupts; steady street noise does not cut the agent
 * off while speech over the same noise does (speech detector); a dictated number with a pause is
 * one turn; phrase hints from the agent and the CRM reach the recognizer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { INTERRUPTION_MARKER } from '../../media/voice/conversation.ts';
import { loadSpeechDetectorModel } from '../../media/audio/speech-detector.ts';
import { fakeTtsAudio, type TranscriptContext } from '../../tools/emulators/index.ts';
import { eventually } from '../helpers/gateway-harness.ts';
import { FIXTURES, HEBREW, silence, startVoiceStack, type VoiceStack } from '../helpers/voice-stack.ts';

jest.setTimeout(60_000);

const KEN = fs.readFileSync(path.join(FIXTURES, 'caller-ken.ulaw'));
const noise = (name: string) => fs.readFileSync(path.join(FIXTURES, 'noise', `${name}.ulaw`));
const REPLY = [
  'המרפאה שלנו פתוחה בימים ראשון עד חמישי.',
  'שעות הפעילות הן משמונה בבוקר ועד שש בערב.',
  'ביום שישי אנחנו פתוחים רק עד הצהריים.',
  'אפשר לקבוע תור גם דרך האתר שלנו בכל שעה.',
];
const audio = (text: string) => fakeTtsAudio(text, { msPerChar: 30 });
const contains = (hay: Buffer, needle: Buffer) => hay.indexOf(needle.subarray(needle.length - 800)) !== -1;

/** Transcripts in the order the caller's utterances happen, whatever stream they fall in. */
function inOrder(...texts: string[]): (ctx: TranscriptContext) => string {
  const seen = new Map<string, number>();
  return (ctx) => {
    const key = `${ctx.streamIndex}.${ctx.utteranceIndex}`;
    if (!seen.has(key)) seen.set(key, seen.size);
    return texts[Math.min(seen.get(key)!, texts.length - 1)]!;
  };
}

describe('backchannels', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  async function replyPlaying(words: string) {
    stack = await startVoiceStack({
      stt: { transcript: inOrder('מה שעות הפתיחה', words, 'תודה') },
      openai: { reply: (req) => (req.index === 0 ? { text: REPLY.join(' ') } : { text: 'בשמחה.' }) },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const turn = await client.say(HEBREW);
    await client.waitFor((e) => e.kind === 'playback-start' && e.atMs > turn.endedAtMs, 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    const onset = client.now();
    await client.say(KEN);
    return { client, onset };
  }

  it('"כן" during the reply pauses it, then it goes on: heard to its end, not a turn, not an interruption', async () => {
    const { client, onset } = await replyPlaying('כן');
    const clear = await client.waitFor((e) => e.kind === 'recv-clear' && e.atMs > onset, 5000);
    expect(clear.atMs - onset).toBeLessThan(1000);
    await eventually(() => stack.h.logs.events('BACKCHANNEL')[0], 5000, 'BACKCHANNEL');
    await eventually(
      () => !client.isPlaying() && contains(client.heard(), audio(REPLY.at(-1)!)),
      20_000,
      'the reply to the end',
    );
    for (const s of REPLY) expect(contains(client.heard(), audio(s))).toBe(true);
    expect(stack.openai.requests).toHaveLength(1); // the acknowledgement was not a turn
    expect(stack.h.logs.events('BARGE_IN')).toHaveLength(0);
    await client.say(HEBREW);
    await stack.openai.waitForRequest(1, 10_000);
    const history = stack.openai.requests[1]!.body.messages as Array<{ role: string; content: string }>;
    const said = history.filter((m) => m.role === 'assistant').at(-1)!.content;
    expect(said).toBe(REPLY.join(' '));
    expect(history.some((m) => m.role === 'user' && m.content.includes('כן'))).toBe(false);
    await client.stop();
  });

  it('"רגע" interrupts: clear, no resume, the caller gets the turn, and the history keeps what was heard', async () => {
    const { client, onset } = await replyPlaying('רגע');
    const clear = await client.waitFor((e) => e.kind === 'recv-clear' && e.atMs > onset, 5000);
    expect(clear.atMs - onset).toBeLessThan(1000);
    await stack.openai.waitForRequest(1, 10_000);
    const history = stack.openai.requests[1]!.body.messages as Array<{ role: string; content: string }>;
    expect(history.at(-1)).toEqual({ role: 'user', content: 'רגע' });
    expect(history.at(-2)!.content).toContain(INTERRUPTION_MARKER);
    expect(stack.h.logs.events('BARGE_IN')).toEqual([expect.objectContaining({ reason: 'barge-in' })]);
    expect(contains(client.heard(), audio(REPLY.at(-1)!))).toBe(false);
    await client.stop();
  });
});

describe('line noise (speech detector)', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('steady street noise well above VAD_RMS does not cut the agent off; speech over the same noise does', async () => {
    const model = await loadSpeechDetectorModel();
    expect(model.available).toBe(true);
    stack = await startVoiceStack({
      stt: { transcript: inOrder('מה שעות הפתיחה', 'רחוב', 'רגע, שאלה') },
      openai: { reply: (req) => (req.index === 0 ? { text: REPLY.join(' ').repeat(2) } : { text: 'כן?' }) },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const turn = await client.say(HEBREW);
    await client.waitFor((e) => e.kind === 'playback-start' && e.atMs > turn.endedAtMs, 15_000);
    const noiseAt = client.now();
    await client.say(noise('street').subarray(0, 8 * 3000));
    expect(client.events.some((e) => e.kind === 'recv-clear' && e.atMs > noiseAt)).toBe(false);
    expect(stack.openai.requests).toHaveLength(1);
    const speechAt = client.now();
    const speaking = client.say(noise('street-speech-10db')).catch(() => undefined); // cut short by the hang-up below
    await client.waitFor((e) => e.kind === 'recv-clear' && e.atMs > speechAt, 8000);
    await client.stop();
    await speaking;
  });
});

describe('dictated numbers', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('a phone number said in two parts with a pause is one turn (EOU_DIGITS_MS)', async () => {
    stack = await startVoiceStack({ stt: { transcript: inOrder('המספר שלי 050 123', '4567') } });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(Buffer.concat([HEBREW, silence(800), HEBREW]));
    await stack.openai.waitForRequest(0, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.openai.requests).toHaveLength(1);
    const messages = stack.openai.requests[0]!.body.messages as Array<{ role: string; content: string }>;
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'המספר שלי 050 123 4567' });
    await client.stop();
  });

  it('without digits, the same pause ends the turn', async () => {
    stack = await startVoiceStack({ stt: { transcript: inOrder('אני רוצה לשאול', 'משהו נוסף') } });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(Buffer.concat([HEBREW, silence(800), HEBREW]));
    await stack.openai.waitForRequest(0, 10_000);
    expect((stack.openai.requests[0]!.body.messages as Array<{ content: string }>).at(-1)!.content).toBe(
      'אני רוצה לשאול',
    );
    await client.stop();
  });
});

describe('phrase hints', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it("the agent's hints go with the first stream; the CRM's hints join them (reopening the stream if it is open)", async () => {
    stack = await startVoiceStack({
      crm: { context: { body: { variables: {}, hints: ['דנה כהן'] } } },
      agents: (crm) => ({
        defaultAgent: 'a',
        agents: [
          {
            id: 'a',
            greeting: 'שלום',
            instructions: 'x',
            context: { url: crm!.contextUrl },
            sttHints: ['מרפאת השרון'],
          },
        ],
      }),
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const phrases = (i: number) => stack.stt.streams[i]?.recognition?.phrases.map((p) => p.value);
    const last = () => stack.stt.streams.length - 1;
    await eventually(() => phrases(last())?.length === 2, 10_000, 'a stream with both hints');
    // Usually the CRM answers after the first stream opened, which is then reopened; on a loaded
    // machine the CRM can answer first, and the first stream already carries both.
    expect(phrases(0)![0]).toBe('מרפאת השרון');
    expect(phrases(last())).toEqual(['מרפאת השרון', 'דנה כהן']);
    expect(stack.stt.streams[last()]!.recognition!.phrases[0]!.boost).toBe(10);
    await client.stop();
  });
});
