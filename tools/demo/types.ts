/** Options and report of `npm run demo` as a library (`runDemo` in `run-demo.ts`). */
import type { Agent } from '../../config/agents.ts';
import type { CallEvent, CallReport } from '../call/run-call.ts';
import type { StopResult } from '../gateway-child.ts';
import type { CallLookup } from './call-record.ts';
import type { DemoPoints } from './checks.ts';
import type { FlowCheck, LogRecord } from './log-flow.ts';

/** Options of `runDemo`; all optional. */
export interface DemoOptions {
  /** Where the WAV of what the caller heard is written (relative: from the working directory). Default `demo-reply.wav`. */
  outPath?: string;
  /** 'espeak' (default): the emulated TTS speaks Hebrew with espeak-ng when it is on PATH, else a tone. 'tone': always the tone. */
  voice?: 'espeak' | 'tone';
  /** Keep the temporary DATA_DIR (call store, recording, agents file) instead of removing it. Default false. */
  keep?: boolean;
  /** Aborting hangs up the call and shuts everything down; the report then has `interrupted`. */
  signal?: AbortSignal;
  /** Called once the emulators and the gateway are up, just before the call is placed. Must not throw. */
  onReady?: (setup: DemoSetup) => void;
  /** Each entry of the call timeline as it happens (see `tools/call/format.ts`). Must not throw. */
  onCallEvent?: (event: CallEvent) => void;
  /** Called with the call's addresses after they were read and before the gateway stops (tests look for themselves). */
  beforeShutdown?: (lookup: CallLookup) => Promise<void> | void;
}

/** One caller turn as set up. */
export interface SetupTurn {
  audioPath: string;
  audioMs: number;
  transcript: string;
}

/** What is running, once everything is up. */
export interface DemoSetup {
  gatewayUrl: string;
  gatewayPid: number;
  /** `host:port` of the STT and TTS emulators (insecure gRPC). */
  sttAddress: string;
  ttsAddress: string;
  /** `http://…/v1` of the OpenAI-compatible emulator. */
  openaiBaseUrl: string;
  /** `http://…` of the CRM emulator. */
  crmUrl: string;
  /** What the emulated TTS speaks with: espeak-ng Hebrew, or a tone (espeak-ng missing, or 'tone' asked for). */
  ttsVoice: 'espeak' | 'tone';
  /** Why it is a tone, when it is. */
  toneReason: 'asked' | 'espeak-ng not found' | undefined;
  agent: Agent;
  /** The temporary DATA_DIR (and where the agents file's copy is). */
  dataDir: string;
  keep: boolean;
  from: string;
  to: string;
  turns: SetupTurn[];
}

/** The WAV of what the caller heard. */
export interface HeardWav {
  /** Absolute path. */
  path: string;
  /** μ-law bytes in the data chunk (8 per ms). */
  bytes: number;
  ms: number;
}

/** What happened. `ok` decides the exit code of `npm run demo`. */
export interface DemoReport {
  /** The call completed, the log flow and all four points were seen, the WAV was written, everything stopped cleanly. */
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
  /** Undefined when the call did not complete. */
  points: DemoPoints | undefined;
  audio: HeardWav | undefined;
  /** How the gateway ended; undefined if it never started. */
  gatewayExit: (StopResult & { unexpected: boolean }) | undefined;
  /** The temporary DATA_DIR, and what became of it. */
  dataDir: { path: string; kept: boolean } | undefined;
}
