/**
 * `GET /api/calls/live` over real sockets: the SSE framing, the live calls sent first, changes as
 * they are published, keep-alive comments, the cap on open streams, closing on drain, and a client
 * that stops reading being dropped while a reading client keeps receiving.
 */
import http from 'node:http';
import net from 'node:net';
import type { CallSummary } from '../../server/call-feed.ts';
import { startConsoleStub, type ConsoleStub } from '../helpers/console-stub.ts';
import { eventually } from '../helpers/gateway-harness.ts';

jest.setTimeout(60_000);

const summary = (n: number, over: Partial<CallSummary> = {}): CallSummary => ({
  callSid: `CA${n.toString(16).padStart(32, '0')}`,
  agentId: 'agent',
  from: '+972501234567',
  to: '+97237654321',
  startedAt: new Date(Date.UTC(2026, 2, 1, 9, 0, n)).toISOString(),
  endedAt: null,
  durationMs: null,
  endReason: null,
  turnCount: 0,
  live: true,
  ...over,
});

/** An SSE reader: raw text, parsed `call` events and comments. */
interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  raw: string;
  calls: CallSummary[];
  comments: string[];
  ended: boolean;
  close(): void;
}

function openStream(port: number): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/calls/live' }, (res) => {
      const s: Stream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        raw: '',
        calls: [],
        comments: [],
        ended: false,
        close: () => req.destroy(),
      };
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        s.raw += chunk;
        pending += chunk;
        let at: number;
        while ((at = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, at);
          pending = pending.slice(at + 2);
          const lines = block.split('\n');
          for (const line of lines) if (line.startsWith(':')) s.comments.push(line.slice(1).trim());
          if (lines.includes('event: call')) {
            const data = lines.find((l) => l.startsWith('data: '));
            if (data) s.calls.push(JSON.parse(data.slice(6)) as CallSummary);
          }
        }
      });
      res.on('end', () => (s.ended = true));
      res.on('error', () => (s.ended = true));
      resolve(s);
    });
    req.on('error', reject);
  });
}

describe('live calls over SSE', () => {
  let stub: ConsoleStub;
  beforeEach(async () => {
    stub = await startConsoleStub({ live: { keepAliveMs: 50, maxClients: 3, maxBufferedBytes: 256 * 1024 } });
  });
  afterEach(() => stub.close());

  it('sends the calls live now, then each change, as `call` events with keep-alive comments', async () => {
    stub.feed.publish(summary(1));
    stub.feed.publish(summary(2));
    stub.feed.publish(summary(2, { live: false, endedAt: new Date().toISOString(), durationMs: 5000 }));
    const s = await openStream(stub.port);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-store');
    await eventually(() => s.calls.length === 1, 5000, 'the snapshot');
    expect(s.raw.startsWith('retry: 3000\n: connected\n\n')).toBe(true);
    expect(s.calls).toEqual([summary(1)]);

    stub.feed.publish(summary(1, { turnCount: 1 }));
    stub.feed.publish(summary(3));
    stub.feed.publish(summary(1, { turnCount: 2, live: false, endReason: 'caller-hangup' }));
    await eventually(() => s.calls.length === 4, 5000, 'three changes');
    expect(s.calls.slice(1).map((c) => [c.callSid, c.turnCount, c.live])).toEqual([
      [summary(1).callSid, 1, true],
      [summary(3).callSid, 0, true],
      [summary(1).callSid, 2, false],
    ]);
    await eventually(() => s.comments.filter((c) => c === 'keep-alive').length >= 2, 5000, 'keep-alives');
    s.close();
    await eventually(() => stub.feed.listenerCount === 0 && stub.routes.live.clients === 0, 5000, 'unsubscribe');
  });

  it('answers HEAD with the headers only, holding nothing open', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .request({ host: '127.0.0.1', port: stub.port, path: '/api/calls/live', method: 'HEAD' }, resolve)
        .on('error', reject)
        .end(),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stub.routes.live.clients).toBe(0);
    expect(stub.feed.listenerCount).toBe(0);
  });

  it('caps the open streams with 503, and takes new ones when others close', async () => {
    const open = await Promise.all([openStream(stub.port), openStream(stub.port), openStream(stub.port)]);
    expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
    const refused = await openStream(stub.port);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    await eventually(() => refused.ended, 5000, 'the 503 body');
    expect(JSON.parse(refused.raw)).toEqual({ error: { code: 'CONSOLE_LIVE_FULL', message: expect.any(String) } });
    open[0]!.close();
    await eventually(() => stub.routes.live.clients === 2, 5000, 'a slot to free');
    const again = await openStream(stub.port);
    expect(again.status).toBe(200);
    for (const s of [...open, again]) s.close();
  });

  it('ends every stream on close() and refuses new ones', async () => {
    const s = await openStream(stub.port);
    stub.routes.live.close();
    await eventually(() => s.ended, 5000, 'the stream to end');
    expect(stub.feed.listenerCount).toBe(0);
    expect((await openStream(stub.port)).status).toBe(503);
  });

  it('drops a client that stops reading, without holding up publishing or the clients that read', async () => {
    // A client that sends its request and then never reads a byte.
    const slow = net.connect(stub.port, '127.0.0.1');
    await new Promise<void>((resolve) => slow.once('connect', resolve));
    slow.write(`GET /api/calls/live HTTP/1.1\r\nHost: 127.0.0.1:${stub.port}\r\n\r\n`);
    slow.pause();
    slow.on('error', () => {});
    const fast = await openStream(stub.port);
    await eventually(() => stub.routes.live.clients === 2, 5000, 'both streams');

    // Publish ~1 KB summaries in small bursts until the slow client is dropped (its kernel buffers
    // on both sides fill first); the reading client drains between bursts.
    const big = 'x'.repeat(1000);
    let published = 0;
    const until = Date.now() + 40_000;
    while (stub.logs.events('CONSOLE_LIVE_DROPPED').length === 0) {
      if (Date.now() > until) throw new Error(`slow client never dropped after ${published} events`);
      for (let i = 0; i < 40; i++) stub.feed.publish(summary(1000 + published++, { agentId: big, live: false }));
      await new Promise((r) => setTimeout(r, 5));
    }
    const dropped = stub.logs.events('CONSOLE_LIVE_DROPPED')[0]!;
    expect(dropped.level).toBe('warn');
    expect(dropped.code).toBe('CONSOLE_LIVE_SLOW_CLIENT');
    // The server closed its end (the paused client itself only notices once it reads again).
    let connections = -1;
    await eventually(
      () => {
        stub.server.getConnections((_err, n) => (connections = n));
        return connections === 1;
      },
      5000,
      'the server to close the slow connection',
    );
    expect(stub.routes.live.clients).toBe(1);
    expect(stub.feed.listenerCount).toBe(1);

    stub.feed.publish(summary(99, { agentId: 'last' }));
    await eventually(() => fast.calls.some((c) => c.agentId === 'last'), 10_000, 'the last event at the fast client');
    expect(fast.calls.length).toBe(published + 1);
    expect(stub.logs.events('CONSOLE_LIVE_DROPPED')).toHaveLength(1);
    slow.destroy();
    fast.close();
  });
});
