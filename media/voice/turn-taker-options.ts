/** The settings and surroundings of the turn-taker (turn-taker.ts). */
import type { CallEvent } from './events.ts';
import type { Scope } from './scope.ts';

/** Settings of the turn-taker. */
export interface TurnTakerOptions {
  /** BARGE_IN: the caller may interrupt the agent. */
  bargeIn: boolean;
  /** EOU_MS: silence that ends an utterance. */
  eouMs: number;
  /** EOU_DIGITS_MS: silence needed when the text so far ends in a number (dictation). */
  eouDigitsMs: number;
  /** After a final, this much silence is enough to answer (250 ms). */
  fastCommitSilenceMs: number;
  /** After EOU with no final, how long to wait for the recognizer before using the interim (1200 ms). */
  finalGraceMs: number;
  /** STT_MIN_CONFIDENCE: finals reporting a confidence above 0 and below this are ignored. */
  minConfidence: number;
  /** Acknowledgement words; undefined: any sustained speech interrupts at once. */
  backchannelWords: ReadonlySet<string> | undefined;
  /** Longest pause while waiting to know whether the caller only acknowledged. */
  backchannelHoldMs: number;
  /** DTMF_TIMEOUT_MS: keypad digits become a turn after this long without another. */
  dtmfTimeoutMs: number;
}

/** What the turn-taker needs around it. */
export interface TurnTakerDeps {
  /** The conversation scope: aborted when the call starts ending. */
  scope: Scope;
  emit: (e: CallEvent) => void;
  /** Call time, ms. */
  now: () => number;
}
