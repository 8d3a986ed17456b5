/**
 * The gateway's log, as the demo reads it: the JSON records of one call, a one-line description of
 * each (event name and the field or two worth seeing), and the check that the documented flow of a
 * good call happened in order. Pure functions over parsed records; no I/O.
 */

/** One parsed JSON log line of the gateway (`message` is the event name). */
export type { LogRecord } from '../gateway-child.ts';
import type { LogRecord } from '../gateway-child.ts';
import type { LogEvent } from '../../server/log-events.ts';
import type { LogEventFields, TypedLogEvent } from '../../server/log-fields.ts';

/** The log flow of a good call, as the README documents it. */
export const EXPECTED_FLOW: readonly LogEvent[] = ['WS_START', 'STT_PARTIAL', 'STT_FINAL', 'TTS_LEN_ms', 'MEDIA_TX'];

/** Whether `expected` occurred, in order, among the records (other events may come between). */
export interface FlowCheck {
  ok: boolean;
  expected: readonly string[];
  /** The prefix of `expected` that was found in order. */
  found: string[];
  /** The first step not found after the previous one; undefined when `ok`. */
  missing: string | undefined;
}

/** The records of one call: every call-scoped line carries its `callSid`. */
export function callRecords(logs: readonly LogRecord[], callSid: string): LogRecord[] {
  return logs.filter((r) => r['callSid'] === callSid);
}

/** Looks for `expected` as an ordered subsequence of the records' event names. */
export function checkFlow(records: readonly LogRecord[], expected: readonly LogEvent[] = EXPECTED_FLOW): FlowCheck {
  const found: string[] = [];
  for (const r of records)
    if (found.length < expected.length && r['message'] === expected[found.length]) found.push(String(r['message']));
  const ok = found.length === expected.length;
  return { ok, expected, found, missing: ok ? undefined : expected[found.length] };
}

/** The fields shown for each event; events not listed show none. */
const SHOWN: { [E in LogEvent]?: readonly (E extends TypedLogEvent ? keyof LogEventFields[E] : string)[] } = {
  INCOMING_CALL: ['from', 'to'],
  STREAM_STATUS: ['streamEvent'],
  WS_START: ['streamSid'],
  STT_PARTIAL: ['text'],
  STT_FINAL: ['text', 'confidence'],
  STT_RESTART: ['reason', 'code'],
  STT_FAILED: ['code', 'error'],
  TURN_COMMIT: ['turn', 'chars', 'waitedMs'],
  TURN_DROPPED: ['reason'],
  CONTEXT_FAILED: ['reason', 'status'],
  TOOL_CALL: ['tool', 'outcome', 'status', 'ms'],
  TTS_LEN_ms: ['replyId', 'sentence', 'chars', 'audioMs', 'synthMs'],
  TTS_ERROR: ['code', 'error'],
  LLM_ERROR: ['code', 'error'],
  MEDIA_TX: ['replyId', 'sentence', 'messages', 'bytes'],
  TURN: [
    'sttFinalMs',
    'committedMs',
    'firstTokenMs',
    'firstSentenceMs',
    'ttsDoneMs',
    'firstMediaMs',
    'firstMarkMs',
    'overheadMs',
  ],
  BARGE_IN: ['heardMs', 'reactionMs'],
  WS_STOP: [],
  CALL_HANGUP: ['reason'],
  CALL_END: ['reason', 'turns', 'durationMs'],
  STREAM_ENDED: ['next'],
  WS_CLOSED: ['code'],
  CALL_STATUS: ['callStatus'],
};

/** `EVENT  key=value …` for one record; strings are quoted, so Hebrew text stands apart from the keys. */
export function describeRecord(r: LogRecord): string {
  const event = String(r['message']);
  const keys: readonly string[] = SHOWN[event as LogEvent] ?? [];
  const fields = keys.filter((k) => r[k] !== undefined).map((k) => `${k}=${formatValue(r[k])}`);
  const level = r['level'] === 'warn' || r['level'] === 'error' ? ` [${String(r['level'])}]` : '';
  return `${event.padEnd(13)}${level}${fields.length ? ' ' + fields.join(' ') : ''}`.trimEnd();
}

/** Strings quoted; fractions to two decimals (a confidence of 0.9200000166893005 is 0.92). */
function formatValue(v: unknown): string {
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Math.round(v * 100) / 100);
  return JSON.stringify(v);
}

/** Milliseconds from `origin` to the record's winston `timestamp`; undefined when either is missing. */
export function msSince(r: LogRecord, origin: LogRecord | undefined): number | undefined {
  const at = Date.parse(String(r['timestamp']));
  const from = origin === undefined ? NaN : Date.parse(String(origin['timestamp']));
  return Number.isNaN(at) || Number.isNaN(from) ? undefined : at - from;
}
