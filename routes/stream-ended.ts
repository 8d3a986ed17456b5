/**
 * `stream_ended`: the `<Connect action>` Twilio requests once our media socket has closed.
 * The conversation is over, so the answer hangs up cleanly instead of letting Twilio fall
 * through to whatever comes next.
 */
import type { Request, Response } from 'express';
import twilio from 'twilio';
import type { Logger } from '../server/logger.ts';
import { webhookParams } from './webhook-request.ts';

/** Handler for `/webhook/stream_ended`. */
export function streamEnded(logger: Logger) {
  return (req: Request, res: Response): void => {
    const p = webhookParams(req);
    logger.info('STREAM_ENDED', { callSid: p.CallSid, callStatus: p.CallStatus });
    const response = new twilio.twiml.VoiceResponse();
    response.hangup();
    res.status(200).type('text/xml').send(response.toString());
  };
}
