/**
 * Prometheus metrics (prom-client), one registry per gateway so tests and embedded gateways never
 * share counters. Served at `GET /metrics`. Names and labels are documented in the README.
 */
import client from 'prom-client';

/** Latency components of a turn, in ms from the caller's end of speech (see the TURN log). */
export const TURN_COMPONENTS = [
  'stt_final',
  'committed',
  'llm_request',
  'first_token',
  'first_sentence',
  'tts_start',
  'tts_done',
  'first_media',
  'first_mark',
] as const;
export type TurnComponent = (typeof TURN_COMPONENTS)[number];

/** The gateway's metrics. */
export interface Metrics {
  readonly registry: client.Registry;
  readonly activeCalls: client.Gauge<string>;
  readonly callsTotal: client.Counter<'outcome'>;
  readonly turnLatency: client.Histogram<'component'>;
  readonly bargeIns: client.Counter<string>;
  readonly providerErrors: client.Counter<'provider' | 'code'>;
  readonly wsMessages: client.Counter<'direction' | 'event'>;
  /**
   * Counts one media-socket message. Runs for every frame of every call, so the labelled child
   * counter is looked up once per (direction, event) and reused, not re-hashed on each message.
   */
  countMessage(direction: 'in' | 'out', event: string): void;
  /** CPU time spent handling inbound media frames (parse, decode, VAD, STT write). */
  readonly frameSeconds: client.Counter<string>;
  readonly turnOverhead: client.Histogram<string>;
  /** Stream tokens handed out in TwiML whose socket has not started yet (bounded, swept). */
  readonly streamTokensPending: client.Gauge<string>;
  /** Media-socket messages ignored, by reason (not-json, bad-shape, …), including those not logged. */
  readonly wsBadMessages: client.Counter<'reason'>;
  /** Media sockets closed before becoming a call, by reason (start-timeout, token, duplicate). */
  readonly wsRefused: client.Counter<'reason'>;
  /** TCP connections dropped at once because MAX_CONNECTIONS were open. */
  readonly connectionsDropped: client.Counter<string>;
}

/** Creates a registry with the gateway's metrics and Node's default ones (event-loop delay included). */
export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const registers = [registry];
  const wsMessages = new client.Counter({
    name: 'voice_ws_messages_total',
    help: 'Media-socket messages by direction (in, out) and Twilio event.',
    labelNames: ['direction', 'event'] as const,
    registers,
  });
  const byLabels = new Map<string, client.Counter.Internal>();
  return {
    registry,
    activeCalls: new client.Gauge({
      name: 'voice_active_calls',
      help: 'Calls in progress (media sockets with an accepted start).',
      registers,
    }),
    callsTotal: new client.Counter({
      name: 'voice_calls_total',
      help: 'Calls ended, by outcome: completed (caller hung up / stop), the reason the gateway ended it (agent-hangup, transfer, provider-failed, no-answer-from-model), rejected (bad stream token), dropped (socket lost without stop), shutdown.',
      labelNames: ['outcome'],
      registers,
    }),
    turnLatency: new client.Histogram({
      name: 'voice_turn_latency_ms',
      help: "Per-turn latency components, ms from the caller's end of speech.",
      labelNames: ['component'],
      buckets: [50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 8000],
      registers,
    }),
    bargeIns: new client.Counter({
      name: 'voice_barge_ins_total',
      help: 'Agent speech interrupted by the caller.',
      registers,
    }),
    providerErrors: new client.Counter({
      name: 'voice_provider_errors_total',
      help: 'Provider failures by provider (stt, llm, tts) and code (AUTH, UNAVAILABLE, TIMEOUT, …).',
      labelNames: ['provider', 'code'],
      registers,
    }),
    wsMessages,
    countMessage(direction, event) {
      const key = `${direction}:${event}`;
      let counter = byLabels.get(key);
      if (!counter) byLabels.set(key, (counter = wsMessages.labels({ direction, event })));
      counter.inc();
    },
    frameSeconds: new client.Counter({
      name: 'voice_media_frame_processing_seconds_total',
      help: 'Time spent handling inbound media frames; divide by voice_ws_messages_total{direction="in",event="media"} for the cost per frame.',
      registers,
    }),
    turnOverhead: new client.Histogram({
      name: 'voice_turn_overhead_ms',
      help: 'Time the gateway itself adds to a turn between provider events (see overheadMs in the TURN log).',
      buckets: [0.5, 1, 2, 5, 10, 20, 50, 100, 250],
      registers,
    }),
    streamTokensPending: new client.Gauge({
      name: 'voice_stream_tokens_pending',
      help: 'Stream tokens handed out in TwiML whose media socket has not started yet (capped by STREAM_TOKENS_MAX_PENDING, swept after STREAM_START_WINDOW_MS).',
      registers,
    }),
    wsBadMessages: new client.Counter({
      name: 'voice_ws_bad_messages_total',
      help: 'Media-socket messages ignored, by reason; counted even when the log line was suppressed.',
      labelNames: ['reason'],
      registers,
    }),
    wsRefused: new client.Counter({
      name: 'voice_ws_refused_total',
      help: 'Media sockets closed before becoming a call, by reason (start_timeout, token, duplicate_stream).',
      labelNames: ['reason'],
      registers,
    }),
    connectionsDropped: new client.Counter({
      name: 'voice_http_connections_dropped_total',
      help: 'TCP connections dropped at once because MAX_CONNECTIONS connections were open.',
      registers,
    }),
  };
}
