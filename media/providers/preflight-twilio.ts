/**
 * Preflight checks of the Twilio-facing settings. Pure (no network): each gives a warning, never a
 * failure, because the gateway works without them in development, but a live number needs both.
 */
import type { Config } from '../../config/config.ts';
import type { CheckOutcome } from './preflight-check.ts';

/**
 * PUBLIC_BASE_URL is an https origin with no path (the config refuses a path already). Unset or
 * http: a warning, since Twilio then signs and connects to whatever the Host header said, and
 * opens media streams only over wss.
 */
export function publicBaseUrlCheck(config: Config): CheckOutcome {
  const url = config.publicBaseUrl;
  if (!url)
    return {
      ok: true,
      measured: 'not set',
      warn: 'webhook URLs, the stream URL and signatures fall back to the Host header of each request',
      variable: 'PUBLIC_BASE_URL',
    };
  if (!url.startsWith('https://'))
    return {
      ok: true,
      measured: url,
      warn: 'not https: Twilio opens media streams over wss only, so the stream URL must be https-based',
      variable: 'PUBLIC_BASE_URL',
    };
  return { ok: true, measured: `${url} (https origin, no path)` };
}

/** TWILIO_AUTH_TOKEN is set (its value is never shown). Unset: a warning, signatures go unchecked. */
export function twilioAuthTokenCheck(config: Config): CheckOutcome {
  if (config.twilioAuthToken) return { ok: true, measured: 'set (webhook and media-socket signatures are checked)' };
  return {
    ok: true,
    measured: 'not set',
    warn: 'webhook and media-socket signatures are not checked: anyone who finds the URL can open a call',
    variable: 'TWILIO_AUTH_TOKEN',
  };
}
