/**
 * Turn-taking of VoiceCall between fake providers (scripted recognizer, recording model, instant
 * synthesizer) and a fake socket, on jest's fake clock: what a call does with speech, silence,
 * finals and interims, without any network.
 */
import { VoiceCall, type VoiceServices } from '../../media/voice/voice-call.ts';
import type { CallContext } from '../../media/twilio/call-handler.ts';
import { ProviderError, type RecognizerEvent } from '../../media/providers/types.ts';
import { FakeRecognizer } from '../../media/providers/fakes/recognizer.ts';
import { FakeReplyGenerator } from '../../media/providers/fakes/generator.ts';
import { FakeSynthesizer } from '../../media/providers/fakes/synthesizer.ts';
import { parseConfig } from '../../config/config.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';
import { MemoryCallEndings } from '../../server/call-endings.ts';
import { CrmClient } from '../../server/crm-client.ts';
import { loadAgents } from '../../config/agents.ts';

const SPEECH = Buffer.alloc(160, 0x00); // full-scale μ-law: loud
const QUIET = Buffer.alloc(160, 0xff); // μ-law silence

function setup() {
  jest.useFakeTimers();
  const logs = new MemoryTransport();
  const logger = createLogger({ level: 'debug', format: 'json', transports: [logs] });
  // The provider fakes of media/providers/fakes: a recognizer driven by the test, a scripted model
  // that records what it was asked, and a synthesizer with deterministic audio.
  const recognizer = new FakeRecognizer();
  const generator = new FakeReplyGenerator({ pieces: ['בסדר גמור.'] });
  const synthesizer = new FakeSynthesizer();
  const services: VoiceServices = {
    voice: parseConfig({ AGENT_GREETING: 'שלום' }).voice,
    recognizer,
    generator,
    synthesizer,
    cachedSynthesizer: synthesizer,
    endings: new MemoryCallEndings(),
    crm: new CrmClient(undefined),
  };
  const sent: string[] = [];
  const hangups: string[] = [];
  const ctx: CallContext = {
    callSid: 'CA1',
    streamSid: 'MZ1',
    customParameters: {},
    logger,
    send: (t) => (sent.push(t), true),
    bufferedAmount: () => 0,
    hangup: (reason) => hangups.push(reason),
  };
  const agent = loadAgents(undefined, services.voice).defaultAgent;
  const call = new VoiceCall(ctx, services, { agent, from: undefined, to: undefined });
  const frames = async (audio: Buffer, n: number) => {
    for (let i = 0; i < n; i++) {
      call.onAudio({ mulaw: audio, timestamp: undefined, chunk: undefined });
      await jest.advanceTimersByTimeAsync(20);
    }
  };
  /** Echoes every mark sent so far: the audio before it has played. */
  const echo = () => {
    for (const m of sent.map((x) => JSON.parse(x)).filter((x) => x.event === 'mark')) call.onMark(m.mark.name);
  };
  /** What the recognizer reports next, as Google's stream would. */
  const emit = (e: RecognizerEvent) => {
    const session = recognizer.last;
    if (e.type === 'final') session.final(e.text, e.confidence);
    else if (e.type === 'interim') session.interim(e.text, e.stability);
    else if (e.type === 'failed') session.fail(e.error);
  };
  return {
    call,
    logs,
    /** The messages of each model request so far. */
    get requests() {
      return generator.requests.map((r) => r.messages);
    },
    frames,
    sent,
    hangups,
    echo,
    emit,
  };
}

afterEach(() => jest.useRealTimers());

describe('VoiceCall turn-taking', () => {
  it('answers soon after a final once the caller is quiet, without waiting for EOU_MS', async () => {
    const t = setup();
    await t.frames(SPEECH, 30);
    await t.frames(QUIET, 5);
    t.emit({ type: 'final', text: 'אני רוצה תור', confidence: 0.9 });
    await t.frames(QUIET, 10); // 300 ms of silence in all: less than EOU_MS (450)
    expect(t.requests).toHaveLength(1);
    expect(t.requests[0]!.at(-1)).toEqual({ role: 'user', content: 'אני רוצה תור' });
    await t.call.close();
  });

  it('does not cut off a caller who keeps talking after a final', async () => {
    const t = setup();
    await t.frames(SPEECH, 30);
    t.emit({ type: 'final', text: 'אני רוצה', confidence: 0.9 });
    await t.frames(SPEECH, 40); // still talking
    expect(t.requests).toHaveLength(0);
    t.emit({ type: 'final', text: 'תור למחר', confidence: 0.9 });
    await t.frames(QUIET, 15);
    expect(t.requests).toHaveLength(1);
    expect(t.requests[0]!.at(-1)!.content).toBe('אני רוצה תור למחר');
    await t.call.close();
  });

  it('keeps the turn open when the caller resumes after an end of utterance', async () => {
    const t = setup();
    await t.frames(SPEECH, 20);
    await t.frames(QUIET, 25); // EOU reached, no final yet
    await t.frames(SPEECH, 30); // the caller goes on
    t.emit({ type: 'final', text: 'משפט ארוך', confidence: 0.9 });
    await t.frames(SPEECH, 5);
    expect(t.requests).toHaveLength(0);
    await t.frames(QUIET, 25);
    expect(t.requests).toHaveLength(1);
    await t.call.close();
  });

  it('uses the interim text when the recognizer never settles, and drops its late final', async () => {
    const t = setup();
    await t.frames(SPEECH, 20);
    t.emit({ type: 'interim', text: 'מה השעה', stability: 0.5 });
    await t.frames(QUIET, 25);
    await t.frames(QUIET, 65); // past the grace period
    expect(t.requests).toHaveLength(1);
    expect(t.requests[0]!.at(-1)!.content).toBe('מה השעה');
    t.emit({ type: 'final', text: 'מה השעה?', confidence: 0.9 });
    await t.frames(QUIET, 30);
    expect(t.requests).toHaveLength(1);
    expect(t.logs.events('TURN_DROPPED')).toEqual([expect.objectContaining({ reason: 'late-final' })]);
    await t.call.close();
  });

  it('drops a turn that produced no text at all (noise)', async () => {
    const t = setup();
    await t.frames(SPEECH, 5);
    await t.frames(QUIET, 100);
    expect(t.requests).toHaveLength(0);
    expect(t.logs.events('TURN_DROPPED')).toHaveLength(1);
    await t.call.close();
  });

  it('releases everything on close and ignores events afterwards', async () => {
    const t = setup();
    await t.frames(SPEECH, 10);
    await t.call.close();
    await t.call.close();
    t.emit({ type: 'final', text: 'אחרי הסוף', confidence: 1 });
    await t.frames(QUIET, 40);
    expect(t.requests).toHaveLength(0);
    expect(t.logs.events('CALL_END')).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a fatal recognizer error while the grace timer is pending never asks the model, and hangs up after the apology', async () => {
    const t = setup();
    await t.frames(SPEECH, 20);
    t.emit({ type: 'interim', text: 'אני רוצה', stability: 0.5 });
    await t.frames(QUIET, 25); // EOU reached, no final: the grace timer is pending
    t.emit({
      type: 'failed',
      error: new ProviderError('stt', 'AUTH', 'Google Speech-to-Text: credentials missing', { retryable: false }),
    });
    await t.frames(QUIET, 100); // well past the grace period
    expect(t.requests).toHaveLength(0);
    // The apology plays out (its marks come back as Twilio plays it), then the call hangs up.
    for (let i = 0; i < 100 && t.hangups.length === 0; i++) {
      t.echo();
      await t.frames(QUIET, 5);
    }
    expect(t.hangups).toHaveLength(1);
    await t.call.close();
  });
});
