/* global document, setTimeout, clearTimeout */
// One call's page: who called whom and how it ended, the recording, the conversation, and what the
// call used and cost. A live call is refreshed whenever the live stream says it changed.
import { h, replace } from './dom.js';
import { getCall, recordingUrl, subscribeLive } from './api.js';
import { conversation } from './transcript.js';
import { formatCount, formatDateTime, formatDuration, formatSeconds, formatUsd, orDash } from './format.js';

const REFRESH_DEBOUNCE_MS = 300;

/** Renders the page of `callSid` into `main`; keeps it fresh while the call is live. */
export async function showCall(main, callSid) {
  document.title = `Call ${callSid} · Voice gateway`;
  let doc;
  try {
    doc = await getCall(callSid);
  } catch (err) {
    if (err.status !== 404) throw err;
    replace(
      main,
      h('h1', {}, 'Call not found'),
      h('p', {}, 'There is no record of call ', h('code', {}, callSid), '.'),
      back(),
    );
    return;
  }
  const header = h('div');
  const recording = h('section', { class: 'recording', 'aria-labelledby': 'recording-h' });
  const talk = h('div');
  const usage = h('section', { class: 'usage', 'aria-labelledby': 'usage-h' });
  replace(main, back(), header, recording, talk, usage);

  const render = (d) => {
    replace(header, callHeader(d.call));
    // The player is kept once shown, so a refresh never interrupts listening.
    if (!recording.querySelector('audio')) replace(recording, recordingSection(d.call));
    replace(talk, conversation(d));
    replace(usage, usageSection(d.usage));
  };
  render(doc);
  if (!doc.call.live) return;

  let timer;
  const close = subscribeLive(
    (summary) => {
      if (summary.callSid !== callSid) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        getCall(callSid)
          .then((d) => {
            render(d);
            if (!d.call.live) close();
          })
          .catch(() => {});
      }, REFRESH_DEBOUNCE_MS);
    },
    () => {},
  );
}

function back() {
  return h('p', { class: 'back' }, h('a', { href: '/console' }, '← All calls'));
}

function callHeader(call) {
  const rows = [
    ['From', h('bdi', { dir: 'ltr' }, orDash(call.from))],
    ['To', h('bdi', { dir: 'ltr' }, orDash(call.to))],
    ['Agent', h('bdi', {}, orDash(call.agentId))],
    ['Started', h('time', { datetime: call.startedAt }, formatDateTime(call.startedAt))],
    ['Ended', call.endedAt ? h('time', { datetime: call.endedAt }, formatDateTime(call.endedAt)) : '—'],
    ['Duration', call.live ? 'in progress' : formatDuration(call.durationMs)],
    ['End reason', h('bdi', {}, orDash(call.endReason))],
    ['StreamSid', h('code', {}, orDash(call.streamSid))],
  ];
  return [
    h(
      'h1',
      {},
      'Call ',
      h('code', { class: 'sid' }, call.callSid),
      call.live ? h('span', { class: 'badge badge-live' }, 'Live') : null,
    ),
    h(
      'dl',
      { class: 'facts' },
      rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
    ),
  ];
}

function recordingSection(call) {
  const heading = h('h2', { id: 'recording-h' }, 'Recording');
  if (!call.recording) return [heading, h('p', {}, 'This call was not recorded.')];
  const src = recordingUrl(call.callSid);
  return [
    heading,
    h('audio', { controls: true, preload: 'metadata', src, 'aria-label': `Recording of call ${call.callSid}` }),
    h(
      'p',
      { class: 'hint' },
      'Left channel: the caller; right channel: the agent as played. ',
      h('a', { href: src, download: `${call.callSid}.wav` }, 'Download WAV'),
    ),
  ];
}

function usageSection(u) {
  const rows = [
    ['Speech recognised', formatSeconds(u?.sttSeconds)],
    ['Characters synthesised', formatCount(u?.ttsChars)],
    ['Model input tokens', formatCount(u?.llmInputTokens)],
    ['Model output tokens', formatCount(u?.llmOutputTokens)],
    ['Cost', formatUsd(u?.costUsd)],
  ];
  return [
    h('h2', { id: 'usage-h' }, 'Usage and cost'),
    h(
      'dl',
      { class: 'facts' },
      rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', { class: 'num' }, v))),
    ),
  ];
}
