// Per-turn latency as one segmented bar. The API gives milestones, each in ms from the caller's end
// of speech (the TURN log's fields); a segment is the time from one milestone to the next one
// reached, named after the milestone that ends it, so the segments add up to the bar's length.
import { h } from './dom.js';
import { formatMs } from './format.js';

/** The milestones in pipeline order: API field, label, colour class. */
export const MILESTONES = [
  ['sttFinalMs', 'Final transcript', 'stt'],
  ['committedMs', 'Turn taken', 'turn'],
  ['llmRequestMs', 'Model request sent', 'gateway'],
  ['firstTokenMs', 'First model token', 'llm'],
  ['firstSentenceMs', 'First sentence', 'sentence'],
  ['ttsStartMs', 'Speech synthesis requested', 'gateway'],
  ['ttsDoneMs', 'First audio synthesised', 'tts'],
  ['firstMediaMs', 'First audio sent to Twilio', 'gateway'],
  ['firstMarkMs', 'First audio played (mark)', 'playback'],
];

/**
 * The segments of one turn's latency, in time order: [{ key, label, kind, startMs, endMs }].
 * Milestones that did not happen (null) are left out; negative times count as 0.
 */
export function latencySegments(latency) {
  const reached = MILESTONES.map(([key, label, kind], order) => ({ key, label, kind, order, at: latency?.[key] }))
    .filter((m) => Number.isFinite(m.at))
    .map((m) => ({ ...m, at: Math.max(0, m.at) }))
    .sort((a, b) => a.at - b.at || a.order - b.order);
  let start = 0;
  return reached.map(({ key, label, kind, at }) => {
    const segment = { key, label, kind, startMs: start, endMs: at };
    start = at;
    return segment;
  });
}

/** The end of a turn's last segment (0 when nothing was measured). */
export function latencyTotal(latency) {
  const segments = latencySegments(latency);
  return segments.length ? segments[segments.length - 1].endMs : 0;
}

/**
 * The bar of one turn, scaled so that `scaleMs` fills the width (the slowest turn of the call), with
 * the numbers on hover (title) and in text (an expandable list), for keyboards and screen readers.
 */
export function latencyBar(latency, scaleMs) {
  const segments = latencySegments(latency);
  if (!segments.length) return h('p', { class: 'latency-none' }, 'No latency measured for this turn.');
  const total = segments[segments.length - 1].endMs;
  const bar = h('div', { class: 'bar', role: 'img', 'aria-label': `Latency ${formatMs(total)} until the last stage` });
  for (const s of segments) {
    const ms = s.endMs - s.startMs;
    const seg = h('span', {
      class: `seg seg-${s.kind}`,
      title: `${s.label}: ${formatMs(s.endMs)} after end of speech (+${formatMs(ms)})`,
      'data-key': s.key,
    });
    seg.style.width = `${(100 * ms) / Math.max(scaleMs, 1)}%`;
    bar.append(seg);
  }
  const list = h(
    'ol',
    { class: 'latency-list' },
    segments.map((s) =>
      h(
        'li',
        {},
        h('span', { class: `swatch seg-${s.kind}`, 'aria-hidden': 'true' }),
        `${s.label}: `,
        formatMs(s.endMs),
      ),
    ),
  );
  const overhead = Number.isFinite(latency?.overheadMs) ? ` · gateway overhead ${formatMs(latency.overheadMs)}` : '';
  return h(
    'div',
    { class: 'latency', dir: 'ltr' },
    bar,
    h('details', {}, h('summary', {}, `Latency ${formatMs(total)}${overhead}`), list),
  );
}

/** The colour legend shown once above the turns. */
export function latencyLegend() {
  const kinds = new Map(MILESTONES.map(([, label, kind]) => [kind, label]));
  kinds.set('gateway', 'Gateway (request, synthesis hand-off, first send)');
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Latency colours' },
    [...kinds].map(([kind, label]) =>
      h('li', {}, h('span', { class: `swatch seg-${kind}`, 'aria-hidden': 'true' }), label),
    ),
  );
}
