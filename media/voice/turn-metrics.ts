/**
 * The numbers of one caller turn, for the `TURN` log and the latency histograms: each stage of the
 * answer in ms from the caller's end of speech (the last speech frame), and the time the gateway
 * itself added between provider events. Pure.
 */
import type { TurnComponent } from '../../server/metrics.ts';
import type { TurnLatencyFields } from '../../server/log-fields.ts';

/** When each stage of a reply happened (call time, ms), for the TURN log. */
export interface ReplyMetrics {
  llmRequestAt?: number;
  firstTokenAt?: number;
  firstSentenceAt?: number;
  /** The first sentence's synthesis request went out (after waiting for a TTS slot). */
  firstTtsStartAt?: number;
  firstTtsDoneAt?: number;
  firstMediaAt?: number;
  firstMarkAt?: number;
}

/** When the caller's turn ended and was taken (performance.now ms). */
export interface TurnTiming {
  speechEndAt: number;
  finalAt: number | undefined;
  committedAt: number;
}

/** Stage times of a turn, ms from the end of speech (undefined for stages that did not happen). */
export type TurnComponents = Record<TurnComponent, number | undefined>;

/** Each stage relative to the caller's end of speech, rounded to the ms. */
export function turnComponents(t: TurnTiming, m: ReplyMetrics): TurnComponents {
  const rel = (at: number | undefined) => (at === undefined ? undefined : Math.round(at - t.speechEndAt));
  return {
    stt_final: rel(t.finalAt),
    committed: rel(t.committedAt),
    llm_request: rel(m.llmRequestAt),
    first_token: rel(m.firstTokenAt),
    first_sentence: rel(m.firstSentenceAt),
    tts_start: rel(m.firstTtsStartAt),
    tts_done: rel(m.firstTtsDoneAt),
    first_media: rel(m.firstMediaAt),
    first_mark: rel(m.firstMarkAt),
  };
}

/**
 * Gateway overhead of a turn, ms (two decimals): turn taken → model request sent, first sentence
 * ready → its synthesis requested, synthesis done → first media sent. Everything else is waiting on
 * a provider. Undefined until all those stages happened.
 */
export function gatewayOverhead(t: TurnTiming, m: ReplyMetrics): number | undefined {
  const { llmRequestAt, firstSentenceAt, firstTtsStartAt, firstTtsDoneAt, firstMediaAt } = m;
  if (llmRequestAt === undefined || firstSentenceAt === undefined || firstTtsStartAt === undefined) return undefined;
  if (firstTtsDoneAt === undefined || firstMediaAt === undefined) return undefined;
  const ms = llmRequestAt - t.committedAt + (firstTtsStartAt - firstSentenceAt) + (firstMediaAt - firstTtsDoneAt);
  return Math.round(ms * 100) / 100;
}

/** The `TURN` log fields (camelCase, `…Ms`) for the components and overhead. */
export function turnLogFields(c: TurnComponents, overheadMs: number | undefined): TurnLatencyFields {
  return {
    sttFinalMs: c.stt_final,
    committedMs: c.committed,
    llmRequestMs: c.llm_request,
    firstTokenMs: c.first_token,
    firstSentenceMs: c.first_sentence,
    ttsStartMs: c.tts_start,
    ttsDoneMs: c.tts_done,
    firstMediaMs: c.first_media,
    firstMarkMs: c.first_mark,
    overheadMs,
  };
}
