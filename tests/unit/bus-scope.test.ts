/**
 * The call's event bus (one order, system events first, an interrupt flushes its reply's queued
 * data) and its cancellation tree (timers and tasks die with their scope; settled() waits).
 */
import { CallBus } from '../../media/voice/bus.ts';
import { ManualClock } from '../../media/voice/clock.ts';
import type { CallEvent } from '../../media/voice/events.ts';
import { serializeEvent } from '../../media/voice/events.ts';
import { Scope } from '../../media/voice/scope.ts';

const rethrow = (err: unknown): never => {
  throw err;
};
const text = (replyId: number, index: number): CallEvent => ({
  type: 'sentence-text',
  t: 0,
  replyId,
  index,
  text: `s${index}`,
});

describe('call bus', () => {
  it('delivers events emitted during a delivery after it, in order, never re-entrantly', () => {
    const bus = new CallBus({ onSubscriberError: rethrow });
    const seen: string[] = [];
    let depth = 0;
    bus.subscribe((e) => {
      depth++;
      expect(depth).toBe(1);
      seen.push(`${e.type}:${'index' in e ? e.index : ''}`);
      if (e.type === 'reply-started') {
        bus.emit(text(1, 0));
        bus.emit(text(1, 1));
      }
      depth--;
    });
    bus.emit({ type: 'reply-started', t: 0, replyId: 1, kind: 'answer' });
    expect(seen).toEqual(['reply-started:', 'sentence-text:0', 'sentence-text:1']);
  });

  it('an interrupt jumps the queue and flushes the queued data of the reply it cuts', () => {
    const bus = new CallBus({ onSubscriberError: rethrow });
    const seen: CallEvent[] = [];
    bus.subscribe((e) => {
      seen.push(e);
      if (e.type === 'turn-committed') {
        bus.emit(text(1, 0));
        bus.emit(text(2, 0));
        bus.emit({ type: 'turn-dropped', t: 0, reason: 'x' });
        bus.emit({ type: 'interrupt', t: 0, reason: 'barge-in', replyId: 1 });
      }
    });
    bus.emit({ type: 'turn-committed', t: 0, index: 1, text: 'x', source: 'speech', speechEnd: 0 });
    expect(seen.map((e) => `${e.type}${'replyId' in e ? e.replyId : ''}`)).toEqual([
      'turn-committed',
      'interrupt1',
      'sentence-text2',
      'turn-dropped',
    ]);
  });

  it('a throwing subscriber is reported and the others still get the event', () => {
    const errors: unknown[] = [];
    const bus = new CallBus({ onSubscriberError: (err) => errors.push(err) });
    const got: string[] = [];
    bus.subscribe(() => {
      throw new Error('stage bug');
    });
    bus.subscribe((e) => got.push(e.type));
    bus.emit({ type: 'dtmf', t: 0, digit: '1' });
    expect(errors).toHaveLength(1);
    expect(got).toEqual(['dtmf']);
  });

  it('delivers nothing after close()', () => {
    const bus = new CallBus({ onSubscriberError: rethrow });
    const got: string[] = [];
    bus.subscribe((e) => got.push(e.type));
    bus.close();
    bus.emit({ type: 'dtmf', t: 0, digit: '1' });
    expect(got).toEqual([]);
  });

  it('serialises audio as its length', () => {
    const e: CallEvent = {
      type: 'sentence-audio',
      t: 5,
      replyId: 1,
      index: 0,
      audio: Buffer.alloc(800),
      synthMs: 3,
      waitedMs: 0,
    };
    expect(JSON.parse(JSON.stringify(serializeEvent(e)))).toEqual({
      type: 'sentence-audio',
      t: 5,
      replyId: 1,
      index: 0,
      bytes: 800,
      synthMs: 3,
      waitedMs: 0,
    });
  });
});

describe('cancellation scope', () => {
  const root = (clock = new ManualClock()) => ({ clock, scope: new Scope(clock, rethrow) });

  it('a timer never fires once its scope, or an ancestor, is aborted', () => {
    const { clock, scope } = root();
    const turn = scope.child().child();
    const fired: string[] = [];
    turn.timeout(() => fired.push('grace'), 100);
    scope.timeout(() => fired.push('call'), 100);
    scope.abort();
    clock.advance(1000);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
    expect(turn.signal.aborted).toBe(true);
  });

  it('settled() waits for every task of the scope and its descendants', async () => {
    const { scope } = root();
    let release!: () => void;
    const done: string[] = [];
    scope.child().run(async (signal) => {
      await new Promise<void>((r) => (release = r));
      done.push(signal.aborted ? 'aborted' : 'ran');
    });
    scope.abort();
    const settled = scope.settled().then(() => done.push('settled'));
    await Promise.resolve();
    expect(done).toEqual([]);
    release();
    await settled;
    expect(done).toEqual(['aborted', 'settled']);
  });

  it('starts nothing under an aborted scope', () => {
    const { clock, scope } = root();
    scope.abort();
    let ran = false;
    scope.run(async () => {
      ran = true;
    });
    scope.child().timeout(() => (ran = true), 1);
    clock.advance(10);
    expect(ran).toBe(false);
  });
});
