/**
 * The agent speaks Hebrew as people read it, end to end: what reaches the TTS emulator is shaped
 * text (no digits, no symbols), while the history keeps the model's words; with a Chirp 3 HD voice
 * each answer streams through one synthesis stream, audio starts before it is complete, and a
 * barge-in cancels the stream.
 */
import { INTERRUPTION_MARKER } from '../../media/voice/conversation.ts';
import { eventually } from '../helpers/gateway-harness.ts';
import { HEBREW, startVoiceStack, type VoiceStack } from '../helpers/voice-stack.ts';

jest.setTimeout(40_000);

const REPLY = 'יש לנו 3 חדרים פנויים ב-10:30. המחיר הוא ₪120 ללילה, התקשרו ל-03-1234567.';

describe('shaping before synthesis', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('synthesizes numbers, times, money and phone numbers as words; the history keeps the model text', async () => {
    stack = await startVoiceStack({
      env: { PRONUNCIATIONS_FILE: '' },
      openai: { reply: (req) => (req.index === 0 ? { text: REPLY } : { text: 'בסדר.' }) },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(HEBREW);
    await eventually(() => stack.tts.requests.length >= 3, 10_000, 'the reply synthesized');
    const spoken = stack.tts.requests.slice(1).map((r) => r.text);
    for (const text of spoken) expect(text).not.toMatch(/[0-9₪%]/);
    expect(spoken.join(' ')).toContain('שלושה חדרים');
    expect(spoken.join(' ')).toContain('בעשר וחצי');
    expect(spoken.join(' ')).toContain('מאה ועשרים שקלים');
    await eventually(() => !client.isPlaying(), 15_000, 'the reply to finish');
    await client.say(HEBREW);
    await stack.openai.waitForRequest(1, 10_000);
    const history = stack.openai.requests[1]!.body.messages as Array<{ role: string; content: string }>;
    expect(history.find((m) => m.role === 'assistant' && m.content.includes('3 חדרים'))).toBeDefined();
    expect(history[0]!.content).toContain('במילים מלאות'); // the system prompt asks for words too
    await client.stop();
  });
});

describe('streaming synthesis with a Chirp 3 HD voice', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('streams each answer through one stream, sentence by sentence, and the caller hears it', async () => {
    stack = await startVoiceStack({
      env: { TTS_VOICE: 'he-IL-Chirp3-HD-Achernar' },
      tts: { streaming: { firstChunkMs: 100, chunkMs: 100, realTimeFactor: 0.3 } },
      // The model takes 1.5 s to its first word: TTS_STREAM.firstChunkMs must not count that wait.
      openai: { reply: () => ({ text: 'שלום רב. אשמח לעזור לכם היום. מה תרצו לדעת?', firstTokenDelayMs: 1500 }) },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const heardBefore = client.heard().length;
    await client.say(HEBREW);
    await eventually(
      () => stack.tts.streams.length === 1 && stack.tts.streams[0]!.state !== 'open',
      15_000,
      'the stream to finish',
    );
    const stream = stack.tts.streams[0]!;
    expect(stream.voice).toBe('he-IL-Chirp3-HD-Achernar');
    expect(stream.inputs).toEqual(['שלום רב.', 'אשמח לעזור לכם היום.', 'מה תרצו לדעת?']);
    expect(stream.chunkAt.length).toBeGreaterThan(3);
    await eventually(() => !client.isPlaying(), 15_000, 'the reply to play');
    expect(client.heard().length - heardBefore).toBeGreaterThanOrEqual(stream.audioBytes * 0.95);
    const logged = await eventually(() => stack.h.logs.events('TTS_STREAM')[0], 5000, 'TTS_STREAM');
    expect(logged).toMatchObject({ chunks: stream.chunkAt.length });
    expect(logged.firstChunkMs).toBeLessThan(1500); // from the first sentence written, not from the reply's start
    await client.stop();
  });

  it('a barge-in cancels the stream and the history keeps only what was heard', async () => {
    const long =
      'המרפאה פתוחה בימים ראשון עד חמישי משמונה בבוקר. ' +
      'אפשר לקבוע תור גם דרך האתר שלנו בכל שעה ביום ובלילה. '.repeat(4);
    stack = await startVoiceStack({
      env: { TTS_VOICE: 'he-IL-Chirp3-HD-Achernar', BACKCHANNEL_WORDS: 'none' },
      tts: { streaming: { firstChunkMs: 100, chunkMs: 100, realTimeFactor: 0.9 } },
      openai: { reply: (req) => (req.index === 0 ? { text: long, chunkDelayMs: 20 } : { text: 'הבנתי.' }) },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    const turn = await client.say(HEBREW);
    await client.waitFor((e) => e.kind === 'playback-start' && e.atMs > turn.endedAtMs, 15_000);
    await new Promise((r) => setTimeout(r, 1200));
    const cutAt = client.now();
    void client.say(HEBREW);
    await client.waitFor((e) => e.kind === 'recv-clear' && e.atMs > cutAt, 5000);
    await eventually(() => stack.tts.streams[0]?.state === 'cancelled', 5000, 'the stream cancelled');
    await stack.openai.waitForRequest(1, 15_000);
    const history = stack.openai.requests[1]!.body.messages as Array<{ role: string; content: string }>;
    const heard = history.filter((m) => m.role === 'assistant').at(-1)!.content;
    expect(heard).toContain(INTERRUPTION_MARKER);
    expect(heard.length).toBeLessThan(long.length);
    expect(heard.startsWith('המרפאה')).toBe(true);
    await client.stop();
  });
});
