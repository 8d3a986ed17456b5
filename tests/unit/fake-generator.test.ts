/**
 * FakeReplyGenerator on jest's fake clock, as stage tests use it: scripted delays, watchdog
 * timeouts, injected failures and retries, recorded requests. (Its behaviour against the real
 * generator is pinned by tests/integration/contract-generator.test.ts.)
 */
import { FakeReplyGenerator } from '../../media/providers/fakes/generator.ts';
import { ProviderError } from '../../media/providers/types.ts';
import type { ChatMessage, GenerationEvent, ToolSpec } from '../../media/providers/types.ts';

const MESSAGES: ChatMessage[] = [{ role: 'user', content: 'שלום' }];
const TOOLS: ToolSpec[] = [{ name: 'book', description: 'Book', parameters: { type: 'object' } }];

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

/** Starts draining and records when each event arrived (fake-clock time). */
function start(g: FakeReplyGenerator, signal = new AbortController().signal) {
  const t0 = Date.now();
  const seen: Array<{ at: number; e: GenerationEvent }> = [];
  const done = (async () => {
    try {
      for await (const e of g.generate(MESSAGES, signal, { tools: TOOLS })) seen.push({ at: Date.now() - t0, e });
      return undefined;
    } catch (err) {
      if (err instanceof ProviderError) return err;
      throw err;
    }
  })();
  return { seen, done };
}

describe('FakeReplyGenerator', () => {
  test('first-token and per-piece delays on the injected clock', async () => {
    const g = new FakeReplyGenerator({ pieces: ['א', 'ב'], firstTokenDelayMs: 500, pieceDelayMs: 100 });
    const { seen, done } = start(g);
    await jest.advanceTimersByTimeAsync(499);
    expect(seen).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(seen.map((s) => s.at)).toEqual([500]);
    await jest.advanceTimersByTimeAsync(100);
    expect(await done).toBeUndefined();
    expect(seen.map((s) => [s.at, s.e])).toEqual([
      [500, { type: 'text', text: 'א' }],
      [600, { type: 'text', text: 'ב' }],
    ]);
  });

  test('a first token later than the watchdog limit is a TIMEOUT at the limit, not retried', async () => {
    const g = new FakeReplyGenerator({ pieces: ['א'], firstTokenDelayMs: 5000 }, { firstTokenTimeoutMs: 800 });
    const { done } = start(g);
    await jest.advanceTimersByTimeAsync(800);
    expect(await done).toMatchObject({ code: 'TIMEOUT' });
    expect(g.attempts).toBe(1);
  });

  test('a retryable failure on the first attempt is retried once; requests record messages, tools and attempts', async () => {
    const g = new FakeReplyGenerator(
      [{ pieces: ['x'], fail: { code: 'RATE_LIMITED', attempts: 1 } }, { pieces: ['y'] }],
      {
        retryDelayMs: 100,
      },
    );
    const first = start(g);
    await jest.advanceTimersByTimeAsync(100);
    expect(await first.done).toBeUndefined();
    expect(first.seen.map((s) => s.e)).toEqual([{ type: 'text', text: 'x' }]);
    const second = start(g);
    await jest.advanceTimersByTimeAsync(0);
    await second.done;
    expect(second.seen.map((s) => s.e)).toEqual([{ type: 'text', text: 'y' }]);
    expect(g.requests.map((r) => [r.attempts, r.outcome, r.tools, r.messages])).toEqual([
      [2, 'done', TOOLS, MESSAGES],
      [1, 'done', TOOLS, MESSAGES],
    ]);
  });

  test('a function script sees the request; a stall without a watchdog waits for the abort and ends quietly', async () => {
    const g = new FakeReplyGenerator((req) => ({ pieces: [`בקשה ${req.index}`], stallAfterPieces: 1 }));
    const abort = new AbortController();
    const { seen, done } = start(g, abort.signal);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(seen.map((s) => s.e)).toEqual([{ type: 'text', text: 'בקשה 0' }]);
    abort.abort();
    expect(await done).toBeUndefined();
    expect(g.requests[0]!.outcome).toBe('aborted');
  });

  test('a mid-stream failure comes after its pieces and is recorded', async () => {
    const g = new FakeReplyGenerator({ pieces: ['א', 'ב', 'ג'], fail: { code: 'UNAVAILABLE', afterPieces: 2 } });
    const { seen, done } = start(g);
    const err = await done;
    expect(seen).toHaveLength(2);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    expect(g.requests[0]).toMatchObject({ outcome: 'error', error: err, attempts: 1 });
  });
});
