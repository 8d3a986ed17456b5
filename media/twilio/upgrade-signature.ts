/**
 * X-Twilio-Signature on the media-socket upgrade, checked with the `twilio` package's validator.
 * Twilio signs the `wss://` URL written in the TwiML, with no parameters.
 */
import type { IncomingMessage } from 'node:http';
import twilio from 'twilio';
import { MEDIA_PATH } from './stream-params.ts';

/**
 * Checks the signature on a media-socket upgrade. Twilio signs the `wss://` URL written in the
 * TwiML, with no parameters; its docs advise also trying the form with a trailing slash.
 */
export function isValidUpgradeSignature(
  authToken: string,
  req: IncomingMessage,
  publicBaseUrl: string | undefined,
): boolean {
  const signature = req.headers['x-twilio-signature'];
  if (typeof signature !== 'string' || signature === '') return false;
  return upgradeHosts(req, publicBaseUrl).some((host) =>
    [`wss://${host}${MEDIA_PATH}`, `wss://${host}${MEDIA_PATH}/`].some((url) =>
      twilio.validateRequest(authToken, signature, url, {}),
    ),
  );
}

/** Hosts the upgrade may have been signed for: the configured one, else what the request says. */
function upgradeHosts(req: IncomingMessage, publicBaseUrl: string | undefined): string[] {
  if (publicBaseUrl) return [new URL(publicBaseUrl).host];
  const hosts = new Set<string>();
  const forwarded = req.headers['x-forwarded-host'];
  if (typeof forwarded === 'string') hosts.add(forwarded.split(',')[0]!.trim());
  if (req.headers.host) hosts.add(req.headers.host);
  return [...hosts].filter((h) => h !== '');
}
