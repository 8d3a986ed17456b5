/**
 * The call record as a subscriber: the call's events become call-store operations (the call, its
 * turns, tool calls, notable events, usage) and live summaries for the console. It only enqueues:
 * the store's writer batches and persists off the media path, and never throws back.
 *
 *   call events ─► CallRecorder ─► writer.enqueue(call.start | turn | tool | event | usage | call.end)
 *                              └─► feed.publish(summary)     (console, live)
 */
import type { CallSummary } from '../../server/call-feed.ts';
import type { Latency, StoreOp } from '../../server/store/records.ts';
import type { CallEvent, EventOf } from './events.ts';

/** Where records go. */
export interface RecordSinks {
  writer: { enqueue(op: StoreOp): void };
  feed?: { publish(summary: CallSummary): void };
}

/** Who the call is. */
export interface RecordedCall {
  callSid: string;
  streamSid: string;
  agentId: string;
  from: string | undefined;
  to: string | undefined;
  ttsVoice: string;
  llmModel: string;
}

/** Events of the record's `events` list, by call event. */
const NOTABLE: Partial<Record<CallEvent['type'], string>> = {
  backchannel: 'backchannel',
  dtmf: 'dtmf',
  'turn-dropped': 'turn-dropped',
  'end-requested': 'end-requested',
};

/** Keeps one call's record. */
export class CallRecorder {
  readonly #sinks: RecordSinks;
  readonly #call: RecordedCall;
  readonly #startedAt = Date.now();
  /** The turn each answer reply belongs to. */
  readonly #turnOf = new Map<number, number>();
  readonly #sentences = new Map<string, string>();
  readonly #interrupts = new Map<number, EventOf<'interrupt'>>();
  #callerMs = 0;
  #recordingPending = false;
  #recordingPath: string | undefined;
  #endPending: { endedAt: number; reason: string } | undefined;
  #turns = 0;
  #ended = false;

  constructor(sinks: RecordSinks, call: RecordedCall) {
    this.#sinks = sinks;
    this.#call = call;
    this.#op({
      kind: 'call.start',
      callSid: call.callSid,
      streamSid: call.streamSid,
      agentId: call.agentId,
      from: call.from ?? '',
      to: call.to ?? '',
      startedAt: this.#startedAt,
    });
    this.#publish(undefined);
  }

  /** The TURN numbers, as telemetry computed them. */
  latency(turn: number, latency: Partial<Latency>): void {
    this.#op({ kind: 'turn', callSid: this.#call.callSid, index: turn, latency });
  }

  /** The call's recording is finished (path relative to DATA_DIR/recordings). */
  recording(recordingPath: string | undefined): void {
    this.#recordingPending = false;
    if (recordingPath) this.#recordingPath = recordingPath;
    if (this.#endPending) this.#writeEnd(this.#endPending);
  }

  /**
   * The call is being recorded: its end is written once the file is finished, with the file's
   * path, so the post-call webhook (built from the record) already says there is a recording.
   */
  expectRecording(): void {
    this.#recordingPending = true;
  }

  /** The one way in. */
  handle = (e: CallEvent): void => {
    const callSid = this.#call.callSid;
    switch (e.type) {
      case 'caller-audio':
        this.#callerMs += e.ms;
        return;
      case 'turn-committed':
        this.#turns = Math.max(this.#turns, e.index);
        this.#op({ kind: 'turn', callSid, index: e.index, callerText: e.text, startedAt: this.#at(e.t) });
        return this.#publish(undefined);
      case 'reply-started':
        if (e.turn !== undefined) this.#turnOf.set(e.replyId, e.turn);
        return;
      case 'sentence-text':
        this.#sentences.set(`${e.replyId}.${e.index}`, e.text);
        return;
      case 'sentence-audio': {
        const text = this.#sentences.get(`${e.replyId}.${e.index}`) ?? '';
        this.#op({ kind: 'usage', callSid, ttsChars: text.length, ttsVoice: this.#call.ttsVoice });
        return;
      }
      case 'usage':
        this.#op({
          kind: 'usage',
          callSid,
          llmInputTokens: e.inputTokens,
          llmOutputTokens: e.outputTokens,
          llmModel: this.#call.llmModel,
        });
        return;
      case 'interrupt':
        if (e.replyId !== undefined) this.#interrupts.set(e.replyId, e);
        return;
      case 'reply-ended':
        return this.#onReplyEnded(e);
      case 'tool-result':
        return this.#onTool(e);
      case 'tool-call':
        this.#toolArgs.set(e.call.id, e.call.arguments);
        return;
      case 'error':
        this.#event(e.t, 'provider-error', {
          provider: e.provider,
          code: e.code,
          permanent: e.permanent,
          message: e.message.slice(0, 500),
        });
        return;
      case 'end':
        return this.#end(e.reason);
      default: {
        const type = NOTABLE[e.type];
        if (type) this.#event(e.t, type, data(e));
        return;
      }
    }
  };

  readonly #toolArgs = new Map<string, string>();

  #onReplyEnded(e: EventOf<'reply-ended'>): void {
    for (const key of this.#sentences.keys()) if (key.startsWith(`${e.replyId}.`)) this.#sentences.delete(key);
    const cut = this.#interrupts.get(e.replyId);
    this.#interrupts.delete(e.replyId);
    if (e.outcome === 'interrupted') {
      this.#event(e.t, 'barge-in', {
        replyId: e.replyId,
        reason: cut?.reason,
        heardText: e.heardText,
        ...(cut?.onset !== undefined ? { reactionMs: Math.round(cut.t - cut.onset) } : {}),
      });
    }
    const turn = this.#turnOf.get(e.replyId);
    this.#turnOf.delete(e.replyId);
    if (turn === undefined) return;
    this.#op({
      kind: 'turn',
      callSid: this.#call.callSid,
      index: turn,
      agentText: e.saidText,
      heardText: e.heardText,
      interrupted: e.outcome === 'interrupted',
    });
  }

  #onTool(e: EventOf<'tool-result'>): void {
    const raw = this.#toolArgs.get(e.callId);
    this.#toolArgs.delete(e.callId);
    let args: unknown = raw;
    try {
      args = raw === undefined || raw.trim() === '' ? {} : JSON.parse(raw);
    } catch {
      // kept as the text the model wrote
    }
    this.#op({
      kind: 'tool',
      callSid: this.#call.callSid,
      callId: e.callId,
      turnIndex: this.#turnOf.get(e.replyId) ?? 0,
      name: e.name,
      arguments: args,
      outcome: e.outcome,
      status: e.status ?? null,
      ms: e.ms,
      at: this.#at(e.t),
    });
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const end = { endedAt: Date.now(), reason };
    if (this.#recordingPending) this.#endPending = end;
    else this.#writeEnd(end);
  }

  #writeEnd(end: { endedAt: number; reason: string }): void {
    this.#endPending = undefined;
    const callSid = this.#call.callSid;
    this.#op({ kind: 'usage', callSid, sttSeconds: this.#callerMs / 1000 });
    this.#op({
      kind: 'call.end',
      callSid,
      endedAt: end.endedAt,
      endReason: end.reason,
      durationMs: end.endedAt - this.#startedAt,
      ...(this.#recordingPath ? { recordingPath: this.#recordingPath } : {}),
    });
    this.#publish(end);
  }

  #event(t: number, type: string, data: Record<string, unknown>): void {
    this.#op({ kind: 'event', callSid: this.#call.callSid, t: Math.round(t), at: this.#at(t), type, data });
  }

  #at(t: number): number {
    return Math.round(this.#startedAt + t);
  }

  #op(op: StoreOp): void {
    this.#sinks.writer.enqueue(op);
  }

  #publish(ended: { endedAt: number; reason: string } | undefined): void {
    this.#sinks.feed?.publish({
      callSid: this.#call.callSid,
      agentId: this.#call.agentId,
      from: this.#call.from ?? null,
      to: this.#call.to ?? null,
      startedAt: new Date(this.#startedAt).toISOString(),
      endedAt: ended ? new Date(ended.endedAt).toISOString() : null,
      durationMs: ended ? ended.endedAt - this.#startedAt : null,
      endReason: ended?.reason ?? null,
      turnCount: this.#turns,
      live: !ended,
    });
  }
}

/** The event's own fields, without its type and time. */
function data(e: CallEvent): Record<string, unknown> {
  const { type: _type, t: _t, ...rest } = e as CallEvent & Record<string, unknown>;
  return rest;
}
