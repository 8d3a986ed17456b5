/**
 * Types of the CRM emulator: how each route answers, what it records, its options and its handle.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The three kinds of endpoint a business exposes to the gateway. */
export type CrmRouteName = 'context' | 'tool' | 'webhook';

/**
 * How one route answers. Everything optional; the defaults answer at once with a well-formed body.
 * Applied in this order: `failFirst`, `delayMs`, `hang`, `badJson`, then `status` and `body`.
 */
export interface CrmRouteBehaviour {
  /**
   * JSON answer, or a function of the recorded request (may be async) returning it. Default: context
   * `{ variables: {}, instructions: '', hints: [] }`, tool `{ ok: true }`, webhook no body (204).
   */
  body?: unknown;
  /** HTTP status. Default 200 (webhook 204). */
  status?: number;
  /** Wait before answering. Default 0. */
  delayMs?: number;
  /** Answer 200 with `Content-Type: application/json` and a body that is not JSON. */
  badJson?: boolean;
  /** Never answer (the connection stays open until the client gives up or the emulator closes). */
  hang?: boolean;
  /** The first N requests to this route (counted per tool for tools) answer `failStatus`. Default 0. */
  failFirst?: number;
  /** Status of those failures. Default 503. */
  failStatus?: number;
}

/** Whether the request's `X-Gateway-Signature` verified with the emulator's secret. */
export type SignatureCheck =
  /** Verified: the HMAC matches the raw body and the timestamp is within the tolerance. */
  | 'valid'
  /** Headers present but the HMAC, format or timestamp is wrong. */
  | 'invalid'
  /** No signature headers. */
  | 'missing'
  /** The emulator has no secret configured, so nothing was checked. */
  | 'unchecked';

/** What the emulator recorded about one request (mutated while it is answered). */
export interface CrmRequest {
  index: number;
  route: CrmRouteName | 'unknown';
  /** For tool requests: the tool name from the path (`/tools/<name>`). */
  tool?: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received (UTF-8). */
  rawBody: string;
  /** The parsed body; undefined when it was not JSON. */
  json: unknown;
  signature: SignatureCheck;
  /** The `Idempotency-Key` header, if any. */
  idempotencyKey?: string;
  /** An earlier request carried the same Idempotency-Key. */
  duplicate: boolean;
  /** Ways the request breaks the gateway↔CRM contract (answered 400 when not empty). */
  problems: string[];
  /** Status answered (undefined while pending or hanging). */
  status?: number;
  receivedAt: number;
  answeredAt?: number;
  /** The client closed the connection before the answer was complete (a gateway timeout). */
  abortedByClient: boolean;
}

/** Options of {@link startFakeCrm}. */
export interface FakeCrmOptions {
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port. Default 0 (ephemeral). */
  port?: number;
  /** The WEBHOOK_SECRET to verify `X-Gateway-Signature` with. Default none ('unchecked'). */
  secret?: string;
  /** Answer 401 to requests whose signature is not 'valid' (needs `secret`). Default false: record only. */
  requireSignature?: boolean;
  /** Largest accepted distance between `X-Gateway-Timestamp` and the clock, seconds. Default 300. */
  signatureToleranceS?: number;
  /** Replay the stored answer to a repeated Idempotency-Key instead of running the tool again. Default true. */
  replayDuplicates?: boolean;
  context?: CrmRouteBehaviour;
  /** Behaviour of every tool without its own entry in `tools`. */
  tool?: CrmRouteBehaviour;
  /** Per tool name. */
  tools?: Record<string, CrmRouteBehaviour>;
  webhook?: CrmRouteBehaviour;
  /** Larger bodies get 413. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** A running CRM emulator. */
export interface FakeCrm {
  /** "http://127.0.0.1:PORT". */
  readonly url: string;
  /** POST here for the caller's context. */
  readonly contextUrl: string;
  /** POST here for the post-call webhook. */
  readonly webhookUrl: string;
  /** POST here to run tool `name`. */
  toolUrl(name: string): string;
  /** Every request in arrival order. */
  readonly requests: CrmRequest[];
  /** Replaces a route's behaviour for later requests: 'context', 'webhook', 'tool' (the default) or 'tool:<name>'. */
  configure(route: 'context' | 'webhook' | 'tool' | `tool:${string}`, behaviour: CrmRouteBehaviour): void;
  /** Resolves once request `index` has arrived; rejects after `timeoutMs` (default 5000). */
  waitForRequest(index: number, timeoutMs?: number): Promise<CrmRequest>;
  /** Destroys open connections (hanging requests too) and stops listening. Idempotent. */
  close(): Promise<void>;
}
