/**
 * The reply the speaker is voicing: its sentences, how they are being synthesized (a queue of unary
 * syntheses, or one streamed synthesis), and how much of it the caller has heard so far.
 */
import type { ReplyKind } from './events.ts';
import type { Scope } from './scope.ts';
import type { StreamedSpeech } from './streamed-speech.ts';
import type { SynthesisQueue } from './synthesis-queue.ts';

/** One reply in progress (speaker.ts). */
export interface ActiveReply {
  id: number;
  kind: ReplyKind;
  turn?: number;
  scope: Scope;
  queue: SynthesisQueue;
  /** The streaming path (answers in a streaming voice) instead of `queue`. */
  stream?: StreamedSpeech;
  /** Streamed replies: bytes of each chunk, and of the chunks confirmed played. */
  chunkBytes: Map<number, number>;
  playedBytes: number;
  sentences: string[];
  played: Set<number>;
  textEnded: boolean;
  /** All audio is queued in the player (text ended, every synthesis settled). */
  queued: boolean;
  firstTtsStarted: boolean;
  firstTtsDone: boolean;
}
