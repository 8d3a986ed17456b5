/**
 * The fields of the log events other programs read: the demo, the bench and the call simulator
 * parse these from the gateway's JSON log, so their shape is an API. A log call of one of these
 * events must pass exactly these fields (server/logger.ts types it), and a reader narrows a parsed
 * record with {@link isLogEvent} instead of restating names and field names.
 *
 * Every other event in server/log-events.ts carries free-form fields.
 */
import type { LogEvent } from './log-events.ts';

/** A turn's latency components, ms from the caller's end of speech (absent stages undefined). */
export interface TurnLatencyFields {
  sttFinalMs: number | undefined;
  committedMs: number | undefined;
  llmRequestMs: number | undefined;
  firstTokenMs: number | undefined;
  firstSentenceMs: number | undefined;
  ttsStartMs: number | undefined;
  ttsDoneMs: number | undefined;
  firstMediaMs: number | undefined;
  firstMarkMs: number | undefined;
  /** The gateway's own share of the turn, ms (two decimals). */
  overheadMs: number | undefined;
}

/** Event name → its fields, for the events read by programs. */
export interface LogEventFields {
  STT_PARTIAL: { text: string; stability: number | undefined };
  STT_FINAL: { text: string; confidence: number | undefined };
  TURN_COMMIT: { turn: number; chars: number; source: 'speech' | 'interim' | 'dtmf'; waitedMs: number };
  TURN: { turn: number; replyId: number } & TurnLatencyFields;
  TTS_LEN_ms: {
    replyId: number;
    sentence: number;
    chars: number | undefined;
    audioMs: number;
    synthMs: number;
    waitedMs: number;
  };
  TTS_STREAM: { replyId: number; chunks: number; audioMs: number; firstChunkMs: number | undefined };
  MEDIA_TX: {
    replyId: number;
    sentence: number | undefined;
    messages: number | undefined;
    frames: number;
    bytes: number;
  };
  BACKCHANNEL: { replyId: number; text: string };
  BARGE_IN: {
    replyId: number;
    kind: string;
    reason: string | undefined;
    heardChars: number;
    heardMs: number | undefined;
    heardText: string;
    /** Caller's speech onset → the `clear`, ms (when the onset is known). */
    reactionMs?: number;
  };
  TOOL_CALL: { tool: string; callId: string; ms: number; outcome: string; status: number | undefined };
  CALL_END: { reason: string | undefined; turns: number; bargeIns: number; durationMs: number };
}

/** An event whose fields are typed. */
export type TypedLogEvent = keyof LogEventFields;

/** The fields a log call of `E` takes: typed for the events above, free-form for the rest. */
export type FieldsOf<E extends LogEvent> = E extends TypedLogEvent ? LogEventFields[E] : Record<string, unknown>;

/** A parsed JSON log record of event `E` (as read back from the log). */
export type LoggedRecord<E extends TypedLogEvent> = { level: string; message: E } & Partial<LogEventFields[E]> &
  Record<string, unknown>;

/**
 * Whether a parsed record is event `event`, narrowing it to that event's fields. Fields stay
 * optional: a record read from a log is data, and an older gateway may not have written them all.
 */
export function isLogEvent<E extends TypedLogEvent>(
  record: Readonly<Record<string, unknown>>,
  event: E,
): record is LoggedRecord<E> {
  return record['message'] === event;
}

/** Compile-time check: every typed event is in the catalogue. */
export type TypedEventsAreCatalogued = TypedLogEvent extends LogEvent ? true : never;
const typedEventsAreCatalogued: TypedEventsAreCatalogued = true;
void typedEventsAreCatalogued;
