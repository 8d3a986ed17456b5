/**
 * The SQL of each store write, applied inside the writer's batch transaction. Every statement is
 * an upsert or a keyed insert, so a batch that is retried after an ambiguous failure (the commit
 * reached the server but its answer did not come back) does not duplicate rows; only usage sums
 * could be counted twice in that rare case.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { StoreSchema } from './schema.ts';
import type { OpOf, StoreOp } from './records.ts';

type Db = Kysely<StoreSchema> | Transaction<StoreSchema>;

/** What {@link applyOp} needs besides the op. */
export interface ApplyContext {
  /** Which gateway process wrote the call (calls.instance). */
  instance: string;
  /** Whether an ended call gets a webhook_outbox row (CALL_WEBHOOK_URL is set). */
  outbox: boolean;
  /** Unique id of an event op (assigned at enqueue). */
  eventId: (op: OpOf<'event'>) => string;
  now: number;
}

/** Applies one op. @throws whatever the driver throws (the writer decides between retry and drop). */
export async function applyOp(db: Db, op: StoreOp, ctx: ApplyContext): Promise<void> {
  switch (op.kind) {
    case 'call.start':
      await db
        .insertInto('calls')
        .values({
          call_sid: op.callSid,
          stream_sid: op.streamSid,
          agent_id: op.agentId,
          from_number: op.from,
          to_number: op.to,
          started_at: op.startedAt,
          instance: ctx.instance,
          last_seen_at: ctx.now,
        })
        .onConflict((oc) =>
          oc.column('call_sid').doUpdateSet((eb) => ({
            stream_sid: eb.ref('excluded.stream_sid'),
            agent_id: eb.ref('excluded.agent_id'),
            from_number: eb.ref('excluded.from_number'),
            to_number: eb.ref('excluded.to_number'),
            started_at: eb.ref('excluded.started_at'),
            instance: eb.ref('excluded.instance'),
            last_seen_at: eb.ref('excluded.last_seen_at'),
          })),
        )
        .execute();
      return;
    case 'call.end':
      return endCall(db, op, ctx);
    case 'call.recording':
      await db
        .updateTable('calls')
        .set({ recording_path: op.recordingPath })
        .where('call_sid', '=', op.callSid)
        .execute();
      return;
    case 'turn':
      return upsertTurn(db, op);
    case 'tool':
      await db
        .insertInto('tool_calls')
        .values({
          call_sid: op.callSid,
          call_id: op.callId,
          turn_index: op.turnIndex,
          name: op.name,
          arguments: JSON.stringify(op.arguments ?? null),
          outcome: op.outcome,
          status: op.status,
          ms: Math.round(op.ms),
          at: op.at,
        })
        .onConflict((oc) =>
          oc.columns(['call_sid', 'call_id']).doUpdateSet((eb) => ({
            turn_index: eb.ref('excluded.turn_index'),
            name: eb.ref('excluded.name'),
            arguments: eb.ref('excluded.arguments'),
            outcome: eb.ref('excluded.outcome'),
            status: eb.ref('excluded.status'),
            ms: eb.ref('excluded.ms'),
            at: eb.ref('excluded.at'),
          })),
        )
        .execute();
      return;
    case 'event':
      await db
        .insertInto('events')
        .values({
          event_id: ctx.eventId(op),
          call_sid: op.callSid,
          t: Math.round(op.t),
          at: op.at,
          type: op.type,
          data: op.data === undefined ? null : JSON.stringify(op.data),
        })
        .onConflict((oc) => oc.column('event_id').doNothing())
        .execute();
      return;
    case 'usage':
      await db
        .insertInto('usage')
        .values({
          call_sid: op.callSid,
          stt_seconds: op.sttSeconds ?? 0,
          tts_chars: Math.round(op.ttsChars ?? 0),
          llm_input_tokens: Math.round(op.llmInputTokens ?? 0),
          llm_output_tokens: Math.round(op.llmOutputTokens ?? 0),
          tts_voice: op.ttsVoice ?? null,
          llm_model: op.llmModel ?? null,
        })
        .onConflict((oc) =>
          oc.column('call_sid').doUpdateSet((eb) => ({
            stt_seconds: eb(eb.ref('usage.stt_seconds'), '+', eb.ref('excluded.stt_seconds')),
            tts_chars: eb(eb.ref('usage.tts_chars'), '+', eb.ref('excluded.tts_chars')),
            llm_input_tokens: eb(eb.ref('usage.llm_input_tokens'), '+', eb.ref('excluded.llm_input_tokens')),
            llm_output_tokens: eb(eb.ref('usage.llm_output_tokens'), '+', eb.ref('excluded.llm_output_tokens')),
            tts_voice: eb.fn.coalesce('excluded.tts_voice', 'usage.tts_voice'),
            llm_model: eb.fn.coalesce('excluded.llm_model', 'usage.llm_model'),
          })),
        )
        .execute();
      return;
  }
}

async function endCall(db: Db, op: OpOf<'call.end'>, ctx: ApplyContext): Promise<void> {
  const durationMs = op.durationMs === undefined ? undefined : Math.round(op.durationMs);
  const updated = await db
    .updateTable('calls')
    .set((eb) => ({
      ended_at: op.endedAt,
      end_reason: op.endReason,
      duration_ms: durationMs ?? eb(sql.lit(op.endedAt), '-', eb.ref('started_at')),
      last_seen_at: ctx.now,
      ...(op.recordingPath !== undefined ? { recording_path: op.recordingPath } : {}),
    }))
    .where('call_sid', '=', op.callSid)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    // The start was lost (dropped under pressure, or written by a process that died): keep what
    // is known rather than nothing, so the call still appears and its webhook still goes out.
    await db
      .insertInto('calls')
      .values({
        call_sid: op.callSid,
        stream_sid: '',
        agent_id: '',
        from_number: '',
        to_number: '',
        started_at: op.endedAt - (durationMs ?? 0),
        ended_at: op.endedAt,
        duration_ms: durationMs ?? null,
        end_reason: op.endReason,
        recording_path: op.recordingPath ?? null,
        instance: ctx.instance,
        last_seen_at: ctx.now,
      })
      .onConflict((oc) => oc.column('call_sid').doNothing())
      .execute();
  }
  if (ctx.outbox) {
    await db
      .insertInto('webhook_outbox')
      .values({
        call_sid: op.callSid,
        ended_at: op.endedAt,
        status: 'pending',
        attempts: 0,
        next_attempt_at: ctx.now,
      })
      .onConflict((oc) => oc.column('call_sid').doNothing())
      .execute();
  }
}

async function upsertTurn(db: Db, op: OpOf<'turn'>): Promise<void> {
  const latency = op.latency === undefined ? undefined : JSON.stringify(op.latency);
  const values = {
    call_sid: op.callSid,
    turn_index: op.index,
    caller_text: op.callerText ?? null,
    agent_text: op.agentText ?? null,
    heard_text: op.heardText ?? null,
    interrupted: op.interrupted ?? false,
    started_at: op.startedAt ?? null,
    latency: latency ?? null,
  };
  // Only the fields this op carries overwrite the stored ones.
  const given = {
    caller_text: op.callerText !== undefined,
    agent_text: op.agentText !== undefined,
    heard_text: op.heardText !== undefined,
    interrupted: op.interrupted !== undefined,
    started_at: op.startedAt !== undefined,
    latency: latency !== undefined,
  };
  const columns = (Object.keys(given) as Array<keyof typeof given>).filter((k) => given[k]);
  await db
    .insertInto('turns')
    .values(values)
    .onConflict((oc) => {
      const target = oc.columns(['call_sid', 'turn_index']);
      if (columns.length === 0) return target.doNothing();
      return target.doUpdateSet((eb) => Object.fromEntries(columns.map((c) => [c, eb.ref(`excluded.${c}`)])));
    })
    .execute();
}
