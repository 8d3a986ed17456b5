/**
 * The call timeline's summary of mark echoes: echoes of played marks come every ~200 ms while the
 * agent talks, so they are gathered into one line per playback run ("reply 2: 7 marks echoed after
 * playing (first 1510, last 2710)") instead of one line each.
 */
import { phaseName } from './timeline-entries.ts';

/** One summary line: when it goes (the last echo), its phase and its text. */
export interface MarkSummary {
  atMs: number;
  phase: number;
  text: string;
}

/** Mark echoes gathered since the last summary. */
export class MarkEchoes {
  #pending = { count: 0, firstAtMs: 0, lastAtMs: 0, phase: 0 };

  /** A mark echoed as played at `atMs` while phase `phase` was current; the run takes the first echo's phase. */
  add(atMs: number, phase: number): void {
    if (this.#pending.count === 0) this.#pending = { count: 0, firstAtMs: atMs, lastAtMs: atMs, phase };
    this.#pending.count++;
    this.#pending.lastAtMs = atMs;
  }

  /** The summary of the echoes gathered so far, which starts a new run; undefined if there were none. */
  take(): MarkSummary | undefined {
    const m = this.#pending;
    if (m.count === 0) return undefined;
    this.#pending = { count: 0, firstAtMs: 0, lastAtMs: 0, phase: 0 };
    const span =
      m.count === 1
        ? `at ${Math.round(m.firstAtMs)}`
        : `first ${Math.round(m.firstAtMs)}, last ${Math.round(m.lastAtMs)}`;
    return {
      atMs: m.lastAtMs,
      phase: m.phase,
      text: `${phaseName(m.phase)}: ${m.count} mark${m.count === 1 ? '' : 's'} echoed after playing (${span})`,
    };
  }
}
