/**
 * What the voice pipeline writes to the call store: a closed set of operations, each validated on
 * enqueue (a malformed one is counted and dropped, never thrown at the media path) and each with a
 * value that decides what a full buffer drops first.
 *
 * Times are epoch milliseconds; `t` of an event is milliseconds since the call started.
 */
import { z } from 'zod';

/** The latency components of a turn, as in the `TURN` log: milliseconds, or null when not reached. */
export const LATENCY_KEYS = [
  'sttFinalMs',
  'committedMs',
  'llmRequestMs',
  'firstTokenMs',
  'firstSentenceMs',
  'ttsStartMs',
  'ttsDoneMs',
  'firstMediaMs',
  'firstMarkMs',
  'overheadMs',
] as const;

/** One turn's latency components. */
export type Latency = { [K in (typeof LATENCY_KEYS)[number]]: number | null };

const sid = z.string().min(1).max(128);
const text = z.string().max(100_000);
const ms = z.number().finite();
const epochMs = z.number().int().nonnegative();
const count = z.number().finite().nonnegative();
const json = z.unknown().refine((v) => v === undefined || jsonSize(v) <= 64_000, 'JSON larger than 64 KB');

const latency = z.object(Object.fromEntries(LATENCY_KEYS.map((k) => [k, ms.nullable().optional()]))).strict();

/** Tool-call outcomes. */
export const TOOL_OUTCOMES = ['ok', 'error', 'timeout', 'invalid', 'cancelled'] as const;

const ops = {
  /** A call's stream started. `instance` is filled in by the writer. */
  'call.start': z.object({
    kind: z.literal('call.start'),
    callSid: sid,
    streamSid: sid,
    agentId: z.string().max(128),
    from: z.string().max(64),
    to: z.string().max(64),
    startedAt: epochMs,
  }),
  /** The call ended; durationMs defaults to endedAt − startedAt. Also queues the post-call webhook. */
  'call.end': z.object({
    kind: z.literal('call.end'),
    callSid: sid,
    endedAt: epochMs,
    durationMs: ms.nonnegative().optional(),
    endReason: z.string().min(1).max(200),
    recordingPath: z.string().min(1).max(1024).nullable().optional(),
  }),
  /** A recording exists for the call (path relative to DATA_DIR/recordings). */
  'call.recording': z.object({
    kind: z.literal('call.recording'),
    callSid: sid,
    recordingPath: z.string().min(1).max(1024),
  }),
  /** A turn, upserted by (callSid, index): fields left out keep their stored value. */
  turn: z.object({
    kind: z.literal('turn'),
    callSid: sid,
    index: z.number().int().nonnegative(),
    callerText: text.nullable().optional(),
    agentText: text.nullable().optional(),
    heardText: text.nullable().optional(),
    interrupted: z.boolean().optional(),
    startedAt: epochMs.optional(),
    latency: latency.optional(),
  }),
  /** A tool call, upserted by (callSid, callId). */
  tool: z.object({
    kind: z.literal('tool'),
    callSid: sid,
    callId: z.string().min(1).max(200),
    turnIndex: z.number().int().nonnegative(),
    name: z.string().min(1).max(200),
    arguments: json,
    outcome: z.enum(TOOL_OUTCOMES),
    status: z.number().int().nullable(),
    ms: ms.nonnegative(),
    at: epochMs,
  }),
  /** A notable moment: barge-in, backchannel, provider error, transfer, hang-up, DTMF… */
  event: z.object({
    kind: z.literal('event'),
    callSid: sid,
    t: ms,
    at: epochMs,
    type: z.string().min(1).max(64),
    data: json.optional(),
  }),
  /** Usage to add to the call's totals; the voice and model price it. */
  usage: z.object({
    kind: z.literal('usage'),
    callSid: sid,
    sttSeconds: count.optional(),
    ttsChars: count.optional(),
    llmInputTokens: count.optional(),
    llmOutputTokens: count.optional(),
    ttsVoice: z.string().min(1).max(128).optional(),
    llmModel: z.string().min(1).max(128).optional(),
  }),
} as const;

const opSchema = z.discriminatedUnion('kind', [
  ops['call.start'],
  ops['call.end'],
  ops['call.recording'],
  ops.turn,
  ops.tool,
  ops.event,
  ops.usage,
]);

/** Any store write. */
export type StoreOp = z.infer<typeof opSchema>;
/** The `kind` of a store write. */
export type StoreOpKind = StoreOp['kind'];
/** One kind of store write. */
export type OpOf<K extends StoreOpKind> = Extract<StoreOp, { kind: K }>;

/**
 * What a full buffer gives up first: low-value events, then tool calls, then turns and usage;
 * the call rows themselves last (without them nothing else of the call can be listed).
 */
export const OP_VALUE: Readonly<Record<StoreOpKind, number>> = Object.freeze({
  event: 0,
  tool: 1,
  turn: 2,
  usage: 2,
  'call.recording': 3,
  'call.start': 3,
  'call.end': 3,
});

/** Checks an op; `{ ok: false, problem }` names the first bad field. */
export function validateOp(op: unknown): { ok: true; op: StoreOp } | { ok: false; problem: string } {
  const r = opSchema.safeParse(op);
  if (r.success) return { ok: true, op: r.data };
  const issue = r.error.issues[0];
  return { ok: false, problem: `${issue?.path.join('.') || '(op)'}: ${issue?.message ?? 'invalid'}` };
}

function jsonSize(v: unknown): number {
  try {
    return JSON.stringify(v)?.length ?? 0;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
