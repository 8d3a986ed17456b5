/* global fetch, location, EventSource, URLSearchParams */
// The console's only access to data: the JSON API and the live stream, same origin. A 401 means the
// session ended: go to the login form and come back here afterwards.

/** Thrown for an answer other than 2xx (and 401, which navigates away). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GETs a JSON document from the API. */
export async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (res.status === 401) {
    location.assign(`/console/login?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, 'login required');
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body?.error?.message) message = body.error.message;
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(res.status, message);
  }
  return res.json();
}

/** The list of calls, newest first. */
export function listCalls({ limit = 50, before } = {}) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (before) q.set('before', before);
  return getJson(`/api/calls?${q}`);
}

/** One call's record. */
export function getCall(callSid) {
  return getJson(`/api/calls/${encodeURIComponent(callSid)}`);
}

/** URL of a call's recording. */
export function recordingUrl(callSid) {
  return `/api/calls/${encodeURIComponent(callSid)}/recording`;
}

/** URL of a call's page. */
export function callPageUrl(callSid) {
  return `/console/calls/${encodeURIComponent(callSid)}`;
}

/**
 * Subscribes to live call summaries. `onCall(summary)` for each; `onState('connected' | 'reconnecting'
 * | 'stopped', reconnected)` when the line changes. The browser reconnects by itself after a drop;
 * it gives up for good only on an answer such as 401 (then: 'stopped'). Returns a close function.
 */
export function subscribeLive(onCall, onState) {
  const source = new EventSource('/api/calls/live');
  let dropped = false;
  source.addEventListener('open', () => {
    onState('connected', dropped);
    dropped = false;
  });
  source.addEventListener('error', () => {
    dropped = true;
    onState(source.readyState === EventSource.CLOSED ? 'stopped' : 'reconnecting', false);
  });
  source.addEventListener('call', (event) => {
    try {
      onCall(JSON.parse(event.data));
    } catch {
      // A malformed event is skipped; the next one, or a reload, brings the list up to date.
    }
  });
  return () => source.close();
}
