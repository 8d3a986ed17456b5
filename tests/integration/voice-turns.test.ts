import { fakeTtsAudio, DEFAULT_OPENAI_REPLY } from '../../tools/emulators/index.ts';
import { SentenceSplitter } from '../../media/voice/sentence-splitter.ts';
import { eventually } from '../helpers/gateway-harness.ts';
import { startVoiceStack, HEBREW, silence, type VoiceStack } from '../helpers/voice-stack.ts';

jest.setTimeout(30_000);

const GREETING = 'שלום, במה אפשר לעזור?';
const TRANSCRIPT = 'אני רוצה לקבוע תור למחר בבוקר';

/** The sentences the pipeline must speak for a model reply, as the splitter cuts them. */
function sentencesOf(text: string): string[] {
  const s = new SentenceSplitter();
  return [...s.push(text), ...s.flush()];
}

const audio = (text: string) => fakeTtsAudio(text, { msPerChar: 30 });

describe('a call through the voice pipeline', () => {
  let stack: VoiceStack;
  beforeAll(async () => {
    stack = await startVoiceStack({ stt: { transcript: () => TRANSCRIPT } });
  });
  afterAll(() => stack.stop());

  it('greets, understands the caller, answers in order, and logs the expected flow', async () => {
    const client = await stack.call();
    // Greeting: exactly the synthesized greeting audio, played to the end.
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    expect(client.heard().equals(audio(GREETING))).toBe(true);

    const spoken = await client.say(Buffer.concat([HEBREW, silence(100)]));
    const request = await stack.openai.waitForRequest(0, 10_000);
    const messages = request.body.messages as Array<{ role: string; content: string }>;
    expect(messages[0]!.role).toBe('system');
    expect(messages).toContainEqual({ role: 'assistant', content: GREETING });
    expect(messages.at(-1)).toEqual({ role: 'user', content: TRANSCRIPT });
    expect(request.body.model).toBe(stack.h.config.voice.openaiModel);
    expect(request.body.stream).toBe(true);

    // The whole reply, sentence by sentence, in order, after the greeting.
    const expected = Buffer.concat([audio(GREETING), ...sentencesOf(DEFAULT_OPENAI_REPLY).map(audio)]);
    await eventually(() => client.heard().length >= expected.length, 15_000, 'the whole reply to play');
    expect(client.heard().equals(expected)).toBe(true);
    expect(client.violations).toEqual([]);

    // Marks came back for what played.
    expect(client.events.filter((e) => e.kind === 'mark-echoed' && !e.detail.cleared).length).toBeGreaterThan(3);

    // First reply audio arrived after the caller stopped, well within EOU_MS + provider time.
    const first = client.firstAudioAfter(spoken.endedAtMs);
    expect(first).toBeDefined();
    expect(first!.receivedAtMs - spoken.endedAtMs).toBeLessThan(3000);

    const logs = stack.h.logs;
    const order = ['WS_START', 'STT_PARTIAL', 'STT_FINAL', 'TTS_LEN_ms', 'MEDIA_TX'];
    for (const name of order) expect(logs.events(name).length).toBeGreaterThan(0);
    const firstIndex = (name: string) => logs.records.findIndex((r) => r.message === name);
    expect(firstIndex('STT_PARTIAL')).toBeLessThan(firstIndex('STT_FINAL'));
    const turn = await eventually(() => logs.events('TURN')[0], 10_000, 'TURN log');
    for (const k of [
      'sttFinalMs',
      'llmRequestMs',
      'firstTokenMs',
      'firstSentenceMs',
      'ttsStartMs',
      'ttsDoneMs',
      'firstMediaMs',
      'firstMarkMs',
      'overheadMs',
    ]) {
      expect(typeof turn[k]).toBe('number');
    }
    expect(turn.llmRequestMs as number).toBeLessThanOrEqual(turn.firstTokenMs as number);
    expect(turn.firstTokenMs as number).toBeLessThanOrEqual(turn.firstSentenceMs as number);
    expect(turn.firstSentenceMs as number).toBeLessThanOrEqual(turn.ttsDoneMs as number);
    expect(turn.ttsDoneMs as number).toBeLessThanOrEqual(turn.firstMediaMs as number);
    expect(turn.firstMediaMs as number).toBeLessThanOrEqual(turn.firstMarkMs as number);
    expect(turn.overheadMs as number).toBeGreaterThanOrEqual(0);
    expect(turn.overheadMs as number).toBeLessThanOrEqual((turn.firstMediaMs as number) - (turn.committedMs as number));

    const mediaTx = logs.events('MEDIA_TX').filter((r) => r.callSid === client.callSid);
    expect(mediaTx.reduce((n, r) => n + (r.bytes as number), 0)).toBe(expected.length);
    await client.stop();
  });

  it('keeps the whole conversation in later requests', async () => {
    const before = stack.openai.requests.length;
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(HEBREW);
    await stack.openai.waitForRequest(before, 10_000);
    await eventually(() => stack.h.logs.events('TURN').some((r) => r.callSid === client.callSid), 10_000, 'first turn');
    // Let the first reply finish playing, then speak again.
    await eventually(
      () => !client.isPlaying() && client.heard().length > audio(GREETING).length,
      15_000,
      'reply played',
    );
    await client.say(HEBREW);
    const second = await stack.openai.waitForRequest(before + 1, 10_000);
    const roles = (second.body.messages as Array<{ role: string }>).map((m) => m.role);
    expect(roles).toEqual(['system', 'assistant', 'user', 'assistant', 'user']);
    await client.stop();
  });

  it('serves the greeting from the cache after the first call', async () => {
    // Its own stack, so it does not depend on which test ran before it.
    const own = await startVoiceStack({ env: { AGENT_GREETING: 'שלום, זה מבחן המטמון.' } });
    try {
      const greetings = () => own.tts.requests.filter((r) => r.text === 'שלום, זה מבחן המטמון.').length;
      for (let call = 1; call <= 2; call++) {
        const client = await own.call();
        await client.waitFor((e) => e.kind === 'playback-end', 10_000);
        expect(client.heard().equals(audio('שלום, זה מבחן המטמון.'))).toBe(true);
        await client.stop();
      }
      expect(greetings()).toBe(1); // synthesized for the first call only
    } finally {
      await own.stop();
    }
  });
});
