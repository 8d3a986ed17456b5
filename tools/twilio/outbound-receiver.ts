/**
 * Twilio's handling of what a gateway sends on the media socket: validate each frame, feed `media`,
 * `mark` and `clear` to the real-time playout model, and keep what the caller heard. The media client
 * owns the socket and the sequence counter, so mark echoes go back through its `echoMark` hook.
 */
import { validateOutbound } from './outbound-validator.ts';
import type { Violation } from './outbound-validator.ts';
import { PlayoutBuffer } from './playout-buffer.ts';
import type { ClientEventDetails, EventOf, Timeline } from './timeline.ts';
import { BYTES_PER_MS } from '../../media/audio/format.ts';

/** What the receiver needs from its owner. */
export interface OutboundReceiverHooks {
  /** Stream clock in ms. */
  now: () => number;
  /** Where receptions, playback, echoes and violations are recorded. */
  timeline: Timeline;
  /** Sends the `mark` echo (the owner numbers it) and records `mark-echoed`. */
  echoMark: (name: string, cleared: boolean) => void;
}

/** A violation as recorded: when it happened and whether the message was refused (not acted on). */
export type RecordedViolation = Violation & { atMs: number; dropped: boolean };

/** Receives the gateway's frames for one stream and plays its audio in real time. */
export class OutboundReceiver {
  readonly #hooks: OutboundReceiverHooks;
  readonly #streamSid: string;
  readonly #tickMs: number;
  readonly #playout: PlayoutBuffer;
  readonly #violations: RecordedViolation[] = [];
  readonly #heard: Buffer[] = [];
  readonly #seenMarks = new Set<string>();
  /** Details of received chunks that have not started playing, to fill in `playStartedAtMs`. */
  readonly #unplayed = new Map<number, ClientEventDetails['recv-media']>();
  #received = 0;
  #overflowReported = false;
  #timer: NodeJS.Timeout | undefined;

  /** @param playoutTickMs how often playback is looked at while audio is queued (default 10 ms). */
  constructor(hooks: OutboundReceiverHooks, streamSid: string, playoutTickMs = 10) {
    this.#hooks = hooks;
    this.#streamSid = streamSid;
    this.#tickMs = playoutTickMs;
    const { timeline } = hooks;
    this.#playout = new PlayoutBuffer(
      {
        playbackStarted: (atMs) => timeline.record('playback-start', {}, atMs),
        chunkStarted: (chunkId, atMs) => {
          const detail = this.#unplayed.get(chunkId);
          if (detail !== undefined) detail.playStartedAtMs = atMs;
          this.#unplayed.delete(chunkId);
        },
        played: (bytes) => void this.#heard.push(bytes),
        markReached: (name, _atMs, cleared) => hooks.echoMark(name, cleared),
        playbackEnded: (atMs, reason) => timeline.record('playback-end', { reason }, atMs),
      },
      { bytesPerMs: BYTES_PER_MS },
    );
  }

  /** Violations and project-rule warnings so far, in arrival order. */
  get violations(): readonly RecordedViolation[] {
    return this.#violations;
  }

  /**
   * Handles one frame from the gateway. Refused frames are recorded as violations and otherwise ignored.
   * @param started whether `start` has been sent; before it, every frame is a violation.
   */
  receive(raw: Buffer, isBinary: boolean, started: boolean): void {
    const ctx = { streamSid: started ? this.#streamSid : undefined, seenMarks: this.#seenMarks };
    const result = validateOutbound(raw, isBinary, ctx);
    if (!result.ok) return this.#violation(result.violation, true);
    for (const warning of result.warnings) this.#violation(warning, false);
    const { message } = result;
    const { timeline } = this.#hooks;
    const now = this.#hooks.now();
    if (message.event === 'media') {
      const chunkId = ++this.#received;
      const bytes = Buffer.from(message.media.payload, 'base64');
      const detail = { chunkId, bytes: bytes.length, playStartedAtMs: undefined };
      this.#unplayed.set(chunkId, detail);
      timeline.record('recv-media', detail, now);
      const discarded = this.#playout.enqueueAudio(bytes, chunkId, now);
      if (discarded > 0 && !this.#overflowReported) {
        this.#overflowReported = true; // like Twilio, report 31931 once per stream
        this.#violation({ code: '31931', reason: `playout buffer full; ${discarded} bytes discarded` }, true);
      }
    } else if (message.event === 'mark') {
      this.#seenMarks.add(message.mark.name);
      timeline.record('recv-mark', { name: message.mark.name }, now);
      this.#playout.enqueueMark(message.mark.name, now);
    } else {
      timeline.record('recv-clear', {}, now);
      timeline.record('cleared', this.#playout.clear(now), now);
    }
    this.#ensureTimer();
  }

  /** The μ-law the caller has heard so far: played audio only, never what `clear` discarded. */
  heard(): Buffer {
    this.#playout.advance(this.#hooks.now());
    return Buffer.concat(this.#heard);
  }

  /** Milliseconds of audio queued and not yet played. */
  bufferedMs(): number {
    return this.#playout.bufferedMs(this.#hooks.now());
  }

  /** Whether audio is playing right now. */
  isPlaying(): boolean {
    return this.#playout.isPlaying(this.#hooks.now());
  }

  /** See {@link TwilioMediaClient.firstAudioAfter}. */
  firstAudioAfter(afterMs: number): { receivedAtMs: number; playStartedAtMs: number | undefined } | undefined {
    this.#playout.advance(this.#hooks.now());
    const isMedia = (e: { kind: string; atMs: number }): e is EventOf<'recv-media'> =>
      e.kind === 'recv-media' && e.atMs >= afterMs;
    const e = this.#hooks.timeline.events.find(isMedia);
    return e && { receivedAtMs: e.atMs, playStartedAtMs: e.detail.playStartedAtMs };
  }

  /** The stream ended: stops the playout timer and drops queued audio without echoing marks. */
  halt(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#playout.halt(this.#hooks.now());
  }

  // The timer only decides how often playback is looked at; how much has played comes from elapsed time.
  #ensureTimer(): void {
    if (this.#timer !== undefined || !this.isPlaying()) return;
    this.#timer = setInterval(() => {
      if (this.isPlaying()) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    }, this.#tickMs);
  }

  #violation(violation: Violation, dropped: boolean): void {
    const atMs = this.#hooks.now();
    this.#violations.push({ ...violation, atMs, dropped });
    this.#hooks.timeline.record('violation', { ...violation, dropped }, atMs);
  }
}
