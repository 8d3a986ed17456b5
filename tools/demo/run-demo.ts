/**
 * `npm run demo` as a library: one Hebrew phone call through the real gateway, on this machine, with
 * no accounts.
 *
 *   emulators (Google STT gRPC, Google TTS gRPC, OpenAI SSE) ─▶ gateway child (`node gateway.ts`)
 *     ─▶ simulated Twilio call with the bundled recording ─▶ reply audio to a WAV
 *     ─▶ gateway stopped (SIGTERM, drain) ─▶ emulators closed ─▶ its log read for the call's flow
 *
 * Everything that was started is stopped in `finally`, whatever failed and also when `signal`
 * aborts. The recognizer and the model are emulated; the gateway, its Google and OpenAI SDK clients,
 * the gRPC and HTTP wire protocols and the Twilio media protocol are real.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildWav, WAV_FORMAT } from '../../media/audio/wav.ts';
import { runCall } from '../call/run-call.ts';
import type { CallEvent, CallReport } from '../call/run-call.ts';
import { startFakeOpenAI, startFakeStt, startFakeTts } from '../emulators/index.ts';
import type { FakeOpenAI, FakeStt, FakeTts } from '../emulators/index.ts';
import { CALLER_AUDIO_FILE, CALLER_AUDIO_PATH, CALLER_TRANSCRIPT, scriptedReply } from './conversation.ts';
import { GatewayStartError, startGatewayChild } from '../gateway-child.ts';
import type { GatewayChild, StopResult } from '../gateway-child.ts';
import { callRecords, checkFlow, EXPECTED_FLOW } from './log-flow.ts';
import type { FlowCheck, LogRecord } from './log-flow.ts';

/** Default of {@link DemoOptions.outPath}. */
export const DEFAULT_OUT = 'demo-reply.wav';

/** How long the gateway gets to drain after SIGTERM before it is killed. A finished call leaves nothing to wait for. */
export const STOP_GRACE_MS = 8000;

/** Options of {@link runDemo}; all optional. */
export interface DemoOptions {
  /** Where the reply WAV is written (a relative path is taken from the working directory). Default {@link DEFAULT_OUT}. */
  outPath?: string;
  /** 'espeak' (default): the emulated TTS speaks Hebrew with espeak-ng when it is on PATH, else a tone. 'tone': always the tone. */
  voice?: 'espeak' | 'tone';
  /** Aborting hangs up the call and shuts everything down; the report then has `interrupted`. */
  signal?: AbortSignal;
  /** Called once the emulators and the gateway are up, just before the call is placed. Must not throw. */
  onReady?: (setup: DemoSetup) => void;
  /** Each entry of the call timeline as it happens (see `tools/call/format.ts`). Must not throw. */
  onCallEvent?: (event: CallEvent) => void;
}

/** What is running, once everything is up. */
export interface DemoSetup {
  gatewayUrl: string;
  gatewayPid: number;
  /** `host:port` of the STT emulator (insecure gRPC). */
  sttAddress: string;
  /** `host:port` of the TTS emulator (insecure gRPC). */
  ttsAddress: string;
  /** `http://…/v1` of the OpenAI-compatible emulator. */
  openaiBaseUrl: string;
  /** What the emulated TTS speaks with: espeak-ng Hebrew, or a tone (espeak-ng missing, or 'tone' asked for). */
  ttsVoice: 'espeak' | 'tone';
  /** Why it is a tone, when it is. */
  toneReason: 'asked' | 'espeak-ng not found' | undefined;
  /** Repository-relative path of the caller's recording. */
  callerAudioPath: string;
  callerAudioMs: number;
  /** The text the emulated recognizer returns for it. */
  transcript: string;
}

/** The reply audio file that was written. */
export interface ReplyWav {
  /** Absolute path. */
  path: string;
  /** μ-law bytes in the data chunk (8 per ms). */
  bytes: number;
  ms: number;
  /** True when only the reply could not be told apart and the file holds everything the caller heard. */
  wholeCall: boolean;
}

/** What happened. `ok` decides the exit code of `npm run demo`. */
export interface DemoReport {
  /** The call completed, the expected log flow was seen, reply audio was written, everything stopped cleanly. */
  ok: boolean;
  /** Why `ok` is false, one sentence each. */
  problems: string[];
  /** Worth knowing, not failures. */
  notes: string[];
  /** The run was aborted through `signal`. */
  interrupted: boolean;
  /** Undefined when start-up failed. */
  setup: DemoSetup | undefined;
  /** Undefined when the call was never placed. */
  call: CallReport | undefined;
  /** The gateway's log lines for the call, in order. */
  records: LogRecord[];
  flow: FlowCheck;
  reply: ReplyWav | undefined;
  /** How the gateway ended; undefined if it never started. */
  gatewayExit: (StopResult & { unexpected: boolean }) | undefined;
}

/**
 * Runs the demo. Never throws for a failure of the demo itself (it is in `problems`); whatever was
 * started is stopped before it returns.
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
    reply: undefined,
    gatewayExit: undefined,
  };
  const running: Running = {};
  try {
    await demo(report, running, options);
  } catch (err) {
    if (err instanceof GatewayStartError || err instanceof DemoSetupError) report.problems.push(err.message);
    else report.problems.push(`the demo broke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await shutDown(report, running);
  }
  report.interrupted = options.signal?.aborted ?? false;
  return settle(report, running.gateway);
}

/** Something the demo needs is missing; the message says what. */
class DemoSetupError extends Error {}

/** What has been started so far, for the shutdown. */
interface Running {
  stt?: FakeStt;
  tts?: FakeTts;
  openai?: FakeOpenAI;
  gateway?: GatewayChild;
}

/** The demo proper; returns early when `options.signal` aborts. */
async function demo(report: DemoReport, running: Running, options: DemoOptions): Promise<void> {
  const { signal } = options;
  const audio = await readFile(CALLER_AUDIO_FILE).catch((err: Error) => {
    throw new DemoSetupError(`cannot read the caller's recording ${CALLER_AUDIO_PATH}: ${err.message}`);
  });
  // The emulators' defaults suit a call; only the words are the demo's own.
  const stt = (running.stt = await startFakeStt({ transcript: () => CALLER_TRANSCRIPT }));
  const voice = options.voice ?? 'espeak';
  const tts = (running.tts = await startFakeTts({ voice }));
  const openai = (running.openai = await startFakeOpenAI({
    reply: ({ body }) => ({ text: scriptedReply(body), chunkDelayMs: TOKEN_GAP_MS }),
  }));
  if (signal?.aborted) return;

  const gateway = (running.gateway = await startGatewayChild({ env: gatewayEnv(stt, tts, openai) }));
  const setup: DemoSetup = {
    gatewayUrl: gateway.url,
    gatewayPid: gateway.pid,
    sttAddress: stt.address,
    ttsAddress: tts.address,
    openaiBaseUrl: openai.baseURL,
    ttsVoice: tts.espeak ? 'espeak' : 'tone',
    toneReason: tts.espeak ? undefined : voice === 'tone' ? 'asked' : 'espeak-ng not found',
    callerAudioPath: CALLER_AUDIO_PATH,
    callerAudioMs: Math.round(audio.length / 8),
    transcript: CALLER_TRANSCRIPT,
  };
  report.setup = setup;
  options.onReady?.(setup);
  if (signal?.aborted) return;

  const call = await runCall({
    base: gateway.url,
    audio,
    // Shorter waits than the CLI's defaults: both sides are local, so a quiet line means the agent is done.
    quietMs: 800,
    replyMaxWaitMs: 12_000,
    maxCallMs: 25_000,
    ...(options.onCallEvent ? { onEvent: options.onCallEvent } : {}),
    ...(signal ? { signal } : {}),
  });
  report.call = call;
  if (signal?.aborted) return;
  if (!call.ok) report.problems.push(...call.problems.map((p) => `the call failed: ${p}`));

  const reply = replyAudio(call);
  if (reply.audio.length === 0) report.problems.push('the caller heard no reply to what it said');
  else {
    const out = path.resolve(options.outPath ?? DEFAULT_OUT);
    const wav = buildWav(reply.audio, { formatTag: WAV_FORMAT.MULAW, channels: 1, sampleRate: 8000, bitsPerSample: 8 });
    try {
      await writeFile(out, wav);
      report.reply = {
        path: out,
        bytes: reply.audio.length,
        ms: Math.round(reply.audio.length / 8),
        wholeCall: reply.wholeCall,
      };
    } catch (err) {
      report.problems.push(`cannot write ${out}: ${(err as Error).message}`);
    }
  }
  const tones = tts.requests.filter((r) => r.engine === 'tone').length;
  if (tts.espeak && tones > 0)
    report.notes.push(`espeak-ng failed on ${tones} of ${tts.requests.length} syntheses; those were tones`);
}

/** The emulated model sends its reply a few characters at a time, this far apart, like a real one streams tokens. */
const TOKEN_GAP_MS = 20;

/** The gateway's settings on top of the shared base (nothing is inherited from the shell). */
function gatewayEnv(stt: FakeStt, tts: FakeTts, openai: FakeOpenAI): Record<string, string> {
  return {
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    DEPLOY_ID: 'demo',
    GOOGLE_STT_EMULATOR_HOST: stt.address,
    GOOGLE_TTS_EMULATOR_HOST: tts.address,
    OPENAI_BASE_URL: openai.baseURL,
  };
}

/**
 * The reply to the caller's turn out of what the caller heard (greeting, then reply). Without
 * barge-in nothing is cleared, so the reply is what follows the greeting; if the numbers do not add
 * up, the whole of it is returned rather than a guess.
 */
function replyAudio(call: CallReport): { audio: Buffer; wholeCall: boolean } {
  const turn = call.turns[0];
  const greetingBytes = call.greeting?.receivedBytes ?? 0;
  if (turn === undefined || turn.replyBytes === 0) return { audio: Buffer.alloc(0), wholeCall: false };
  if (call.greeting?.endReason === 'drained' && call.heard.length === greetingBytes + turn.replyBytes) {
    return { audio: call.heard.subarray(greetingBytes), wholeCall: false };
  }
  return { audio: call.heard, wholeCall: true };
}

/** Stops the gateway (its log is complete once it has exited), then the emulators. Never throws. */
async function shutDown(report: DemoReport, running: Running): Promise<void> {
  const { gateway } = running;
  if (gateway) {
    const unexpected = gateway.hasExited();
    report.gatewayExit = { ...(await gateway.stop(STOP_GRACE_MS)), unexpected };
  }
  const closed = await Promise.allSettled([running.stt, running.tts, running.openai].map((e) => e?.close()));
  for (const c of closed)
    if (c.status === 'rejected') report.notes.push(`an emulator did not close cleanly: ${String(c.reason)}`);
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
