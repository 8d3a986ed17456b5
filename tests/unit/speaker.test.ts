/**
 * The speaker between scripted reply events and a fake Twilio socket, on jest's fake clock: audio
 * in sentence order whatever order syntheses finish in, what was heard on an interrupt, pause and
 * resume, and a reply that could not be synthesized at all.
 */
import { CallBus } from '../../media/voice/bus.ts';
import type { CallEvent, EventOf } from '../../media/voice/events.ts';
import { Player } from '../../media/voice/playout.ts';
import { Scope } from '../../media/voice/scope.ts';
import { Speaker } from '../../media/voice/speaker.ts';
import { realClock } from '../../media/voice/clock.ts';
import type { Synthesizer } from '../../media/providers/types.ts';
import { FakeSynthesizer, fakeSynthesisAudio } from '../../media/providers/fakes/synthesizer.ts';

/** 200 ms of audio per character: each two-character sentence (`s0`, `s1`…) is 400 ms (3200 bytes). */
const MS_PER_CHAR = 200;
const audioOf = (text: string) => fakeSynthesisAudio(text, MS_PER_CHAR);

/** The provider fake, finishing sentence `text` after delays[text] ms; `failing` sentences fail (UNAVAILABLE). */
function delayedSynthesizer(delays: Record<string, number>, failing: string[] = []): FakeSynthesizer {
  return new FakeSynthesizer({
    msPerChar: MS_PER_CHAR,
    delayMs: (text) => delays[text] ?? 0,
    fail: (text) => (failing.includes(text) ? 'UNAVAILABLE' : undefined),
  });
}

function setup(synth: Synthesizer) {
  jest.useFakeTimers();
  const sent: any[] = [];
  const out: CallEvent[] = [];
  const scope = new Scope(realClock, (err) => {
    throw err;
  });
  const bus = new CallBus({
    onSubscriberError: (err) => {
      throw err;
    },
  });
  const now = () => performance.now();
  const player = new Player({
    streamSid: 'MZ1',
    send: (s) => (sent.push(JSON.parse(s)), true),
    onEvent: (p) => speaker.onPlayout(p),
    now,
  });
  const speaker = new Speaker({
    conversation: scope.child(),
    ending: scope.child(),
    player,
    synthesizer: synth,
    cachedSynthesizer: synth,
    voice: undefined,
    emit: bus.emit,
    now,
  });
  bus.subscribe((e) => out.push(e));
  bus.subscribe((e) => speaker.handle(e));
  const reply = (replyId: number, sentences: string[]) => {
    bus.emit({ type: 'reply-started', t: now(), replyId, kind: 'answer', turn: 1 });
    sentences.forEach((text, index) => bus.emit({ type: 'sentence-text', t: now(), replyId, index, text }));
    bus.emit({ type: 'text-ended', t: now(), replyId, sentences: sentences.length });
  };
  /** Echoes every mark sent so far, as Twilio does once the audio before it has played. */
  const echoMarks = () => {
    for (const m of sent.filter((x) => x.event === 'mark' && !x.echoed)) {
      m.echoed = true;
      player.onMark(m.mark.name);
    }
  };
  const mediaBytes = () => sent.filter((m) => m.event === 'media').map((m) => Buffer.from(m.media.payload, 'base64'));
  const ended = () => out.filter((e): e is EventOf<'reply-ended'> => e.type === 'reply-ended');
  return { bus, speaker, player, sent, out, reply, echoMarks, mediaBytes, ended };
}

afterEach(() => jest.useRealTimers());

describe('speaker', () => {
  it('queues audio in sentence order even when later sentences are synthesized first', async () => {
    const synth = delayedSynthesizer({ s0: 300, s1: 10, s2: 100 });
    const t = setup(synth);
    t.reply(1, ['s0', 's1', 's2']);
    await jest.advanceTimersByTimeAsync(350);
    const first = t.mediaBytes()[0]!;
    expect(first.equals(audioOf('s0').subarray(0, first.length))).toBe(true); // sentence 0's audio goes out first…
    for (let i = 0; i < 40; i++) {
      t.echoMarks();
      await jest.advanceTimersByTimeAsync(100);
    }
    const all = Buffer.concat(t.mediaBytes());
    expect(all.equals(Buffer.concat(['s0', 's1', 's2'].map(audioOf)))).toBe(true); // …then 1, then 2, never interleaved
    expect(t.ended()).toEqual([
      expect.objectContaining({ outcome: 'played', heardText: 's0 s1 s2', saidText: 's0 s1 s2' }),
    ]);
  });

  it('on interrupt sends clear, drops the rest and reports the sentences the caller heard', async () => {
    const t = setup(delayedSynthesizer({}));
    t.reply(4, ['s0', 's1', 's2', 's3']);
    await jest.advanceTimersByTimeAsync(10);
    t.echoMarks(); // the first 400 ms (sentence 0) confirmed played
    await jest.advanceTimersByTimeAsync(100);
    t.bus.emit({ type: 'interrupt', t: 0, reason: 'barge-in', replyId: 4 });
    expect(t.sent.at(-1)).toEqual({ event: 'clear', streamSid: 'MZ1' });
    const [end] = t.ended();
    expect(end).toMatchObject({ outcome: 'interrupted', saidText: 's0 s1 s2 s3' });
    expect(end!.heardText.startsWith('s0')).toBe(true);
    expect(end!.heardText).not.toContain('s2');
    const sentBefore = t.sent.length;
    await jest.advanceTimersByTimeAsync(2000);
    expect(t.sent.length).toBe(sentBefore); // nothing more of that reply
  });

  it('pauses (clear) and resumes from where the caller stopped hearing, repeating a short fragment', async () => {
    const t = setup(delayedSynthesizer({}));
    t.reply(2, ['s0']);
    await jest.advanceTimersByTimeAsync(10);
    const before = t.mediaBytes().reduce((n, b) => n + b.length, 0);
    expect(before).toBe(3200);
    await jest.advanceTimersByTimeAsync(190); // ~200 ms of it played by the clock
    t.bus.emit({ type: 'pause', t: 0, replyId: 2, onset: 0 });
    expect(t.sent.at(-1)).toEqual({ event: 'clear', streamSid: 'MZ1' });
    await jest.advanceTimersByTimeAsync(500);
    expect(t.mediaBytes().reduce((n, b) => n + b.length, 0)).toBe(before); // nothing sent while paused
    t.bus.emit({ type: 'resume', t: 0, replyId: 2, repeatMs: 100 });
    const resent = t.mediaBytes().reduce((n, b) => n + b.length, 0) - before;
    // From ~200 ms in, minus the 100 ms repeat: about 300 ms of the 400 ms sentence again.
    expect(resent).toBeGreaterThanOrEqual(2300);
    expect(resent).toBeLessThanOrEqual(2500);
    for (let i = 0; i < 20; i++) {
      t.echoMarks();
      await jest.advanceTimersByTimeAsync(100);
    }
    expect(t.ended()).toEqual([expect.objectContaining({ outcome: 'played', heardText: 's0' })]);
  });

  it('a reply whose every sentence failed to synthesize ends as failed, with an error per sentence', async () => {
    const t = setup(delayedSynthesizer({}, ['s0', 's1']));
    t.reply(3, ['s0', 's1']);
    await jest.advanceTimersByTimeAsync(50);
    expect(t.out.filter((e) => e.type === 'error')).toEqual([
      expect.objectContaining({ provider: 'tts', code: 'UNAVAILABLE', index: 0 }),
      expect.objectContaining({ provider: 'tts', code: 'UNAVAILABLE', index: 1 }),
    ]);
    expect(t.ended()).toEqual([expect.objectContaining({ outcome: 'failed', heardText: '' })]);
    expect(t.sent).toEqual([]);
  });
});
