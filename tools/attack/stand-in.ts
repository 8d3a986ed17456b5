/**
 * Tiny stand-in gateways for the attack tool's own tests: `node tools/attack/stand-in.ts weak` is
 * purposely vulnerable to a handful of the attacks, `… good` resists the same ones, so a test can
 * check that the tool says BROKE and HELD where it should. Neither speaks TwiML or carries calls.
 * Like the gateway it listens on HOST:PORT and logs JSON lines, `GATEWAY_LISTENING` first.
 *
 *   weak: Node's default timeouts (cut after a minute or more), no connection cap, upgrades left
 *         unanswered, sockets never closed, /metrics open, any body answered 200, numbers logged,
 *         SIGTERM ignored while sockets are open.
 *   good: 1 s header timeout with 408, MAX_CONNECTIONS, upgrades answered, sockets without a
 *         start closed 1008 after 1 s, METRICS_TOKEN enforced, undecodable bodies 400, numbers
 *         masked, SIGTERM exits at once.
 */
import http from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { WebSocketServer } from 'ws';

const good = process.argv[2] === 'good';
const log = (message: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ message, ...fields })}\n`);

const server = http.createServer(
  good ? { connectionsCheckingInterval: 200, headersTimeout: 1000, requestTimeout: 2000 } : {},
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, Buffer.concat(chunks)));
  },
);
if (good) server.maxConnections = Number(process.env['MAX_CONNECTIONS'] ?? 1000);

function answer(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') return void res.end('ok');
  if (path === '/metrics') {
    const token = process.env['METRICS_TOKEN'];
    if (good && token && req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
    return void res.end('voice_active_calls 0\n');
  }
  if (req.method === 'POST' && good) {
    const decoded = decode(req.headers['content-encoding'], body);
    if (decoded === undefined) return void res.writeHead(400).end('bad body');
    const charset = /charset=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset && charset.toLowerCase() !== 'utf-8') return void res.writeHead(415).end();
    if (/json/.test(req.headers['content-type'] ?? '') && !isJson(decoded)) return void res.writeHead(400).end();
    body = decoded;
  }
  if (path === '/webhook/incoming_call') {
    const from = new URLSearchParams(body.toString('utf8')).get('From') ?? '';
    log('INCOMING_CALL', { from: good ? from.slice(0, 4) + '*'.repeat(Math.max(0, from.length - 4)) : from });
  }
  res.end('ok');
}

function decode(encoding: string | undefined, body: Buffer): Buffer | undefined {
  try {
    if (!encoding || encoding === 'identity') return body;
    if (encoding === 'gzip') return gunzipSync(body);
    if (encoding === 'deflate') return inflateSync(body);
    if (encoding === 'br') return brotliDecompressSync(body);
    return undefined;
  } catch {
    return undefined;
  }
}

function isJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

const wss = new WebSocketServer({ noServer: true });
const sockets = new Set<import('ws').WebSocket>();
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => undefined);
  if (!good) {
    // Weak: a valid upgrade gets a socket that is never closed; anything else is never answered.
    if (req.url === '/ws/twilio-media' && req.headers['sec-websocket-key']) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => undefined);
        sockets.add(ws);
      });
    }
    return;
  }
  if ((req.url ?? '').split('?')[0] !== '/ws/twilio-media' || req.method !== 'GET') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.add(ws);
    ws.on('error', () => undefined);
    ws.on('close', () => sockets.delete(ws));
    const timer = setTimeout(() => ws.close(1008, 'no start in time'), 1000);
    ws.on('close', () => clearTimeout(timer));
  });
});

process.on('SIGTERM', () => {
  if (good || sockets.size === 0) process.exit(0);
  // Weak: the drain waits for every socket, calls or not, for a minute.
  setTimeout(() => process.exit(0), 60_000).unref();
});

server.listen(Number(process.env['PORT'] ?? 0), process.env['HOST'] ?? '127.0.0.1', () => {
  const addr = server.address() as import('node:net').AddressInfo;
  log('GATEWAY_LISTENING', { host: addr.address, port: addr.port });
});
