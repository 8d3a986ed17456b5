import { eventually } from '../helpers/gateway-harness.ts';
import { startVoiceStack, HEBREW, type VoiceStack } from '../helpers/voice-stack.ts';

jest.setTimeout(90_000);

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('resources after many calls', () => {
  let stack: VoiceStack;
  beforeAll(async () => {
    stack = await startVoiceStack({ openai: { reply: () => ({ chunkDelayMs: 30 }) } });
  });
  afterAll(() => stack.stop());

  it('releases every stream, request, timer and socket of every call', async () => {
    // Warm up once so lazily created clients and caches exist before the baseline is taken.
    const warm = await stack.call();
    await warm.waitFor((e) => e.kind === 'playback-end', 10_000);
    await warm.stop();
    await eventually(() => stack.h.gateway.media.openSockets === 0, 5000, 'warm-up call to close');
    await new Promise((r) => setTimeout(r, 300));
    const baseline = timers();

    const waves = 4;
    const perWave = 4;
    for (let w = 0; w < waves; w++) {
      await Promise.all(
        Array.from({ length: perWave }, async (_, i) => {
          const client = await stack.call();
          await client.waitFor((e) => e.kind === 'playback-end', 10_000);
          // Hang up at different moments: mid-speech, mid-reply, after the reply started.
          if (i % 2 === 0) {
            const spoken = await client.say(HEBREW);
            await client.waitFor((e) => e.kind === 'playback-start' && e.atMs > spoken.endedAtMs, 10_000);
          } else {
            void client.say(HEBREW).catch(() => undefined);
            await new Promise((r) => setTimeout(r, 700));
          }
          await client.stop();
        }),
      );
    }
    const calls = waves * perWave + 1;
    await eventually(() => stack.h.logs.events('CALL_END').length >= calls, 10_000, 'every CALL_END');
    await eventually(() => stack.h.gateway.media.openSockets === 0, 10_000, 'sockets closed');
    await eventually(() => stack.stt.activeStreams().length === 0, 10_000, 'STT streams ended');
    expect(stack.stt.streams.filter((s) => s.state === 'open')).toEqual([]);
    await eventually(
      () => stack.openai.requests.every((r) => r.finishedAt !== undefined || r.abortedByClient),
      10_000,
      'model requests finished',
    );
    const active = await stack.h.gateway.metrics.activeCalls.get();
    expect(active.values[0]?.value ?? 0).toBe(0);
    await eventually(() => timers() <= baseline + 2, 5000, `timers back to baseline (${baseline})`);
    expect(stack.h.logs.events('UNHANDLED_REJECTION')).toEqual([]);
  });
});
