/**
 * Google's streaming results (v1 and v2 share the shape) as transcript events. A response carries
 * zero or one final result (the newly settled part) followed by interim results; the current
 * hypothesis is all interim results joined, and its stability is that of the leading part.
 */
import type { TranscriptEvent } from './recognizer-stream.ts';

/** One streaming result, the fields both API versions have. */
export interface GoogleStreamingResult {
  isFinal?: boolean | null;
  stability?: number | null;
  alternatives?: Array<{ transcript?: string | null; confidence?: number | null }> | null;
}

/**
 * Finals first (confidence 0 when Google gave none), then one interim for the joined hypothesis
 * when it has text. Empty finals are kept: deciding what an empty final means is the caller's job.
 */
export function transcriptEvents(results: readonly GoogleStreamingResult[] | null | undefined): TranscriptEvent[] {
  const out: TranscriptEvent[] = [];
  const all = results ?? [];
  for (const res of all) {
    if (!res.isFinal) continue;
    const alt = res.alternatives?.[0];
    out.push({ type: 'final', text: (alt?.transcript ?? '').trim(), confidence: alt?.confidence ?? 0 });
  }
  const interims = all.filter((res) => !res.isFinal);
  const text = interims
    .map((res) => (res.alternatives?.[0]?.transcript ?? '').trim())
    .filter(Boolean)
    .join(' ');
  if (text) out.push({ type: 'interim', text, stability: interims[0]?.stability ?? 0 });
  return out;
}
