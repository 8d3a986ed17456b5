/**
 * Reads of the call store: the list of calls (newest first, live ones included) and one call's
 * whole record, the document that `GET /api/calls/{callSid}` answers and the post-call webhook
 * sends. Times come out as ISO strings; a database failure becomes StoreUnavailableError.
 */
import { existsSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { computeCost, type PriceTable } from './costs.ts';
import { StoreUnavailableError, messageOf } from './database.ts';
import { LATENCY_KEYS, type Latency } from './records.ts';
import { recordingFile } from './recordings.ts';
import type { CallsTable, StoreSchema } from './schema.ts';

/** One line of the call list. */
export interface CallSummary {
  callSid: string;
  agentId: string;
  from: string;
  to: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  endReason: string | null;
  turnCount: number;
  live: boolean;
}

/** One call's whole record. */
export interface CallDocument {
  call: {
    callSid: string;
    streamSid: string;
    agentId: string;
    from: string;
    to: string;
    startedAt: string;
    endedAt: string | null;
    durationMs: number | null;
    endReason: string | null;
    live: boolean;
    recording: boolean;
  };
  turns: Array<{
    index: number;
    callerText: string | null;
    agentText: string | null;
    heardText: string | null;
    interrupted: boolean;
    startedAt: string | null;
    latency: Latency;
  }>;
  toolCalls: Array<{
    callId: string;
    turnIndex: number;
    name: string;
    arguments: unknown;
    outcome: string;
    status: number | null;
    ms: number;
    at: string;
  }>;
  events: Array<{ t: number; at: string; type: string; data: unknown }>;
  usage: {
    sttSeconds: number;
    ttsChars: number;
    llmInputTokens: number;
    llmOutputTokens: number;
    costUsd: number;
    /** Usage with no price in the table (counted as 0 in costUsd). */
    unpriced: string[];
  };
}

/** Where to start a page of the list: before a time, or after a call already shown. */
export type ListCursor = { beforeMs: number } | { afterCallSid: string };

/** Options of {@link StoreReader}. */
export interface StoreReaderOptions {
  db: Kysely<StoreSchema>;
  prices: PriceTable;
  /** DATA_DIR/recordings: where recording paths resolve. */
  recordingsDir: string;
  /** A call not ended and seen within this window is live. */
  liveWindowMs: number;
  now?: () => number;
}

/** Read side of the store. Every method may throw StoreUnavailableError. */
export class StoreReader {
  readonly #o: Required<StoreReaderOptions>;

  constructor(opts: StoreReaderOptions) {
    this.#o = { now: Date.now, ...opts };
  }

  /**
   * Up to `limit` calls, newest first by start time (ties by callSid). With a callSid cursor the
   * page starts after that call. @returns undefined when the cursor names an unknown call.
   */
  async listCalls(limit: number, cursor?: ListCursor): Promise<CallSummary[] | undefined> {
    return this.#guard(async () => {
      const db = this.#o.db;
      let q = db
        .selectFrom('calls')
        .selectAll('calls')
        .select((eb) =>
          eb
            .selectFrom('turns')
            .whereRef('turns.call_sid', '=', 'calls.call_sid')
            .select((e) => e.fn.countAll<number>().as('n'))
            .as('turn_count'),
        )
        .orderBy('started_at', 'desc')
        .orderBy('call_sid', 'desc')
        .limit(limit);
      if (cursor && 'beforeMs' in cursor) {
        q = q.where('started_at', '<', cursor.beforeMs);
      } else if (cursor) {
        const at = await db
          .selectFrom('calls')
          .select('started_at')
          .where('call_sid', '=', cursor.afterCallSid)
          .executeTakeFirst();
        if (!at) return undefined;
        q = q.where((eb) =>
          eb.or([
            eb('started_at', '<', at.started_at),
            eb.and([eb('started_at', '=', at.started_at), eb('call_sid', '<', cursor.afterCallSid)]),
          ]),
        );
      }
      const rows = await q.execute();
      return rows.map((r) => ({
        callSid: r.call_sid,
        agentId: r.agent_id,
        from: r.from_number,
        to: r.to_number,
        startedAt: iso(r.started_at),
        endedAt: isoOrNull(r.ended_at),
        durationMs: numOrNull(r.duration_ms),
        endReason: r.end_reason,
        turnCount: Number(r.turn_count ?? 0),
        live: this.#live(r),
      }));
    });
  }

  /** One call's document, or undefined for an unknown call. */
  async getCall(callSid: string): Promise<CallDocument | undefined> {
    return this.#guard(async () => {
      const db = this.#o.db;
      const call = await db.selectFrom('calls').selectAll().where('call_sid', '=', callSid).executeTakeFirst();
      if (!call) return undefined;
      const [turns, tools, events, usage] = await Promise.all([
        db.selectFrom('turns').selectAll().where('call_sid', '=', callSid).orderBy('turn_index').execute(),
        db
          .selectFrom('tool_calls')
          .selectAll()
          .where('call_sid', '=', callSid)
          .orderBy('at')
          .orderBy('call_id')
          .execute(),
        db.selectFrom('events').selectAll().where('call_sid', '=', callSid).orderBy('t').orderBy('at').execute(),
        db.selectFrom('usage').selectAll().where('call_sid', '=', callSid).executeTakeFirst(),
      ]);
      const u = {
        sttSeconds: Number(usage?.stt_seconds ?? 0),
        ttsChars: Number(usage?.tts_chars ?? 0),
        llmInputTokens: Number(usage?.llm_input_tokens ?? 0),
        llmOutputTokens: Number(usage?.llm_output_tokens ?? 0),
      };
      const cost = computeCost({ ...u, ttsVoice: usage?.tts_voice, llmModel: usage?.llm_model }, this.#o.prices);
      return {
        call: {
          callSid: call.call_sid,
          streamSid: call.stream_sid,
          agentId: call.agent_id,
          from: call.from_number,
          to: call.to_number,
          startedAt: iso(call.started_at),
          endedAt: isoOrNull(call.ended_at),
          durationMs: numOrNull(call.duration_ms),
          endReason: call.end_reason,
          live: this.#live(call),
          recording: this.recordingOf(call.recording_path) !== undefined,
        },
        turns: turns.map((t) => ({
          index: t.turn_index,
          callerText: t.caller_text,
          agentText: t.agent_text,
          heardText: t.heard_text,
          interrupted: Boolean(t.interrupted),
          startedAt: isoOrNull(t.started_at),
          latency: latencyOf(t.latency),
        })),
        toolCalls: tools.map((t) => ({
          callId: t.call_id,
          turnIndex: t.turn_index,
          name: t.name,
          arguments: parseJson(t.arguments),
          outcome: t.outcome,
          status: t.status,
          ms: Number(t.ms),
          at: iso(t.at),
        })),
        events: events.map((e) => ({ t: Number(e.t), at: iso(e.at), type: e.type, data: parseJson(e.data) })),
        usage: { ...u, costUsd: cost.totalUsd, unpriced: cost.unpriced },
      };
    });
  }

  /** The recording file of a call, when it has one on disk. */
  async recordingPath(callSid: string): Promise<string | undefined> {
    return this.#guard(async () => {
      const row = await this.#o.db
        .selectFrom('calls')
        .select('recording_path')
        .where('call_sid', '=', callSid)
        .executeTakeFirst();
      return this.recordingOf(row?.recording_path ?? null);
    });
  }

  /** Resolves a stored recording path to an existing file inside the recordings dir. */
  recordingOf(stored: string | null): string | undefined {
    const file = recordingFile(this.#o.recordingsDir, stored);
    return file && existsSync(file) ? file : undefined;
  }

  #live(row: Pick<CallsTable, 'ended_at' | 'last_seen_at'>): boolean {
    return row.ended_at === null && this.#o.now() - Number(row.last_seen_at) <= this.#o.liveWindowMs;
  }

  async #guard<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw new StoreUnavailableError(`call store read failed: ${messageOf(err)}`, { cause: err });
    }
  }
}

function latencyOf(json: string | null): Latency {
  const parsed = (parseJson(json) ?? {}) as Record<string, unknown>;
  return Object.fromEntries(LATENCY_KEYS.map((k) => [k, typeof parsed[k] === 'number' ? parsed[k] : null])) as Latency;
}

function parseJson(s: string | null): unknown {
  if (s === null) return null;
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

function iso(ms: number): string {
  return new Date(Number(ms)).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

function numOrNull(n: number | null): number | null {
  return n === null ? null : Number(n);
}
