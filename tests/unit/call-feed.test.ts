import { MemoryCallFeed, type CallSummary } from '../../server/call-feed.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';

const call = (sid: string, over: Partial<CallSummary> = {}): CallSummary => ({
  callSid: sid,
  agentId: 'a',
  from: null,
  to: null,
  startedAt: '2026-03-01T09:00:00.000Z',
  endedAt: null,
  durationMs: null,
  endReason: null,
  turnCount: 0,
  live: true,
  ...over,
});

describe('MemoryCallFeed', () => {
  it('tells every subscriber, in order, until it unsubscribes (twice is harmless)', () => {
    const feed = new MemoryCallFeed();
    const a: string[] = [];
    const b: string[] = [];
    const offA = feed.subscribe((s) => a.push(`${s.callSid}:${s.turnCount}`));
    feed.subscribe((s) => b.push(s.callSid));
    feed.publish(call('CA1'));
    feed.publish(call('CA1', { turnCount: 1 }));
    offA();
    offA();
    feed.publish(call('CA2'));
    expect(a).toEqual(['CA1:0', 'CA1:1']);
    expect(b).toEqual(['CA1', 'CA1', 'CA2']);
    expect(feed.listenerCount).toBe(1);
  });

  it('keeps the live calls for new subscribers and forgets a call once it ended', () => {
    const feed = new MemoryCallFeed();
    feed.publish(call('CA1'));
    feed.publish(call('CA2'));
    feed.publish(call('CA1', { turnCount: 3 }));
    expect(feed.liveCalls().map((c) => [c.callSid, c.turnCount])).toEqual([
      ['CA2', 0],
      ['CA1', 3],
    ]);
    feed.publish(call('CA2', { live: false }));
    expect(feed.liveCalls().map((c) => c.callSid)).toEqual(['CA1']);
  });

  it('remembers at most maxLive calls, forgetting the least recently changed', () => {
    const feed = new MemoryCallFeed({ maxLive: 2 });
    feed.publish(call('CA1'));
    feed.publish(call('CA2'));
    feed.publish(call('CA1', { turnCount: 1 }));
    feed.publish(call('CA3'));
    expect(feed.liveCalls().map((c) => c.callSid)).toEqual(['CA1', 'CA3']);
  });

  it('logs a failing listener and still tells the others; publish never throws', () => {
    const logs = new MemoryTransport();
    const feed = new MemoryCallFeed({ logger: createLogger({ level: 'debug', format: 'json', transports: [logs] }) });
    const seen: string[] = [];
    feed.subscribe(() => {
      throw new Error('listener broke');
    });
    feed.subscribe((s) => seen.push(s.callSid));
    expect(() => feed.publish(call('CA1'))).not.toThrow();
    expect(seen).toEqual(['CA1']);
    expect(logs.events('CALL_FEED_LISTENER_FAILED')).toEqual([
      expect.objectContaining({ level: 'error', callSid: 'CA1', error: 'Error: listener broke' }),
    ]);
  });

  it('shares a frozen copy, so a listener cannot change what others receive', () => {
    const feed = new MemoryCallFeed();
    const original = call('CA1');
    let received: CallSummary | undefined;
    feed.subscribe((s) => (received = s));
    feed.publish(original);
    expect(Object.isFrozen(received)).toBe(true);
    expect(received).toEqual(original);
    expect(received).not.toBe(original);
  });
});
