/**
 * `incoming_call`: Twilio asks what to do with a new call; we answer with TwiML that connects the
 * call to our media socket. All URLs are absolute and built from one base (PUBLIC_BASE_URL, or
 * the request's public origin), and the per-call stream token rides in a `<Parameter>` because
 * Twilio drops query strings from stream URLs. The agent is chosen here from the number the caller
 * dialled (`To`); it travels to the socket as a `<Parameter>` bound into the token, with the
 * caller's numbers, so the socket cannot be pointed at another agent.
 */
import type { Request, Response } from 'express';
import twilio from 'twilio';
import type { Logger } from '../server/logger.ts';
import type { Agents } from '../config/agents.ts';
import { boundParams, MEDIA_PATH, STREAM_PARAMS } from '../media/twilio/stream-params.ts';
import type { StreamTokens } from '../media/twilio/stream-token.ts';
import { publicBase, webhookParams } from './webhook-request.ts';

/** What the route needs. */
export interface IncomingCallDeps {
  publicBaseUrl: string | undefined;
  tokens: StreamTokens;
  logger: Logger;
  agents: Agents;
}

/** A phone number or Twilio client id as it may go into a `<Parameter>`: short and printable, else dropped. */
function numberParam(v: string | undefined): string | undefined {
  return v && /^[+\w:@.-]{1,64}$/.test(v) ? v : undefined;
}

/** Handler for `POST` (and `GET`) `/webhook/incoming_call`. */
export function incomingCall(deps: IncomingCallDeps) {
  return (req: Request, res: Response): void => {
    const base = publicBase(req, deps.publicBaseUrl);
    if (!base) {
      deps.logger.warn('INCOMING_CALL_BAD_HOST', { code: 'HTTP_BAD_BODY', host: req.get('host') });
      res.status(400).type('text/plain').send('bad Host header');
      return;
    }
    const params = webhookParams(req);
    const callSid = params.CallSid ?? '';
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
