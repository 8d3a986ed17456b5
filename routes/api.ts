/**
 * The read API over the call store (JSON; every route behind `guard`, the access check):
 *
 *   GET /api/calls?limit=&before=        newest first; limit 1–200 (default 50); before = an ISO
 *                                        time (calls that started earlier) or a callSid (the page
 *                                        after that call, as given in `nextBefore`)
 *   GET /api/calls/{callSid}             the call's document; 404 for an unknown call
 *   GET /api/calls/{callSid}/recording   audio/wav (byte ranges), 404 when there is none
 *
 * Errors are JSON `{ "error": { "code", "message" } }`: 400 for a bad parameter, 404, 503 when
 * the store fails, 500 for anything else; never a stack trace. Answers are `no-store`: they hold
 * callers' personal data.
 */
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../server/logger.ts';
import { httpStatus, type HttpErrorCode } from '../server/errors.ts';
import { StoreUnavailableError } from '../server/store/database.ts';
import type { CallDocument, CallSummary, ListCursor } from '../server/store/reader.ts';
import { sendRecording } from './api-recording.ts';

/** What the API reads (StoreReader implements it). */
export interface CallReader {
  listCalls(limit: number, cursor?: ListCursor): Promise<CallSummary[] | undefined>;
  getCall(callSid: string): Promise<CallDocument | undefined>;
  recordingPath(callSid: string): Promise<string | undefined>;
}

/** What the API needs. */
export interface ApiDeps {
  reader: CallReader;
  /** Access control for everything under /api (written with the console); tests pass one that allows. */
  guard: RequestHandler;
  logger: Logger;
}

/**
 * The guard used until the console's access control is wired in: only requests whose TCP peer is
 * loopback (the socket's address, never a forwarded header) get through; others get 403 JSON.
 */
export const localOnly: RequestHandler = (req, res, next) => {
  const peer = req.socket.remoteAddress ?? '';
  if (peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.')) return next();
  res
    .status(httpStatus('FORBIDDEN'))
    .set('Cache-Control', 'no-store')
    .json({ error: { code: 'FORBIDDEN', message: 'loopback only' } });
};

/** Default and largest page sizes of the list. */
export const LIST_LIMIT = { default: 50, max: 200 } as const;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;

/** A refusal: `code` (a catalogue code) goes on the wire with the status of `statusOf` (default: its own). */
class ApiError extends Error {
  readonly status: number;
  readonly code: HttpErrorCode;
  constructor(code: HttpErrorCode, message: string, statusOf: HttpErrorCode = code) {
    super(message);
    this.status = httpStatus(statusOf);
    this.code = code;
  }
}

/** The /api router. Mount it on the app as is (its paths are absolute). */
export function apiRoutes(deps: ApiDeps): express.Router {
  const { reader, logger } = deps;
  const router = express.Router();
  router.use('/api', deps.guard, (_req, res, next) => {
    res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    next();
  });

  router.get('/api/calls', async (req, res) => {
    const limit = parseLimit(req.query.limit);
    const cursor = parseBefore(req.query.before);
    const calls = await reader.listCalls(limit, cursor);
    if (!calls) throw new ApiError('BAD_CURSOR', 'before: no call with that callSid');
    const last = calls.at(-1);
    res.json({ calls, nextBefore: calls.length === limit && last ? last.callSid : null });
  });

  router.get('/api/calls/:callSid', async (req, res) => {
    const callSid = parseCallSid(req.params.callSid);
    const doc = await reader.getCall(callSid);
    if (!doc) throw new ApiError('CALL_NOT_FOUND', 'no call with that callSid');
    res.json(doc);
  });

  router.get('/api/calls/:callSid/recording', async (req, res) => {
    const callSid = parseCallSid(req.params.callSid);
    const file = await reader.recordingPath(callSid);
    if (!file) throw new ApiError('RECORDING_NOT_FOUND', 'no recording for that call');
    await sendRecording(req, res, file);
  });

  router.use('/api', (req: Request) => {
    // Other methods get 405, still with the code NOT_FOUND that clients already know.
    const statusOf = req.method === 'GET' || req.method === 'HEAD' ? 'NOT_FOUND' : 'HTTP_METHOD_NOT_ALLOWED';
    throw new ApiError('NOT_FOUND', 'no such API route', statusOf);
  });
  router.use('/api', apiErrors(logger));
  return router;
}

function parseLimit(v: unknown): number {
  if (v === undefined) return LIST_LIMIT.default;
  if (typeof v !== 'string' || !/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > LIST_LIMIT.max) {
    throw new ApiError('BAD_LIMIT', `limit: expected a whole number from 1 to ${LIST_LIMIT.max}`);
  }
  return Number(v);
}

function parseBefore(v: unknown): ListCursor | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && ISO_TIME.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return { beforeMs: ms };
  }
  if (typeof v === 'string' && CALL_SID.test(v) && !/^\d/.test(v)) return { afterCallSid: v };
  throw new ApiError('BAD_CURSOR', 'before: expected an ISO time (2026-01-31T12:00:00Z) or a callSid');
}

function parseCallSid(v: unknown): string {
  if (typeof v !== 'string' || !CALL_SID.test(v)) throw new ApiError('BAD_CALL_SID', 'malformed callSid');
  return v;
}

function apiErrors(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let answer = new ApiError('INTERNAL', 'internal error');
    if (err instanceof ApiError) {
      answer = err;
    } else if (err instanceof StoreUnavailableError) {
      answer = new ApiError('STORE_UNAVAILABLE', 'the call store is unavailable; try again shortly');
      logger.error('API_STORE_UNAVAILABLE', { path: req.path, error: err.message });
    } else if (err instanceof URIError || (err as { status?: unknown })?.status === httpStatus('BAD_REQUEST')) {
      // A badly encoded path (the router marks it with status 400).
      answer = new ApiError('BAD_REQUEST', 'malformed request');
    } else {
      logger.error('API_INTERNAL_ERROR', { path: req.path, error: err instanceof Error ? err.message : String(err) });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, code, message } = answer;
    res.status(status).set('Cache-Control', 'no-store').json({ error: { code, message } });
  };
}
