/**
 * The smoke checks' two kinds of exchange over `node:http`/`node:https`: a plain request, and a
 * WebSocket upgrade whose raw response (status line, headers as the server spelled them) is
 * returned as-is — a WebSocket client library would hide exactly what we need to see. Every
 * exchange has its own time limit and its own connection (`agent: false`), so one step's socket
 * can neither help nor hurt the next, and nothing is left open when a run ends.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';

/** Where a connection goes: scheme (TLS or not), host name or address, port. */
export interface Endpoint {
  tls: boolean;
  /** Host name or address, IPv6 without brackets. */
  host: string;
  port: number;
}

/** One request of an exchange. */
export interface ExchangeRequest {
  method: 'GET' | 'POST';
  /** Path and query, exactly as sent on the request line. */
  path: string;
  /** Sent as given; a `Host` here replaces the endpoint's. */
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Skip certificate verification. */
  insecure: boolean;
}

/** A response head (and, for plain requests, body) as received. */
export interface Exchange {
  /** E.g. `HTTP/1.1 101 Switching Protocols`. */
  statusLine: string;
  status: number;
  /** Header name/value pairs in the order and spelling the server sent. */
  rawHeaders: Array<[string, string]>;
  /** Body as UTF-8, cut at {@link MAX_BODY_BYTES}; empty for upgrades. */
  body: string;
}

/** Outcome of an upgrade attempt once connected. */
export type UpgradeOutcome =
  /** `acceptOk`: for a 101, whether `Sec-WebSocket-Accept` matches the key sent. */
  | { kind: 'response'; exchange: Exchange; acceptOk?: boolean }
  /** The server accepted the connection but closed it without writing a response. */
  | { kind: 'closed'; error: string };

/** Bodies are cut here: TwiML is at most 64 kB, anything bigger is not what we asked for. */
export const MAX_BODY_BYTES = 256 * 1024;

/** The endpoint of an `http:`/`https:` origin. */
export function endpointOf(origin: string): Endpoint {
  const url = new URL(origin);
  const tls = url.protocol === 'https:';
  return { tls, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : tls ? 443 : 80 };
}

/** `http://host:port` form of an endpoint, for messages. */
export function describeEndpoint(e: Endpoint, ws = false): string {
  const scheme = ws ? (e.tls ? 'wss' : 'ws') : e.tls ? 'https' : 'http';
  const host = isIP(e.host) === 6 ? `[${e.host}]` : e.host;
  const defaultPort = e.tls ? 443 : 80;
  return `${scheme}://${host}${e.port === defaultPort ? '' : `:${e.port}`}`;
}

/** The value of a response header (first occurrence, case-insensitive), or undefined. */
export function headerValue(ex: Exchange, name: string): string | undefined {
  const lower = name.toLowerCase();
  return ex.rawHeaders.find(([k]) => k.toLowerCase() === lower)?.[1];
}

/** `Name: value` of a response header as the server spelled it, or undefined. */
export function headerLine(ex: Exchange, name: string): string | undefined {
  const lower = name.toLowerCase();
  const hit = ex.rawHeaders.find(([k]) => k.toLowerCase() === lower);
  return hit ? `${hit[0]}: ${hit[1]}` : undefined;
}

/**
 * Sends one request and reads the whole response. Rejects with a readable error when the
 * connection fails, the server hangs up, or nothing complete arrives within `timeoutMs`.
 */
export function httpExchange(endpoint: Endpoint, request: ExchangeRequest): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = open(endpoint, request);
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete response within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(new Error(describeError(err)));
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size >= MAX_BODY_BYTES) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ ...head(res), body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8') });
      });
    });
    req.end(request.body);
  });
}

/**
 * Sends a WebSocket upgrade request (version 13, a fresh key) and returns the raw response head.
 * A 101 must also carry the right `Sec-WebSocket-Accept`, which is checked here and reported as
 * `acceptOk`; the socket is then closed politely (a masked close frame 1000) so the server logs a
 * normal close. Rejects when no connection could be made or nothing arrived in time.
 */
export function upgradeExchange(
  endpoint: Endpoint,
  request: Omit<ExchangeRequest, 'method' | 'body'>,
): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const req = open(endpoint, {
      ...request,
      method: 'GET',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        ...request.headers,
      },
    });
    let connected = false;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(
      () => req.destroy(new Error(`no response within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    req.on('socket', (socket) => socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => (connected = true)));
    req.on('error', (err) => {
      const message = describeError(err);
      // Connected and then hung up without a word is still a refusal; not connecting at all is not.
      const hungUp = connected && !/no response within/.test(message);
      settle(() => (hungUp ? resolve({ kind: 'closed', error: message }) : reject(new Error(message))));
    });
    req.on('upgrade', (res, socket) => {
      const acceptOk = res.headers['sec-websocket-accept'] === expectedAccept(key);
      closePolitely(socket);
      settle(() => resolve({ kind: 'response', exchange: { ...head(res), body: '' }, acceptOk }));
    });
    req.on('response', (res) => {
      res.resume();
      settle(() => resolve({ kind: 'response', exchange: { ...head(res), body: '' } }));
      req.destroy();
    });
    req.end();
  });
}

function open(endpoint: Endpoint, request: ExchangeRequest): http.ClientRequest {
  const hostHeader = Object.entries(request.headers).find(([k]) => k.toLowerCase() === 'host')?.[1];
  const options: https.RequestOptions = {
    host: endpoint.host,
    port: endpoint.port,
    method: request.method,
    path: request.path,
    headers: request.headers,
    agent: false,
  };
  if (!endpoint.tls) return http.request(options);
  // SNI and certificate name follow the Host header, as they would for the client that uses it
  // (Twilio connects to the public host); Node refuses an IP address as a server name.
  const name = hostHeader ? hostnameOf(hostHeader) : endpoint.host;
  if (isIP(name) === 0) options.servername = name;
  options.rejectUnauthorized = !request.insecure;
  return https.request(options);
}

function head(res: http.IncomingMessage): Omit<Exchange, 'body'> {
  const rawHeaders: Array<[string, string]> = [];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) rawHeaders.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
  const status = res.statusCode ?? 0;
  return { statusLine: `HTTP/${res.httpVersion} ${status} ${res.statusMessage ?? ''}`.trimEnd(), status, rawHeaders };
}

/** RFC 6455 §4.2.2: base64(SHA-1(key + GUID)). */
function expectedAccept(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

function closePolitely(socket: Duplex): void {
  // The exchange is settled; a late reset from the server must not become an uncaught error.
  socket.on('error', () => socket.destroy());
  socket.resume();
  const mask = randomBytes(4);
  const payload = [0x03, 0xe8]; // 1000, normal closure
  socket.end(Buffer.from([0x88, 0x80 | payload.length, ...mask, payload[0]! ^ mask[0]!, payload[1]! ^ mask[1]!]));
  // A server that never closes its side must not keep the smoke run alive.
  setTimeout(() => socket.destroy(), 1000).unref();
}

function hostnameOf(hostHeader: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(hostHeader);
  if (bracketed) return bracketed[1]!;
  return hostHeader.replace(/:\d+$/, '');
}

/** One line for any network error, including the AggregateError of a dual-stack connect. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map((e) => describeError(e)))].join('; ');
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err.message) return err.message;
    return code ?? err.name;
  }
  return String(err);
}
