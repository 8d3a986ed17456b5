/**
 * Where to see the demo's call once it is over: its page in the console and its record in the API,
 * both served by the gateway itself and read here while the gateway still runs. Without
 * CONSOLE_TOKEN (the demo's case) both answer requests from this machine only, which the demo is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallDocument } from '../../server/store/reader.ts';

export type { CallDocument } from '../../server/store/reader.ts';

/** What one GET got. */
export interface Fetched {
  url: string;
  /** HTTP status; undefined when the request failed (see `error`). */
  status: number | undefined;
  contentType: string | undefined;
  error?: string;
}

/** The call's two addresses and what they answered. */
export interface CallLookup {
  consoleUrl: string;
  apiUrl: string;
  console: Fetched;
  api: Fetched & {
    /** The record, when the API answered 200 with JSON. */
    doc: CallDocument | undefined;
    /** The record says the call has ended (its end is written last, after the turns and tool calls). */
    complete: boolean;
  };
}

/** Options of {@link lookUpCall}. */
export interface LookupOptions {
  /** Longest wait for the record to be complete: the store writes in batches, off the call's path. Default 5000. */
  timeoutMs?: number;
  /** Pause between reads of the record. Default 100. */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Time limit of one request. */
const REQUEST_TIMEOUT_MS = 3000;

/** `<base>/console/calls/<CallSid>`. */
export function consoleUrlOf(base: string, callSid: string): string {
  return `${base.replace(/\/+$/, '')}/console/calls/${encodeURIComponent(callSid)}`;
}

/** `<base>/api/calls/<CallSid>`. */
export function apiUrlOf(base: string, callSid: string): string {
  return `${base.replace(/\/+$/, '')}/api/calls/${encodeURIComponent(callSid)}`;
}

/**
 * Reads the call's record from the API until it is complete (or `timeoutMs` passed), then fetches
 * its console page. Never throws: failures are in the answer (`status` undefined, `error`).
 */
export async function lookUpCall(base: string, callSid: string, opts: LookupOptions = {}): Promise<CallLookup> {
  const apiUrl = apiUrlOf(base, callSid);
  const consoleUrl = consoleUrlOf(base, callSid);
  const deadline = performance.now() + (opts.timeoutMs ?? 5000);
  let api: CallLookup['api'];
  for (;;) {
    const { fetched, body } = await get(apiUrl, opts.signal);
    const doc = fetched.status === 200 && isCallDocument(body) ? body : undefined;
    api = { ...fetched, doc, complete: doc?.call.endedAt != null };
    if (api.complete || opts.signal?.aborted || performance.now() >= deadline) break;
    await sleep(opts.pollMs ?? 100, undefined, opts.signal ? { signal: opts.signal } : {}).catch(() => undefined);
  }
  const page = await get(consoleUrl, opts.signal);
  return { consoleUrl, apiUrl, api, console: page.fetched };
}

async function get(url: string, signal: AbortSignal | undefined): Promise<{ fetched: Fetched; body: unknown }> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    const contentType = res.headers.get('content-type') ?? undefined;
    const text = await res.text();
    let body: unknown;
    if (contentType?.includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined; // reported as "not a call record" by the check
      }
    }
    return { fetched: { url, status: res.status, contentType }, body };
  } catch (err) {
    return {
      fetched: { url, status: undefined, contentType: undefined, error: (err as Error).message },
      body: undefined,
    };
  }
}

function isCallDocument(v: unknown): v is CallDocument {
  const d = v as Partial<CallDocument> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.call?.callSid === 'string' &&
    Array.isArray(d.turns) &&
    Array.isArray(d.toolCalls)
  );
}
