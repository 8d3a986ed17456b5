/**
 * Tuning of {@link RecognizerStream} sessions, with defaults suited to phone calls, and the
 * counters a session reports.
 */

/** Tuning; every field has a default suited to phone calls. */
export interface RecognizerStreamOptions {
  /** First restart delay after a stream error, before jitter. Default 100. */
  restartBaseDelayMs?: number;
  /** Longest restart delay. Default 2000. */
  restartMaxDelayMs?: number;
  /** This many stream failures in a row end recognition with 'failed'. Default 6. */
  maxConsecutiveFailures?: number;
  /** A stream that lived this long before failing resets the failure count. Default 10000. */
  healthyAfterMs?: number;
  /** Audio kept while no stream is open (start-up, restart backoff): the newest this many ms. Default 2000. */
  bufferWhileClosedMs?: number;
  /** Audio kept while the open stream is backpressured: the newest this many ms. Default 5000. */
  bufferWhileBusyMs?: number;
  /** A retired (half-closed) stream the server has not finished after this long is cancelled. Default 5000. */
  retireGraceMs?: number;
}

/** Fills in the defaults of {@link RecognizerStreamOptions}. */
export function recognizerStreamDefaults(opts: RecognizerStreamOptions = {}): Required<RecognizerStreamOptions> {
  return {
    restartBaseDelayMs: 100,
    restartMaxDelayMs: 2000,
    maxConsecutiveFailures: 6,
    healthyAfterMs: 10_000,
    bufferWhileClosedMs: 2000,
    bufferWhileBusyMs: 5000,
    retireGraceMs: 5000,
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
  };
}

/** Counters for logs and tests. */
export interface RecognizerStreamStats {
  /** Streams opened so far. */
  streams: number;
  /** Audio waiting for a stream, bytes. */
  queuedBytes: number;
  /** Audio dropped because a buffer was full, bytes. */
  droppedBytes: number;
}
