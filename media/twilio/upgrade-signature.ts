/**
 * X-Twilio-Signature on the media-socket upgrade, checked with the `twilio` package's validator.
 * Twilio signs the `wss://` URL written in the TwiML, with no parameters; that URL is built from
 * PUBLIC_BASE_URL only, so no request header (Host, X-Forwarded-*) can change what is validated.
 */
import type { IncomingMessage } from 'node:http';
import twilio from 'twilio';
import { MEDIA_PATH } from './stream-params.ts';

/**
 * Checks the signature on a media-socket upgrade against `wss://<host of publicBaseUrl>/ws/twilio-media`
 * (and the same with a trailing slash, as Twilio's docs advise). Never throws.
 */
export function isValidUpgradeSignature(authToken: string, req: IncomingMessage, publicBaseUrl: string): boolean {
  const signature = req.headers['x-twilio-signature'];
  if (typeof signature !== 'string' || signature === '' || signature.length > 100) return false;
  const host = new URL(publicBaseUrl).host;
  return [`wss://${host}${MEDIA_PATH}`, `wss://${host}${MEDIA_PATH}/`].some((url) =>
    twilio.validateRequest(authToken, signature, url, {}),
  );
}
