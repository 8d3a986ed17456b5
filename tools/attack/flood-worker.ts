/**
 * The flood of `flood-next-to-call`, in a worker thread so that its loops never delay the simulated
 * caller's 20 ms frame clock in the main thread. Bounded: it stops after `durationMs`, or at once when
 * the parent posts `'stop'`, and never opens more than `maxIdleSockets` sockets at a time. Posts one
 * `FloodCounts` message when done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { httpRequest, rawExchange, sleep, upgradeHeaders } from './net.ts';

/** What the worker is told. */
export interface FloodSettings {
  host: string;
  port: number;
  durationMs: number;
  /** Unsigned incoming_call requests per second (at most). */
  webhooksPerSecond: number;
  /** Hostile upgrades per second (at most). */
  upgradesPerSecond: number;
  /** WebSockets opened and left without a start. */
  maxIdleSockets: number;
  /** Junk frames per second on one socket. */
  junkPerSecond: number;
}

/** What the flood sent, by kind. */
export interface FloodCounts {
  webhooks: number;
  upgrades: number;
  idleSockets: number;
  junkFrames: number;
  errors: number;
}

async function paced(stopAt: () => boolean, perSecond: number, act: () => Promise<void>): Promise<void> {
  const gap = 1000 / perSecond;
  let next = performance.now();
  const inFlight = new Set<Promise<void>>();
  while (!stopAt()) {
    const p = act().finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 16) await Promise.race(inFlight);
    next += gap;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.allSettled(inFlight);
}

async function flood(s: FloodSettings): Promise<FloodCounts> {
  const counts: FloodCounts = { webhooks: 0, upgrades: 0, idleSockets: 0, junkFrames: 0, errors: 0 };
  const until = performance.now() + s.durationMs;
  let stopped = false;
  parentPort?.on('message', (m) => {
    if (m === 'stop') stopped = true;
  });
  const done = () => stopped || performance.now() > until;
  const base = `http://${s.host}:${s.port}`;
  const sockets: WebSocket[] = [];
  const webhooks = paced(done, s.webhooksPerSecond, async () => {
    try {
      const res = await fetch(`${base}/webhook/incoming_call`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `CallSid=CAflood${counts.webhooks}&From=%2B972500000000`,
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      counts.webhooks++;
    } catch {
      counts.errors++;
    }
  });
  const hostile = [
    httpRequest(
      'GET',
      '/ws/twilio-media',
      upgradeHeaders([
        ['Host', 'a b'],
        ['X-Twilio-Signature', 'AAAA'],
      ]),
    ),
    httpRequest('GET', '/ws/other', upgradeHeaders([['Host', `${s.host}:${s.port}`]])),
    httpRequest(
      'GET',
      '/ws/twilio-media',
      upgradeHeaders([
        ['Host', `${s.host}:${s.port}`],
        ['Sec-WebSocket-Version', '99'],
      ]),
    ),
  ];
  const upgrades = paced(done, s.upgradesPerSecond, async () => {
    await rawExchange(s.port, hostile[counts.upgrades % hostile.length]!, {
      host: s.host,
      timeoutMs: 3000,
      closeGraceMs: 200,
    });
    counts.upgrades++;
  });
  const idle = (async () => {
    while (!done() && sockets.length < s.maxIdleSockets) {
      const ws = new WebSocket(`ws://${s.host}:${s.port}/ws/twilio-media`);
      ws.on('error', () => counts.errors++);
      sockets.push(ws);
      counts.idleSockets++;
      await sleep(100);
    }
  })();
  const junk = (async () => {
    const ws = new WebSocket(`ws://${s.host}:${s.port}/ws/twilio-media`);
    ws.on('error', () => counts.errors++);
    sockets.push(ws);
    await new Promise((r) => ws.once('open', r).once('error', r));
    await paced(done, s.junkPerSecond, async () => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(counts.junkFrames % 2 ? '{"event":' : '{"event":"media","streamSid":"MZx","media":{"payload":"***"}}');
      counts.junkFrames++;
    });
  })();
  await Promise.all([webhooks, upgrades, idle, junk]);
  for (const ws of sockets) ws.terminate();
  return counts;
}

if (parentPort && workerData) {
  const counts = await flood(workerData as FloodSettings);
  parentPort.postMessage(counts);
  parentPort.close();
}
