/**
 * The Express application: plain HTTP only (webhooks, health, version, metrics). WebSocket upgrades
 * never reach it — gateway.ts routes them on the raw http.Server — and it has no route for `/ws/*`.
 * Signatures are validated against PUBLIC_BASE_URL whenever a Twilio auth token is set (the config
 * refuses one without the other), so no request header can change what is validated.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import twilio from 'twilio';
import type { Config } from '../config/config.ts';
import type { Agents } from '../config/agents.ts';
import type { Logger } from '../server/logger.ts';
import { isValidWebhookSignature, webhookUrl, type RequestWithRawBody } from '../server/twilio-signature.ts';
import { clientErrorCode, ERRORS, httpStatus } from '../server/errors.ts';
import type { StreamTokens } from '../media/twilio/stream-token.ts';
import { healthRoutes } from './health.ts';
import { incomingCall } from './incoming-call.ts';
import { streamStatus, NO_CACHE_HEADERS } from './stream-status.ts';
import { streamEnded, transferWhisper } from './stream-ended.ts';
import { hebrewSay } from './twiml-say.ts';
import { SealedTokens } from '../server/sealed-token.ts';
import type { CallEndings } from '../server/call-endings.ts';
import { callStatus } from './call-status.ts';
import type { Metrics } from '../server/metrics.ts';
import type { LogLimiter } from '../server/log-limit.ts';

/** What the application needs from the process around it. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  tokens: StreamTokens;
  metrics: Metrics;
  isDraining: () => boolean;
  agents: Agents;
  /** Where calls leave their ending decision (read by stream_ended). */
  endings: CallEndings;
  startedAt: Date;
  /** The read API over the call store (routes/api.ts), mounted when the gateway has a store. */
  api?: RequestHandler;
  /** Budget for log lines strangers can trigger (unsigned requests, bad bodies, metrics probes). */
  limiter: LogLimiter;
}

/** Builds the Express app. */
export function createApp(deps: AppDeps): express.Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);

  app.use(healthRoutes({ isDraining: deps.isDraining, deployId: config.deployId, startedAt: deps.startedAt }));
  app.get('/metrics', async (req, res, next) => {
    if (config.metricsToken && !bearerMatches(req.get('authorization'), config.metricsToken)) {
      const status = httpStatus('METRICS_UNAUTHORIZED');
      deps.limiter.log('warn', 'METRICS_UNAUTHORIZED', { code: 'METRICS_UNAUTHORIZED', status });
      res.status(status).set('WWW-Authenticate', 'Bearer').type('text/plain').send('unauthorized');
      return;
    }
    try {
      res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });

  // Before any body parser: nothing a client sends may turn this route into anything but 204.
  app.all(
    '/webhook/stream_status',
    streamStatus({
      logger,
      limiter: deps.limiter,
      authToken: config.twilioAuthToken,
      bodyLimitBytes: config.bodyLimitBytes,
      urlOf: (req) => webhookUrl(req, config.publicBaseUrl),
    }),
  );

  const keepRaw = (req: RequestWithRawBody, _res: unknown, buf: Buffer) => {
    req.rawBody = buf.toString('utf8');
  };
  app.use(
    '/webhook',
    express.urlencoded({ extended: false, limit: config.bodyLimitBytes, verify: keepRaw }),
    express.json({ limit: config.bodyLimitBytes, verify: keepRaw }),
  );

  const signed = requireSignature(config, deps.limiter);
  app.all(
    '/webhook/incoming_call',
    onlyGetPost,
    signed,
    incomingCall({
      publicBaseUrl: config.publicBaseUrl,
      tokens: deps.tokens,
      logger,
      agents: deps.agents,
      limiter: deps.limiter,
    }),
  );
  const whisper = new SealedTokens(config.twilioAuthToken ?? config.webhookSecret, 'transfer whisper');
  const sayVoice = config.twilioSayVoice;
  app.all(
    '/webhook/stream_ended',
    onlyGetPost,
    signed,
    streamEnded({
      logger,
      endings: deps.endings,
      sayVoice,
      fallbackNumber: config.fallbackNumber,
      publicBaseUrl: config.publicBaseUrl,
      whisper,
    }),
  );
  app.all('/webhook/transfer_whisper', onlyGetPost, signed, transferWhisper({ logger, sayVoice, whisper }));
  app.all('/webhook/call_status', onlyGetPost, signed, callStatus(logger));
  if (deps.api) app.use(deps.api);

  app.use((req: Request, res: Response) => {
    res.status(httpStatus('HTTP_NOT_FOUND')).type('text/plain').send('not found');
  });
  app.use(errorHandler(logger, deps.limiter, config.twilioSayVoice));
  return app;
}

/** `Authorization: Bearer <token>` with exactly `token`, compared in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

const onlyGetPost: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'POST') return next();
  res
    .status(httpStatus('HTTP_METHOD_NOT_ALLOWED'))
    .set('Allow', 'GET, POST')
    .type('text/plain')
    .send('method not allowed');
};

/**
 * 403 unless the request is signed by Twilio for PUBLIC_BASE_URL + path; a no-op when no auth token
 * is configured. Refusals are logged briefly and within the limiter's budget.
 */
function requireSignature(config: Config, limiter: LogLimiter): RequestHandler {
  const token = config.twilioAuthToken;
  if (!token) return (_req, _res, next) => next();
  return (req, res, next) => {
    const url = webhookUrl(req, config.publicBaseUrl);
    if (isValidWebhookSignature(token, req as RequestWithRawBody, url)) return next();
    limiter.log('warn', 'WEBHOOK_SIGNATURE_INVALID', {
      code: 'TWILIO_SIGNATURE_INVALID',
      path: req.path,
      signed: !!req.get('x-twilio-signature'),
    });
    res.status(httpStatus('TWILIO_SIGNATURE_INVALID')).type('text/plain').send('invalid Twilio signature');
  };
}

/**
 * The one error handler. Client mistakes get their 4xx with a short text. Anything unexpected is
 * logged with a code; a Twilio webhook still gets an answer Twilio can use (TwiML that apologises
 * and hangs up, or 204 for telemetry), never a 500 or a stack trace.
 */
function errorHandler(logger: Logger, limiter: LogLimiter, sayVoice: string) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const type = (err as { type?: unknown })?.type;
    // The client's fault (a body the parser refused, or could not decompress or decode), or ours.
    const known = clientErrorCode(err);
    if (res.headersSent) {
      logger.error('HTTP_ERROR_AFTER_HEADERS', { code: 'HTTP_INTERNAL', path: req.path, error: String(err) });
      return;
    }
    if (known) {
      limiter.log('warn', 'HTTP_BAD_REQUEST', {
        code: known,
        path: req.path,
        status: httpStatus(known),
        reason: typeof type === 'string' ? type : (err as { code?: string }).code,
      });
      res.status(httpStatus(known)).type('text/plain').send(ERRORS[known].summary);
      return;
    }
    logger.error('HTTP_INTERNAL_ERROR', { code: 'HTTP_INTERNAL', path: req.path, error: String(err) });
    if (req.path.startsWith('/webhook/call_status')) {
      res.status(204).set(NO_CACHE_HEADERS).end();
    } else if (req.path.startsWith('/webhook/')) {
      const vr = new twilio.twiml.VoiceResponse();
      vr.say(hebrewSay(sayVoice), 'מצטערים, אירעה תקלה. נסו להתקשר שוב מאוחר יותר.');
      vr.hangup();
      res.status(200).type('text/xml').send(vr.toString());
    } else {
      res.status(httpStatus('HTTP_INTERNAL')).type('text/plain').send('internal error');
    }
  };
}
