/**
 * How a call ends, readable by whichever instance Twilio's `<Connect action>` request reaches:
 * the agent's decision (hang up, transfer, apologise, fall back) is put when it is made and read
 * when `/webhook/stream_ended` arrives. One small interface, two implementations: in memory (one
 * process) and in the call store (any instance).
 */
import type { Kysely } from 'kysely';
import { StoreUnavailableError, messageOf } from './database.ts';
import type { StoreSchema } from './schema.ts';
import type { CallEndings as GatewayCallEndings } from '../call-endings.ts';

/** What `<Connect action>` should do. */
export type EndingAction = 'hangup' | 'transfer' | 'apology' | 'fallback';

/** A call's ending decision. */
export interface EndingDecision {
  action: EndingAction;
  /** Transfer target: an E.164 number and optional digits to dial after it answers (`ww123`). */
  target?: { number: string; sendDigits?: string };
  /** Caller ID for the transfer (normally the number the caller dialled). */
  callerId?: string;
  /** Said to the person who answers a transfer. */
  summary?: string;
  /** Epoch ms after which the decision is gone (Twilio asks within seconds). */
  expiresAt: number;
}

/** Where ending decisions live. `put` rejects a malformed decision with EndingInvalidError. */
export interface CallEndings {
  put(callSid: string, decision: EndingDecision): Promise<void>;
  get(callSid: string): Promise<EndingDecision | undefined>;
}

/** A decision that cannot be stored; nothing was changed. */
export class EndingInvalidError extends Error {
  readonly code = 'ENDING_INVALID';
  constructor(problem: string) {
    super(`invalid ending decision: ${problem}`);
    this.name = 'EndingInvalidError';
  }
}

const ACTIONS: readonly EndingAction[] = ['hangup', 'transfer', 'apology', 'fallback'];
const E164 = /^\+[1-9]\d{1,14}$/;
const DIGITS = /^[0-9wW*#]{1,32}$/;

/** Checks a decision. @throws EndingInvalidError naming the bad field. */
export function checkDecision(callSid: string, d: EndingDecision): void {
  if (typeof callSid !== 'string' || callSid.length === 0 || callSid.length > 128) {
    throw new EndingInvalidError('callSid must be a non-empty string');
  }
  if (!ACTIONS.includes(d.action)) throw new EndingInvalidError(`action must be one of ${ACTIONS.join(', ')}`);
  if (!Number.isFinite(d.expiresAt)) throw new EndingInvalidError('expiresAt must be epoch milliseconds');
  if (d.action === 'transfer' && !d.target) throw new EndingInvalidError('a transfer needs a target');
  if (d.target) {
    if (!E164.test(d.target.number)) throw new EndingInvalidError('target.number must be E.164, e.g. +97231234567');
    if (d.target.sendDigits !== undefined && !DIGITS.test(d.target.sendDigits)) {
      throw new EndingInvalidError('target.sendDigits may hold only 0-9, w, W, * and # (at most 32)');
    }
  }
  if (d.callerId !== undefined && !E164.test(d.callerId)) throw new EndingInvalidError('callerId must be E.164');
  if (d.summary !== undefined && (typeof d.summary !== 'string' || d.summary.length > 2000)) {
    throw new EndingInvalidError('summary must be a string of at most 2000 characters');
  }
}

/** In-process decisions, dropped when expired; at most `max` (default 10000), oldest evicted. */
export class MemoryCallEndings implements CallEndings {
  readonly #map = new Map<string, EndingDecision>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: { max?: number; now?: () => number } = {}) {
    this.#max = opts.max ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  put(callSid: string, decision: EndingDecision): Promise<void> {
    try {
      checkDecision(callSid, decision);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.#map.delete(callSid);
    if (this.#map.size >= this.#max) this.#map.delete(this.#map.keys().next().value as string);
    this.#map.set(callSid, structuredClone(decision));
    return Promise.resolve();
  }

  get(callSid: string): Promise<EndingDecision | undefined> {
    const d = this.#map.get(callSid);
    if (d && d.expiresAt <= this.#now()) {
      this.#map.delete(callSid);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(d && structuredClone(d));
  }
}

/** Decisions in the call store (table call_endings); expired rows are swept by the janitor. */
export class StoreCallEndings implements CallEndings {
  readonly #db: Kysely<StoreSchema>;
  readonly #now: () => number;

  constructor(db: Kysely<StoreSchema>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  /** @throws EndingInvalidError (bad decision) or StoreUnavailableError (database failure). */
  async put(callSid: string, d: EndingDecision): Promise<void> {
    checkDecision(callSid, d);
    const row = {
      call_sid: callSid,
      action: d.action,
      target_number: d.target?.number ?? null,
      send_digits: d.target?.sendDigits ?? null,
      caller_id: d.callerId ?? null,
      summary: d.summary ?? null,
      expires_at: Math.round(d.expiresAt),
    };
    try {
      await this.#db
        .insertInto('call_endings')
        .values(row)
        .onConflict((oc) =>
          oc.column('call_sid').doUpdateSet({
            action: row.action,
            target_number: row.target_number,
            send_digits: row.send_digits,
            caller_id: row.caller_id,
            summary: row.summary,
            expires_at: row.expires_at,
          }),
        )
        .execute();
    } catch (err) {
      throw new StoreUnavailableError(`storing the ending of ${callSid} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  /** @throws StoreUnavailableError */
  async get(callSid: string): Promise<EndingDecision | undefined> {
    let row;
    try {
      row = await this.#db
        .selectFrom('call_endings')
        .selectAll()
        .where('call_sid', '=', callSid)
        .where('expires_at', '>', this.#now())
        .executeTakeFirst();
    } catch (err) {
      throw new StoreUnavailableError(`reading the ending of ${callSid} failed: ${messageOf(err)}`, { cause: err });
    }
    if (!row) return undefined;
    return {
      action: row.action as EndingAction,
      ...(row.target_number
        ? { target: { number: row.target_number, ...(row.send_digits ? { sendDigits: row.send_digits } : {}) } }
        : {}),
      ...(row.caller_id ? { callerId: row.caller_id } : {}),
      ...(row.summary !== null ? { summary: row.summary } : {}),
      expiresAt: Number(row.expires_at),
    };
  }
}

/**
 * The gateway's ending decisions (server/call-endings.ts) kept in a store-side `CallEndings`, so
 * whichever instance Twilio's `<Connect action>` reaches reads what the call's instance decided.
 * An apology the caller already heard is kept as `fallback` (no `<Say>`, then FALLBACK_NUMBER).
 */
export function gatewayEndings(
  inner: CallEndings,
  ttlMs = 10 * 60_000,
  now: () => number = Date.now,
): GatewayCallEndings {
  return {
    async put(callSid, d) {
      const expiresAt = now() + ttlMs;
      if (d.action === 'hangup') return inner.put(callSid, { action: 'hangup', expiresAt });
      if (d.action === 'apology') return inner.put(callSid, { action: d.heard ? 'fallback' : 'apology', expiresAt });
      return inner.put(callSid, {
        action: 'transfer',
        target: { number: d.number, ...(d.sendDigits ? { sendDigits: d.sendDigits } : {}) },
        ...(d.callerId ? { callerId: d.callerId } : {}),
        ...(d.summary ? { summary: d.summary } : {}),
        expiresAt,
      });
    },
    async get(callSid) {
      const d = await inner.get(callSid);
      if (!d) return undefined;
      switch (d.action) {
        case 'hangup':
          return { action: 'hangup' };
        case 'apology':
        case 'fallback':
          return { action: 'apology', heard: d.action === 'fallback' };
        case 'transfer':
          if (!d.target) return { action: 'apology', heard: false };
          return {
            action: 'transfer',
            target: d.target.number,
            number: d.target.number,
            ...(d.target.sendDigits ? { sendDigits: d.target.sendDigits } : {}),
            ...(d.callerId ? { callerId: d.callerId } : {}),
            ...(d.summary ? { summary: d.summary } : {}),
          };
      }
    },
  };
}
