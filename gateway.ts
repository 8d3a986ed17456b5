/**
 * The gateway process. This file wires the raw `http.Server` (server/http-server.ts: timeouts,
 * connection cap, malformed requests) and its `upgrade` listener (media/twilio/upgrade.ts: routed by
 * path before anything reaches Express — `/ws/twilio-media` goes to the media server after the
 * Twilio signature check, every other path gets a real 404 status line and a destroyed socket).
 * Plain requests for `/ws/*` are answered here too (426), so no Express route can see that path.
 *
 * Run: `npm start` (Node 24 runs this TypeScript file directly).
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig, ConfigError, type Config } from './config/config.ts';
import { AgentsError, loadAgents, type Agents } from './config/agents.ts';
import { MemoryCallEndings, type CallEndings } from './server/call-endings.ts';
import type { Logger } from './server/logger.ts';
import { processLogger, watchProcessFaults } from './server/process.ts';
import { createApp } from './routes/app.ts';
import { Drain } from './server/drain.ts';
import { LogLimiter } from './server/log-limit.ts';
import { createHttpServer } from './server/http-server.ts';
import { httpStatus } from './server/errors.ts';
import type { UsedTokens } from './server/used-tokens.ts';
import { MediaServer } from './media/twilio/media-server.ts';
import { StreamTokens } from './media/twilio/stream-token.ts';
import { pathOf, upgradeListener } from './media/twilio/upgrade.ts';
import { loggingCallFactory, type CallFactory } from './media/twilio/call-handler.ts';
import { createVoiceServices, voiceCallFactory } from './media/voice/services.ts';
import { providerStatus } from './media/providers/status.ts';
import { preflightOnStart } from './media/providers/preflight-on-start.ts';
import { createMetrics, type Metrics } from './server/metrics.ts';
import { openStore, type CallStore } from './server/store/store.ts';
import { gatewayEndings } from './server/store/endings.ts';
import { loadSpeechDetectorModel } from './media/audio/speech-detector.ts';
import { consoleAndApi } from './routes/web.ts';
import { MemoryCallFeed, type CallFeed } from './server/call-feed.ts';

/** The status of a plain request for `/ws/*`, from the error catalogue. */
const UPGRADE_REQUIRED = httpStatus('HTTP_UPGRADE_REQUIRED');

/** A wired gateway, not yet listening. */
export interface Gateway {
  readonly server: http.Server;
  readonly media: MediaServer;
  readonly tokens: StreamTokens;
  readonly drain: Drain;
  readonly metrics: Metrics;
  /** Starts listening on config.host:config.port (0 = any free port). */
  listen(): Promise<AddressInfo>;
  /** Stops listening, terminates sockets, releases timers. Idempotent. */
  close(): Promise<void>;
}

/** Options for embedding (tests, tools). */
export interface GatewayOptions {
  /** What a call does with its audio; default: log only. */
  callFactory?: CallFactory;
  /** What the drain does when done; default: process.exit. */
  exit?: (code: number) => void;
  /** Metrics registry to use; default: a new one. */
  metrics?: Metrics;
  /** The agents; default: one agent from the environment. */
  agents?: Agents;
  /** Where calls leave their ending decision for `<Connect action>`; default: this process's memory. */
  endings?: CallEndings;
  /** The call store; with it the read API (/api) and the console (/console) are served. Its owner closes it. */
  store?: CallStore;
  /** Live call changes for the console (default: a feed nobody publishes to). */
  feed?: CallFeed;
  /**
   * Where stream-token and one-stream-per-call uses are recorded; default: this process's memory
   * (tokens issued before the process started are then refused). A durable store shared by every
   * instance (the call database) makes single use hold across restarts and instances.
   */
  usedTokens?: UsedTokens;
}

/** Wires config, logger, Express, the media server and the drain around one http.Server. */
export function createGateway(config: Config, logger: Logger, opts: GatewayOptions = {}): Gateway {
  const startedAt = new Date();
  const metrics = opts.metrics ?? createMetrics();
  const limiter = new LogLimiter(logger);
  const tokens = new StreamTokens({
    secret: config.twilioAuthToken,
    windowMs: config.streamStartWindowMs,
    maxPending: config.streamTokensMaxPending,
    maxSkewMs: config.streamTokenMaxSkewMs,
    ...(opts.usedTokens ? { used: opts.usedTokens } : {}),
    onPendingChange: (n) => metrics.streamTokensPending.set(n),
  });
  const media = new MediaServer({
    logger,
    tokens,
    callFactory: opts.callFactory ?? loggingCallFactory,
    metrics,
    maxPayload: config.wsMaxPayloadBytes,
    pingIntervalMs: config.wsPingIntervalMs,
    startTimeoutMs: config.wsStartTimeoutMs,
  });

  const drain: Drain = new Drain({
    logger,
    timeoutMs: config.drainTimeoutMs,
    activeCalls: () => media.activeCalls,
    openSockets: () => media.openSockets,
    pendingStreams: () => tokens.pending,
    pendingHoldMs: config.streamStartWindowMs,
    closeAllSockets: (code, reason) => media.closeAll(code, reason),
    shutdown: () => close(),
    exit: opts.exit ?? ((code) => process.exit(code)),
  });

  if (config.twilioAuthToken && !opts.usedTokens?.durable) {
    logger.info('STREAM_TOKENS_PROCESS_LOCAL', {
      detail:
        'stream-token use is recorded in this process only: tokens issued before it started are refused, ' +
        'and another instance cannot see a token used here',
    });
  }
  const agents = opts.agents ?? loadAgents(undefined, config.voice);
  const endings = opts.endings ?? new MemoryCallEndings();
  const web = opts.store && consoleAndApi(config, logger, opts.store, opts.feed ?? new MemoryCallFeed({ logger }));
  const app = createApp({
    agents,
    endings,
    config,
    logger,
    tokens,
    metrics,
    isDraining: () => drain.draining,
    startedAt,
    api: web?.router,
    limiter,
  });
  const limits = {
    headersTimeoutMs: config.httpHeadersTimeoutMs,
    requestTimeoutMs: config.httpRequestTimeoutMs,
    keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
    maxConnections: config.maxConnections,
  };
  const server = createHttpServer({ limits, logger, limiter, metrics }, (req, res) => {
    if (pathOf(req.url).startsWith('/ws/')) {
      res.writeHead(UPGRADE_REQUIRED, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'Upgrade' });
      res.end('WebSocket endpoint: send an upgrade request');
      return;
    }
    app(req, res);
  });
  server.on(
    'upgrade',
    upgradeListener({
      logger,
      limiter,
      authToken: config.twilioAuthToken,
      publicBaseUrl: config.publicBaseUrl,
      media,
    }),
  );

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    web?.live.close();
    media.close();
    tokens.close();
    limiter.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  return {
    server,
    media,
    tokens,
    drain,
    metrics,
    close,
    listen: () =>
      new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(config.port, config.host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      }),
  };
}

/** Entry point of `npm start`. */
async function main(): Promise<void> {
  let config: Config;
  let agents: Agents;
  try {
    config = parseConfig(process.env);
    agents = loadAgents(config.agentsFile, { ...config.voice, pronunciationsFile: config.pronunciationsFile });
  } catch (err) {
    if (!(err instanceof ConfigError || err instanceof AgentsError)) throw err;
    process.stderr.write(`gateway: ${err.message}\n`);
    process.exit(1);
  }
  const logger = processLogger(config);
  const faults = watchProcessFaults(logger);

  let store: CallStore;
  try {
    store = await openStore(config.store, logger, { instance: `${config.deployId}:${process.pid}` });
  } catch (err) {
    process.stderr.write(`gateway: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (config.voice.speechDetector === 'auto') {
    const model = await loadSpeechDetectorModel(
      config.voice.speechDetectorModel ? { modelPath: config.voice.speechDetectorModel } : {},
    );
    if (model.available) logger.info('SPEECH_DETECTOR_READY', { ...model });
    else
      logger.warn('SPEECH_DETECTOR_UNAVAILABLE', {
        ...model,
        consequence: 'the energy VAD (VAD_RMS) tells speech from silence',
      });
  }
  const metrics = createMetrics();
  const endings = gatewayEndings(store.endings);
  const feed = new MemoryCallFeed({ logger });
  const voice = createVoiceServices(config.voice, logger, {
    webhookSecret: config.webhookSecret,
    endings,
    records: { writer: store.writer, feed },
    ...(config.recordCalls ? { recordingsDir: store.recordingsDir } : {}),
  });
  const gateway = createGateway(config, logger, {
    metrics,
    agents,
    endings,
    store,
    feed,
    // Single use of stream tokens holds across restarts and instances: the uses are in the call store.
    usedTokens: { durable: true, consume: (id, expiresAt) => store.tokens.consumeToken(id, expiresAt) },
    callFactory: voiceCallFactory(voice.services, { metrics, agents }),
    exit: (code) => {
      // Provider channels are released and buffered call records written before leaving; a stuck
      // close must not hold the exit.
      const timer = setTimeout(() => process.exit(code), 2000);
      void Promise.allSettled([voice.close(), store.close(1500)]).finally(() => {
        clearTimeout(timer);
        process.exit(code);
      });
    },
  });
  faults.onUncaught = () => gateway.drain.begin('uncaughtException');
  process.on('SIGTERM', () => gateway.drain.onSignal('SIGTERM'));
  process.on('SIGINT', () => gateway.drain.onSignal('SIGINT'));

  try {
    const addr = await gateway.listen();
    logger.info('GATEWAY_LISTENING', { host: addr.address, port: addr.port, node: process.version });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const line =
      code === 'EADDRINUSE'
        ? `port ${config.port} is already in use (is an old gateway still running?)`
        : code === 'EACCES'
          ? `no permission to listen on port ${config.port}`
          : `cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`;
    process.stderr.write(`gateway: cannot start: ${line}\n`);
    process.exit(1);
  }

  const crmUrls =
    [...agents.byId.values()].some((a) => a.context || a.tools.length > 0) || !!config.store.callWebhookUrl;
  if (!config.webhookSecret && crmUrls) {
    logger.warn('WEBHOOK_SECRET_NOT_SET', {
      detail: 'requests to the business systems (context, tools, post-call webhook) go out without X-Gateway-Signature',
    });
  }
  if (!config.twilioAuthToken) {
    logger.warn('TWILIO_SIGNATURES_NOT_ENFORCED', {
      detail: 'TWILIO_AUTH_TOKEN is not set: webhook and media-socket signatures are not checked',
    });
  }
  for (const p of providerStatus(config.voice)) {
    if (p.configured) logger.info('PROVIDER_CONFIGURED', { ...p });
    else logger.warn('PROVIDER_NOT_CONFIGURED', { ...p });
  }
  void preflightOnStart(config, logger, agents); // PREFLIGHT_ON_START: in the background, never awaited
}

if (import.meta.main) void main();
