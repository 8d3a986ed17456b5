/**
 * Telemetry as a subscriber: the call's events become the log lines and metrics the README
 * documents, and nothing else in the pipeline logs what an event already says. The `TURN` line of
 * each answered turn gathers every stage's time from the caller's end of speech.
 */
import type { Logger } from '../../server/logger.ts';
import type { TurnLatencyFields } from '../../server/log-fields.ts';
import type { Metrics } from '../../server/metrics.ts';
import type { CallEvent, EventOf } from './events.ts';
import { gatewayOverhead, turnComponents, turnLogFields, type ReplyMetrics, type TurnTiming } from './turn-metrics.ts';

interface TurnStats {
  timing: TurnTiming;
  index: number;
  replyId?: number;
  metrics: ReplyMetrics;
  logged: boolean;
}

/** Logs and metrics of one call. */
export class Telemetry {
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #now: () => number;
  /** Turns by the reply that answers them. */
  readonly #turns = new Map<number, TurnStats>();
  #pendingTurn: TurnStats | undefined;
  readonly #sentences = new Map<string, string>();
  readonly #interrupts = new Map<number, EventOf<'interrupt'>>();
  /** Streamed syntheses by reply: chunks, bytes, time to the first chunk. */
  readonly #streams = new Map<number, { chunks: number; bytes: number; firstChunkMs: number }>();
  /** Arguments of tool calls in flight, for their debug line. */
  readonly #toolArgs = new Map<string, string>();
  #turnCount = 0;
  #bargeIns = 0;
  #ttsUnavailableLogged = false;
  #endReason: string | undefined;

  readonly #onTurn: ((turn: number, fields: TurnLatencyFields) => void) | undefined;

  /** `onTurn` hears each TURN line's numbers (the call record keeps them). */
  constructor(
    log: Logger,
    metrics: Metrics | undefined,
    now: () => number,
    onTurn?: (turn: number, fields: TurnLatencyFields) => void,
  ) {
    this.#log = log;
    this.#metrics = metrics;
    this.#now = now;
    this.#onTurn = onTurn;
  }

  /** Turns committed and interruptions so far (for CALL_END). */
  get counts(): { turns: number; bargeIns: number } {
    return { turns: this.#turnCount, bargeIns: this.#bargeIns };
  }

  /** Why the call ended, once known. */
  get endReason(): string | undefined {
    return this.#endReason;
  }

  handle(e: CallEvent): void {
    switch (e.type) {
      case 'transcript':
        if (e.final) this.#log.info('STT_FINAL', { text: e.text, confidence: e.confidence });
        else this.#log.info('STT_PARTIAL', { text: e.text, stability: e.stability });
        return;
      case 'turn-committed':
        this.#turnCount++;
        this.#pendingTurn = {
          timing: { speechEndAt: e.speechEnd, finalAt: e.finalAt, committedAt: e.t },
          index: e.index,
          metrics: {},
          logged: false,
        };
        this.#log.info('TURN_COMMIT', {
          turn: e.index,
          chars: e.text.length,
          source: e.source,
          waitedMs: Math.round(e.t - e.speechEnd),
        });
        return;
      case 'turn-dropped':
        this.#log.info('TURN_DROPPED', { reason: e.reason, ...(e.text ? { chars: e.text.length } : {}) });
        return;
      case 'tool-call':
        this.#toolArgs.set(e.call.id, e.call.arguments);
        return;
      case 'tool-result': {
        this.#log.info('TOOL_CALL', {
          tool: e.name,
          callId: e.callId,
          ms: Math.round(e.ms),
          outcome: e.outcome,
          status: e.status,
        });
        // Arguments and results carry personal data: debug level only.
        this.#log.debug('TOOL_CALL_DETAIL', {
          tool: e.name,
          callId: e.callId,
          arguments: this.#toolArgs.get(e.callId),
          result: e.content,
        });
        this.#toolArgs.delete(e.callId);
        return;
      }
      case 'backchannel':
        this.#log.info('BACKCHANNEL', { replyId: e.replyId, text: e.text });
        return;
      case 'reply-started':
        if (e.turn !== undefined && this.#pendingTurn?.index === e.turn) {
          this.#pendingTurn.replyId = e.replyId;
          this.#turns.set(e.replyId, this.#pendingTurn);
          this.#pendingTurn = undefined;
        }
        return;
      case 'sentence-text':
        this.#sentences.set(`${e.replyId}.${e.index}`, e.text);
        this.#stage(e.replyId, 'firstSentenceAt', e.t);
        return;
      case 'milestone':
        return this.#stage(e.replyId, MILESTONE_FIELD[e.what], e.t);
      case 'sentence-audio':
        if (e.streamed) {
          const s = this.#streams.get(e.replyId) ?? { chunks: 0, bytes: 0, firstChunkMs: Math.round(e.synthMs) };
          s.chunks++;
          s.bytes += e.audio.length;
          this.#streams.set(e.replyId, s);
          return;
        }
        this.#log.info('TTS_LEN_ms', {
          replyId: e.replyId,
          sentence: e.index,
          chars: this.#sentences.get(`${e.replyId}.${e.index}`)?.length,
          audioMs: Math.round(e.audio.length / 8),
          synthMs: Math.round(e.synthMs),
          waitedMs: Math.round(e.waitedMs),
        });
        return;
      case 'playout':
        return this.#onPlayout(e);
      case 'interrupt':
        if (e.replyId !== undefined) this.#interrupts.set(e.replyId, e);
        return;
      case 'reply-ended':
        return this.#onReplyEnded(e);
      case 'error':
        return this.#onError(e);
      case 'end':
        this.#endReason ??= e.reason;
        return;
      default:
        return;
    }
  }

  #onPlayout(e: EventOf<'playout'>): void {
    if (e.what === 'sentence-sent') {
      const bytes = e.bytes ?? 0;
      this.#log.info('MEDIA_TX', {
        replyId: e.replyId,
        sentence: e.index,
        messages: e.messages,
        frames: Math.ceil(bytes / 160),
        bytes,
      });
    } else if (e.what === 'first-media') {
      this.#stage(e.replyId, 'firstMediaAt', e.t);
    } else if (e.what === 'first-mark') {
      this.#stage(e.replyId, 'firstMarkAt', e.t);
      this.#logTurn(e.replyId);
    }
  }

  #onReplyEnded(e: EventOf<'reply-ended'>): void {
    this.#logTurn(e.replyId);
    const stream = this.#streams.get(e.replyId);
    this.#streams.delete(e.replyId);
    if (stream) {
      this.#log.info('TTS_STREAM', {
        replyId: e.replyId,
        chunks: stream.chunks,
        audioMs: Math.round(stream.bytes / 8),
        firstChunkMs: stream.firstChunkMs,
      });
    }
    this.#turns.delete(e.replyId);
    for (const key of this.#sentences.keys()) if (key.startsWith(`${e.replyId}.`)) this.#sentences.delete(key);
    const cut = this.#interrupts.get(e.replyId);
    this.#interrupts.delete(e.replyId);
    if (e.outcome === 'cancelled' && cut) {
      this.#log.info('REPLY_CANCELLED', { replyId: e.replyId, reason: cut.reason });
    } else if (e.outcome === 'interrupted') {
      this.#bargeIns++;
      this.#metrics?.bargeIns.inc();
      this.#log.info('BARGE_IN', {
        replyId: e.replyId,
        kind: e.kind,
        reason: cut?.reason,
        heardChars: e.heardText.length,
        heardMs: e.heardMs,
        heardText: e.heardText,
        ...(cut?.onset !== undefined ? { reactionMs: Math.round(cut.t - cut.onset) } : {}),
      });
    }
  }

  #onError(e: EventOf<'error'>): void {
    this.#metrics?.providerErrors.inc({ provider: e.provider, code: e.code });
    const fields = { code: e.code, retryable: e.retryable, permanent: e.permanent, error: e.message };
    if (e.provider === 'llm')
      this.#log.error('LLM_ERROR', { ...fields, replyId: e.replyId, sentencesSpoken: e.sentences });
    else if (e.provider === 'tts') {
      this.#log.warn('TTS_ERROR', { ...fields, replyId: e.replyId, sentence: e.index });
      if (e.permanent && !this.#ttsUnavailableLogged) {
        this.#ttsUnavailableLogged = true;
        this.#log.error('TTS_UNAVAILABLE', { code: e.code, consequence: 'cannot speak: ending the call' });
      }
    } else if (e.permanent) this.#log.error('STT_FAILED', fields);
  }

  #stage(replyId: number, field: keyof ReplyMetrics, t: number): void {
    const turn = this.#turns.get(replyId);
    if (turn) turn.metrics[field] ??= t;
  }

  #logTurn(replyId: number): void {
    const turn = this.#turns.get(replyId);
    if (!turn || turn.logged) return;
    turn.logged = true;
    const components = turnComponents(turn.timing, turn.metrics);
    const overhead = gatewayOverhead(turn.timing, turn.metrics);
    const fields = turnLogFields(components, overhead);
    this.#log.info('TURN', { turn: turn.index, replyId, ...fields });
    this.#onTurn?.(turn.index, fields);
    if (overhead !== undefined) this.#metrics?.turnOverhead.observe(overhead);
    for (const [component, ms] of Object.entries(components)) {
      if (ms !== undefined) this.#metrics?.turnLatency.observe({ component }, ms);
    }
  }

  /** The CALL_END line. */
  callEnd(): void {
    this.#log.info('CALL_END', {
      reason: this.#endReason,
      turns: this.#turnCount,
      bargeIns: this.#bargeIns,
      durationMs: Math.round(this.#now()),
    });
  }
}

const MILESTONE_FIELD: Record<EventOf<'milestone'>['what'], keyof ReplyMetrics> = {
  'llm-request': 'llmRequestAt',
  'first-token': 'firstTokenAt',
  'tts-start': 'firstTtsStartAt',
  'tts-done': 'firstTtsDoneAt',
};
