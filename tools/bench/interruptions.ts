/**
 * The interruptions section, measured from the caller's side: in each call the caller speaks over
 * the agent's first reply, either an acknowledgement ("כן": the reply should pause and then go on
 * from where the caller stopped hearing it) or a real interruption (the reply should stop for good
 * and the caller's words be answered). Pure: everything comes from one call's report.
 *
 *   reply 1 playing ──onset──▶ (speech) ──▶ clear ──▶ … ──▶ audio again (resumed reply, or the new answer)
 *
 * What the caller heard of reply 1 is found by matching the audio it heard after the greeting
 * against the same reply heard whole in the level's warm-up call (alignment.ts): the emulators are
 * deterministic, so the same reply is the same bytes. (Not with the TTS emulator's espeak-ng voice:
 * its sox resampling dithers, so the bench keeps the default tone.)
 */
import type { CallReport } from '../call/run-call.ts';
import { alignHeard } from './alignment.ts';
import { round, summarize, type Summary } from './stats.ts';

/** Which kind of speech the caller made over the reply. */
export type InterruptionKind = 'backchannel' | 'interrupt';

/** Reply 1 heard whole (warm-up call), base64 (it crosses the IPC channel as JSON). */
export interface ReplyReference {
  audioBase64: string;
}

const BYTES_PER_MS = 8;
/** A resume may start up to this much past where the last run ended and still count as in order (one block). */
const IN_ORDER_SLACK_BYTES = 160;
/** Unplaced audio below this is edge crumbs, not an answer. */
const ANSWER_MIN_MS = 100;

/** One call of the section, as the caller saw it. Times in ms (client clock). */
export interface InterruptionSample {
  kind: InterruptionKind;
  /** Onset of the caller's speech over the reply → `clear` received; null when no clear came. */
  onsetToClearMs: number | null;
  /** `clear` → the next agent audio received (the resumed reply, or the answer to the interruption). */
  clearToAudioMs: number | null;
  /** `clear` → that audio starting to play. */
  clearToPlayMs: number | null;
  /** Runs of reply 1 the caller heard: 1 = never paused (or stopped for good), 2 = paused and resumed once. */
  segments: number;
  /** Reply 1 went on after the cut (heard in more than one run). */
  resumed: boolean;
  /** Every run started at or before where the one before it ended (no jump ahead, nothing played out of order). */
  inOrder: boolean;
  /** Share of reply 1's audio heard at least once (0–1). */
  heardShare: number;
  /** Audio of reply 1 heard twice, ms. */
  repeatedMs: number;
  /** Audio of reply 1 never heard, ms. */
  unheardMs: number;
  /** Audio heard after the greeting that is no part of reply 1 (the answer to the caller's words), ms. */
  otherMs: number;
}

/** The reference of a reply heard whole after the greeting (the warm-up call), or undefined without one. */
export function replyReference(report: CallReport): ReplyReference | undefined {
  const greeting = report.greeting;
  if (greeting?.endReason !== 'drained') return undefined;
  const reply = report.heard.subarray(greeting.receivedBytes);
  return reply.length > 0 ? { audioBase64: reply.toString('base64') } : undefined;
}

/**
 * Analyses one call of the section. `bargeInTurn` is the caller turn spoken over the reply (2).
 * Returns undefined when the call never spoke over the reply or did not hear the greeting whole.
 */
export function interruptionSample(
  kind: InterruptionKind,
  report: CallReport,
  reference: ReplyReference,
  bargeInTurn = 2,
): InterruptionSample | undefined {
  const onset = report.turns[bargeInTurn - 1]?.speechStartedAtMs;
  const greeting = report.greeting;
  if (onset === undefined || greeting?.endReason !== 'drained') return undefined;
  const events = report.clientEvents;
  const clear = events.find((e) => e.kind === 'recv-clear' && e.atMs >= onset);
  const after = clear?.atMs;
  const audio = after === undefined ? undefined : events.find((e) => e.kind === 'recv-media' && e.atMs > after);
  const play = after === undefined ? undefined : events.find((e) => e.kind === 'playback-start' && e.atMs > after);
  const ref = Buffer.from(reference.audioBase64, 'base64');
  const a = alignHeard(report.heard.subarray(greeting.receivedBytes), ref);
  const ms = (bytes: number) => round(bytes / BYTES_PER_MS) ?? 0;
  const since = (at: number | undefined, from: number | undefined) =>
    at === undefined || from === undefined ? null : (round(at - from) ?? null);
  return {
    kind,
    onsetToClearMs: since(after, onset),
    clearToAudioMs: since(audio?.atMs, after),
    clearToPlayMs: since(play?.atMs, after),
    segments: a.segments.length,
    resumed: a.segments.length > 1,
    inOrder: a.segments.every((s, i) => {
      const prev = a.segments[i - 1];
      return !prev || (s.refAt >= prev.refAt && s.refAt <= prev.refAt + prev.bytes + IN_ORDER_SLACK_BYTES);
    }),
    heardShare: ref.length > 0 ? (round(a.coveredBytes / ref.length) ?? 0) : 0,
    repeatedMs: ms(a.repeatedBytes),
    unheardMs: ms(ref.length - a.coveredBytes),
    otherMs: ms(a.otherBytes),
  };
}

/** One kind's figures over a level. */
export interface InterruptionSummary {
  kind: InterruptionKind;
  /** Calls that spoke over the reply. */
  calls: number;
  /** Of them: got a `clear`; heard reply 1 go on after it; heard it in order; heard ≥ 100 ms of other audio (an answer). */
  cleared: number;
  resumed: number;
  inOrder: number;
  answered: number;
  onsetToClearMs: Summary;
  clearToAudioMs: Summary;
  clearToPlayMs: Summary;
  /** Share of reply 1 heard (0–1), and the lowest of any call. */
  heardShare: Summary;
  heardShareMin: number | null;
  repeatedMs: Summary;
  unheardMs: Summary;
  /** Gateway log: calls with a `BACKCHANNEL` record, and with a `BARGE_IN` record. */
  gatewayBackchannels: number;
  gatewayBargeIns: number;
  /** Gateway `BARGE_IN.reactionMs` (speech onset → interruption decided). */
  gatewayReactionMs: Summary;
}

/** Summarises one kind; `gateway` holds what its log says about the same calls. */
export function summarizeInterruptions(
  kind: InterruptionKind,
  samples: readonly InterruptionSample[],
  gateway: { backchannelCalls: number; bargeInCalls: number; reactionMs: number[] },
): InterruptionSummary {
  const of = (pick: (s: InterruptionSample) => number | null) =>
    summarize(samples.flatMap((s) => (pick(s) === null ? [] : [pick(s)!])));
  const count = (test: (s: InterruptionSample) => boolean) => samples.filter(test).length;
  return {
    kind,
    calls: samples.length,
    cleared: count((s) => s.onsetToClearMs !== null),
    resumed: count((s) => s.resumed),
    inOrder: count((s) => s.inOrder),
    answered: count((s) => s.otherMs >= ANSWER_MIN_MS),
    onsetToClearMs: of((s) => s.onsetToClearMs),
    clearToAudioMs: of((s) => s.clearToAudioMs),
    clearToPlayMs: of((s) => s.clearToPlayMs),
    heardShare: of((s) => s.heardShare),
    heardShareMin: samples.length ? Math.min(...samples.map((s) => s.heardShare)) : null,
    repeatedMs: of((s) => s.repeatedMs),
    unheardMs: of((s) => s.unheardMs),
    gatewayBackchannels: gateway.backchannelCalls,
    gatewayBargeIns: gateway.bargeInCalls,
    gatewayReactionMs: summarize(gateway.reactionMs),
  };
}
