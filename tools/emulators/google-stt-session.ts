/**
 * One `StreamingRecognize` call of an STT emulator, whatever the API version: the first message
 * must carry the config, audio follows; results and the closing status go through one ordered
 * queue, so a final delayed by `finalDelayMs` is never overtaken by what comes after it.
 */
import type { grpc } from 'google-gax';
import { UtteranceDetector } from './google-stt-detector.ts';
import type { DetectorAction } from './google-stt-detector.ts';
import { DEFAULT_STT_TRANSCRIPTS } from './google-stt-types.ts';
import type {
  GrpcFault,
  ResolvedSttOptions,
  StreamSetup,
  SttDialect,
  SttEmulatorEvent,
  SttStreamRecord,
  SttStreamState,
} from './google-stt-types.ts';

const OUT_OF_RANGE = 11;
const IDLE_DETAILS =
  'Audio Timeout Error: Long duration elapsed without audio. Audio should be sent close to real time.';

/** The server side of one stream. */
export class SttStreamSession<C> {
  private readonly call: grpc.ServerDuplexStream<unknown, unknown>;
  private readonly record: SttStreamRecord<C>;
  private readonly o: ResolvedSttOptions;
  private readonly dialect: SttDialect<C>;
  private readonly emit: (e: SttEmulatorEvent<C>) => void;
  private readonly onGone: () => void;
  private setup: StreamSetup | undefined;
  private detector: UtteranceDetector | undefined;
  private spuriousDone = 0;
  /** No more audio is processed (a terminal status is queued or sent, or single utterance is over). */
  private deaf = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  private idle: NodeJS.Timeout | undefined;

  constructor(
    call: grpc.ServerDuplexStream<unknown, unknown>,
    record: SttStreamRecord<C>,
    o: ResolvedSttOptions,
    dialect: SttDialect<C>,
    emit: (e: SttEmulatorEvent<C>) => void,
    onGone: () => void,
  ) {
    this.call = call;
    this.record = record;
    this.o = o;
    this.dialect = dialect;
    this.emit = emit;
    this.onGone = onGone;
    call.on('data', (msg: unknown) => this.onMessage(msg));
    // grpc-js reports a client cancel as 'end' followed, a tick later, by 'cancelled'; waiting one
    // setImmediate tells a real half-close from a cancel before anything is finalised.
    call.on('end', () => setImmediate(() => this.onHalfClose()));
    call.on('cancelled', () => this.cancelled());
    this.armIdle();
  }

  /** Index of the stream's record. */
  get index(): number {
    return this.record.index;
  }

  private onMessage(msg: unknown): void {
    if (this.record.state !== 'open' || this.deaf) return;
    const { config, audio } = this.dialect.parse(msg);
    if (config) {
      if (this.record.config) return this.fail(this.dialect.malordered('audio-expected'));
      this.record.config = config;
      const outcome = this.dialect.configure(config, this.record.index);
      if ('code' in outcome) return this.fail(outcome);
      this.setup = outcome;
      this.detector = new UtteranceDetector(this.o, outcome.format);
      this.record.recognition = outcome.recognition;
      this.emit({ type: 'config', stream: this.record.index, config, recognition: outcome.recognition });
      return;
    }
    const setup = this.setup;
    const detector = this.detector;
    if (!setup || !detector) return this.fail(this.dialect.malordered('config-first'));
    if (!audio) return this.fail(this.dialect.malordered('audio-expected'));
    const tooLong = this.dialect.audioFault(audio.length);
    if (tooLong) return this.fail(tooLong);
    if (setup.faultOnAudio) return this.fail(setup.faultOnAudio);
    this.armIdle();
    this.record.audioBytes += audio.length;
    this.record.audioMs = this.record.audioBytes / detector.bytesPerMs;
    for (const action of detector.push(audio)) {
      if (this.deaf) break;
      this.onAction(action);
    }
    this.spuriousByAudio();
    this.checkLimits();
  }

  private onAction(a: DetectorAction): void {
    const setup = this.setup!;
    switch (a.type) {
      case 'begin':
        if (setup.voiceActivityEvents) this.send(this.dialect.speechEvent('SPEECH_ACTIVITY_BEGIN', a.atMs), 0);
        return;
      case 'interim': {
        if (!setup.interimResults) return;
        const transcript = this.text(a.utterance, a.speechMs).split(/\s+/).slice(0, a.count).join(' ');
        const result = { transcript, confidence: 0, isFinal: false, stability: 0.8, endMs: a.atMs };
        this.send(this.dialect.result({ ...result, languageCode: setup.resultLanguage }), 0, () =>
          this.emit({ type: 'interim', stream: this.index, utterance: a.utterance, transcript, audioMs: a.atMs }),
        );
        return;
      }
      case 'noise':
        this.emit({ type: 'noise', stream: this.index, speechMs: a.speechMs, audioMs: a.atMs });
        return;
      case 'end': {
        const transcript = this.text(a.utterance, a.speechMs);
        if (setup.singleUtterance) this.send(this.dialect.speechEvent('END_OF_SINGLE_UTTERANCE', a.endMs), 0);
        if (setup.voiceActivityEvents) this.send(this.dialect.speechEvent('SPEECH_ACTIVITY_END', a.endMs), 0);
        this.sendFinal(transcript, this.o.finalConfidence, a.endMs, a.atMs, a.utterance, this.o.finalDelayMs);
        if (setup.singleUtterance) this.deaf = true; // Google stops recognising after the one utterance
        return;
      }
    }
  }

  private sendFinal(
    transcript: string,
    confidence: number,
    endMs: number,
    audioMs: number,
    utterance: number,
    delayMs: number,
  ): void {
    const fields = { transcript, confidence, isFinal: true, stability: 0, endMs };
    this.send(this.dialect.result({ ...fields, languageCode: this.setup!.resultLanguage }), delayMs, () =>
      this.emit({
        type: 'final',
        stream: this.index,
        utterance,
        transcript,
        audioMs,
        resultEndMs: endMs,
        confidence,
        spurious: utterance < 0,
      }),
    );
  }

  /** Sends a final without speech (spurious-final mode); false when the stream cannot take one now. */
  spurious(text: string, confidence: number): boolean {
    if (this.record.state !== 'open' || this.deaf || !this.detector) return false;
    const at = this.detector.audioMs;
    this.sendFinal(text, confidence, at, at, -1, 0);
    return true;
  }

  private spuriousByAudio(): void {
    const marks = this.o.spuriousFinalAtMs;
    while (this.spuriousDone < marks.length && this.record.audioMs >= marks[this.spuriousDone]!) {
      this.spuriousDone++;
      this.spurious(this.o.spuriousFinalText, this.o.spuriousFinalConfidence);
    }
  }

  private text(utteranceIndex: number, speechMs: number): string {
    const ctx = { utteranceIndex, streamIndex: this.index, speechMs };
    if (this.o.transcript) return this.o.transcript(ctx);
    return DEFAULT_STT_TRANSCRIPTS[utteranceIndex % DEFAULT_STT_TRANSCRIPTS.length] ?? '';
  }

  private checkLimits(): void {
    const o = this.o;
    const failN = o.failStreamCount ?? Infinity;
    if (o.failStreamAfterAudioMs !== undefined && this.index < failN && this.record.audioMs >= o.failStreamAfterAudioMs)
      this.finish({ code: o.failCode, details: o.failDetails });
    else if (this.record.audioMs > o.maxStreamAudioMs) this.finish(this.dialect.streamLimit);
  }

  /** Client half-closed: recognise what is pending (as Google does), then end with OK after queued results. */
  private onHalfClose(): void {
    if (this.record.state !== 'open') return;
    if (!this.deaf && this.detector) for (const a of this.detector.flush()) this.onAction(a);
    this.finish(undefined);
  }

  /** Queues the end of the stream behind pending results; `fault` undefined means status OK. */
  private finish(fault: GrpcFault | undefined): void {
    if (this.deaf && fault) return; // a terminal status is already queued
    this.deaf = true;
    this.clearIdle();
    this.queue = this.queue.then(() => (fault ? this.fail(fault) : this.close('ended')));
  }

  /** Ends the stream with `fault` now, skipping anything still queued. */
  fail(fault: GrpcFault): void {
    if (this.record.state !== 'open') return;
    this.record.fault = fault;
    this.close('failed');
    // grpc-js turns an 'error' emitted on a server stream into the call's status (code + details).
    this.call.emit('error', fault);
  }

  /** The client (or server shutdown) cancelled the call. */
  cancelled(): void {
    if (this.record.state === 'open') this.close('cancelled');
  }

  private close(state: Exclude<SttStreamState, 'open'>): void {
    if (this.record.state !== 'open') return;
    this.record.state = state;
    this.record.closedAt = Date.now();
    this.deaf = true;
    this.clearIdle();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (state === 'ended') this.call.end();
    this.onGone();
    const f = this.record.fault;
    this.emit({ type: 'closed', stream: this.index, state, ...(f ? { code: f.code, details: f.details } : {}) });
  }

  /** Writes `resp` after `delayMs` (wall clock), in order with everything queued before it. */
  private send(resp: Record<string, unknown>, delayMs: number, after?: () => void): void {
    this.queue = this.queue.then(async () => {
      if (delayMs > 0) await this.sleep(delayMs);
      if (this.record.state !== 'open') return;
      if (resp['results']) this.record.results++;
      this.call.write(resp);
      after?.();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private armIdle(): void {
    this.clearIdle();
    this.idle = setTimeout(() => this.fail({ code: OUT_OF_RANGE, details: IDLE_DETAILS }), this.o.idleTimeoutMs);
    this.idle.unref(); // a forgotten stream must not keep a test process alive
  }

  private clearIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
  }
}
