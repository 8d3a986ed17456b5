/**
 * Drives one recognition session in a test: collects its events, writes audio (synchronously, or
 * a second at a time once the session's queue is empty so a backpressure cap never drops audio a
 * real call would not produce this fast), and waits for events matching a predicate.
 */
import { readFileSync } from 'node:fs';
import type {
  RecognizerEvent,
  RecognizerOptions,
  RecognizerSession,
  SpeechRecognizer,
} from '../../media/providers/types.ts';

/** 2.16 s of real Hebrew speech, 8 kHz μ-law, no trailing silence. */
export const SPEECH = readFileSync(new URL('../fixtures/caller-hebrew.ulaw', import.meta.url));
/** `ms` of μ-law silence. */
export const silence = (ms: number): Buffer => Buffer.alloc(ms * 8, 0xff);
/** Speech followed by enough silence for the emulators to end the utterance. */
export const UTTERANCE = Buffer.concat([SPEECH, silence(600)]);

const tick = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A session with the stats() the Google adapters have (the fake has none). */
type Session = RecognizerSession & { stats?: () => { queuedBytes: number } };

/** A running session under test. */
export interface SessionRun {
  session: Session;
  events: RecognizerEvent[];
  abort: AbortController;
  /** Writes `audio` in 100 ms chunks, synchronously. */
  feed(audio: Buffer): void;
  /** Writes `audio` a second at a time, waiting for the session's queue to empty in between. */
  stream(audio: Buffer): Promise<void>;
  /** Resolves with the first event (from index `from`) matching `pred`; rejects after `timeoutMs`. */
  next(pred: (e: RecognizerEvent) => boolean, from?: number, timeoutMs?: number): Promise<RecognizerEvent>;
  /** Waits `ms` and resolves with the events that arrived meanwhile. */
  settle(ms: number): Promise<RecognizerEvent[]>;
}

/** Starts a session of `recognizer`; `cleanups` gets its close(). */
export function runSession(
  recognizer: SpeechRecognizer,
  cleanups: Array<() => unknown>,
  opts: RecognizerOptions = {},
): SessionRun {
  const events: RecognizerEvent[] = [];
  const listeners = new Set<() => void>();
  const abort = new AbortController();
  const session: Session = recognizer.start(
    (e) => {
      events.push(e);
      for (const l of [...listeners]) l();
    },
    abort.signal,
    opts,
  );
  cleanups.push(() => session.close());
  const feed = (audio: Buffer): void => {
    for (let i = 0; i < audio.length; i += 800) session.write(audio.subarray(i, i + 800));
  };
  const drained = async (): Promise<void> => {
    while ((session.stats?.().queuedBytes ?? 0) > 0) await tick();
  };
  return {
    session,
    events,
    abort,
    feed,
    async stream(audio) {
      for (let i = 0; i < audio.length; i += 8000) {
        await drained();
        feed(audio.subarray(i, i + 8000));
      }
      await drained();
    },
    next(pred, from = 0, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = events.slice(from).find(pred);
          if (!found) return false;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const listener = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
        }, timeoutMs);
        listeners.add(listener);
        check();
      });
    },
    async settle(ms) {
      const from = events.length;
      await tick(ms);
      return events.slice(from);
    },
  };
}

/** Matches events of one type. */
export const isType =
  (type: RecognizerEvent['type']) =>
  (e: RecognizerEvent): boolean =>
    e.type === type;
