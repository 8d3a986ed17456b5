/**
 * The supervisor's policy, events in and decisions out: permanent failures end the call at once,
 * transient model failures get the fallback line until three turns in a row went unanswered, and
 * the ending decision `<Connect action>` reads is written before the socket closes.
 */
import { ManualClock } from '../../media/voice/clock.ts';
import type { CallEvent, EventOf } from '../../media/voice/events.ts';
import { Scope } from '../../media/voice/scope.ts';
import { APOLOGY_LINE, APOLOGY_MAX_MS, FALLBACK_LINE, Supervisor } from '../../media/voice/supervisor.ts';
import { MemoryCallEndings } from '../../server/call-endings.ts';
import type { ProviderErrorCode, ProviderName } from '../../media/providers/types.ts';

function setup() {
  const clock = new ManualClock();
  const call = new Scope(clock, (err) => {
    throw err;
  });
  const conversation = call.child();
  const ending = call.child();
  const out: CallEvent[] = [];
  const said: Array<{ text: string; kind: string; id: number }> = [];
  const hangups: string[] = [];
  const endings = new MemoryCallEndings();
  let ids = 100;
  const sup = new Supervisor({
    callSid: 'CA1',
    conversation,
    ending,
    emit: (e) => out.push(e),
    now: () => clock.now(),
    say: (text, kind) => {
      said.push({ text, kind, id: ++ids });
      return ids;
    },
    hangup: (reason) => hangups.push(reason),
    endings,
  });
  const error = (
    provider: ProviderName,
    code: ProviderErrorCode,
    permanent: boolean,
    extra: Partial<EventOf<'error'>> = {},
  ) =>
    sup.handle({
      type: 'error',
      t: clock.now(),
      provider,
      code,
      retryable: !permanent,
      permanent,
      message: code,
      ...extra,
    });
  const replyEnded = (
    replyId: number,
    outcome: EventOf<'reply-ended'>['outcome'],
    kind: EventOf<'reply-ended'>['kind'] = 'answer',
  ) => sup.handle({ type: 'reply-ended', t: clock.now(), replyId, kind, outcome, saidText: '', heardText: '' });
  const flush = () => new Promise((r) => setImmediate(r));
  return { clock, conversation, ending, out, said, hangups, endings, sup, error, replyEnded, flush };
}

describe('supervisor', () => {
  it.each([
    ['llm', 'AUTH'],
    ['llm', 'BAD_REQUEST'],
    ['llm', 'QUOTA'],
    ['stt', 'UNAVAILABLE'],
  ] as const)('a permanent %s %s ends the call at once with the apology, then hangs up', async (provider, code) => {
    const t = setup();
    t.error(provider, code, true, { replyId: 1 });
    expect(t.conversation.aborted).toBe(true);
    expect(t.out).toContainEqual(expect.objectContaining({ type: 'interrupt', reason: 'call-ending' }));
    expect(t.said).toEqual([expect.objectContaining({ text: APOLOGY_LINE, kind: 'apology' })]);
    expect(t.hangups).toEqual([]);
    t.replyEnded(t.said[0]!.id, 'played', 'apology');
    await t.flush();
    expect(t.hangups).toEqual(['provider-failed']);
    expect(await t.endings.get('CA1')).toEqual({ action: 'apology', heard: true });
  });

  it('a permanent TTS failure (a wrong voice) cannot say the apology: hang up at once, Twilio says it', async () => {
    const t = setup();
    t.error('tts', 'BAD_REQUEST', true, { replyId: 1, index: 0 });
    await t.flush();
    expect(t.said).toEqual([]);
    expect(t.hangups).toEqual(['provider-failed']);
    expect(await t.endings.get('CA1')).toEqual({ action: 'apology', heard: false });
  });

  it('once the voice has spoken, a refused synthesis only skips that sentence', async () => {
    const t = setup();
    t.sup.handle({
      type: 'sentence-audio',
      t: 0,
      replyId: 1,
      index: 0,
      audio: Buffer.alloc(8),
      synthMs: 1,
      waitedMs: 0,
    });
    t.error('tts', 'BAD_REQUEST', true, { replyId: 2, index: 3 });
    await t.flush();
    expect(t.hangups).toEqual([]);
    expect(t.conversation.aborted).toBe(false);
  });

  it('a transient model failure gets the fallback line; three unanswered turns in a row end the call', async () => {
    const t = setup();
    for (let turn = 1; turn <= 2; turn++) {
      t.error('llm', 'UNAVAILABLE', false, { replyId: turn, sentences: 0 });
      t.replyEnded(turn, 'failed');
    }
    expect(t.said.map((s) => s.text)).toEqual([FALLBACK_LINE, FALLBACK_LINE]);
    t.error('llm', 'TIMEOUT', false, { replyId: 3, sentences: 0 });
    t.replyEnded(3, 'failed');
    expect(t.said.at(-1)).toMatchObject({ kind: 'apology' });
    t.replyEnded(t.said.at(-1)!.id, 'played', 'apology');
    await t.flush();
    expect(t.hangups).toEqual(['no-answer-from-model']);
  });

  it('an answered turn resets the count, and a reply with no audio at all counts as unanswered', () => {
    const t = setup();
    t.error('llm', 'UNAVAILABLE', false, { replyId: 1, sentences: 0 });
    t.replyEnded(1, 'failed');
    t.error('llm', 'UNAVAILABLE', false, { replyId: 2, sentences: 0 });
    t.replyEnded(2, 'failed');
    t.replyEnded(3, 'played'); // answered
    t.replyEnded(4, 'failed'); // every sentence failed to synthesize
    t.replyEnded(5, 'failed');
    expect(t.conversation.aborted).toBe(false);
    t.replyEnded(6, 'failed');
    expect(t.conversation.aborted).toBe(true);
  });

  it('hangs up after APOLOGY_MAX_MS even if the apology never finishes', async () => {
    const t = setup();
    t.error('stt', 'AUTH', true);
    t.clock.advance(APOLOGY_MAX_MS - 1);
    await t.flush();
    expect(t.hangups).toEqual([]);
    t.clock.advance(1);
    await t.flush();
    expect(t.hangups).toEqual(['provider-failed']);
    expect(t.out.filter((e) => e.type === 'end')).toHaveLength(1);
  });
});
