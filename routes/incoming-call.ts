/**
 * `incoming_call`: Twilio asks what to do with a new call; we answer with TwiML that connects the
 * call to our media socket. All URLs are absolute and built from one base (PUBLIC_BASE_URL, or
 * the request's public origin), and the per-call stream token rides in a `<Parameter>` because
 * Twilio drops query strings from stream URLs.
 */
import type { Request, Response } from 'express';
import twilio from 'twilio';
import type { Logger } from '../server/logger.ts';
import { MEDIA_PATH, STREAM_PARAMS } from '../media/twilio/stream-params.ts';
import type { StreamTokens } from '../media/twilio/stream-token.ts';
import { publicBase, webhookParams } from './webhook-request.ts';

/** What the route needs. */
export interface IncomingCallDeps {
  publicBaseUrl: string | undefined;
  tokens: StreamTokens;
  logger: Logger;
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
    stream.parameter({ name: STREAM_PARAMS.callSid, value: callSid });
    stream.parameter({ name: STREAM_PARAMS.token, value: deps.tokens.issue(callSid) });

    deps.logger.info('INCOMING_CALL', {
      callSid,
      from: params.From,
      to: params.To,
      direction: params.Direction,
      streamUrl: `wss://${host}${MEDIA_PATH}`,
    });
    res.status(200).type('text/xml').send(response.toString());
  };
}
