/**
 * `stream_ended`: the `<Connect action>` Twilio requests once our media socket has closed. It says
 * what happens next from the decision the call left (server/call-endings.ts):
 *
 * - the agent ended the call → `<Hangup/>`;
 * - the agent transferred it → `<Dial callerId="{To}"><Number sendDigits url>` the target, where
 *   `url` (when there is a summary) makes Twilio whisper it to the person who answers first;
 * - the call could not be served, or there is no decision at all (the stream never started, the
 *   gateway restarted) → the apology in Twilio's own Hebrew voice unless the caller already heard
 *   ours, then `<Dial>` FALLBACK_NUMBER (a person takes the call) or `<Hangup/>`.
 */
import type { Request, Response } from 'express';
import twilio from 'twilio';
import type { Logger } from '../server/logger.ts';
import type { CallEndings, EndingDecision } from '../server/call-endings.ts';
import type { SealedTokens } from '../server/sealed-token.ts';
import { publicBase, webhookParams } from './webhook-request.ts';
import { hebrewSay } from './twiml-say.ts';

/** Said by Twilio when the caller could not hear our own apology. */
export const TWILIO_APOLOGY = 'מצטערים, יש לנו תקלה טכנית כרגע. אנא נסו להתקשר שוב מאוחר יותר.';
/** How long the whisper URL of a transfer stays valid (the callee must answer within it). */
export const WHISPER_TTL_MS = 5 * 60_000;

/** What the route needs. */
export interface StreamEndedDeps {
  logger: Logger;
  endings: CallEndings;
  /** TWILIO_SAY_VOICE. */
  sayVoice: string;
  /** FALLBACK_NUMBER. */
  fallbackNumber: string | undefined;
  publicBaseUrl: string | undefined;
  whisper: SealedTokens;
}

/** Handler for `/webhook/stream_ended`. */
export function streamEnded(deps: StreamEndedDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const p = webhookParams(req);
    const callSid = p.CallSid ?? '';
    const decision = callSid ? await deps.endings.get(callSid).catch(() => undefined) : undefined;
    const response = new twilio.twiml.VoiceResponse();
    const next = answer(response, decision, deps, req);
    deps.logger.info('STREAM_ENDED', { callSid, callStatus: p.CallStatus, next });
    res.status(200).type('text/xml').send(response.toString());
  };
}

function answer(
  vr: twilio.twiml.VoiceResponse,
  d: EndingDecision | undefined,
  deps: StreamEndedDeps,
  req: Request,
): string {
  if (d?.action === 'hangup') {
    vr.hangup();
    return 'hangup';
  }
  if (d?.action === 'transfer') {
    const dial = vr.dial(d.callerId ? { callerId: d.callerId } : {});
    const base = publicBase(req, deps.publicBaseUrl);
    const url =
      d.summary && base
        ? `${base}/webhook/transfer_whisper?s=${deps.whisper.seal({ summary: d.summary }, WHISPER_TTL_MS)}`
        : undefined;
    dial.number(
      { ...(d.sendDigits ? { sendDigits: d.sendDigits } : {}), ...(url ? { url, method: 'POST' } : {}) },
      d.number,
    );
    return `transfer:${d.target}`;
  }
  if (!d?.heard) vr.say(hebrewSay(deps.sayVoice), TWILIO_APOLOGY);
  if (deps.fallbackNumber) {
    vr.dial().number(deps.fallbackNumber);
    return 'fallback-number';
  }
  vr.hangup();
  return 'apology-hangup';
}

/**
 * `transfer_whisper`: Twilio requests it on the transferred-to person's leg when they answer,
 * before the caller is connected; it says the agent's summary of the call.
 */
export function transferWhisper(deps: { logger: Logger; sayVoice: string; whisper: SealedTokens }) {
  return (req: Request, res: Response): void => {
    const token = typeof req.query.s === 'string' ? req.query.s : undefined;
    const payload = deps.whisper.open(token);
    const vr = new twilio.twiml.VoiceResponse();
    const summary = typeof payload?.summary === 'string' ? payload.summary : undefined;
    if (summary) vr.say(hebrewSay(deps.sayVoice), summary);
    deps.logger.info('TRANSFER_WHISPER', { callSid: webhookParams(req).CallSid, valid: summary !== undefined });
    res.status(200).type('text/xml').send(vr.toString());
  };
}
