/** Options and report of one simulated call ({@link runCall} in `run-call.ts`). */
import type { ClientEvent, CloseInfo, RecordedViolation } from '../twilio/media-client.ts';
import type { CallEvent } from './call-timeline.ts';
import type { WebhookResult } from './twilio-requests.ts';
import type { NextStep } from '../twilio/twilio-http.ts';

/** What the simulated caller does. Only `base` and `audio` are required. */
export interface CallOptions {
  /** Where the gateway can be reached, e.g. `http://localhost:5000` (no path). */
  base: string;
  /** The caller's utterance: raw 8 kHz μ-law (see `loadCallerAudio`). Said once per turn. */
  audio: Buffer;
  /**
   * Per-turn audio: turn n says `turnAudio[n - 1]` when it is given, `audio` otherwise (e.g. a short
   * acknowledgement as the barge-in turn). Default: `audio` every turn.
   */
  turnAudio?: Buffer[];
  /** The account's auth token: signs every webhook and the media upgrade, as Twilio does. Default: unsigned. */
  authToken?: string;
  /**
   * The public origin Twilio would use (the gateway's `PUBLIC_BASE_URL`): URLs are signed as this and
   * requests are sent to `base`. Default: `base`.
   */
  publicBase?: string;
  /** How many times the caller says `audio`, each after the previous reply. Default 1 (2 with barge-in). */
  turns?: number;
  /**
   * Barge-in: say each turn after the first this many ms after the previous reply starts playing,
   * instead of waiting for that reply to finish. Needs `turns` ≥ 2 (the default when this is set).
   * Default: off.
   */
  bargeInAfterMs?: number;
  /** Longest wait for the greeting to finish playing before the caller speaks anyway. Default 8000. */
  greetingMaxWaitMs?: number;
  /** Longest wait, from the end of the caller's speech, for the reply to finish playing. Default 15000. */
  replyMaxWaitMs?: number;
  /** Silence after the agent's audio (nothing arriving, nothing playing) that means it finished. Default 1500. */
  quietMs?: number;
  /** Hard limit on the stream's length; the caller hangs up when it is reached. Default 120000. */
  maxCallMs?: number;
  /** Caller number sent as `From`. Default `+972500000001`. */
  from?: string;
  /** Called number sent as `To`. Default `+97230000001`. */
  to?: string;
  /** Default: a random `CA…`. */
  callSid?: string;
  /** Default: a random `AC…`. */
  accountSid?: string;
  /** Subprotocols offered on the upgrade. Default none (what Twilio appears to do). */
  protocols?: string[];
  /** Called with each timeline entry as soon as it is known (for live printing). Must not throw. */
  onEvent?: (event: CallEvent) => void;
  /** Aborting hangs up at once (`stop`, then the status callbacks); the report says so. */
  signal?: AbortSignal;
}

/** The greeting: agent audio played before the caller first finished speaking. */
export interface GreetingReport {
  /** Stream time the first greeting audio started playing. */
  startedAtMs: number;
  /** Stream time greeting playback last stopped; undefined if still playing at the end. */
  endedAtMs: number | undefined;
  /** Why it stopped: played out (`drained`), `cleared`, or the stream ended (`halted`). */
  endReason: 'drained' | 'cleared' | 'halted' | undefined;
  receivedBytes: number;
  marksPlayed: number;
}

/**
 * One caller turn and the reply to it. Latencies are from the caller's end of speech (the last byte
 * of `audio` on the line) to the first reply audio received, and to that audio starting to play.
 */
export interface TurnReport {
  turn: number;
  speechStartedAtMs: number;
  speechEndedAtMs: number;
  /** First agent audio received after the end of speech. */
  replyReceivedAtMs: number | undefined;
  /** When the first reply audio that was played started playing. */
  replyPlayedAtMs: number | undefined;
  /** When reply playback last stopped. */
  replyEndedAtMs: number | undefined;
  replyEndReason: 'drained' | 'cleared' | 'halted' | undefined;
  /** `replyReceivedAtMs - speechEndedAtMs`. */
  receiveLatencyMs: number | undefined;
  /** `replyPlayedAtMs - speechEndedAtMs`. */
  playLatencyMs: number | undefined;
  replyBytes: number;
  /** `clear`s received while this reply was current (barge-in). */
  clears: number;
  marksPlayed: number;
  /** Marks echoed at once because a `clear` flushed them. */
  marksFlushed: number;
}

/** Everything about one simulated call. `ok` decides the CLI's exit code. */
export interface CallReport {
  /** The call completed, nothing the gateway sent was a violation, and the caller heard something. */
  ok: boolean;
  /** Why `ok` is false, one sentence each. */
  problems: string[];
  /** Worth knowing but not a failure (no reply to a turn, max call length reached…). */
  notes: string[];
  callSid: string;
  accountSid: string;
  /** Undefined when the media socket never opened. */
  streamSid: string | undefined;
  /** `<Stream url>` from the TwiML (the public one, which was signed). */
  streamUrl: string | undefined;
  /** The URL actually dialled (the stream URL mapped onto `base`). */
  dialledUrl: string | undefined;
  /** Wall-clock start of the call (the incoming_call request). */
  startedAt: Date;
  /** Stream time when the caller hung up, or the socket closed. */
  streamMs: number;
  /** Printable timeline, sorted by stream time. */
  timeline: CallEvent[];
  greeting: GreetingReport | undefined;
  turns: TurnReport[];
  /** Everything the gateway sent that Twilio would refuse, or that breaks a project rule. */
  violations: RecordedViolation[];
  /** incoming_call, stream_status (started/stopped), stream_ended (if the gateway hung up), call_status. */
  webhooks: WebhookResult[];
  /** What Twilio does after the gateway ended the stream (its `<Connect action>` answer). */
  next: NextStep | undefined;
  close: CloseInfo | undefined;
  /** What the caller heard: 8 kHz μ-law, played audio only. */
  heard: Buffer;
  /** The media client's raw timeline (every frame), for tools that want more than the report. */
  clientEvents: readonly ClientEvent[];
}
