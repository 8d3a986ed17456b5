/**
 * The entries of the printed call timeline (what kind, when, which caller turn, the line itself),
 * and what the agent's audio did in each phase: phase 0 is the greeting, phase n the reply to
 * caller turn n.
 */
import type { ClientEventDetails } from '../twilio/media-client.ts';

/** Kinds of entries in the printed call timeline. */
export type CallEventKind =
  | 'connected'
  | 'greeting-start'
  | 'greeting-end'
  | 'caller-start'
  | 'caller-end'
  | 'reply-received'
  | 'reply-start'
  | 'reply-end'
  | 'clear'
  | 'marks'
  | 'violation'
  | 'frames-skipped'
  | 'stop'
  | 'closed'
  | 'error';

/** One line of the call timeline. */
export interface CallEvent {
  /** Stream time: ms since `start` was sent (the clock of `media.timestamp`). */
  atMs: number;
  kind: CallEventKind;
  /** Caller turn the entry belongs to; 0 for the greeting and for call-wide entries. */
  turn: number;
  /** Human-readable description, without the time. */
  text: string;
}

/** What the agent's audio did during one phase (greeting or one reply). */
export interface PhaseStats {
  /** When the first chunk of the phase arrived. */
  firstReceivedAtMs: number | undefined;
  /** When the first chunk of the phase that was played started playing. */
  firstPlayedAtMs: number | undefined;
  /** When playback last stopped during the phase, and why. */
  endedAtMs: number | undefined;
  endReason: ClientEventDetails['playback-end']['reason'] | undefined;
  receivedBytes: number;
  clears: number;
  /** Audio discarded by those clears. */
  clearedBytes: number;
  marksPlayed: number;
  marksFlushed: number;
}

/** A phase before any of its audio arrived. */
export function emptyPhase(): PhaseStats {
  return {
    firstReceivedAtMs: undefined,
    firstPlayedAtMs: undefined,
    endedAtMs: undefined,
    endReason: undefined,
    receivedBytes: 0,
    clears: 0,
    clearedBytes: 0,
    marksPlayed: 0,
    marksFlushed: 0,
  };
}

/** How a phase is named in a line: "greeting" or "reply n". */
export function phaseName(phase: number): string {
  return phase === 0 ? 'greeting' : `reply ${phase}`;
}
