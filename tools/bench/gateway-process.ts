/**
 * The gateway under test (the shared child of `../gateway-child.ts`, started exactly like
 * `npm start`), so its CPU, memory and event loop are its own. Of its log the benchmark keeps only
 * the per-turn, barge-in, backchannel and streamed-synthesis records, whether the speech detector
 * loaded, and counts warnings/errors, so a long level holds no log in memory.
 */
import { readFile } from 'node:fs/promises';
import { startGatewayChild, type LogRecord } from '../gateway-child.ts';
import { track } from './children.ts';

export type { LogRecord } from '../gateway-child.ts';

/** A running gateway. */
export interface BenchGateway {
  readonly pid: number;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** `TURN` records (per caller turn: `overheadMs`, `firstMediaMs`, …). */
  readonly turns: LogRecord[];
  /** `BARGE_IN` records (`reactionMs` for caller interruptions). */
  readonly bargeIns: LogRecord[];
  /** `BACKCHANNEL` records (an acknowledgement paused the reply, which then resumed). */
  readonly backchannels: LogRecord[];
  /** `TTS_STREAM` records (one per streamed reply: chunks, audioMs, firstChunkMs). */
  readonly ttsStreams: LogRecord[];
  /** 'model' once `SPEECH_DETECTOR_READY` was logged, 'energy' after `SPEECH_DETECTOR_UNAVAILABLE`, else undefined. */
  speechDetector(): 'model' | 'energy' | undefined;
  /** Warning and error lines counted by event name (e.g. `LLM_ERROR`, `WS_BAD_MESSAGE`). */
  readonly problems: Map<string, number>;
  /** Current resident set size from /proc (Linux); undefined elsewhere or once exited. */
  rssBytes(): Promise<number | undefined>;
  /** SIGTERM (a drain; calls are over by then), SIGKILL after `graceMs`. Resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts the gateway with `env` (LOG_LEVEL=info) and resolves once it listens.
 * @throws GatewayStartError if it exits or has not listened within 15 s, with its stderr.
 */
export async function startBenchGateway(env: Record<string, string>): Promise<BenchGateway> {
  const turns: LogRecord[] = [];
  const bargeIns: LogRecord[] = [];
  const backchannels: LogRecord[] = [];
  const ttsStreams: LogRecord[] = [];
  const problems = new Map<string, number>();
  let detector: 'model' | 'energy' | undefined;
  const keep = new Map<unknown, LogRecord[]>([
    ['TURN', turns],
    ['BARGE_IN', bargeIns],
    ['BACKCHANNEL', backchannels],
    ['TTS_STREAM', ttsStreams],
  ]);
  const onRecord = (r: LogRecord) => {
    keep.get(r['message'])?.push(r);
    if (r['message'] === 'SPEECH_DETECTOR_READY') detector = 'model';
    else if (r['message'] === 'SPEECH_DETECTOR_UNAVAILABLE') detector = 'energy';
    if (r['level'] === 'warn' || r['level'] === 'error')
      problems.set(String(r['message']), (problems.get(String(r['message'])) ?? 0) + 1);
  };
  const g = await startGatewayChild({ env: { LOG_LEVEL: 'info', ...env }, keepLogs: false, onRecord });
  track(g.process);
  return {
    pid: g.pid,
    base: g.url,
    turns,
    bargeIns,
    backchannels,
    ttsStreams,
    speechDetector: () => detector,
    problems,
    rssBytes: () => (g.hasExited() ? Promise.resolve(undefined) : procRss(g.pid)),
    stop: async (graceMs = 5000) => void (await g.stop(graceMs)),
  };
}

/** VmRSS of a live process from /proc/PID/status; reading it does not disturb the gateway (unlike a scrape). */
async function procRss(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined; // not Linux, or the process just exited
  }
}
