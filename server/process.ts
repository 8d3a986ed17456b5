/**
 * Process-level concerns of `npm start`: the process logger (which secrets it scrubs, whether
 * caller numbers are masked) and what happens when something escapes every handler.
 */
import type { Config } from '../config/config.ts';
import { createLogger, type Logger } from './logger.ts';
import type { LogEvent } from './log-events.ts';

/** The logger of the gateway process: every configured secret is scrubbed from every record. */
export function processLogger(config: Config): Logger {
  return createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [
      config.twilioAuthToken,
      config.voice.openaiApiKey,
      config.metricsToken,
      config.consoleToken,
      config.webhookSecret,
    ],
    defaultMeta: { deployId: config.deployId },
    maskNumbers: config.logCallerNumbers !== 'full',
  });
}

/** Where {@link watchProcessFaults} sends an uncaught exception once it is logged. */
export interface FaultHandlers {
  /** Set once the gateway exists: begins the drain. */
  onUncaught?: () => void;
}

/**
 * Installs the process-wide handlers:
 * - a stray promise rejection (the Google clients leave some behind when credentials are
 *   missing) is logged and calls go on;
 * - an uncaught exception leaves the process in an unknown state: it is logged and
 *   `handlers.onUncaught` stops taking calls and lets those in progress finish before exiting
 *   (the process manager then starts a fresh one);
 * - when whatever reads stdout goes away (a log shipper died, `| head`), logging stops rather
 *   than every failed write being logged to the same dead pipe.
 */
export function watchProcessFaults(logger: Logger): FaultHandlers {
  const handlers: FaultHandlers = {};
  let stdoutGone = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') return;
    stdoutGone = true;
    logger.silent = true; // nothing more is written, so nothing piles up in memory either
  });
  const logFault = (event: LogEvent, err: unknown) => {
    if (stdoutGone) return;
    const e = err instanceof Error ? err : new Error(String(err));
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
    logger.error(event, { error: e.message, stack: e.stack });
  };
  process.on('unhandledRejection', (reason) => logFault('UNHANDLED_REJECTION', reason));
  process.on('uncaughtException', (err) => {
    logFault('UNCAUGHT_EXCEPTION', err);
    handlers.onUncaught?.();
  });
  return handlers;
}
