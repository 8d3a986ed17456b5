/**
 * Reads the gateway's `/metrics` (Prometheus text format) into the handful of numbers the benchmark
 * needs. Only sample lines are parsed (`name{labels} value`); HELP/TYPE comments are skipped.
 */

/** The gateway's resource counters at one instant. Missing series read as 0 (or null for gauges that may be absent). */
export interface GatewaySnapshot {
  /** `process_cpu_seconds_total` (user + system). */
  cpuSeconds: number;
  /** `process_resident_memory_bytes`. */
  rssBytes: number;
  /**
   * `nodejs_eventloop_lag_{p50,p99,max}_seconds`: prom-client's event-loop-delay histogram, which it
   * RESETS at every scrape, so these cover the time since the previous scrape. Null if absent.
   */
  loopP50Seconds: number | null;
  loopP99Seconds: number | null;
  loopMaxSeconds: number | null;
  /** `voice_media_frame_processing_seconds_total`. */
  frameSeconds: number;
  /** `voice_ws_messages_total{direction="in",event="media"}`. */
  inboundFrames: number;
  /** `voice_active_calls`. */
  activeCalls: number;
  /** `voice_calls_total` by `outcome`. */
  callsByOutcome: Record<string, number>;
  /** `voice_provider_errors_total`, summed over labels. */
  providerErrors: number;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the sample lines of a Prometheus text exposition. Malformed lines are skipped. */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const value = Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Extracts a {@link GatewaySnapshot} from `/metrics` text. */
export function snapshotFrom(text: string): GatewaySnapshot {
  const samples = parsePrometheus(text);
  const sum = (name: string, match: Record<string, string> = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
      .reduce((t, s) => t + s.value, 0);
  const gauge = (name: string) => samples.find((s) => s.name === name)?.value ?? null;
  const callsByOutcome: Record<string, number> = {};
  for (const s of samples) if (s.name === 'voice_calls_total') callsByOutcome[s.labels['outcome'] ?? '?'] = s.value;
  return {
    cpuSeconds: sum('process_cpu_seconds_total'),
    rssBytes: sum('process_resident_memory_bytes'),
    loopP50Seconds: gauge('nodejs_eventloop_lag_p50_seconds'),
    loopP99Seconds: gauge('nodejs_eventloop_lag_p99_seconds'),
    loopMaxSeconds: gauge('nodejs_eventloop_lag_max_seconds'),
    frameSeconds: sum('voice_media_frame_processing_seconds_total'),
    inboundFrames: sum('voice_ws_messages_total', { direction: 'in', event: 'media' }),
    activeCalls: sum('voice_active_calls'),
    callsByOutcome,
    providerErrors: sum('voice_provider_errors_total'),
  };
}

/**
 * Scrapes `base/metrics`. A network error is retried once: fetch keeps connections alive between
 * requests, and one that went stale while the gateway was busy fails without a retry of its own.
 * @throws Error when the gateway does not answer 200 within `timeoutMs` (the cause is in the message).
 */
export async function scrape(base: string, timeoutMs = 5000): Promise<GatewaySnapshot> {
  let res: Response | undefined;
  for (let attempt = 1; res === undefined; attempt++) {
    try {
      res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      if (attempt < 2 && (err as Error).name === 'TypeError') continue;
      // fetch's own message is just "fetch failed"; the reason (ECONNREFUSED, other side closed…) is its cause.
      const cause = (err as Error).cause as Error | undefined;
      throw new Error(`GET ${base}/metrics: ${(err as Error).message}${cause ? ` (${cause.message})` : ''}`, {
        cause: err,
      });
    }
  }
  if (res.status !== 200) throw new Error(`GET ${base}/metrics answered ${res.status}`);
  return snapshotFrom(await res.text());
}
