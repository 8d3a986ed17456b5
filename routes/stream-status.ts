/**
 * `stream_status`: Twilio's Media Streams status callback. Twilio treats any non-2xx answer as a
 * failed callback (the 15000-series warnings), so this route answers 204 to everything —
 * form posts, JSON, empty or malformed bodies, wrong content types, bodies over the limit — and
 * never runs a body parser that could throw. A bad signature is worth a warning, not a status:
 * when a Twilio auth token is set, an unsigned or forged callback gets one brief line (within the
 * limiter's budget) and its fields are not logged at all.
 */
import type { Request, Response } from 'express';
import twilio from 'twilio';
import type { Logger } from '../server/logger.ts';
import type { LogLimiter } from '../server/log-limit.ts';

/** Headers that keep any cache between Twilio and us from replaying an answer. */
export const NO_CACHE_HEADERS = {
  'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
  Pragma: 'no-cache',
} as const;

/** What the route needs. */
export interface StreamStatusDeps {
  logger: Logger;
  limiter: LogLimiter;
  authToken: string | undefined;
  bodyLimitBytes: number;
  /** The public URL Twilio signed for this request. */
  urlOf: (req: Request) => string;
}

/** Handler for `/webhook/stream_status` (any method); mounted before every body parser. */
export function streamStatus(deps: StreamStatusDeps) {
  return (req: Request, res: Response): void => {
    readCapped(req, deps.bodyLimitBytes, (raw, truncated) => {
      try {
        const fields = req.method === 'GET' ? flatten(req.query) : parseBody(raw, req.get('content-type'));
        if (deps.authToken && !signedByTwilio(deps, req, raw, fields)) return;
        deps.logger.info('STREAM_STATUS', {
          streamEvent: fields.StreamEvent,
          streamSid: fields.StreamSid,
          callSid: fields.CallSid,
          streamError: fields.StreamError,
          twilioTimestamp: fields.Timestamp,
          ...(truncated ? { truncated: true } : {}),
        });
      } catch (err) {
        deps.limiter.log('warn', 'STREAM_STATUS_UNREADABLE', { code: 'HTTP_BAD_BODY', error: String(err) });
      } finally {
        if (!res.headersSent) res.status(204).set(NO_CACHE_HEADERS).end();
      }
    });
  };
}

/** True when the callback carries Twilio's signature; otherwise one brief, rate-limited warning. */
function signedByTwilio(deps: StreamStatusDeps, req: Request, raw: string, fields: Record<string, string>): boolean {
  const signature = req.get('x-twilio-signature');
  const url = deps.urlOf(req);
  const valid =
    !!signature &&
    (url.includes('bodySHA256=')
      ? twilio.validateRequestWithBody(deps.authToken!, signature, url, raw)
      : twilio.validateRequest(deps.authToken!, signature, url, req.method === 'GET' ? {} : fields));
  if (!valid) {
    deps.limiter.log('warn', 'STREAM_STATUS_SIGNATURE_INVALID', {
      code: 'TWILIO_SIGNATURE_INVALID',
      signed: !!signature,
    });
  }
  return valid;
}

/** Reads at most `limit` bytes of the body and discards the rest, so no body can make it fail. */
function readCapped(req: Request, limit: number, done: (raw: string, truncated: boolean) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).toString('utf8'), truncated);
  };
  req.on('data', (chunk: Buffer) => {
    if (size >= limit) {
      truncated = true;
      return;
    }
    const room = limit - size;
    if (chunk.length > room) truncated = true;
    const kept = chunk.subarray(0, room);
    chunks.push(kept);
    size += kept.length;
  });
  req.on('end', finish);
  req.on('error', finish);
  req.on('aborted', finish);
}

/** Form-encoded (Twilio's format) or JSON; anything else yields no fields. */
function parseBody(raw: string, contentType: string | undefined): Record<string, string> {
  const text = raw.trim();
  if (text === '') return {};
  if (text.startsWith('{') || contentType?.includes('json')) {
    try {
      return flatten(JSON.parse(text));
    } catch {
      return {};
    }
  }
  return flatten(Object.fromEntries(new URLSearchParams(text)));
}

function flatten(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return out;
  for (const [k, v] of Object.entries(source)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}
