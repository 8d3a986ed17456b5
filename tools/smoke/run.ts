/**
 * The GO/NO-GO checklist of a deployment, step by step, as Twilio would exercise it: health and
 * version, the two webhooks with Twilio-shaped (and, with a token, Twilio-signed) bodies, the
 * stream URL from the TwiML, and WebSocket handshakes on exactly that URL.
 *
 * Requests go to `baseUrl`; everything Twilio would sign or put in a Host header uses the public
 * origin and the stream URL. So a local gateway can be checked as if reached through its public
 * name: the stream URL's host is kept in the Host header and the signature, the connection goes to
 * the base (and `wss://` becomes `ws://` when the base is `http://`), and a note says so.
 * The requests are built in requests.ts, the answers judged in verdicts.ts.
 */
import type { SmokeOptions } from './options.ts';
import type { SmokeReport, StepName, StepResult } from './report.ts';
import { routingNote, simulatedCall, smokeRequests } from './requests.ts';
import { streamUrlProblems } from './stream-url.ts';
import { describeError, headerLine, headerValue, type UpgradeOutcome } from './transport.ts';
import { deployIdOf, quote, refused, switched, type Verdict } from './verdicts.ts';
import { randomSid, readStreamTwiml, streamStatusParams, voiceParams } from '../twilio/twilio-http.ts';

/** Called as the run goes, so a CLI can print each line when it happens. */
export interface SmokeHooks {
  onStep?(step: StepResult): void;
  onNote?(note: string): void;
}

/** The subprotocol offered in the first handshake, and expected back. */
export const SUBPROTOCOL = 'audio.twilio.com';
/** A WebSocket path no deployment serves; its upgrade must be refused. */
export const UNKNOWN_WS_PATH = '/ws/does-not-exist';

/**
 * Runs every step against the deployment and returns the results; never throws for anything the
 * deployment does (refused connections, timeouts, TLS errors and odd answers are failed steps).
 */
export async function runSmoke(options: SmokeOptions, hooks: SmokeHooks = {}): Promise<SmokeReport> {
  const publicHost = new URL(options.publicBaseUrl).host;
  const token = options.authToken;
  const call = simulatedCall();
  const streamSid = randomSid('MZ');
  const steps: StepResult[] = [];
  const notes: string[] = [];

  const step = async (name: StepName, check: () => Promise<Verdict>): Promise<void> => {
    let verdict: Verdict;
    try {
      verdict = await check();
    } catch (err) {
      verdict = { pass: false, detail: describeError(err) };
    }
    const result: StepResult =
      'skip' in verdict
        ? { name, status: 'skip', detail: verdict.skip }
        : { name, status: verdict.pass ? 'pass' : 'fail', detail: verdict.detail };
    steps.push(result);
    hooks.onStep?.(result);
  };
  const note = (text: string): void => {
    notes.push(text);
    hooks.onNote?.(text);
  };

  const { get, postWebhook, upgrade } = smokeRequests(options);
  const signedNote = token ? ', signed' : '';

  await step('version', async () => {
    const res = await get('/version');
    const deployId = deployIdOf(res.body);
    if (res.status === 200 && deployId !== undefined)
      return { pass: true, detail: `${res.statusLine}; deployId "${deployId}"` };
    return {
      pass: false,
      detail: `${res.statusLine}; body ${quote(res.body)}; expected 200 with JSON {"deployId": "…"}`,
    };
  });

  await step('healthz', async () => {
    const res = await get('/healthz');
    const pass = res.status === 200 && res.body.trim() === 'ok';
    return { pass, detail: `${res.statusLine}; body ${quote(res.body)}${pass ? '' : '; expected 200 "ok"'}` };
  });

  await step('stream_status', async () => {
    const res = await postWebhook(
      '/webhook/stream_status',
      streamStatusParams(call, streamSid, 'stream-started'),
      true,
    );
    const pass = res.status === 204;
    return { pass, detail: `${res.statusLine} (stream-started${signedNote})${pass ? '' : '; expected 204'}` };
  });

  // Filled in by earlier steps for later ones (an object, so TypeScript does not narrow it away).
  const seen: { streamUrl?: string; offered?: UpgradeOutcome } = {};
  await step('incoming_call', async () => {
    const res = await postWebhook('/webhook/incoming_call', voiceParams(call, 'ringing'), true);
    const type = headerLine(res, 'content-type') ?? 'no Content-Type';
    const saw = `${res.statusLine} (${type})`;
    if (res.status !== 200)
      return { pass: false, detail: `${saw}${signedNote ? ' (signed)' : ''}; expected 200 with TwiML` };
    if (!/xml/i.test(headerValue(res, 'content-type') ?? ''))
      return { pass: false, detail: `${saw}; expected text/xml TwiML` };
    let streamUrl: string;
    try {
      streamUrl = readStreamTwiml(res.body).streamUrl;
    } catch (err) {
      return { pass: false, detail: `${saw}; ${(err as Error).message} in ${quote(res.body)}` };
    }
    seen.streamUrl = streamUrl;
    return { pass: true, detail: `${saw}; <Stream url="${streamUrl}">` };
  });

  const needStreamUrl = { skip: 'needs the <Stream url> from incoming_call' };
  await step('stream_url', async () => {
    const streamUrl = seen.streamUrl;
    if (streamUrl === undefined) return needStreamUrl;
    const problems = streamUrlProblems(streamUrl, publicHost);
    if (problems.length === 0) return { pass: true, detail: `${streamUrl} (wss://, host ${publicHost}, clean path)` };
    return { pass: false, detail: `${streamUrl}: ${problems.join('; ')}` };
  });

  if (seen.streamUrl !== undefined) {
    const via = routingNote(seen.streamUrl, options.baseUrl);
    if (via) note(via);
  }

  await step('handshake_subprotocol', async () => {
    const streamUrl = seen.streamUrl;
    if (streamUrl === undefined) return needStreamUrl;
    seen.offered = await upgrade(streamUrl, { protocol: SUBPROTOCOL, signed: true });
    return switched(seen.offered, `offering ${SUBPROTOCOL}${signedNote}`);
  });

  await step('subprotocol_echo', async () => {
    const offered = seen.offered;
    if (offered?.kind !== 'response' || offered.exchange.status !== 101)
      return { skip: 'needs the 101 of handshake_subprotocol' };
    const echoed = headerValue(offered.exchange, 'sec-websocket-protocol');
    const line = headerLine(offered.exchange, 'sec-websocket-protocol');
    if (echoed === SUBPROTOCOL) return { pass: true, detail: line! };
    return {
      pass: false,
      detail: `${line ?? 'no Sec-WebSocket-Protocol header'} in the 101; expected Sec-WebSocket-Protocol: ${SUBPROTOCOL}`,
    };
  });

  await step('handshake_plain', async () => {
    const streamUrl = seen.streamUrl;
    if (streamUrl === undefined) return needStreamUrl;
    const outcome = await upgrade(streamUrl, { signed: true });
    const verdict = switched(outcome, `no subprotocol offered${signedNote}`);
    if (outcome.kind === 'response' && verdict.pass) {
      const line = headerLine(outcome.exchange, 'sec-websocket-protocol');
      // Twilio may offer no subprotocol; a server that names one anyway breaks RFC 6455 clients, so it is shown.
      verdict.detail += line ? `; unexpected ${line} (none was offered)` : '; no Sec-WebSocket-Protocol header';
    }
    return verdict;
  });

  await step('other_ws_path_refused', async () => {
    const streamUrl = seen.streamUrl;
    const host = streamUrl !== undefined && URL.canParse(streamUrl) ? new URL(streamUrl).host : publicHost;
    // Signed like a real stream URL, so a refusal can only be about the path.
    const outcome = await upgrade(`wss://${host}${UNKNOWN_WS_PATH}`, { protocol: SUBPROTOCOL, signed: true });
    return refused(outcome, `for ${UNKNOWN_WS_PATH}`);
  });

  if (token) {
    await step('unsigned_incoming_call_refused', async () => {
      const res = await postWebhook('/webhook/incoming_call', voiceParams(simulatedCall(), 'ringing'), false);
      const pass = res.status === 403;
      return { pass, detail: `${res.statusLine} without X-Twilio-Signature${pass ? '' : '; expected 403'}` };
    });
    await step('unsigned_handshake_refused', async () => {
      const streamUrl = seen.streamUrl;
      if (streamUrl === undefined) return needStreamUrl;
      return refused(await upgrade(streamUrl, { protocol: SUBPROTOCOL, signed: false }), 'without X-Twilio-Signature');
    });
  }

  const failed = steps.filter((s) => s.status === 'fail').map((s) => s.name);
  return { ok: steps.every((s) => s.status === 'pass'), steps, failed, notes };
}
