import { StreamTokens, CALL_STREAM_MEMORY_MS } from '../../media/twilio/stream-token.ts';
import { MemoryUsedTokens, type UsedTokens } from '../../server/used-tokens.ts';

const open: StreamTokens[] = [];
function tokens(opts: ConstructorParameters<typeof StreamTokens>[0] = {}): StreamTokens {
  const t = new StreamTokens(opts);
  open.push(t);
  return t;
}
afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

describe('stream tokens', () => {
  it('accepts a token once, for the call it was issued for', async () => {
    const t = tokens();
    const tok = t.issue('CA1');
    expect(await t.consume(tok, 'CA2')).toEqual({ ok: false, reason: 'forged' });
    expect(await t.consume(tok, 'CA1')).toEqual({ ok: true });
    expect(await t.consume(tok, 'CA1')).toEqual({ ok: false, reason: 'reused' });
  });

  it('refuses missing, malformed and expired tokens', async () => {
    let now = 1_000_000;
    const t = tokens({ windowMs: 1000, now: () => now });
    const tok = t.issue('CA1');
    expect((await t.consume(undefined, 'CA1')).ok).toBe(false);
    expect(await t.consume('abc', 'CA1')).toEqual({ ok: false, reason: 'malformed' });
    now += 1001;
    expect(await t.consume(tok, 'CA1')).toEqual({ ok: false, reason: 'expired' });
  });

  it("lets instances sharing a secret verify each other's tokens", async () => {
    const a = tokens({ secret: 's3cret' });
    const b = tokens({ secret: 's3cret' });
    const c = tokens({ secret: 'other' });
    expect((await b.consume(a.issue('CA1'), 'CA1')).ok).toBe(true);
    expect(await c.consume(a.issue('CA2'), 'CA2')).toEqual({ ok: false, reason: 'forged' });
  });

  it('gives a call one stream: a second token for the same CallSid is refused once the first was used', async () => {
    const t = tokens();
    const first = t.issue('CA1');
    const replayed = t.issue('CA1'); // a replayed (or re-requested) incoming_call
    expect(await t.consume(first, 'CA1')).toEqual({ ok: true });
    expect(await t.consume(replayed, 'CA1')).toEqual({ ok: false, reason: 'call-streamed' });
  });

  it('refuses a token dated beyond the clock skew, and accepts one within it', async () => {
    const checkerNow = 4_940_000;
    const checker = tokens({ secret: 's', maxSkewMs: 5000, now: () => checkerNow });
    const minuteAhead = tokens({ secret: 's', now: () => checkerNow + 60_000 });
    const fourSecondsAhead = tokens({ secret: 's', now: () => checkerNow + 4000 });
    expect(await checker.consume(minuteAhead.issue('CA1'), 'CA1')).toEqual({ ok: false, reason: 'future' });
    expect((await checker.consume(fourSecondsAhead.issue('CA2'), 'CA2')).ok).toBe(true);
  });

  it('with a process-local store, refuses tokens issued before the process started; a durable store accepts them', async () => {
    let now = 10_000_000;
    const before = tokens({ secret: 's', now: () => now }).issue('CA1');
    const beforeToo = tokens({ secret: 's', now: () => now }).issue('CA2');
    now += 20_000;
    const local = tokens({ secret: 's', now: () => now });
    expect(await local.consume(before, 'CA1')).toEqual({ ok: false, reason: 'before-start' });
    const durableStore: UsedTokens = { durable: true, consume: () => Promise.resolve(true) };
    const shared = tokens({ secret: 's', used: durableStore, now: () => now });
    expect((await shared.consume(beforeToo, 'CA2')).ok).toBe(true);
  });

  it('records uses in the store it is given, with the token window and the call memory as expiries', async () => {
    const seen: Array<[string, number]> = [];
    const store: UsedTokens = {
      consume: (id, expiresAt) => {
        seen.push([id, expiresAt]);
        return Promise.resolve(true);
      },
    };
    const now = 7_000_000;
    const t = tokens({ used: store, windowMs: 60_000, now: () => now });
    expect((await t.consume(t.issue('CA9'), 'CA9')).ok).toBe(true);
    expect(seen).toEqual([
      [expect.stringMatching(/^stream-token:/), now + 60_000],
      ['call-stream:CA9', now + CALL_STREAM_MEMORY_MS],
    ]);
  });

  it('refuses (never accepts) when the store fails', async () => {
    const t = tokens({ used: { consume: () => Promise.reject(new Error('db down')) } });
    expect(await t.consume(t.issue('CA1'), 'CA1')).toEqual({ ok: false, reason: 'store-failed' });
  });

  it('counts pending tokens, forgets them after the window and caps them, oldest first', async () => {
    let now = 0;
    const counts: number[] = [];
    const t = tokens({ windowMs: 10_000, maxPending: 3, now: () => now, onPendingChange: (n) => counts.push(n) });
    const first = t.issue('CA1');
    t.issue('CA2');
    expect(t.pending).toBe(2);
    expect((await t.consume(first, 'CA1')).ok).toBe(true);
    expect(t.pending).toBe(1);
    t.issue('CA3');
    t.issue('CA4');
    t.issue('CA5'); // over the cap: CA2's token is evicted
    expect(t.pending).toBe(3);
    now = 10_001;
    expect(t.pending).toBe(0);
    expect(counts.at(-1)).toBe(0);
  });

  it('sweeps pending tokens on its own timer, without being asked', () => {
    jest.useFakeTimers();
    try {
      let now = 0;
      const counts: number[] = [];
      const t = tokens({ windowMs: 4000, now: () => now, onPendingChange: (n) => counts.push(n) });
      t.issue('CA1');
      now = 5000;
      jest.advanceTimersByTime(1000);
      expect(counts).toEqual([1, 0]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('in-memory used-token store', () => {
  it('says true once per id until it expires, and stays within its cap', async () => {
    let now = 0;
    const store = new MemoryUsedTokens({ maxEntries: 2, now: () => now });
    expect(await store.consume('a', 1000)).toBe(true);
    expect(await store.consume('a', 1000)).toBe(false);
    expect(await store.consume('b', 1000)).toBe(true);
    expect(await store.consume('c', 1000)).toBe(true);
    expect(store.size).toBe(2);
    now = 2000;
    expect(await store.consume('b', 3000)).toBe(true); // expired, so new again
  });
});
