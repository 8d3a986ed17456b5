import { StreamTokens } from '../../media/twilio/stream-token.ts';

describe('stream tokens', () => {
  it('accepts a token once, for the call it was issued for', () => {
    const t = new StreamTokens();
    const tok = t.issue('CA1');
    expect(t.consume(tok, 'CA2')).toEqual({ ok: false, reason: 'forged' });
    expect(t.consume(tok, 'CA1')).toEqual({ ok: true });
    expect(t.consume(tok, 'CA1')).toEqual({ ok: false, reason: 'reused' });
  });

  it('refuses missing, malformed and expired tokens', () => {
    let now = 1_000_000;
    const t = new StreamTokens({ ttlMs: 1000, now: () => now });
    const tok = t.issue('CA1');
    expect(t.consume(undefined, 'CA1').ok).toBe(false);
    expect(t.consume('abc', 'CA1')).toEqual({ ok: false, reason: 'malformed' });
    now += 1001;
    expect(t.consume(tok, 'CA1')).toEqual({ ok: false, reason: 'expired' });
  });

  it("lets instances sharing a secret verify each other's tokens", () => {
    const a = new StreamTokens({ secret: 's3cret' });
    const b = new StreamTokens({ secret: 's3cret' });
    const c = new StreamTokens({ secret: 'other' });
    expect(b.consume(a.issue('CA1'), 'CA1').ok).toBe(true);
    expect(c.consume(a.issue('CA1'), 'CA1')).toEqual({ ok: false, reason: 'forged' });
  });

  it('counts tokens whose stream has not connected yet', () => {
    let now = 0;
    const t = new StreamTokens({ now: () => now });
    const tok = t.issue('CA1');
    t.issue('CA2');
    expect(t.pendingSince(15_000)).toBe(2);
    t.consume(tok, 'CA1');
    expect(t.pendingSince(15_000)).toBe(1);
    now = 20_000;
    expect(t.pendingSince(15_000)).toBe(0);
  });
});
