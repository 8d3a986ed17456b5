/**
 * Raw loopback clients for the attack suite: bytes written straight to a TCP socket (so malformed
 * and slow requests are exactly what they claim to be), the status lines that came back, and when
 * the server closed. Plus what /proc says about the gateway process (descriptors, memory).
 */
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';

/** What came back on one raw connection. */
export interface RawResult {
  /** HTTP status codes seen, in order (two means two responses on one socket). */
  statuses: number[];
  /** What was received (latin1; at most 64 KiB), for headers and messages. */
  text: string;
  /** The server closed (or reset) the connection before we gave up. */
  closedByServer: boolean;
  /** Milliseconds from connect to the server's close. */
  closedAtMs: number | undefined;
  /** The connection could not be made at all (ECONNREFUSED, EMFILE…). */
  connectError: string | undefined;
}

/** Options of {@link rawExchange}. */
export interface RawOptions {
  host?: string;
  /** Give up (and close our side) after this long. */
  timeoutMs: number;
  /** After a status line arrived, wait at most this long for the server to close. Default: until timeoutMs. */
  closeGraceMs?: number;
  /** After the first write, send one more byte of `trickle` every `trickleEveryMs` (slow clients). */
  trickle?: string;
  trickleEveryMs?: number;
  signal?: AbortSignal;
}

const STATUS = /HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/g;
const HAS_STATUS = /HTTP\/1\.[01] \d{3}/;

/**
 * Connects, writes `data` (a string is sent as latin1 bytes, so any byte can be expressed), optionally
 * trickles more, and reports what the server answered and whether it closed. Never rejects.
 */
export function rawExchange(port: number, data: string | Buffer, opts: RawOptions): Promise<RawResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = net.connect(port, opts.host ?? '127.0.0.1');
    let text = '';
    let closedAtMs: number | undefined;
    let connectError: string | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (byServer: boolean) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      clearInterval(trickleTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      const statuses = [...text.matchAll(STATUS)].map((m) => Number(m[1]));
      resolve({ statuses, text, closedByServer: byServer, closedAtMs, connectError });
    };
    const onAbort = () => finish(false);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => finish(false), opts.timeoutMs));
    let trickleTimer: NodeJS.Timeout | undefined;
    let trickled = 0;
    socket.on('connect', () => {
      socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      if (opts.trickle && opts.trickleEveryMs) {
        const bytes = opts.trickle;
        trickleTimer = setInterval(() => {
          if (!socket.writable) return;
          socket.write(bytes[trickled++ % bytes.length]!, 'latin1');
        }, opts.trickleEveryMs);
      }
    });
    let graceStarted = false;
    socket.on('data', (d: Buffer) => {
      if (text.length < 65_536) text += d.toString('latin1');
      if (opts.closeGraceMs !== undefined && !graceStarted && HAS_STATUS.test(text)) {
        graceStarted = true;
        timers.push(setTimeout(() => finish(false), opts.closeGraceMs));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (closedAtMs === undefined && text === '' && !socket.remoteAddress) connectError = err.code ?? err.message;
    });
    socket.on('close', () => {
      closedAtMs = Math.round(performance.now() - t0);
      finish(connectError === undefined);
    });
  });
}

/**
 * An HTTP/1.1 request as raw text. `headers` are written in order, duplicates allowed; a body gets a
 * Content-Length unless the headers already frame it (Content-Length or Transfer-Encoding).
 */
export function httpRequest(method: string, path: string, headers: Array<[string, string]>, body = ''): string {
  const framed = headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
  const all: Array<[string, string]> =
    body && !framed ? [...headers, ['Content-Length', String(Buffer.byteLength(body, 'latin1'))]] : headers;
  const lines = all.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `${method} ${path} HTTP/1.1\r\n${lines}\r\n${body}`;
}

/** Headers of a WebSocket upgrade to `path` (no Host: the caller adds its own, or none). */
export function upgradeHeaders(extra: Array<[string, string]> = []): Array<[string, string]> {
  return [
    ['Connection', 'Upgrade'],
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ...extra,
  ];
}

/** Open descriptors of a process, from /proc (Linux); undefined when it cannot be read. */
export function fdCount(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the descriptor count is at most `ceiling`, or `withinMs` passed; returns the last count.
 */
export async function fdsSettle(
  pid: number | undefined,
  ceiling: number,
  withinMs: number,
): Promise<number | undefined> {
  const until = Date.now() + withinMs;
  let n = fdCount(pid);
  while (n !== undefined && n > ceiling && Date.now() < until) {
    await sleep(100);
    n = fdCount(pid);
  }
  return n;
}

/** `setTimeout` as a promise that also ends when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs `tasks` with at most `width` at once; results in order. */
export async function pool<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return out;
}

/** `{400: 3, 408: 1}` → `400×3 408×1`; `none` when empty. */
export function tally(statuses: Iterable<number | string>): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(String(s), (counts.get(String(s)) ?? 0) + 1);
  if (counts.size === 0) return 'none';
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
}
