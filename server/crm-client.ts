/**
 * Requests to the business's own systems (the CRM's context lookup and tools): JSON POSTs with a
 * hard time limit, a cap on how much of the answer is read, and the gateway's signature headers
 * (server/signing.ts). Failures are data, never exceptions: the caller decides what a timeout or a
 * 500 means for the call.
 */
import { signatureHeaders } from './signing.ts';

/** The outcome of one request. */
export type CrmResponse =
  | { ok: true; status: number; body: unknown; ms: number }
  | {
      ok: false;
      reason: 'timeout' | 'network' | 'status' | 'bad-json' | 'too-large' | 'aborted';
      status?: number;
      detail: string;
      ms: number;
    };

/** Options of one request. */
export interface CrmRequest {
  url: string;
  body: unknown;
  timeoutMs: number;
  /** Aborting it (barge-in, hang-up) ends the request at once with reason 'aborted'. */
  signal?: AbortSignal;
  /** Largest answer read, bytes (default 16 KiB); more is 'too-large'. */
  maxBytes?: number;
  /** Extra headers, e.g. `Idempotency-Key`. */
  headers?: Record<string, string>;
}

/** Sends signed JSON requests to the business's systems. */
export class CrmClient {
  readonly #secret: string | undefined;

  /** `secret`: WEBHOOK_SECRET (undefined: requests go out unsigned). */
  constructor(secret: string | undefined) {
    this.#secret = secret;
  }

  /** POSTs `body` as JSON and reads a JSON answer. Never throws. */
  async post(req: CrmRequest): Promise<CrmResponse> {
    const started = performance.now();
    const ms = (): number => Math.round(performance.now() - started);
    const raw = JSON.stringify(req.body);
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const failure = (
      reason: Exclude<CrmResponse, { ok: true }>['reason'],
      detail: string,
      status?: number,
    ): CrmResponse => ({
      ok: false,
      reason,
      detail,
      ms: ms(),
      ...(status === undefined ? {} : { status }),
    });
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...req.headers,
          ...signatureHeaders(this.#secret, raw),
        },
        body: raw,
        signal,
        redirect: 'error',
      });
    } catch (err) {
      return this.#thrown(err, req, timeout, failure);
    }
    let text: string;
    try {
      text = await readCapped(res, req.maxBytes ?? 16 * 1024);
    } catch (err) {
      if (err instanceof TooLarge)
        return failure('too-large', `answer over ${req.maxBytes ?? 16 * 1024} bytes`, res.status);
      return this.#thrown(err, req, timeout, failure);
    }
    if (res.status < 200 || res.status > 299) return failure('status', `HTTP ${res.status}`, res.status);
    try {
      return { ok: true, status: res.status, body: text.trim() === '' ? {} : JSON.parse(text), ms: ms() };
    } catch {
      return failure('bad-json', 'the answer is not JSON', res.status);
    }
  }

  #thrown(
    err: unknown,
    req: CrmRequest,
    timeout: AbortSignal,
    failure: (r: 'timeout' | 'network' | 'aborted', d: string) => CrmResponse,
  ): CrmResponse {
    if (req.signal?.aborted) return failure('aborted', 'cancelled');
    if (timeout.aborted) return failure('timeout', `no answer within ${req.timeoutMs} ms`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return failure('network', cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)));
  }
}

class TooLarge extends Error {}

/** The body as text, refusing more than `max` bytes (without reading the rest). */
async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) {
      await res.body.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
