/**
 * The console served by a real Express server on port 0, in front of a stub of the call API that
 * answers the fixture documents of tests/fixtures/console/ in the API's exact shape. The list
 * includes the live calls of the feed, as the real API does. Access control is the console's own
 * guard, on the stub API too, as the gateway wires it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import express from 'express';
import { mountConsole, type ConsoleDeps, type ConsoleRoutes } from '../../routes/console/mount.ts';
import { MemoryCallFeed, type CallSummary } from '../../server/call-feed.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';
import { buildWav, WAV_FORMAT } from '../../media/audio/wav.ts';

const FIXTURES = new URL('../fixtures/console/', import.meta.url);

/** The fixture list, newest first. */
export const FIXTURE_CALLS: CallSummary[] = (
  JSON.parse(readFileSync(new URL('calls.json', FIXTURES), 'utf8')) as { calls: CallSummary[] }
).calls;

/** Fixture call documents by CallSid. */
export const FIXTURE_DOCS: Map<string, Record<string, any>> = new Map(
  readdirSync(FIXTURES)
    .filter((f) => /^call-CA[0-9a-f]{32}\.json$/.test(f))
    .map((f) => {
      const doc = JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as { call: { callSid: string } };
      return [doc.call.callSid, doc];
    }),
);

/** Length of the generated recording: 1.5 s of stereo 8 kHz 16-bit PCM (a tone on each side). */
export const RECORDING_SECONDS = 1.5;

/** A small real WAV, as the recorder writes them: left the caller, right the agent. */
export function recordingWav(): Buffer {
  const frames = 8000 * RECORDING_SECONDS;
  const pcm = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    pcm.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 4);
    pcm.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 660 * i) / 8000)), i * 4 + 2);
  }
  return buildWav(pcm, { formatTag: WAV_FORMAT.PCM, channels: 2, sampleRate: 8000, bitsPerSample: 16 });
}

/** A running console with its stub API. */
export interface ConsoleStub {
  base: string;
  port: number;
  server: http.Server;
  feed: MemoryCallFeed;
  logs: MemoryTransport;
  routes: ConsoleRoutes;
  /** Calls of `GET /api/calls` besides the feed's live ones (the fixtures; tests may add more). */
  calls: CallSummary[];
  /** Documents served for `GET /api/calls/{callSid}`; tests may add live ones. */
  docs: Map<string, Record<string, any>>;
  /** Requests the stub API answered, by path. */
  apiRequests: string[];
  close(): Promise<void>;
}

/** Options: the console's settings, and where to listen (default 127.0.0.1). */
export interface ConsoleStubOptions extends Partial<Omit<ConsoleDeps, 'logger' | 'feed'>> {
  host?: string;
}

/** Starts the console and the stub API on a free port. */
export async function startConsoleStub(opts: ConsoleStubOptions = {}): Promise<ConsoleStub> {
  const logs = new MemoryTransport();
  const logger = createLogger({ level: 'debug', format: 'json', secrets: [opts.token], transports: [logs] });
  const feed = new MemoryCallFeed({ logger });
  const docs = new Map(FIXTURE_DOCS);
  const calls = [...FIXTURE_CALLS];
  const wav = recordingWav();
  const apiRequests: string[] = [];

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal'); // the gateway's TRUST_PROXY default
  const routes = mountConsole(app, { token: opts.token, logger, feed, live: opts.live, auth: opts.auth });

  const api = express.Router();
  api.use(routes.guard);
  api.use((req, _res, next) => {
    apiRequests.push(req.path);
    next();
  });
  api.get('/calls', (req, res) => {
    const limit = Math.min(Number(req.query.limit ?? 50) || 50, 200);
    const before = typeof req.query.before === 'string' ? Date.parse(req.query.before) : Infinity;
    const live = feed.liveCalls().filter((c) => !calls.some((f) => f.callSid === c.callSid));
    const page = [...live, ...calls]
      .filter((c) => Date.parse(c.startedAt) < before)
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
      .slice(0, limit);
    res.json({ calls: page });
  });
  api.get('/calls/:callSid', (req, res) => {
    const doc = docs.get(req.params.callSid);
    if (!doc) return void res.status(404).json({ error: { code: 'CALL_NOT_FOUND', message: 'no such call' } });
    res.json(doc);
  });
  api.get('/calls/:callSid/recording', (req, res) => {
    if (!docs.get(req.params.callSid)?.call?.recording) return void res.status(404).json({ error: 'no recording' });
    res.type('audio/wav').send(wav);
  });
  app.use('/api', api);

  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    server,
    feed,
    logs,
    routes,
    calls,
    docs,
    apiRequests,
    close: async () => {
      routes.live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
