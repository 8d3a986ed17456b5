// Display formats. Every function accepts null/undefined (the API's "not known") and shows a dash.

const DASH = '—';
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A local date and time for an ISO string. */
export function formatDateTime(iso) {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? DASH : dateTime.format(ms);
}

/** A call duration as m:ss or h:mm:ss. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return DASH;
  const s = Math.round(ms / 1000);
  const two = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** A latency: "840 ms", or "1.25 s" from one second on. */
export function formatMs(ms) {
  if (!Number.isFinite(ms)) return DASH;
  return Math.abs(ms) >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms * 10) / 10} ms`;
}

/** An offset from the call's start: "+12.3 s", "+2:05.0". */
export function formatOffset(ms) {
  if (!Number.isFinite(ms)) return DASH;
  const sign = ms < 0 ? '−' : '+';
  const total = Math.abs(ms) / 1000;
  if (total < 60) return `${sign}${total.toFixed(1)} s`;
  const m = Math.floor(total / 60);
  return `${sign}${m}:${(total - m * 60).toFixed(1).padStart(4, '0')}`;
}

/** A cost in US dollars with four decimals (calls cost fractions of a cent). */
export function formatUsd(n) {
  return Number.isFinite(n) ? `$${n.toFixed(4)}` : DASH;
}

/** A count with digit grouping. */
export function formatCount(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : DASH;
}

/** Text or a dash. */
export function orDash(s) {
  return s === undefined || s === null || s === '' ? DASH : String(s);
}

/** Seconds with one decimal. */
export function formatSeconds(s) {
  return Number.isFinite(s) ? `${s.toFixed(1)} s` : DASH;
}
