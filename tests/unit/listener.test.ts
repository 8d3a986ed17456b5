/**
 * The listener between scripted caller audio and the fake recognizer: frames go to the recognizer
 * and the turn detector, speech activity and transcripts come out as call events, and the
 * recognizer is told about quiet moments (when it may rotate its stream) only when the caller is
 * silent and no words wait for a turn decision.
 */
import { Listener } from '../../media/voice/listener.ts';
import { ManualClock } from '../../media/voice/clock.ts';
import { Scope } from '../../media/voice/scope.ts';
import type { CallEvent } from '../../media/voice/events.ts';
import { FakeRecognizer } from '../../media/providers/fakes/recognizer.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';

const SPEECH = Buffer.alloc(160, 0x00); // full-scale μ-law
const QUIET = Buffer.alloc(160, 0xff); // μ-law silence

function setup() {
  const clock = new ManualClock();
  const scope = new Scope(clock, (err) => {
    throw err;
  });
  const recognizer = new FakeRecognizer();
  const out: CallEvent[] = [];
  const listener = new Listener({
    conversation: scope,
    recognizer,
    detector: { vadRms: 210, eouMs: 450, bargeInMinMs: 200 },
    hints: ['מרפאת השרון'],
    emit: (e) => out.push(e),
    now: () => clock.now(),
    log: createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] }),
  });
  const frames = (audio: Buffer, n: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      listener.onAudio(audio);
    }
  };
  return { clock, scope, recognizer, listener, out, frames, session: () => recognizer.last };
}

describe('listener', () => {
  it('writes every frame to the recognizer and reports speech activity in call time', () => {
    const t = setup();
    t.frames(SPEECH, 15);
    t.frames(QUIET, 30);
    expect(t.session().writes ?? t.recognizer.counters.writes).toBe(45);
    const kinds = t.out.filter((e) => e.type !== 'caller-audio').map((e) => `${e.type}@${e.t}`);
    expect(kinds).toEqual(['speech-started@20', 'speech-sustained@200', 'speech-ended@760']);
    expect(t.session().options.hints).toEqual(['מרפאת השרון']);
  });

  it('tells the recognizer about a quiet moment only after 300 ms of silence with no words pending', async () => {
    const t = setup();
    t.frames(QUIET, 14);
    expect(t.session().quietMoments).toBe(0);
    t.frames(QUIET, 2);
    expect(t.session().quietMoments).toBeGreaterThan(0);
    const before = t.session().quietMoments;
    t.frames(SPEECH, 20);
    expect(t.session().quietMoments).toBe(before); // never while the caller speaks
    t.session().final('שלום');
    await Promise.resolve(); // the recognizer delivers its events on the next microtask
    t.frames(QUIET, 40);
    expect(t.session().quietMoments).toBe(before); // words wait for the turn-taker
    t.listener.handle({ type: 'turn-committed', t: 0, index: 1, text: 'שלום', source: 'speech', speechEnd: 0 });
    t.frames(QUIET, 1);
    expect(t.session().quietMoments).toBe(before + 1);
  });

  it('stops listening when the conversation ends', () => {
    const t = setup();
    t.scope.abort();
    t.frames(SPEECH, 5);
    expect(t.out).toEqual([]);
  });
});
