import { TurnDetector, type TurnEvent } from '../../media/voice/turn-detector.ts';

const opts = { vadRms: 210, eouMs: 450, bargeInMinMs: 200 };

/** Feeds a pattern of 20 ms frames: 'S' speech, '.' silence. Returns events with frame index. */
function feed(d: TurnDetector, pattern: string, startFrame = 0): Array<TurnEvent & { frame: number }> {
  const out: Array<TurnEvent & { frame: number }> = [];
  [...pattern].forEach((c, i) => {
    const frame = startFrame + i;
    for (const e of d.frame(c === 'S' ? 1000 : 50, 20, frame * 20)) out.push({ ...e, frame });
  });
  return out;
}

describe('turn detector', () => {
  it('ends an utterance after EOU_MS of silence and reports the last speech frame', () => {
    const d = new TurnDetector(opts);
    const events = feed(d, 'SSSSSSSSSS' + '.'.repeat(30));
    expect(events.map((e) => e.type)).toEqual(['start', 'sustained', 'end']);
    const end = events[2] as Extract<TurnEvent, { type: 'end' }> & { frame: number };
    expect(end.lastSpeechMs).toBe(9 * 20);
    expect(end.frame).toBe(9 + Math.ceil(450 / 20)); // the 23rd silent frame reaches 450 ms
    expect(end.speechMs).toBe(200);
  });

  it('does not end the utterance on pauses shorter than EOU_MS', () => {
    const d = new TurnDetector(opts);
    const events = feed(d, 'SSSSS' + '.'.repeat(20) + 'SSSSS' + '.'.repeat(10));
    expect(events.filter((e) => e.type === 'end')).toHaveLength(0);
  });

  it('reports sustained speech once a run reaches BARGE_IN_MIN_MS, tolerating short gaps', () => {
    const d = new TurnDetector(opts);
    const events = feed(d, 'SSSS..SSSS..SSS');
    const sustained = events.find((e) => e.type === 'sustained');
    expect(sustained).toBeDefined();
    expect(sustained!.frame).toBe(13); // 10 speech frames = 200 ms, counted across the gaps
    expect((sustained as Extract<TurnEvent, { type: 'sustained' }>).onsetMs).toBe(0);
  });

  it('never reports a 100 ms noise burst as sustained speech', () => {
    const d = new TurnDetector(opts);
    const events = feed(d, '.....SSSSS' + '.'.repeat(40));
    expect(events.some((e) => e.type === 'sustained')).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['start', 'end']);
  });

  it('restarts the run after a long gap', () => {
    const d = new TurnDetector(opts);
    const events = feed(d, 'SSSSSS' + '.'.repeat(8) + 'SSSSSS');
    expect(events.filter((e) => e.type === 'start')).toHaveLength(2);
    expect(events.some((e) => e.type === 'sustained')).toBe(false);
  });

  it('uses frame durations, not frame counts', () => {
    const d = new TurnDetector({ ...opts, eouMs: 400 });
    d.frame(1000, 100, 0);
    expect(d.frame(0, 300, 100)).toEqual([]);
    expect(d.frame(0, 100, 400).map((e) => e.type)).toEqual(['end']);
  });
});
