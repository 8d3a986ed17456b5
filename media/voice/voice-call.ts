/**
 * One call's voice agent, as wiring only: the stages below talk through the call's event bus and
 * live in the call's cancellation tree. What each does is in its own file.
 *
 *   socket ─frame─► Listener ─speech/transcript─► TurnTaker ─turn─► Responder ─sentences─► Speaker ─► socket
 *                                                   │  ▲ interrupt/pause/resume                │
 *                                                   └──┴────────── reply-started/ended ◄───────┘
 *   Supervisor: errors and the end of the call.   Telemetry (+ observers): logs, metrics, records.
 */
import type { CallContext, CallHandler, InboundAudio } from '../twilio/call-handler.ts';
import type { VoiceConfig } from '../../config/config.ts';
import type { CallEndings } from '../../server/call-endings.ts';
import type { Metrics } from '../../server/metrics.ts';
import type { ReplyGenerator, SpeechRecognizer, StreamingSynthesizer, Synthesizer } from '../providers/types.ts';
import { usesStreamingSynthesis } from '../providers/google-tts-voices.ts';
import type { Agent } from '../../config/agents.ts';
import type { CrmClient } from '../../server/crm-client.ts';
import { CallBus, type Subscriber } from './bus.ts';
import { backchannelSet } from './caller-words.ts';
import { fetchCallerContext, fillTemplate } from './caller-context.ts';
import { ToolRunner } from './tools.ts';
import { createSpeechDetector } from '../audio/speech-detector.ts';
import { shapeForSpeech, SPEAK_AS_WORDS_INSTRUCTION } from './shaping/index.ts';
import { CallRecorder, type RecordSinks } from './call-record.ts';
import { CallRecording } from './call-recording.ts';
import { realClock, type Clock } from './clock.ts';
import { Conversation } from './conversation.ts';
import type { EndReason } from './events.ts';
import { Listener } from './listener.ts';
import { Player } from './playout.ts';
import { Responder } from './responder.ts';
import { Scope } from './scope.ts';
import { Speaker } from './speaker.ts';
import { Supervisor } from './supervisor.ts';
import { Telemetry } from './telemetry.ts';
import { TurnTaker } from './turn-taker.ts';

export { APOLOGY_LINE, FALLBACK_LINE } from './supervisor.ts';

/** After an STT final, this much silence is enough to answer without waiting for EOU_MS. */
const FAST_COMMIT_SILENCE_MS = 250;
/** After EOU_MS silence with no final yet, how long to wait for the recognizer before using the interim. */
const FINAL_GRACE_MS = 1200;

/** The providers and settings calls use. */
export interface VoiceServices {
  voice: VoiceConfig;
  recognizer: SpeechRecognizer;
  generator: ReplyGenerator;
  /** For model replies (unique text). */
  synthesizer: Synthesizer;
  /** For fixed lines (greeting, fallback, apology): cached per voice and text. */
  cachedSynthesizer: Synthesizer;
  /** Streaming synthesis, used for answers when the agent's voice streams (TTS_STREAMING). */
  streamingSynthesizer?: StreamingSynthesizer;
  /** Where the ending decision goes for `<Connect action>`. */
  endings: CallEndings;
  /** Signed requests to the business's systems (context, tools). */
  crm: CrmClient;
  metrics?: Metrics;
  /** Observers of every call event; they must not throw or block. */
  observers?: readonly Subscriber[];
  /** Where call records go (the call store's writer, the console's live feed). */
  records?: RecordSinks;
  /** RECORD_CALLS: where each call's WAV goes (DATA_DIR/recordings); unset = calls are not recorded. */
  recordingsDir?: string;
  clock?: Clock;
}

/** Who answers this call, and who is calling. */
export interface CallSetup {
  agent: Agent;
  from: string | undefined;
  to: string | undefined;
}

/** The CallHandler of the voice agent. */
export class VoiceCall implements CallHandler {
  readonly #clock: Clock;
  readonly #startedAt: number;
  readonly #call: Scope;
  readonly #bus: CallBus;
  readonly #player: Player;
  readonly #listener: Listener;
  readonly #supervisor: Supervisor;
  readonly #telemetry: Telemetry;
  readonly #recording: CallRecording | undefined;
  readonly #recorder: CallRecorder | undefined;
  #closing: Promise<void> | undefined;
  #stopped = false;

  constructor(ctx: CallContext, s: VoiceServices, setup: CallSetup) {
    const v = s.voice;
    const log = ctx.logger;
    const clock = (this.#clock = s.clock ?? realClock);
    this.#startedAt = clock.now();
    const now = (): number => clock.now() - this.#startedAt;
    const onError = (err: unknown): void => {
      log.error('CALL_STAGE_ERROR', { error: err instanceof Error ? err.message : String(err) });
    };

    this.#call = new Scope(clock, onError);
    const conversation = this.#call.child();
    const ending = this.#call.child();
    const bus = (this.#bus = new CallBus({
      onSubscriberError: (err, e) => {
        log.error('CALL_STAGE_ERROR', { event: e.type, error: err instanceof Error ? err.message : String(err) });
      },
      onOverflow: (e) => {
        log.error('CALL_EVENTS_OVERFLOW', { event: e.type });
      },
    }));
    const emit = bus.emit;

    const { agent } = setup;
    const recorder = s.records
      ? new CallRecorder(s.records, {
          callSid: ctx.callSid,
          streamSid: ctx.streamSid,
          agentId: agent.id,
          from: setup.from,
          to: setup.to,
          ttsVoice: agent.voice ?? v.ttsVoice,
          llmModel: v.openaiModel,
        })
      : undefined;
    this.#recorder = recorder;
    const recording = (this.#recording = s.recordingsDir
      ? new CallRecording({ dir: s.recordingsDir, callSid: ctx.callSid, streamSid: ctx.streamSid, clock, log })
      : undefined);
    if (recording) recorder?.expectRecording();
    this.#telemetry = new Telemetry(log, s.metrics, now, (turn, fields) => recorder?.latency(turn, nullable(fields)));
    const prompt = (instructions: string) => `${instructions}\n\n${SPEAK_AS_WORDS_INSTRUCTION}`;
    const history = new Conversation(prompt(fillTemplate(agent.instructions, {})));
    const tools = new ToolRunner(agent, s.crm, { callSid: ctx.callSid, to: setup.to });
    const responder = new Responder({
      conversation,
      ending,
      generator: s.generator,
      history,
      tools,
      maxToolRounds: agent.maxToolRounds,
      fillers: agent.fillers,
      fillerAfterMs: v.fillerAfterMs,
      emit,
      now,
    });
    this.#player = new Player({
      streamSid: ctx.streamSid,
      send: ctx.send,
      bufferedAmount: ctx.bufferedAmount,
      onEvent: (p) => speaker.onPlayout(p),
      ...(recording ? { tap: recording.tap } : {}),
    });
    const speaker = new Speaker({
      conversation,
      ending,
      player: this.#player,
      synthesizer: s.synthesizer,
      cachedSynthesizer: s.cachedSynthesizer,
      ...(s.streamingSynthesizer && usesStreamingSynthesis(v.ttsStreaming, agent.voice ?? v.ttsVoice)
        ? { streaming: s.streamingSynthesizer }
        : {}),
      voice: agent.voice,
      shape: (text) => shapeForSpeech(text, { pronunciations: agent.pronunciations }),
      emit,
      now,
    });
    const words = agent.backchannelWords ?? v.backchannelWords;
    const turnTaker = new TurnTaker(
      {
        bargeIn: v.bargeIn,
        eouMs: v.eouMs,
        eouDigitsMs: Math.max(v.eouDigitsMs, v.eouMs),
        fastCommitSilenceMs: FAST_COMMIT_SILENCE_MS,
        finalGraceMs: FINAL_GRACE_MS,
        minConfidence: v.sttMinConfidence,
        backchannelWords: words.length ? backchannelSet(words) : undefined,
        backchannelHoldMs: v.backchannelHoldMs,
        dtmfTimeoutMs: v.dtmfTimeoutMs,
      },
      { scope: conversation, emit, now },
    );
    this.#supervisor = new Supervisor({
      callSid: ctx.callSid,
      conversation,
      ending,
      emit,
      now,
      say: (text, kind) => responder.say(text, kind),
      hangup: (reason) => ctx.hangup(reason),
      endings: s.endings,
    });
    const speechDetector = v.speechDetector === 'auto' ? createSpeechDetector(v.speechThresholds) : undefined;
    this.#listener = new Listener({
      conversation,
      recognizer: s.recognizer,
      detector: { vadRms: v.vadRms, eouMs: v.eouMs, bargeInMinMs: v.bargeInMinMs },
      hints: agent.sttHints,
      ...(speechDetector ? { speechDetector } : {}),
      emit,
      now,
      log,
    });

    for (const stage of [this.#telemetry, this.#listener, turnTaker, this.#supervisor, responder, speaker]) {
      bus.subscribe((e) => stage.handle(e));
    }
    if (recorder) bus.subscribe(recorder.handle);
    for (const observer of s.observers ?? []) bus.subscribe(observer);

    // The greeting waits for the caller's record (at most the agent's context timeout).
    conversation.run(async (signal) => {
      const identity = { callSid: ctx.callSid, from: setup.from, to: setup.to, agentId: agent.id };
      const context = await fetchCallerContext(agent, identity, s.crm, signal, (reason, detail, status) => {
        log.warn('CONTEXT_FAILED', { agentId: agent.id, reason, detail, status });
      });
      if (signal.aborted) return;
      const vars = context.variables;
      const instructions = fillTemplate(agent.instructions, vars);
      history.setInstructions(
        prompt(context.instructions ? `${instructions}\n\n${context.instructions}` : instructions),
      );
      if (context.hints.length) this.#listener.setHints([...agent.sttHints, ...context.hints]);
      responder.say(fillTemplate(agent.greeting, vars), 'greeting');
    });
  }

  onAudio(frame: InboundAudio): void {
    this.#listener.onAudio(frame.mulaw);
    this.#recording?.caller(frame.mulaw, frame.timestamp);
  }

  onMark(name: string): void {
    this.#player.onMark(name);
  }

  onDtmf(digit: string): void {
    this.#bus.emit({ type: 'dtmf', t: this.#clock.now() - this.#startedAt, digit });
  }

  onStop(): void {
    this.#stopped = true;
    void this.close();
  }

  /** Ends the call's work: everything is aborted, then awaited. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close(this.#stopped ? 'caller-hangup' : 'socket-closed');
    return this.#closing;
  }

  async #close(reason: EndReason): Promise<void> {
    this.#supervisor.callerGone(reason);
    this.#call.abort();
    this.#player.close();
    const recorded = this.#recording?.finish(); // what could have played by now, then the file is closed
    this.#listener.close();
    this.#bus.close();
    this.#telemetry.callEnd();
    await this.#call.settled();
    if (recorded) this.#recorder?.recording(await recorded);
  }
}

/** TURN fields as the record stores them: a stage that did not happen is null. */
function nullable(fields: Readonly<object>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, (v as number | undefined) ?? null]));
}
