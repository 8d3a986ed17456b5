/**
 * The turn-taker between a scripted source of call events and a collecting sink, on a manual
 * clock: commit, drop, barge-in, backchannels, dictated digits, the keypad.
 */
import { ManualClock } from '../../media/voice/clock.ts';
import { backchannelSet, DEFAULT_BACKCHANNEL_WORDS } from '../../media/voice/caller-words.ts';
import type { CallEvent } from '../../media/voice/events.ts';
import { Scope } from '../../media/voice/scope.ts';
import { TurnTaker, type TurnTakerOptions } from '../../media/voice/turn-taker.ts';

const OPTS: TurnTakerOptions = {
  bargeIn: true,
  eouMs: 450,
  eouDigitsMs: 1200,
  fastCommitSilenceMs: 250,
  finalGraceMs: 1200,
  minConfidence: 0,
  backchannelWords: undefined,
  backchannelHoldMs: 1200,
  dtmfTimeoutMs: 2000,
};

function setup(opts: Partial<TurnTakerOptions> = {}) {
  const clock = new ManualClock();
  const scope = new Scope(clock, (err) => {
    throw err;
  });
  const out: CallEvent[] = [];
  const tt = new TurnTaker({ ...OPTS, ...opts }, { scope, emit: (e) => out.push(e), now: () => clock.now() });
  const send = (e: CallEvent) => tt.handle(e);
  /** `ms` of caller audio, 20 ms frames; speech-started/sustained/ended as the detector would say them. */
  let runStart: number | undefined;
  let sustained = false;
  let silence = 0;
  const audio = (ms: number, speech: boolean) => {
    for (let i = 0; i < ms; i += 20) {
      clock.advance(20);
      const t = clock.now();
      if (speech) {
        if (runStart === undefined) {
          runStart = t;
          sustained = false;
          send({ type: 'speech-started', t });
        }
        silence = 0;
      } else silence += 20;
      send({ type: 'caller-audio', t, ms: 20, level: speech ? 3000 : 0, speech });
      if (speech && !sustained && t - runStart! + 20 >= 200) {
        sustained = true;
        send({ type: 'speech-sustained', t, onset: runStart! });
      }
      if (!speech && runStart !== undefined && silence >= OPTS.eouMs) {
        runStart = undefined;
        send({ type: 'speech-ended', t, lastSpeech: t - silence, speechMs: 0 });
      }
    }
  };
  const final = (text: string, confidence = 0.9) =>
    send({ type: 'transcript', t: clock.now(), final: true, text, confidence, stability: 1 });
  const interim = (text: string) =>
    send({ type: 'transcript', t: clock.now(), final: false, text, confidence: 0, stability: 0.5 });
  const agentSpeaks = (replyId = 1) => {
    send({ type: 'reply-started', t: clock.now(), replyId, kind: 'answer', turn: 1 });
    send({ type: 'playout', t: clock.now(), replyId, what: 'first-media' });
  };
  const of = (type: CallEvent['type']) => out.filter((e) => e.type === type);
  return { clock, scope, tt, out, send, audio, final, interim, agentSpeaks, of };
}

describe('turn-taker: the caller has the floor', () => {
  it('commits a final after 250 ms of silence, with the time speech stopped', () => {
    const t = setup();
    t.audio(600, true);
    t.audio(100, false);
    t.final('אני רוצה תור');
    t.audio(140, false);
    expect(t.of('turn-committed')).toHaveLength(0);
    t.audio(20, false);
    expect(t.of('turn-committed')).toEqual([
      expect.objectContaining({ index: 1, text: 'אני רוצה תור', source: 'speech', speechEnd: 600 }),
    ]);
  });

  it('waits EOU_DIGITS_MS when the text ends in digits or number words, so a dictated number is one turn', () => {
    const t = setup();
    t.audio(800, true);
    t.final('המספר שלי הוא 050 123');
    t.audio(800, false); // past EOU_MS and the fast commit, short of EOU_DIGITS_MS
    expect(t.of('turn-committed')).toHaveLength(0);
    t.audio(600, true);
    t.final('4567');
    t.audio(1180, false);
    expect(t.of('turn-committed')).toHaveLength(0);
    t.audio(40, false);
    expect(t.of('turn-committed')).toEqual([expect.objectContaining({ text: 'המספר שלי הוא 050 123 4567' })]);
  });

  it('also waits for dictated number words (שלוש, ושבע)', () => {
    const t = setup();
    t.audio(600, true);
    t.final('תעודת זהות שלוש שתיים ושבע');
    t.audio(1000, false);
    expect(t.of('turn-committed')).toHaveLength(0);
    t.audio(300, false);
    expect(t.of('turn-committed')).toHaveLength(1);
  });

  it('uses the interim after the grace period and drops the late final', () => {
    const t = setup();
    t.audio(400, true);
    t.interim('מה השעה');
    t.audio(460, false);
    t.clock.advance(1199);
    expect(t.of('turn-committed')).toHaveLength(0);
    t.clock.advance(1);
    expect(t.of('turn-committed')).toEqual([expect.objectContaining({ text: 'מה השעה', source: 'interim' })]);
    t.final('מה השעה?');
    expect(t.of('turn-dropped')).toEqual([expect.objectContaining({ reason: 'late-final' })]);
  });

  it('drops a turn with no words at all', () => {
    const t = setup();
    t.audio(100, true);
    t.audio(500, false);
    t.clock.advance(1200);
    expect(t.of('turn-dropped')).toEqual([expect.objectContaining({ reason: 'no-speech-recognized' })]);
  });

  it('ignores finals below STT_MIN_CONFIDENCE but never those with no estimate (0)', () => {
    const t = setup({ minConfidence: 0.5 });
    t.audio(400, true);
    t.final('רעש', 0.3);
    t.audio(300, false);
    expect(t.of('turn-committed')).toHaveLength(0);
    expect(t.of('turn-dropped')).toEqual([expect.objectContaining({ reason: 'low-confidence' })]);
    t.final('שלום', 0);
    t.audio(300, false);
    expect(t.of('turn-committed')).toEqual([expect.objectContaining({ text: 'שלום' })]);
  });

  it('cannot commit once the conversation is over (the grace timer dies with its scope)', () => {
    const t = setup();
    t.audio(400, true);
    t.interim('שלום');
    t.audio(460, false); // EOU: the grace timer is armed
    t.scope.abort();
    t.clock.advance(5000);
    expect(t.of('turn-committed')).toHaveLength(0);
    expect(t.clock.pending).toBe(0);
  });
});

describe('turn-taker: the agent has the floor', () => {
  it('interrupts at once on sustained speech when backchannels are not held', () => {
    const t = setup();
    t.agentSpeaks(7);
    t.audio(200, true);
    expect(t.of('interrupt')).toEqual([expect.objectContaining({ reason: 'barge-in', replyId: 7, onset: 20 })]);
  });

  it('a final without speech in the audio while the agent speaks is noise: no interrupt, no turn', () => {
    const t = setup();
    t.agentSpeaks();
    t.audio(100, false);
    t.final('מה');
    t.audio(600, false);
    expect(t.of('interrupt')).toHaveLength(0);
    expect(t.of('turn-committed')).toHaveLength(0);
    expect(t.of('turn-dropped')).toEqual([expect.objectContaining({ reason: 'final-without-speech' })]);
  });

  it('a short noise (under BARGE_IN_MIN_MS) does not interrupt', () => {
    const t = setup();
    t.agentSpeaks();
    t.audio(100, true);
    t.audio(500, false);
    expect(t.of('interrupt')).toHaveLength(0);
  });

  it('never interrupts the apology', () => {
    const t = setup();
    t.send({ type: 'reply-started', t: 0, replyId: 3, kind: 'apology' });
    t.send({ type: 'playout', t: 0, replyId: 3, what: 'first-media' });
    t.audio(600, true);
    expect(t.of('interrupt')).toHaveLength(0);
  });

  it('without barge-in the caller waits: the turn is committed when the reply ends', () => {
    const t = setup({ bargeIn: false });
    t.agentSpeaks(2);
    t.audio(600, true);
    t.final('שאלה');
    t.audio(600, false);
    expect(t.of('interrupt')).toHaveLength(0);
    expect(t.of('turn-committed')).toHaveLength(0);
    t.send({
      type: 'reply-ended',
      t: t.clock.now(),
      replyId: 2,
      kind: 'answer',
      outcome: 'played',
      saidText: '',
      heardText: '',
    });
    expect(t.of('turn-committed')).toEqual([expect.objectContaining({ text: 'שאלה' })]);
  });
});

describe('turn-taker: backchannels', () => {
  const words = backchannelSet(DEFAULT_BACKCHANNEL_WORDS);

  it('pauses on sustained speech and resumes when the words only acknowledge', () => {
    const t = setup({ backchannelWords: words });
    t.agentSpeaks(5);
    t.audio(240, true);
    expect(t.of('pause')).toEqual([expect.objectContaining({ replyId: 5, onset: 20 })]);
    t.interim('כן');
    t.audio(300, false);
    expect(t.of('resume')).toEqual([expect.objectContaining({ replyId: 5 })]);
    expect(t.of('backchannel')).toEqual([expect.objectContaining({ text: 'כן' })]);
    t.final('כן.');
    t.audio(1500, false);
    expect(t.of('interrupt')).toHaveLength(0);
    expect(t.of('turn-committed')).toHaveLength(0);
  });

  it.each(['רגע', 'לא', 'שנייה', 'עצור', 'כן אבל אני רוצה לשאול משהו אחר'])('"%s" interrupts', (text) => {
    const t = setup({ backchannelWords: words });
    t.agentSpeaks(5);
    t.audio(240, true);
    t.interim(text);
    expect(t.of('interrupt')).toEqual([expect.objectContaining({ reason: 'barge-in', replyId: 5, onset: 20 })]);
    expect(t.of('resume')).toHaveLength(0);
  });

  it('interrupts when the caller keeps talking and nothing is recognised within the hold', () => {
    const t = setup({ backchannelWords: words });
    t.agentSpeaks(5);
    t.audio(1500, true);
    expect(t.of('interrupt')).toEqual([expect.objectContaining({ reason: 'barge-in' })]);
  });

  it('resumes when the sound stopped and no words came (noise)', () => {
    const t = setup({ backchannelWords: words });
    t.agentSpeaks(5);
    t.audio(240, true);
    t.audio(1100, false);
    expect(t.of('resume')).toHaveLength(0); // still holding: words may yet come
    t.audio(100, false);
    expect(t.of('interrupt')).toHaveLength(0);
    expect(t.of('resume')).toHaveLength(1);
  });
});

describe('turn-taker: the keypad', () => {
  it('collects digits until # and gives the model the digits', () => {
    const t = setup();
    for (const d of ['1', '2', '3', '4']) t.send({ type: 'dtmf', t: t.clock.now(), digit: d });
    expect(t.of('turn-committed')).toHaveLength(0);
    t.send({ type: 'dtmf', t: t.clock.now(), digit: '#' });
    expect(t.of('turn-committed')).toEqual([expect.objectContaining({ text: 'הקשתי 1234', source: 'dtmf' })]);
  });

  it('commits after DTMF_TIMEOUT_MS without another key, and a key interrupts the agent', () => {
    const t = setup();
    t.agentSpeaks(9);
    t.send({ type: 'dtmf', t: 0, digit: '5' });
    expect(t.of('interrupt')).toEqual([expect.objectContaining({ reason: 'dtmf', replyId: 9 })]);
    t.clock.advance(1999);
    expect(t.of('turn-committed')).toHaveLength(0);
    t.clock.advance(1);
    expect(t.of('turn-committed')).toEqual([expect.objectContaining({ text: 'הקשתי 5' })]);
  });
});
