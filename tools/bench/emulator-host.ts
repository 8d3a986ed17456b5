/**
 * Child process that runs the three provider emulators (Google STT, Google TTS, OpenAI) at fixed
 * latencies for one benchmark level. They live in their own process so that their work (the STT
 * fake decodes every inbound frame of every call) is charged neither to the gateway nor to the load
 * generator, and their timers are not delayed by either.
 *
 * An interruption scenario (`scenario` in the settings) scripts what the recognizer hears: each
 * stream's first utterance is the caller's question, every later one `laterTranscript` (an
 * acknowledgement, or a real interruption); the model answers the first question with `replyText`
 * and every later caller turn with `laterReply`.
 *
 * Protocol (IPC, `child_process.fork`): argv[2] is the JSON {@link HostSettings}; the child
 * sends `{ type: 'ready', sttHost, ttsHost, openaiBaseUrl }`, restarts its CPU and loop-delay
 * counting on `{ type: 'reset' }` (start of the level), answers `{ type: 'stats' }` with
 * {@link EmulatorStats}, and closes everything and exits when the parent disconnects.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startFakeOpenAI, startFakeStt, startFakeTts } from '../emulators/index.ts';
import { DEFAULT_STT_TRANSCRIPTS } from '../emulators/google-stt.ts';
import type { EmulatorSettings } from './options.ts';

export type { EmulatorSettings } from './options.ts';

/** What the recognizer and the model say in an interruption scenario. */
export interface ScenarioScript {
  /** Transcript of every utterance after a stream's first. */
  laterTranscript: string;
  /** The model's answer to every caller turn after the first. */
  laterReply: string;
}

/** The host's argv[2]: the emulator settings, and the interruption script when there is one. */
export type HostSettings = EmulatorSettings & { scenario?: ScenarioScript };
/** What the emulators' process used while the level ran. */
export interface EmulatorStats {
  cpuMs: number;
  /** Event-loop delay p99 beyond the 10 ms sampling period: how late the emulators' own timers could fire. */
  loopDelayP99Ms: number;
  sttStreams: number;
  ttsRequests: number;
  llmRequests: number;
}

/** Messages from the host to its parent. */
export type EmulatorMessage =
  { type: 'ready'; sttHost: string; ttsHost: string; openaiBaseUrl: string } | ({ type: 'stats' } & EmulatorStats);

/** Sampling period of the loop-delay histogram; subtracted, since Node records whole timer intervals. */
export const LOOP_RESOLUTION_MS = 10;

async function main(settings: HostSettings): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  let cpu0 = process.cpuUsage();
  const script = settings.scenario;
  const stt = await startFakeStt({
    finalDelayMs: settings.sttFinalMs,
    endSilenceMs: settings.sttEndSilenceMs,
    ...(script
      ? {
          transcript: ({ utteranceIndex }) =>
            utteranceIndex === 0 ? (DEFAULT_STT_TRANSCRIPTS[0] ?? '') : script.laterTranscript,
        }
      : {}),
  });
  const tts = await startFakeTts({
    latencyMs: settings.ttsMs,
    msPerChar: settings.ttsMsPerChar,
    streaming: {
      firstChunkMs: settings.ttsFirstChunkMs,
      chunkMs: settings.ttsChunkMs,
      realTimeFactor: settings.ttsRealTimeFactor,
    },
  });
  const openai = await startFakeOpenAI({
    reply: ({ body }) => ({
      text: script && callerTurns(body) > 1 ? script.laterReply : settings.replyText,
      firstTokenDelayMs: settings.llmFirstTokenMs,
      chunkDelayMs: settings.llmChunkMs,
    }),
  });
  const send = (m: EmulatorMessage) => process.send?.(m);
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'reset') {
      loop.reset();
      cpu0 = process.cpuUsage();
    }
    if (m.type !== 'stats') return;
    const cpu = process.cpuUsage(cpu0);
    send({
      type: 'stats',
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopDelayP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      sttStreams: stt.streams.length,
      ttsRequests: tts.requests.length,
      llmRequests: openai.requests.length,
    });
  });
  process.once('disconnect', () => {
    void Promise.all([stt.close(), tts.close(), openai.close()]).finally(() => process.exit(0));
  });
  send({ type: 'ready', sttHost: stt.address, ttsHost: tts.address, openaiBaseUrl: openai.baseURL });
}

/** How many caller turns a chat request carries (`user` messages). */
function callerTurns(body: unknown): number {
  const messages = (body as { messages?: unknown }).messages;
  return Array.isArray(messages) ? messages.filter((m) => (m as { role?: unknown }).role === 'user').length : 0;
}

if (import.meta.main) {
  await main(JSON.parse(process.argv[2] ?? '{}') as HostSettings);
}
