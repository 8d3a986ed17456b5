import { Player, type PlayerOptions } from '../../media/voice/playout.ts';
import type { PlayoutEvent } from '../../media/voice/playout-events.ts';

/** A player on a fake clock, with everything it sends recorded. */
function setup(opts: Partial<Pick<PlayerOptions, 'leadMs' | 'tap'>> = {}) {
  jest.useFakeTimers();
  let t = 0;
  const sent: any[] = [];
  const events: PlayoutEvent[] = [];
  const player = new Player({
    streamSid: 'MZ1',
    send: (s) => (sent.push(JSON.parse(s)), true),
    onEvent: (e) => events.push(e),
    now: () => t,
    ...opts,
  });
  const advance = (ms: number) => {
    for (let i = 0; i < ms; i += 10) {
      t += 10;
      jest.advanceTimersByTime(10);
    }
  };
  const sentAudioMs = () =>
    sent.filter((m) => m.event === 'media').reduce((n, m) => n + Buffer.from(m.media.payload, 'base64').length / 8, 0);
  const marks = () => sent.filter((m) => m.event === 'mark').map((m) => m.mark.name as string);
  return { player, sent, events, advance, sentAudioMs, marks };
}

afterEach(() => jest.useRealTimers());

describe('player', () => {
  it('sends exact Twilio shapes: media with the streamSid, then a mark every 200 ms', () => {
    const { player, sent } = setup();
    player.enqueue({ replyId: 1, index: 0, text: 'a' }, Buffer.alloc(4000, 0x55)); // 500 ms
    expect(sent[0]).toEqual({ event: 'media', streamSid: 'MZ1', media: { payload: expect.any(String) } });
    const kinds = sent.map((m) => m.event);
    expect(kinds.slice(0, 3)).toEqual(['media', 'media', 'mark']);
    expect(sent.filter((m) => m.event === 'mark')).toHaveLength(3); // 200, 400, 500 ms
  });

  it('keeps only about a second of audio ahead of playback', () => {
    const { player, advance, sentAudioMs } = setup();
    player.enqueue({ replyId: 1, index: 0, text: 'a' }, Buffer.alloc(8 * 5000)); // 5 s
    expect(sentAudioMs()).toBe(1000);
    advance(1000); // no echoes at all: the clock alone keeps playback fed
    expect(sentAudioMs()).toBeGreaterThanOrEqual(1900);
    expect(sentAudioMs()).toBeLessThanOrEqual(2100);
  });

  it('uses mark echoes to confirm playback and reports segments played in order', () => {
    const { player, events, advance, marks } = setup();
    player.enqueue({ replyId: 1, index: 0, text: 'a' }, Buffer.alloc(1600));
    player.enqueue({ replyId: 1, index: 1, text: 'b' }, Buffer.alloc(1600));
    advance(100);
    const [m1, m2] = marks();
    player.onMark(m1!);
    expect(events.filter((e) => e.type === 'segment-played').map((e: any) => e.meta.index)).toEqual([0]);
    expect(events.some((e) => e.type === 'first-mark')).toBe(true);
    player.onMark(m2!);
    expect(events.filter((e) => e.type === 'segment-played').map((e: any) => e.meta.index)).toEqual([0, 1]);
    expect(events.at(-1)!.type).toBe('drained');
    expect(player.playing).toBe(false);
  });

  it('on interrupt sends clear, drops the queue, ignores stale echoes and reports what was heard', () => {
    const { player, sent, advance, marks, sentAudioMs } = setup();
    player.enqueue({ replyId: 2, index: 0, text: 'x' }, Buffer.alloc(8 * 3000));
    advance(200);
    const first = marks()[0]!; // end of the first 200 ms
    player.onMark(first);
    advance(100); // 100 ms after that echo
    const heard = player.interrupt();
    expect(sent.at(-1)).toEqual({ event: 'clear', streamSid: 'MZ1' });
    expect(heard).toHaveLength(1);
    expect(heard[0]!.heardBytes).toBe(8 * 300);
    expect(heard[0]!.totalBytes).toBe(8 * 3000);
    const before = sentAudioMs();
    for (const m of marks()) player.onMark(m); // Twilio echoes every pending mark after clear
    advance(500);
    expect(sentAudioMs()).toBe(before);
    expect(player.playing).toBe(false);
  });

  it('treats echoes lost for a long time as played, so a call never hangs on them', () => {
    const { player, events, advance } = setup();
    player.enqueue({ replyId: 3, index: 0, text: 'y' }, Buffer.alloc(800));
    advance(3000);
    expect(events.some((e) => e.type === 'segment-played')).toBe(true);
    expect(events.some((e) => e.type === 'drained')).toBe(true);
  });

  it('sends nothing after close', () => {
    const { player, sent, advance } = setup();
    player.enqueue({ replyId: 1, index: 0, text: 'a' }, Buffer.alloc(8 * 3000));
    const n = sent.length;
    player.close();
    advance(2000);
    player.enqueue({ replyId: 1, index: 1, text: 'b' }, Buffer.alloc(800));
    expect(sent.length).toBe(n);
  });

  it('after a pause, resume sends the unheard rest of the reply exactly once', () => {
    const { player, sent, advance } = setup();
    const reply = Buffer.from(Array.from({ length: 8 * 3000 }, (_, i) => (i >> 8) & 0xff)); // 3 s, position-coded
    player.enqueue({ replyId: 1, index: 0, text: 'a' }, reply);
    advance(1000);
    player.pause(); // 1 s heard (by the clock), a second more was at Twilio
    const from = sent.length;
    advance(400);
    player.resume(0);
    advance(3000);
    const after = Buffer.concat(
      sent
        .slice(from)
        .filter((m) => m.event === 'media')
        .map((m) => Buffer.from(m.media.payload, 'base64')),
    );
    expect(after.equals(reply.subarray(8 * 1000))).toBe(true);
  });

  it('shows its tap every media payload and every clear, in order', () => {
    const seen: string[] = [];
    const tap = { sent: (m: Buffer) => seen.push(`media ${m.length}`), cleared: () => seen.push('clear') };
    const { player, sent, advance } = setup({ tap });
    player.enqueue({ replyId: 1, index: 0, text: 'a' }, Buffer.alloc(8 * 250));
    advance(100);
    player.interrupt();
    player.interrupt(); // nothing left to clear: no second clear on the wire, none at the tap
    const wire = sent
      .filter((m) => m.event !== 'mark')
      .map((m) => (m.event === 'media' ? `media ${Buffer.from(m.media.payload, 'base64').length}` : m.event));
    expect(seen).toEqual(wire);
    expect(seen).toEqual(['media 800', 'media 800', 'media 400', 'clear']);
  });
});

describe('player across replies', () => {
  it('stale echoes of marks sent before a clear do not push the next reply further ahead than the lead', () => {
    const { player, sent, advance, sentAudioMs } = setup();
    player.enqueue({ replyId: 1, index: 0, text: 'a' }, Buffer.alloc(8 * 3000)); // 3 s
    advance(100);
    const staleMarks = sent.filter((m) => m.event === 'mark').map((m) => m.mark.name as string);
    expect(staleMarks.length).toBeGreaterThan(2);
    player.interrupt();
    const before = sentAudioMs();
    player.enqueue({ replyId: 2, index: 0, text: 'b' }, Buffer.alloc(8 * 3000));
    for (const name of staleMarks) player.onMark(name); // Twilio echoes every pending mark at once on clear
    expect(sentAudioMs() - before).toBe(1000); // still one second ahead, not two
  });
});
