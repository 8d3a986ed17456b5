/**
 * What the turn-taker keeps between events: the caller's open turn and the agent's current reply.
 * Plain records; the state machine that moves them is turn-taker.ts.
 */
import type { ReplyKind } from './events.ts';
import type { Scope } from './scope.ts';

/** The caller's turn while it is open: what was heard so far and how far it got. */
export interface OpenTurn {
  finals: string[];
  interim: string;
  eouReached: boolean;
  finalAt?: number;
  /** The caller's audio had sustained speech during this turn. */
  sustained: boolean;
  scope: Scope;
  graceArmed: boolean;
}

/** The agent's reply the caller may talk over. */
export interface AgentReply {
  replyId: number;
  kind: ReplyKind;
  audible: boolean;
  /** An interrupt for it was sent; its reply-ended is on the way. */
  interrupted: boolean;
  turn?: number;
}
