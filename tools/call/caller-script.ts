/**
 * The simulated caller's script, and the options that shape it: when to speak (after the greeting,
 * after each reply, or barging in) and how long to wait for the agent. It only polls the media client
 * and the call timeline; the call flow around it (webhooks, connect, hang-up) is in `run-call.ts`.
 *
 *   greeting ──quiet──▶ say turn 1 ──▶ reply 1 ──quiet──▶ say turn 2 … ──▶ done
 *                                         └── barge-in: say turn n+1 bargeInAfterMs after reply n starts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpeechTiming, TwilioMediaClient } from '../twilio/media-client.ts';
import type { CallTimeline } from './call-timeline.ts';
import type { CallOptions } from './types.ts';

/** How often the script looks at the line while waiting. */
const POLL_MS = 20;

/** Defaults of {@link CallOptions}. */
export const CALL_DEFAULTS = {
  greetingMaxWaitMs: 8000,
  replyMaxWaitMs: 15_000,
  quietMs: 1500,
  maxCallMs: 120_000,
  from: '+972500000001',
  to: '+97230000001',
} as const;

/** The checked options the script runs with. */
export interface ScriptSettings {
  audio: Buffer;
  /** Audio of turn n is `turnAudio[n - 1]` when given, else `audio`. */
  turnAudio: readonly Buffer[];
  turns: number;
  bargeInAfterMs: number | undefined;
  greetingMaxWaitMs: number;
  replyMaxWaitMs: number;
  quietMs: number;
  maxCallMs: number;
}

/** What the script works with: `o` are the checked options; `timings` gets each turn's speech as it ends. */
export interface Conversation {
  client: TwilioMediaClient;
  timeline: CallTimeline;
  o: ScriptSettings;
  timings: SpeechTiming[];
  notes: string[];
  signal: AbortSignal | undefined;
  isClosed: () => boolean;
}

/**
 * The caller's side of the conversation: wait for the greeting, then for each turn say the audio and
 * wait for the reply to finish (or, with barge-in, to have played for `bargeInAfterMs`). Returns when
 * the script is done, the socket closed, the signal aborted, or `maxCallMs` was reached; the caller
 * of this function hangs up. Anything worth knowing is pushed to `notes`.
 */
export async function converse(c: Conversation): Promise<void> {
  const { client, timeline, o, notes } = c;
  const until = async (done: () => boolean, deadlineMs: number): Promise<'done' | 'deadline' | 'ended'> => {
    for (;;) {
      if (done()) return 'done';
      if (c.isClosed() || c.signal?.aborted) return 'ended';
      const left = Math.min(deadlineMs, o.maxCallMs) - client.now();
      if (left <= 0) return 'deadline';
      await sleep(Math.min(POLL_MS, left));
    }
  };
  // The agent is done when audio it sent after `sinceMs` has played out and the line has stayed quiet.
  const agentDone = (sinceMs: number) => () =>
    timeline.lastReceivedAtMs >= sinceMs &&
    !client.isPlaying() &&
    client.now() - timeline.lastAgentActivityMs >= o.quietMs;

  const greeting = await until(agentDone(0), o.greetingMaxWaitMs);
  if (greeting === 'deadline' && timeline.lastReceivedAtMs >= 0 && client.now() < o.maxCallMs) {
    notes.push(`the greeting had not finished after ${o.greetingMaxWaitMs} ms; the caller spoke anyway`);
  }
  for (let turn = 1; turn <= o.turns; turn++) {
    if (c.isClosed() || c.signal?.aborted) return;
    if (client.now() >= o.maxCallMs)
      return void notes.push(`the call reached --max-call-ms (${o.maxCallMs} ms); the caller hung up`);
    timeline.callerQueued(turn);
    let timing: SpeechTiming;
    try {
      timing = await client.say(o.turnAudio[turn - 1] ?? o.audio);
    } catch {
      return; // the socket closed mid-speech; the close itself is reported
    }
    timeline.callerEnded(turn, timing);
    c.timings.push(timing);
    const replyDeadline = timing.endedAtMs + o.replyMaxWaitMs;
    if (o.bargeInAfterMs !== undefined && turn < o.turns) {
      const playing = () => timeline.phases[turn]?.firstPlayedAtMs;
      const r = await until(() => playing() !== undefined, replyDeadline);
      if (r === 'done') await until(() => false, playing()! + o.bargeInAfterMs);
      else if (r === 'deadline')
        notes.push(`turn ${turn}: no reply started within ${o.replyMaxWaitMs} ms; the caller spoke again anyway`);
    } else {
      const r = await until(agentDone(timing.endedAtMs), replyDeadline);
      if (r === 'deadline' && client.now() < o.maxCallMs) {
        const started = timeline.lastReceivedAtMs >= timing.endedAtMs;
        notes.push(`turn ${turn}: ${started ? 'the reply was still going' : 'no reply'} after ${o.replyMaxWaitMs} ms`);
      }
    }
  }
}

/**
 * Checks the options and fills in defaults.
 * @throws RangeError naming the bad option.
 */
export function scriptSettings(options: CallOptions): ScriptSettings {
  let base: URL;
  try {
    base = new URL(options.base);
  } catch {
    throw new RangeError(`base must be an http(s) URL, got ${JSON.stringify(options.base)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new RangeError(`base must be http:// or https://, got ${options.base}`);
  if (options.publicBase !== undefined && !/^https?:\/\/[^/]+\/?$/.test(options.publicBase)) {
    throw new RangeError(`publicBase must be an origin like https://gw.example.com, got ${options.publicBase}`);
  }
  if (options.audio.length === 0) throw new RangeError('audio is empty');
  const turnAudio = options.turnAudio ?? [];
  turnAudio.forEach((a, i) => {
    if (a.length === 0) throw new RangeError(`turnAudio[${i}] is empty`);
  });
  const count = (name: string, v: number | undefined, fallback: number, min: number): number => {
    const n = v ?? fallback;
    if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be a whole number ≥ ${min}, got ${v}`);
    return n;
  };
  const bargeIn = options.bargeInAfterMs;
  return {
    audio: options.audio,
    turnAudio,
    turns: count('turns', options.turns, bargeIn === undefined ? 1 : 2, 1),
    bargeInAfterMs: bargeIn === undefined ? undefined : count('bargeInAfterMs', bargeIn, 0, 0),
    greetingMaxWaitMs: count('greetingMaxWaitMs', options.greetingMaxWaitMs, CALL_DEFAULTS.greetingMaxWaitMs, 0),
    replyMaxWaitMs: count('replyMaxWaitMs', options.replyMaxWaitMs, CALL_DEFAULTS.replyMaxWaitMs, 0),
    quietMs: count('quietMs', options.quietMs, CALL_DEFAULTS.quietMs, 0),
    maxCallMs: count('maxCallMs', options.maxCallMs, CALL_DEFAULTS.maxCallMs, 1),
  };
}
