/**
 * `incoming_call`: Twilio asks what to do with a new call; we answer with TwiML that connects the
 * call to our media socket. All URLs are absolute and built from one base (PUBLIC_BASE_URL, or
 * the request's public origin), and the per-call stream token rides in a `<Parameter>` because
 * Twilio drops query strings from stream URLs. The agent is chosen here from the number the caller
 * dialled (`To`); it travels to the socket as a `<Parameter>` bound into the token, with the
 * caller's numbers, so the socket cannot be pointed at another agent.
 *
 * Twilio may request this webhook more than once for one call (a retry after a timeout); each answer
 * carries a fresh token, and whichever stream starts first is the call's only one (stream-token.ts).
 * Caller numbers reach the log masked unless LOG_CALLER_NUMBERS=full (the logger masks them).
 */
import type { Request, Response } from 'express';
import twilio from 'twilio';
import type { Logger } from '../server/logger.ts';
import type { Agents } from '../config/agents.ts';
import type { LogLimiter } from '../server/log-limit.ts';
import { httpStatus } from '../server/errors.ts';
import { boundParams, MEDIA_PATH, STREAM_PARAMS } from '../media/twilio/stream-params.ts';
import type { StreamTokens } from '../media/twilio/stream-token.ts';
import { publicBase, webhookParams } from './webhook-request.ts';

/** What the route needs. */
export interface IncomingCallDeps {
  publicBaseUrl: string | undefined;
  tokens: StreamTokens;
  logger: Logger;
  agents: Agents;
  limiter: LogLimiter;
}

/** A phone number or Twilio client id as it may go into a `<Parameter>`: short and printable, else dropped. */
function numberParam(v: string | undefined): string | undefined {
  return v && /^[+\w:@.-]{1,64}$/.test(v) ? v : undefined;
}

/** Longest CallSid accepted (Twilio's are 34 characters); the SID is echoed into the TwiML. */
const CALL_SID_MAX = 64;

/** Handler for `POST` (and `GET`) `/webhook/incoming_call`. */
export function incomingCall(deps: IncomingCallDeps) {
  return (req: Request, res: Response): void => {
    const base = publicBase(req, deps.publicBaseUrl);
    if (!base) {
      deps.limiter.log('warn', 'INCOMING_CALL_BAD_HOST', {
        code: 'HTTP_BAD_HOST',
        host: req.get('host'),
        proto: req.get('x-forwarded-proto'),
      });
      res.status(httpStatus('HTTP_BAD_HOST')).type('text/plain').send('bad Host header or forwarded scheme');
      return;
    }
    const params = webhookParams(req);
    const callSid = params.CallSid ?? '';
    if (callSid.length > CALL_SID_MAX) {
      deps.limiter.log('warn', 'INCOMING_CALL_BAD_SID', { code: 'HTTP_BAD_CALL_SID', length: callSid.length });
      res.status(httpStatus('HTTP_BAD_CALL_SID')).type('text/plain').send('bad CallSid');
      return;
    }
    const host = new URL(base).host;

    const response = new twilio.twiml.VoiceResponse();
    const connect = response.connect({ action: `${base}/webhook/stream_ended`, method: 'POST' });
    const stream = connect.stream({
      url: `wss://${host}${MEDIA_PATH}`,
      statusCallback: `${base}/webhook/stream_status`,
      statusCallbackMethod: 'POST',
    });
    const to = numberParam(params.To);
    const from = numberParam(params.From);
    const agent = deps.agents.forNumber(to);
    const bound = boundParams({ agent: agent.id, from, to });
    stream.parameter({ name: STREAM_PARAMS.callSid, value: callSid });
    for (const [name, value] of Object.entries(bound)) stream.parameter({ name, value });
    stream.parameter({ name: STREAM_PARAMS.token, value: deps.tokens.issue(callSid, bound) });

    deps.logger.info('INCOMING_CALL', {
      callSid,
      from: params.From,
      to: params.To,
      direction: params.Direction,
      agentId: agent.id,
      streamUrl: `wss://${host}${MEDIA_PATH}`,
    });
    res.status(200).type('text/xml').send(response.toString());
  };
}
