/**
 * The call's vocabulary: everything that happens on a call is one of these events, stamped with
 * `t`, milliseconds since the call started. Stages talk only through them (see bus.ts), the
 * telemetry and the call record are subscribers, and a recorded call can be replayed from them.
 *
 * Two kinds, as in pipecat:
 * - **system** events (`interrupt`, `error`, `end`) jump ahead of anything queued: a barge-in must
 *   not wait behind audio that is about to be cut anyway;
 * - **data** events are delivered in order. An `interrupt` flushes the queued data events of the
 *   reply it interrupts (its sentences and audio), so nothing of it reaches a stage afterwards.
 *
 * Every event is JSON-serialisable through {@link serializeEvent}: audio buffers travel as their
 * length only (the call record stores what happened, not the waveform).
 */
import type { EndingDecision } from '../../server/call-endings.ts';
import type { ProviderError, ProviderErrorCode, ProviderName, ToolCallRequest } from '../providers/types.ts';

/** What a reply is for: its kind decides how it may be interrupted and what it counts as. */
export type ReplyKind = 'greeting' | 'answer' | 'fallback' | 'apology';

/** Why the agent stopped talking before the end of a reply. */
export type InterruptReason = 'barge-in' | 'caller-turn' | 'dtmf' | 'call-ending';

/** Why a call ended (logged once as `CALL_END reason`, counted in voice_calls_total). */
export type EndReason =
  | 'caller-hangup'
  | 'agent-hangup'
  | 'transfer'
  | 'provider-failed'
  | 'no-answer-from-model'
  | 'socket-closed'
  | 'shutdown';

/** The closed set of call events. */
export type CallEvent =
  // ---------------------------------------------------------------- the caller
  /** One inbound frame: its length, loudness and the voice-activity verdict (never persisted). */
  | { type: 'caller-audio'; t: number; ms: number; level: number; speech: boolean }
  /** First speech after silence. */
  | { type: 'speech-started'; t: number }
  /** The current run of speech lasted BARGE_IN_MIN_MS: long enough to be an interruption. */
  | { type: 'speech-sustained'; t: number; onset: number }
  /** EOU_MS of silence after speech; `lastSpeech` is when the speech stopped. */
  | { type: 'speech-ended'; t: number; lastSpeech: number; speechMs: number }
  /** A transcript from the recognizer; `confidence` 0 means "no estimate". */
  | { type: 'transcript'; t: number; final: boolean; text: string; confidence: number; stability: number }
  | { type: 'dtmf'; t: number; digit: string }
  // ---------------------------------------------------------------- turn-taking
  /** The caller's turn is over; `speechEnd` is when they stopped talking (latency origin). */
  | {
      type: 'turn-committed';
      t: number;
      index: number;
      text: string;
      source: 'speech' | 'interim' | 'dtmf';
      speechEnd: number;
      finalAt?: number;
    }
  | { type: 'turn-dropped'; t: number; reason: string; text?: string }
  /** Caller words that only acknowledge (כן, אהה…) while the agent speaks: not a turn. */
  | { type: 'backchannel'; t: number; text: string; replyId: number }
  // ---------------------------------------------------------------- the agent
  | { type: 'reply-started'; t: number; replyId: number; kind: ReplyKind; turn?: number }
  /**
   * Text of one sentence, as the model (or a fixed line) wrote it. `fixed` lines (greeting,
   * fillers, apology) are synthesized through the cache.
   */
  | { type: 'sentence-text'; t: number; replyId: number; index: number; text: string; fixed?: boolean }
  /** All of the reply's text has been produced (`sentences` of them). */
  | { type: 'text-ended'; t: number; replyId: number; sentences: number }
  /** Synthesized audio of one sentence (`waitedMs` for a synthesis slot, `synthMs` in the provider). */
  | {
      type: 'sentence-audio';
      t: number;
      replyId: number;
      index: number;
      audio: Buffer;
      synthMs: number;
      waitedMs: number;
      /** Streaming synthesis: `index` counts audio chunks, not sentences. */
      streamed?: boolean;
    }
  /** Stage times of a reply for the TURN log. */
  | { type: 'milestone'; t: number; replyId: number; what: 'llm-request' | 'first-token' | 'tts-start' | 'tts-done' }
  /** Progress of outbound audio (first media sent, first mark echoed, a sentence played). */
  | {
      type: 'playout';
      t: number;
      replyId: number;
      what: 'first-media' | 'first-mark' | 'sentence-sent' | 'sentence-played';
      index?: number;
      /** `sentence-sent`: media messages and bytes of the sentence. */
      messages?: number;
      bytes?: number;
    }
  /** All text of the reply is known and all of its audio is queued (or failed). */
  | { type: 'reply-queued'; t: number; replyId: number; sentences: number; spoken: number }
  /** The reply is over: played to its end, interrupted, or failed without a sound. */
  | {
      type: 'reply-ended';
      t: number;
      replyId: number;
      kind: ReplyKind;
      outcome: 'played' | 'interrupted' | 'failed' | 'cancelled';
      saidText: string;
      heardText: string;
      /** Audio of the cut sentence(s) the caller heard, ms (interrupted replies). */
      heardMs?: number;
      turn?: number;
    }
  /** The agent yields the floor (system event: skips and flushes queued audio of the reply). */
  | { type: 'interrupt'; t: number; reason: InterruptReason; replyId?: number; onset?: number }
  /** Speech during the agent's reply paused the playout; a `resume` or an `interrupt` follows. */
  | { type: 'pause'; t: number; replyId: number; onset: number }
  | { type: 'resume'; t: number; replyId: number; repeatMs: number }
  | { type: 'tool-call'; t: number; replyId: number; call: ToolCallRequest }
  | {
      type: 'tool-result';
      t: number;
      replyId: number;
      callId: string;
      name: string;
      outcome: 'ok' | 'error' | 'timeout' | 'invalid' | 'cancelled';
      ms: number;
      status?: number;
      content: string;
    }
  /** The agent asked to end the call (end_call, transfer_call) once this reply has been heard. */
  | { type: 'end-requested'; t: number; replyId: number; decision: EndingDecision }
  /** Token counts of one model request. */
  | { type: 'usage'; t: number; replyId: number; inputTokens: number; outputTokens: number }
  // ---------------------------------------------------------------- system
  | {
      type: 'error';
      t: number;
      provider: ProviderName;
      code: ProviderErrorCode;
      retryable: boolean;
      permanent: boolean;
      message: string;
      replyId?: number;
      /** The sentence that failed to synthesize. */
      index?: number;
      /** Model failures: sentences the reply had produced before it failed. */
      sentences?: number;
    }
  /** The call is over from the pipeline's point of view (the socket follows). */
  | { type: 'end'; t: number; reason: EndReason };

/** The `type` of a call event. */
export type CallEventType = CallEvent['type'];

/** The event of a given type. */
export type EventOf<T extends CallEventType> = Extract<CallEvent, { type: T }>;

/** Events that jump the queue (see the file comment). */
const SYSTEM: ReadonlySet<CallEventType> = new Set(['interrupt', 'error', 'end']);

/** True for `interrupt`, `error` and `end`. */
export function isSystemEvent(e: CallEvent): boolean {
  return SYSTEM.has(e.type);
}

/** Data events an interrupt removes from the queue when they belong to the interrupted reply. */
const FLUSHED: ReadonlySet<CallEventType> = new Set(['sentence-text', 'text-ended', 'sentence-audio', 'playout']);

/** True when `queued` must be dropped because `interrupt` cut its reply. */
export function flushedBy(interrupt: EventOf<'interrupt'>, queued: CallEvent): boolean {
  if (!FLUSHED.has(queued.type)) return false;
  const replyId = (queued as { replyId?: number }).replyId;
  return interrupt.replyId === undefined || replyId === interrupt.replyId;
}

/** The event as plain JSON: buffers become their byte length. */
export function serializeEvent(e: CallEvent): Record<string, unknown> {
  if (e.type === 'sentence-audio') {
    const { audio, ...rest } = e;
    return { ...rest, bytes: audio.length };
  }
  return { ...e };
}

/** The `error` event of a provider failure at call time `t`. */
export function errorEvent(
  t: number,
  err: ProviderError,
  extra: { replyId?: number; index?: number; sentences?: number; permanent?: boolean } = {},
): EventOf<'error'> {
  const { provider, code, retryable, permanent, message } = err;
  return { type: 'error', t, provider, code, retryable, permanent, message, ...extra };
}
