/** `call_status`: Twilio's call progress callback; logged and answered 204. */
import type { Request, Response } from 'express';
import type { Logger } from '../server/logger.ts';
import { NO_CACHE_HEADERS } from './stream-status.ts';
import { webhookParams } from './webhook-request.ts';

/** Handler for `/webhook/call_status`. */
export function callStatus(logger: Logger) {
  return (req: Request, res: Response): void => {
    const p = webhookParams(req);
    logger.info('CALL_STATUS', {
      callSid: p.CallSid,
      callStatus: p.CallStatus,
      callDuration: p.CallDuration,
      sequenceNumber: p.SequenceNumber,
    });
    res.status(204).set(NO_CACHE_HEADERS).end();
  };
}
