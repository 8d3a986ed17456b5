/**
 * The web side over the call store: the console and the read API behind the console's one guard.
 * The console's live route is mounted before the API's `/api/calls/:sid` so it is not taken for a
 * CallSid.
 */
import express from 'express';
import type { Config } from '../config/config.ts';
import type { Logger } from '../server/logger.ts';
import type { CallStore } from '../server/store/store.ts';
import type { CallFeed } from '../server/call-feed.ts';
import { apiRoutes } from './api.ts';
import { mountConsole } from './console/mount.ts';

/** The console and API router, and the live-update streams to close on shutdown. */
export interface ConsoleAndApi {
  router: express.Router;
  live: { close(): void };
}

/** Builds the console and the call API over `store`, with live changes from `feed`. */
export function consoleAndApi(config: Config, logger: Logger, store: CallStore, feed: CallFeed): ConsoleAndApi {
  const router = express.Router();
  const pages = mountConsole(router, { token: config.consoleToken, logger, feed });
  router.use(apiRoutes({ reader: store.reader, guard: pages.guard, logger }));
  return { router, live: pages.live };
}
