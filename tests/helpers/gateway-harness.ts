/**
 * Starts a real gateway in-process on 127.0.0.1:0 with an in-memory log capture, for tests that
 * need a real socket (upgrades, media frames, drain).
 */
import type { AddressInfo } from 'node:net';
import { parseConfig, type Config } from '../../config/config.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../../gateway.ts';

/** A running gateway and what a test needs to talk to it. */
export interface Harness {
  gateway: Gateway;
  config: Config;
  logs: MemoryTransport;
  port: number;
  httpBase: string;
  wsUrl: string;
  exits: number[];
  stop(): Promise<void>;
}

/** Starts a gateway with the given environment on top of test defaults. */
export async function startGateway(env: Record<string, string> = {}, opts: GatewayOptions = {}): Promise<Harness> {
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', ...env });
  const logs = new MemoryTransport();
  const logger = createLogger({
    level: config.logLevel,
    format: 'json',
    secrets: [config.twilioAuthToken, config.voice.openaiApiKey],
    transports: [logs],
  });
  const exits: number[] = [];
  const gateway = createGateway(config, logger, { exit: (code) => exits.push(code), ...opts });
  const addr: AddressInfo = await gateway.listen();
  return {
    gateway,
    config,
    logs,
    port: addr.port,
    httpBase: `http://127.0.0.1:${addr.port}`,
    wsUrl: `ws://127.0.0.1:${addr.port}/ws/twilio-media`,
    exits,
    stop: () => gateway.close(),
  };
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | false,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
