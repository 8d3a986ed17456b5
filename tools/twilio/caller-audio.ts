/**
 * The caller's side of the line: μ-law utterances waiting to be cut into Twilio's fixed-size inbound
 * frames. Pure (no timers, no sockets); the media client asks for one frame per tick of its clock.
 *
 * Twilio never stops sending: when nobody speaks it still sends frames, full of silence. So every frame
 * is exactly `frameBytes` long, and the tail of the last utterance is padded with silence rather than
 * being sent short.
 */

/** μ-law code for zero amplitude (Twilio's silence frames are all 0xFF). */
export const MULAW_SILENCE = 0xff;

/**
 * When an utterance was on the line, in stream time (ms since the stream started, the same clock as
 * `media.timestamp`): from the moment its first byte was captured to the moment its last byte ended.
 */
export interface SpeechTiming {
  startedAtMs: number;
  endedAtMs: number;
}

interface Utterance {
  bytes: Buffer;
  offset: number;
  startedAtMs: number | undefined;
  resolve: (timing: SpeechTiming) => void;
  reject: (error: Error) => void;
}

/** FIFO of caller utterances, consumed frame by frame. */
export class CallerAudioQueue {
  #queue: Utterance[] = [];

  /**
   * Queues an utterance behind those already queued.
   * @returns resolves once the frame holding its last byte has been taken; rejects via {@link rejectAll}.
   *   Must not be empty (the media client handles that case, since only it knows the time).
   */
  push(bytes: Buffer): Promise<SpeechTiming> {
    return new Promise<SpeechTiming>((resolve, reject) => {
      this.#queue.push({ bytes, offset: 0, startedAtMs: undefined, resolve, reject });
    });
  }

  /** Bytes of caller audio not yet put into a frame. */
  pendingBytes(): number {
    let total = 0;
    for (const u of this.#queue) total += u.bytes.length - u.offset;
    return total;
  }

  /**
   * Builds the next frame. Utterances finished by this frame are resolved (their callbacks run after the
   * current synchronous code, i.e. after the caller has sent the frame).
   * @param frameBytes frame length; 160 for Twilio's 20 ms frames.
   * @param frameStartMs stream time of the frame's first byte (its `media.timestamp`).
   * @param bytesPerMs 8 for μ-law at 8 kHz; converts byte offsets inside the frame to time.
   * @returns the frame and whether any caller audio is in it (false: pure silence).
   */
  nextFrame(frameBytes: number, frameStartMs: number, bytesPerMs: number): { payload: Buffer; speech: boolean } {
    const payload = Buffer.alloc(frameBytes, MULAW_SILENCE);
    let filled = 0;
    for (let u = this.#queue[0]; u !== undefined && filled < frameBytes; u = this.#queue[0]) {
      u.startedAtMs ??= frameStartMs + filled / bytesPerMs;
      const n = Math.min(frameBytes - filled, u.bytes.length - u.offset);
      u.bytes.copy(payload, filled, u.offset, u.offset + n);
      u.offset += n;
      filled += n;
      if (u.offset < u.bytes.length) break;
      this.#queue.shift();
      u.resolve({ startedAtMs: u.startedAtMs, endedAtMs: frameStartMs + filled / bytesPerMs });
    }
    return { payload, speech: filled > 0 };
  }

  /** Fails every queued utterance, e.g. because the stream closed before it could be sent. */
  rejectAll(error: Error): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const u of queue) u.reject(error);
  }
}
