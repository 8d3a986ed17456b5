/* global document */
// The list of calls: newest first, live calls marked and kept up to date over the live stream.
import { h, replace } from './dom.js';
import { callPageUrl, listCalls, subscribeLive } from './api.js';
import { formatDateTime, formatDuration, orDash } from './format.js';

const PAGE = 50;

/** Renders the list page into `main` and keeps it live. */
export async function showList(main) {
  document.title = 'Calls · Voice gateway';
  const status = h('p', { class: 'live-status', role: 'status' }, 'Live updates: connecting…');
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Older calls');
  const table = h(
    'table',
    { class: 'calls' },
    h('caption', { class: 'visually-hidden' }, 'Live and recent calls, newest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Status', 'CallSid', 'From', 'To', 'Agent', 'Started', 'Duration', 'End reason', 'Turns'].map((c) =>
          h('th', { scope: 'col' }, c),
        ),
      ),
    ),
    body,
  );
  const empty = h('p', { class: 'empty', hidden: true }, 'No calls yet.');
  replace(
    main,
    h('h1', {}, 'Calls'),
    status,
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Calls', tabindex: 0 }, table),
    empty,
    more,
  );

  const rows = new Map(); // callSid → { row, summary }
  const upsert = (summary) => {
    if (!summary || typeof summary.callSid !== 'string') return;
    const known = rows.get(summary.callSid);
    const row = renderRow(summary);
    if (known) known.row.replaceWith(row);
    else insertInOrder(body, rows, row, summary);
    rows.set(summary.callSid, { row, summary });
    empty.hidden = rows.size > 0;
  };

  let cursor;
  const loadPage = async (before) => {
    const { calls } = await listCalls({ limit: PAGE, before });
    for (const call of calls) upsert(call);
    cursor = calls.length ? calls[calls.length - 1].startedAt : cursor;
    more.hidden = calls.length < PAGE;
  };
  more.addEventListener('click', () => {
    more.disabled = true;
    loadPage(cursor)
      .catch((err) => (status.textContent = `Could not load older calls: ${err.message}`))
      .finally(() => (more.disabled = false));
  });

  await loadPage(undefined);
  empty.hidden = rows.size > 0;
  subscribeLive(upsert, (state, reconnected) => {
    status.textContent = STATE_TEXT[state];
    status.dataset.state = state;
    // Changes made while the line was down are not replayed: reload the first page instead.
    if (reconnected) loadPage(undefined).catch(() => {});
  });
}

const STATE_TEXT = {
  connected: 'Live updates: on',
  reconnecting: 'Live updates: reconnecting…',
  stopped: 'Live updates: stopped (reload the page to resume)',
};

function renderRow(c) {
  return h(
    'tr',
    { class: c.live ? 'live' : undefined, 'data-call-sid': c.callSid },
    h('td', {}, c.live ? h('span', { class: 'badge badge-live' }, 'Live') : h('span', { class: 'badge' }, 'Ended')),
    h('td', {}, h('a', { href: callPageUrl(c.callSid), class: 'sid' }, c.callSid)),
    h('td', {}, h('bdi', { dir: 'ltr' }, orDash(c.from))),
    h('td', {}, h('bdi', { dir: 'ltr' }, orDash(c.to))),
    h('td', {}, h('bdi', {}, orDash(c.agentId))),
    h('td', {}, h('time', { datetime: c.startedAt }, formatDateTime(c.startedAt))),
    h('td', { class: 'num' }, c.live ? 'in progress' : formatDuration(c.durationMs)),
    h('td', {}, h('bdi', {}, orDash(c.endReason))),
    h('td', { class: 'num', 'data-field': 'turns' }, String(c.turnCount ?? 0)),
  );
}

/** Inserts a new row before the first displayed row that started earlier (the list is newest first). */
function insertInOrder(body, rows, row, summary) {
  const at = Date.parse(summary.startedAt);
  const older = [...body.rows].find((r) => Date.parse(rows.get(r.dataset.callSid)?.summary.startedAt) < at);
  body.insertBefore(row, older ?? null);
}
