/**
 * `npm run demo` as a library: one Hebrew phone call through the real gateway, on this machine, with
 * no accounts, showing what the agent does for a business.
 *
 *   emulators (Google STT gRPC, Google TTS gRPC, OpenAI SSE, CRM HTTP) + temp DATA_DIR + agents file
 *     ─▶ gateway child (`node gateway.ts`) ─▶ simulated Twilio call: greeting by name, "book", "a person"
 *     ─▶ <Connect action> and the transfer's whisper followed ─▶ the call's API record and console page read
 *     ─▶ gateway stopped (SIGTERM, drain) ─▶ emulators closed ─▶ DATA_DIR removed (kept with `keep`)
 *     ─▶ the log flow and the four points checked ─▶ what the caller heard written to a WAV
 *
 * Everything that was started is stopped in `finally`, whatever failed and also when `signal`
 * aborts. The recognizer, the model and the CRM are emulated; the gateway, its Google and OpenAI SDK
 * clients, its call store, the gRPC and HTTP wire protocols and the Twilio media protocol are real.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import { runCall } from '../call/run-call.ts';
import type { CallReport } from '../call/run-call.ts';
import { GatewayStartError, REPO_ROOT, startGatewayChild } from '../gateway-child.ts';
import type { GatewayChild } from '../gateway-child.ts';
import { lookUpCall } from './call-record.ts';
import { allPassed, checkPoints, type DemoEvidence } from './checks.ts';
import { CALLER_NUMBER, CALLER_TURNS, CLINIC_NUMBER } from './conversation.ts';
import { callRecords, checkFlow, EXPECTED_FLOW } from './log-flow.ts';
import { DemoSetupError, gatewayEnv, makeDataDir, newWebhookSecret, startEmulators, writeAgentsFile } from './setup.ts';
import type { Emulators } from './setup.ts';
import type { DemoOptions, DemoReport, DemoSetup } from './types.ts';
import { followWhisper, type Whisper } from './whisper.ts';

export type { DemoOptions, DemoReport, DemoSetup, HeardWav, SetupTurn } from './types.ts';

/** Default of {@link DemoOptions.outPath}. */
export const DEFAULT_OUT = 'demo-reply.wav';

/** How long the gateway gets to drain after SIGTERM before it is killed. A finished call leaves nothing to wait for. */
export const STOP_GRACE_MS = 8000;

/**
 * Runs the demo. Never throws for a failure of the demo itself (it is in `problems`); whatever was
 * started is stopped (and the DATA_DIR removed unless `keep`) before it returns.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const report: DemoReport = {
    ok: false,
    problems: [],
    notes: [],
    interrupted: false,
    setup: undefined,
    call: undefined,
    records: [],
    flow: checkFlow([], EXPECTED_FLOW),
    points: undefined,
    audio: undefined,
    gatewayExit: undefined,
    dataDir: undefined,
  };
  const running: Running = { emulators: {} };
  try {
    const evidence = await demo(report, running, options);
    // The emulators' request lists, read before they close.
    const { crm, tts } = running.emulators;
    if (evidence && report.setup)
      report.points = checkPoints({
        ...evidence,
        agent: report.setup.agent,
        to: report.setup.to,
        crmRequests: crm?.requests ?? [],
        ttsTexts: (tts?.requests ?? []).map((r) => r.text),
      });
  } catch (err) {
    if (err instanceof GatewayStartError || err instanceof DemoSetupError) report.problems.push(err.message);
    else report.problems.push(`the demo broke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await shutDown(report, running, options.keep ?? false);
  }
  report.interrupted = options.signal?.aborted ?? false;
  return settle(report, running.gateway);
}

/** What has been started so far, for the shutdown. */
interface Running {
  emulators: Emulators;
  gateway?: GatewayChild;
  dataDir?: string;
}

/** What the call itself left for the checks (the rest is the set-up's and the emulators'). */
type CallEvidence = Pick<DemoEvidence, 'call' | 'lookup' | 'whisper'>;

/** The demo proper; returns early (undefined) when `options.signal` aborts. */
async function demo(report: DemoReport, running: Running, options: DemoOptions): Promise<CallEvidence | undefined> {
  const { signal } = options;
  const audio = await Promise.all(
    CALLER_TURNS.map((t) =>
      readFile(path.join(REPO_ROOT, t.audioPath)).catch((err: Error) => {
        throw new DemoSetupError(`cannot read the caller's recording ${t.audioPath}: ${err.message}`);
      }),
    ),
  );
  const secret = newWebhookSecret();
  const voice = options.voice ?? 'espeak';
  const e = running.emulators;
  await startEmulators(e, voice, secret);
  const dataDir = (running.dataDir = await makeDataDir());
  report.dataDir = { path: dataDir, kept: false };
  const { file: agentsFile, agent } = await writeAgentsFile(dataDir, e.crm!.url);
  if (signal?.aborted) return undefined;

  const env = gatewayEnv(e as Required<Emulators>, { dataDir, agentsFile }, secret);
  const gateway = (running.gateway = await startGatewayChild({ env }));
  const tts = e.tts!;
  const setup: DemoSetup = {
    gatewayUrl: gateway.url,
    gatewayPid: gateway.pid,
    sttAddress: e.stt!.address,
    ttsAddress: tts.address,
    openaiBaseUrl: e.openai!.baseURL,
    crmUrl: e.crm!.url,
    ttsVoice: tts.espeak ? 'espeak' : 'tone',
    toneReason: tts.espeak ? undefined : voice === 'tone' ? 'asked' : 'espeak-ng not found',
    agent,
    dataDir,
    keep: options.keep ?? false,
    from: CALLER_NUMBER,
    to: CLINIC_NUMBER,
    turns: CALLER_TURNS.map((t, i) => ({ ...t, audioMs: Math.round(audio[i]!.length / 8) })),
  };
  report.setup = setup;
  options.onReady?.(setup);
  if (signal?.aborted) return undefined;

  const call = await runCall({
    base: gateway.url,
    audio: audio[0]!,
    turnAudio: audio,
    turns: audio.length,
    from: CALLER_NUMBER,
    to: CLINIC_NUMBER,
    // Shorter waits than the CLI's defaults: both sides are local, so a quiet line means the agent is done.
    quietMs: 1000,
    replyMaxWaitMs: 12_000,
    maxCallMs: 40_000,
    ...(options.onCallEvent ? { onEvent: options.onCallEvent } : {}),
    ...(signal ? { signal } : {}),
  });
  report.call = call;
  if (signal?.aborted) return undefined;
  if (!call.ok) report.problems.push(...call.problems.map((p) => `the call failed: ${p}`));

  const whisper: Whisper | undefined = await followWhisper(gateway.url, call.next, call);
  const lookup = await lookUpCall(gateway.url, call.callSid, signal ? { signal } : {});
  await options.beforeShutdown?.(lookup);
  await writeHeard(report, call, options.outPath ?? DEFAULT_OUT);
  const tones = tts.requests.filter((r) => r.engine === 'tone').length;
  if (tts.espeak && tones > 0)
    report.notes.push(`espeak-ng failed on ${tones} of ${tts.requests.length} syntheses; those were tones`);
  return { call, lookup, whisper };
}

/** Writes everything the caller heard (greeting, filler, answers) as an 8 kHz μ-law WAV. */
async function writeHeard(report: DemoReport, call: CallReport, outPath: string): Promise<void> {
  if (call.heard.length === 0) return void report.problems.push('the caller heard nothing');
  const out = path.resolve(outPath);
  const wav = buildWav(call.heard, { formatTag: WAV_FORMAT.MULAW, channels: 1, sampleRate: 8000, bitsPerSample: 8 });
  try {
    await writeFile(out, wav);
    report.audio = { path: out, bytes: call.heard.length, ms: Math.round(call.heard.length / 8) };
  } catch (err) {
    report.problems.push(`cannot write ${out}: ${(err as Error).message}`);
  }
}

/** Stops the gateway (its log is complete once it has exited), the emulators, then removes the DATA_DIR. Never throws. */
async function shutDown(report: DemoReport, running: Running, keep: boolean): Promise<void> {
  const { gateway } = running;
  if (gateway) {
    const unexpected = gateway.hasExited();
    report.gatewayExit = { ...(await gateway.stop(STOP_GRACE_MS)), unexpected };
  }
  const { stt, tts, openai, crm } = running.emulators;
  const closed = await Promise.allSettled([stt, tts, openai, crm].map((e) => e?.close()));
  for (const c of closed)
    if (c.status === 'rejected') report.notes.push(`an emulator did not close cleanly: ${String(c.reason)}`);
  if (!running.dataDir) return;
  // Kept only when asked and there is a call in it worth looking at again.
  if (keep && report.call) report.dataDir = { path: running.dataDir, kept: true };
  else
    await rm(running.dataDir, { recursive: true, force: true }).catch((err: Error) =>
      report.notes.push(`could not remove ${running.dataDir}: ${err.message}`),
    );
}

/** Reads the call's log flow and decides `ok`. */
function settle(report: DemoReport, gateway: GatewayChild | undefined): DemoReport {
  if (report.call && gateway) {
    report.records = callRecords(gateway.logs, report.call.callSid);
    report.flow = checkFlow(report.records, EXPECTED_FLOW);
    if (!report.flow.ok && !report.interrupted) {
      const seen = report.flow.found.length ? `after ${report.flow.found.join(' → ')}` : 'at all';
      report.problems.push(`the gateway's log did not show the expected flow: no ${report.flow.missing} ${seen}`);
    }
    for (const r of gateway.logs) {
      if (r['message'] === 'UNCAUGHT_EXCEPTION' || r['message'] === 'UNHANDLED_REJECTION') {
        report.notes.push(`the gateway logged ${String(r['message'])}: ${String(r['error'])}`);
      }
    }
  }
  if (report.points && !allPassed(report.points))
    report.problems.push('not everything the demo shows happened (above)');
  const exit = report.gatewayExit;
  if (exit && !report.interrupted) {
    const how = exit.signal ?? `code ${exit.code}`;
    const said = gateway?.stderr().trim();
    if (exit.unexpected)
      report.problems.push(`the gateway exited on its own during the demo (${how})${said ? `: ${said}` : ''}`);
    else if (exit.killed)
      report.problems.push(`the gateway had not drained ${STOP_GRACE_MS} ms after SIGTERM and was killed`);
    else if (exit.code !== 0)
      report.problems.push(`the gateway exited with ${how} after SIGTERM${said ? `: ${said}` : ''}`);
  }
  report.ok = report.problems.length === 0 && !report.interrupted;
  return report;
}
