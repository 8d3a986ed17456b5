/**
 * One simulated phone call against a running gateway, doing what Twilio does:
 *
 *   POST incoming_call ─▶ TwiML ─▶ upgrade <Stream url> (signed) ─▶ connected + start ─▶ stream-started
 *     ─▶ wait for the greeting ─▶ { say audio ─▶ wait for the reply (or barge in) } × turns
 *     ─▶ stop ─▶ stream-stopped [─▶ <Connect action> if the gateway hung up] ─▶ call_status completed
 *
 * The media side (20 ms frames, playout, mark echoes, validation) is the TwilioMediaClient's; this
 * file runs the flow and assembles the report (the caller's script is in `caller-script.ts`). No console output and no process-global
 * state, so many calls can run at once in one process.
 */
import { TwilioHandshakeError, TwilioMediaClient } from '../twilio/media-client.ts';
import {
  callStatusParams,
  randomSid,
  readNextStep,
  streamStatusParams,
  twilioSignature,
  voiceParams,
} from '../twilio/twilio-http.ts';
import type { CloseInfo, SpeechTiming } from '../twilio/media-client.ts';
import { CallTimeline } from './call-timeline.ts';
import { CALL_DEFAULTS, converse, scriptSettings } from './caller-script.ts';
import type { CallEvent } from './timeline-entries.ts';
import { mediaSocketUrl, parseStreamTwiml, postWebhook } from './twilio-requests.ts';
import type { CallIdentity, WebhookResult } from './twilio-requests.ts';
import type { CallOptions, CallReport, TurnReport } from './types.ts';

export type { CallOptions, CallReport, GreetingReport, TurnReport } from './types.ts';
export type { CallEvent, CallEventKind } from './timeline-entries.ts';
export type { WebhookResult } from './twilio-requests.ts';
export { CALL_DEFAULTS };

/**
 * Places one simulated call and reports on it. Never throws for anything the gateway does (refusals,
 * bad TwiML, violations, early hang-ups are in `problems`); the report is always complete.
 * @throws RangeError for invalid options (empty audio, a base that is not http(s), a bad number).
 */
export async function runCall(options: CallOptions): Promise<CallReport> {
  const o = scriptSettings(options);
  const id: CallIdentity = {
    accountSid: options.accountSid ?? randomSid('AC'),
    callSid: options.callSid ?? randomSid('CA'),
    from: options.from ?? CALL_DEFAULTS.from,
    to: options.to ?? CALL_DEFAULTS.to,
  };
  const publicBase = (options.publicBase ?? options.base).replace(/\/+$/, '');
  const callStart = performance.now();
  const problems: string[] = [];
  const notes: string[] = [];
  const webhooks: WebhookResult[] = [];
  const post = async (name: string, url: string, params: Record<string, string>, expected: number) => {
    const { body, ...result } = await postWebhook(name, url, options.base, params, expected, options.authToken);
    webhooks.push(result);
    return { ...result, body };
  };
  // Filled in as the call goes; early failures return it as far as it got.
  const report: CallReport = {
    ok: false,
    problems,
    notes,
    callSid: id.callSid,
    accountSid: id.accountSid,
    streamSid: undefined,
    streamUrl: undefined,
    dialledUrl: undefined,
    startedAt: new Date(),
    streamMs: 0,
    timeline: [],
    greeting: undefined,
    turns: [],
    violations: [],
    webhooks,
    next: undefined,
    close: undefined,
    heard: Buffer.alloc(0),
    clientEvents: [],
  };

  const incoming = await post('incoming_call', `${publicBase}/webhook/incoming_call`, voiceParams(id, 'ringing'), 200);
  if (incoming.status !== 200) return finish(report, [webhookProblem(incoming, options.authToken !== undefined)]);
  let twiml;
  try {
    twiml = parseStreamTwiml(incoming.body);
  } catch (err) {
    return finish(report, [`incoming_call: ${(err as Error).message}`]);
  }
  const resolveUrl = (url: string) => new URL(url, publicBase).toString();
  report.streamUrl = twiml.streamUrl;
  report.dialledUrl = mediaSocketUrl(twiml.streamUrl, options.base);

  let client: TwilioMediaClient;
  try {
    client = await TwilioMediaClient.connect(report.dialledUrl, {
      callSid: id.callSid,
      accountSid: id.accountSid,
      customParameters: twiml.parameters,
      protocols: options.protocols ?? [],
      headers: options.authToken
        ? { 'x-twilio-signature': twilioSignature(options.authToken, twiml.streamUrl, {}) }
        : {},
    });
  } catch (err) {
    const refused = err instanceof TwilioHandshakeError;
    const hint = refused && err.statusCode === 403 ? ' (bad signature? check --auth-token and --public-base)' : '';
    const problem = refused
      ? `media socket upgrade refused with HTTP ${err.statusCode}${hint}`
      : `media socket: ${(err as Error).message}`;
    // Twilio reports the failed handshake to the status callback, then the call ends.
    if (twiml.statusCallback) {
      const params = { ...streamStatusParams(id, randomSid('MZ'), 'stream-error'), StreamError: problem };
      await post('stream_status stream-error', resolveUrl(twiml.statusCallback), params, 204);
    }
    await post(
      'call_status completed',
      `${publicBase}/webhook/call_status`,
      callStatusParams(id, performance.now() - callStart),
      204,
    );
    return finish(report, [problem]);
  }
  report.streamSid = client.streamSid;

  const timeline = new CallTimeline(safeCallback(options.onEvent, notes));
  client.onEvent((e) => timeline.observe(e));
  let socketClosed = false;
  void client.closed.then(() => (socketClosed = true));

  const statusUrl = twiml.statusCallback && resolveUrl(twiml.statusCallback);
  const started = statusUrl
    ? post('stream_status stream-started', statusUrl, streamStatusParams(id, client.streamSid, 'stream-started'), 204)
    : undefined;

  const timings: SpeechTiming[] = [];
  let hungUp: boolean;
  try {
    await converse({ client, timeline, o, timings, notes, signal: options.signal, isClosed: () => socketClosed });
  } finally {
    hungUp = !socketClosed;
    if (hungUp) await client.stop();
  }
  const close: CloseInfo = await client.closed;
  timeline.finish();
  report.close = close;
  report.streamMs = Math.round(client.events.findLast((e) => e.kind === 'closed')?.atMs ?? client.now());

  await started;
  if (statusUrl)
    await post(
      'stream_status stream-stopped',
      statusUrl,
      streamStatusParams(id, client.streamSid, 'stream-stopped'),
      204,
    );
  const early: string[] = [];
  if (!hungUp) {
    // The gateway ended <Connect>: Twilio asks the action URL what to do next.
    const detail = `${close.code}${close.reason ? ` "${close.reason}"` : ''}`;
    if (close.code === 1000) notes.push(`the gateway hung up (${detail})`);
    else early.push(`the gateway closed the media socket early with ${detail}`);
    if (twiml.connectAction) {
      const action = await post(
        'stream_ended (<Connect action>)',
        resolveUrl(twiml.connectAction),
        voiceParams(id, 'in-progress'),
        200,
      );
      if (action.status === 200) {
        try {
          report.next = readNextStep(action.body);
        } catch (err) {
          early.push(`stream_ended: ${(err as Error).message}`);
        }
      }
    }
  }
  await post(
    'call_status completed',
    `${publicBase}/webhook/call_status`,
    callStatusParams(id, performance.now() - callStart),
    204,
  );

  if (options.signal?.aborted) early.push('the call was aborted');
  report.timeline = [...timeline.entries];
  report.violations = [...client.violations];
  report.heard = client.heard();
  report.clientEvents = client.events;
  const greeting = timeline.phases[0];
  if (greeting?.firstPlayedAtMs !== undefined) {
    report.greeting = {
      startedAtMs: greeting.firstPlayedAtMs,
      endedAtMs: greeting.endedAtMs,
      endReason: greeting.endReason,
      receivedBytes: greeting.receivedBytes,
      marksPlayed: greeting.marksPlayed,
    };
  } else notes.push('no greeting was heard before the caller spoke');
  report.turns = timings.map((t, i) => turnReport(i + 1, t, timeline));
  if (report.violations.length > 0)
    early.push(`${report.violations.length} protocol violation(s) in what the gateway sent`);
  if (report.heard.length === 0) early.push('the caller heard nothing');
  return finish(report, early);
}

/** Records the problems (webhook answers included) and settles `ok`. */
function finish(report: CallReport, problems: string[]): CallReport {
  report.problems.push(...problems);
  for (const w of report.webhooks.slice(1)) if (w.status !== w.expected) report.problems.push(webhookProblem(w, false));
  report.ok = report.problems.length === 0;
  return report;
}

function webhookProblem(w: WebhookResult, signed: boolean): string {
  if (w.status === undefined) return `${w.name} failed: ${w.error ?? 'no answer'} (${w.url})`;
  const hint =
    w.status === 403
      ? signed
        ? ' (signature refused: check --auth-token and --public-base)'
        : ' (the gateway wants a signature: pass --auth-token)'
      : '';
  return `${w.name} answered ${w.status}, expected ${w.expected}${hint}`;
}

function turnReport(turn: number, t: SpeechTiming, timeline: CallTimeline): TurnReport {
  const p = timeline.phases[turn];
  const since = (at: number | undefined) => (at === undefined ? undefined : Math.round(at - t.endedAtMs));
  return {
    turn,
    speechStartedAtMs: t.startedAtMs,
    speechEndedAtMs: t.endedAtMs,
    replyReceivedAtMs: p?.firstReceivedAtMs,
    replyPlayedAtMs: p?.firstPlayedAtMs,
    replyEndedAtMs: p?.endedAtMs,
    replyEndReason: p?.endReason,
    receiveLatencyMs: since(p?.firstReceivedAtMs),
    playLatencyMs: since(p?.firstPlayedAtMs),
    replyBytes: p?.receivedBytes ?? 0,
    clears: p?.clears ?? 0,
    marksPlayed: p?.marksPlayed ?? 0,
    marksFlushed: p?.marksFlushed ?? 0,
  };
}

/** A throwing `onEvent` must not break the socket handler it runs inside; it is noted once instead. */
function safeCallback(
  onEvent: ((e: CallEvent) => void) | undefined,
  notes: string[],
): ((e: CallEvent) => void) | undefined {
  if (onEvent === undefined) return undefined;
  let failed = false;
  return (e) => {
    if (failed) return;
    try {
      onEvent(e);
    } catch (err) {
      failed = true;
      notes.push(`onEvent threw (${(err as Error).message}); no more events were delivered to it`);
    }
  };
}
