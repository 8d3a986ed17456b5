// The conversation of one call, turn by turn: what the caller said, the tool calls the agent made,
// what the model said and how much of it the caller heard (an interrupted reply shows the cut),
// the marks (barge-ins, backchannels, errors, transfers…) that happened during the turn, and the
// turn's latency bar.
import { h } from './dom.js';
import { appendBidi, directionOf, utterance } from './bidi.js';
import { latencyBar, latencyLegend, latencyTotal } from './latency.js';
import { formatMs, formatOffset } from './format.js';

/** Event types with their label and icon (plain symbols, no emoji font needed); others are shown by their type. */
const MARKS = {
  'barge-in': ['Barge-in', '⇤'],
  backchannel: ['Backchannel', '…'],
  'provider-error': ['Provider error', '⚠'],
  transfer: ['Transfer', '↪'],
  hangup: ['Hang-up', '☎'],
  dtmf: ['Keypad (DTMF)', '#'],
  'tool-call': ['Tool call', '⚙'],
};
const MAX_VALUE_CHARS = 200;

/** The "Conversation" section for a call document of `GET /api/calls/{callSid}`. */
export function conversation(doc) {
  const start = Date.parse(doc.call.startedAt);
  const turns = [...(doc.turns ?? [])].sort((a, b) => a.index - b.index);
  const toolCalls = doc.toolCalls ?? [];
  const starts = turns.map((t) => Date.parse(t.startedAt) - start);
  // A tool call is shown from toolCalls (it has the outcome); its event, if any, would repeat it.
  const toolIds = new Set(toolCalls.map((c) => c.callId));
  const events = (doc.events ?? [])
    .filter((e) => !(e.type === 'tool-call' && toolIds.has(e.data?.callId)))
    .map((e) => ({ ...e, t: Number.isFinite(e.t) ? e.t : Date.parse(e.at) - start }))
    .sort((a, b) => a.t - b.t);

  // Each event belongs to the last turn that had started by then; earlier ones come first.
  const before = [];
  const during = turns.map(() => []);
  for (const e of events) {
    let i = turns.length - 1;
    while (i >= 0 && !(starts[i] <= e.t)) i--;
    (i < 0 ? before : during[i]).push(e);
  }
  const scale = Math.max(1, ...turns.map((t) => latencyTotal(t.latency)));
  const items = [];
  if (before.length) items.push(h('li', { class: 'turn turn-marks' }, marks(before)));
  turns.forEach((t, i) => {
    const tools = toolCalls.filter((c) => c.turnIndex === t.index);
    items.push(turnItem(t, starts[i], tools, during[i], scale));
  });
  return h(
    'section',
    { class: 'conversation', 'aria-labelledby': 'conversation-h' },
    h('h2', { id: 'conversation-h' }, 'Conversation'),
    turns.length ? latencyLegend() : h('p', {}, 'No turns recorded.'),
    h('ol', { class: 'transcript' }, items),
  );
}

function turnItem(t, offset, tools, events, scale) {
  return h(
    'li',
    { class: `turn${t.interrupted ? ' interrupted' : ''}`, 'data-turn': t.index },
    h(
      'h3',
      { class: 'turn-h' },
      `Turn ${t.index}`,
      ' ',
      h('span', { class: 'offset' }, formatOffset(offset)),
      t.interrupted ? h('span', { class: 'badge badge-cut' }, 'interrupted') : null,
    ),
    t.callerText ? line('caller', 'Caller', utterance(t.callerText)) : null,
    tools.map(toolCall),
    agentLines(t),
    events.length ? marks(events) : null,
    latencyBar(t.latency, scale),
  );
}

function line(role, label, content) {
  return h('div', { class: `line line-${role}` }, h('span', { class: 'who' }, label), content);
}

/**
 * What the agent said. When the caller heard less than the model said: if what was heard is the
 * start of it (the usual case), one line with the cut marked and the unheard rest struck through;
 * otherwise both texts, labelled.
 */
function agentLines(t) {
  const said = t.agentText ?? '';
  const heard = t.heardText;
  if (!said && !heard) return line('agent', 'Agent', h('p', { class: 'utt utt-none' }, '(no reply)'));
  if (heard === null || heard === undefined || heard === said) return line('agent', 'Agent', utterance(said));
  const why = t.interrupted ? 'the caller interrupted here' : 'playback stopped here';
  if (said.startsWith(heard)) {
    const p = utterance(heard);
    p.dir = directionOf(said);
    p.append(
      h('span', { class: 'cut', title: `Cut: ${why}` }, h('span', { class: 'visually-hidden' }, ` [cut: ${why}] `)),
    );
    const rest = h('s', { class: 'unheard', title: 'Not heard by the caller' });
    rest.append(h('span', { class: 'visually-hidden' }, '[not heard:] '));
    appendBidi(rest, said.slice(heard.length));
    p.append(rest);
    return line('agent', 'Agent', p);
  }
  return [
    line('agent', 'Agent (heard)', heard ? utterance(heard) : h('p', { class: 'utt utt-none' }, '(nothing)')),
    line('model', 'Model said', utterance(said)),
  ];
}

function toolCall(c) {
  const status = c.status === null || c.status === undefined ? '' : ` (HTTP ${c.status})`;
  return h(
    'div',
    { class: `line line-tool tool-${cssName(c.outcome)}`, 'data-call-id': c.callId },
    h('span', { class: 'who' }, h('span', { 'aria-hidden': 'true' }, '⚙ '), 'Tool call'),
    h(
      'p',
      { class: 'tool', dir: 'ltr' },
      h('code', { class: 'tool-name' }, String(c.name)),
      h('bdi', { class: 'tool-args' }, clip(JSON.stringify(c.arguments ?? {}))),
      ' → ',
      h('strong', { class: 'tool-outcome' }, String(c.outcome)),
      `${status} in ${formatMs(c.ms)}`,
    ),
  );
}

function marks(events) {
  return h(
    'ul',
    { class: 'marks', 'aria-label': 'Events' },
    events.map((e) => {
      const [label, icon] = MARKS[e.type] ?? [String(e.type), '•'];
      return h(
        'li',
        { class: `mark mark-${cssName(e.type)}`, 'data-type': e.type },
        h('span', { class: 'mark-icon', 'aria-hidden': 'true' }, icon),
        h('strong', {}, label),
        ' ',
        h('span', { class: 'offset' }, formatOffset(e.t)),
        details(e.data),
      );
    }),
  );
}

/** An event's data as "key: value" pairs (text only, each value isolated, long values clipped). */
function details(data) {
  if (data === null || data === undefined || typeof data !== 'object') return null;
  const entries = Object.entries(data).slice(0, 8);
  if (!entries.length) return null;
  return h(
    'span',
    { class: 'mark-data' },
    entries.map(([k, v]) =>
      h('span', { class: 'kv' }, `${k}: `, h('bdi', {}, clip(typeof v === 'string' ? v : JSON.stringify(v)))),
    ),
  );
}

function clip(s) {
  const text = String(s ?? '');
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

function cssName(s) {
  return String(s ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
}
