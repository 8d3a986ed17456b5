/**
 * A call's recording (RECORD_CALLS): a stereo 8 kHz PCM16 WAV, the caller on the left and the
 * agent on the right as Twilio played it, written while the call runs.
 *
 * The time base is the caller's audio: Twilio sends a frame every 20 ms for the whole call, silence
 * included, so each inbound frame moves the timeline on by its length. The file starts at the
 * stream's start (`media.timestamp` 0); a jump in the timestamps means frames went missing, and the
 * gap is filled with silence (up to `maxGapMs`). "Now" between frames is the last frame's end plus
 * the time since it came: frames that are late (rather than lost) still stand for that time.
 *
 * The agent channel models Twilio's playout buffer from what the Player tells its tap:
 *
 *   sent(μ-law)  ─► plays from max(end of the audio before it, now), in order, in real time
 *   cleared()    ─► everything scheduled from now on is cut (barge-in, or a pause; after a resume
 *                   the Player sends the rest again and it is scheduled anew)
 *
 * Agent audio waits in memory until the caller's timeline reaches it: the Player keeps about a
 * second ahead, and more than `maxAheadMs` is dropped (counted), never stored. At finish() the
 * agent audio that could have played by then is written, and the file is closed.
 *
 *   caller frame ─► [pos, pos + n): left = frame, right = agent audio due there ─► WavFileWriter
 *
 * Nothing here throws at the media path: the first error is logged (RECORDING_FAILED), the
 * recording is abandoned and the call goes on. Logs: RECORDING_STARTED, RECORDING_BEHIND (the
 * disk is slower than the call; audio dropped), RECORDING_DONE, RECORDING_FAILED.
 */
import path from 'node:path';
import { types } from 'node:util';
import { BYTES_PER_MS, FRAME_BYTES, SAMPLE_RATE } from '../audio/format.ts';
import { mulawDecodeSample, mulawToPcm16 } from '../audio/mulaw.ts';
import { WavFileWriter, type WavSink } from '../audio/wav-file-writer.ts';
import { interleavePcm16 } from '../audio/wav-stream.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { PlayoutTap } from './playout-events.ts';

/** Where the recording logs (a call's child logger). */
export interface RecordingLog {
  info(message: string, fields: Record<string, unknown>): unknown;
  warn(message: string, fields: Record<string, unknown>): unknown;
  error(message: string, fields: Record<string, unknown>): unknown;
}

/** Options of {@link CallRecording}. */
export interface CallRecordingOptions {
  /** DATA_DIR/recordings: the file goes to `<dir>/<UTC date>/<callSid>_<streamSid>.wav`. */
  dir: string;
  callSid: string;
  streamSid: string;
  clock: Clock;
  log: RecordingLog;
  /** Most agent audio held ahead of the caller's timeline (default 3000 ms: the Player's 1 s lead plus margin). */
  maxAheadMs?: number;
  /** Longest gap in Twilio's timestamps filled with silence (default 10000 ms). */
  maxGapMs?: number;
  /** Longest finish() waits for the disk before giving the file up (default 5000 ms). */
  finishTimeoutMs?: number;
  /** The writer's queue (default: WavFileWriter's 256 KiB, 8 s). */
  maxQueueBytes?: number;
  /** Opens the file (tests: a slow or failing sink). */
  open?: (file: string) => Promise<WavSink>;
  /** The date that names the folder (default: now). */
  date?: Date;
}

/** Samples (= μ-law bytes) per millisecond. */
const SPM = BYTES_PER_MS;
/** Stereo PCM16 bytes per millisecond. */
const WAV_BYTES_PER_MS = SPM * 4;
/** Most samples turned into one write (1 s), so a long gap or frame never makes one big buffer. */
const MAX_SPAN = SAMPLE_RATE;

interface Piece {
  /** Timeline position (samples) of its first byte. */
  start: number;
  mulaw: Buffer;
}

/** One call's recording. */
export class CallRecording {
  /** The file, relative to the recordings dir (what the call store keeps). */
  readonly path: string;
  /** Give it to the Player (`PlayerOptions.tap`). */
  readonly tap: PlayoutTap;
  readonly #o: Required<Omit<CallRecordingOptions, 'open' | 'date' | 'maxQueueBytes'>>;
  readonly #writer: WavFileWriter;
  /** Samples written: where the caller's timeline is. */
  #pos = 0;
  #lastFrameAt: number;
  /** Twilio timestamp (ms) of timeline position 0: the stream's start, until a big jump moves it. */
  #origin = 0;
  /** Agent audio not yet written, in timeline order. */
  #pieces: Piece[] = [];
  #held = 0;
  /** Where the agent audio sent so far ends (Twilio's buffer end). */
  #agentEnd = 0;
  #agentDropped = 0;
  #gapFilled = 0;
  #failed = false;
  #finishing: Promise<string | undefined> | undefined;

  constructor(o: CallRecordingOptions) {
    this.#o = { maxAheadMs: 3000, maxGapMs: 10_000, finishTimeoutMs: 5000, ...o };
    this.path = recordingName(o.callSid, o.streamSid, o.date ?? new Date());
    this.#lastFrameAt = o.clock.now();
    this.#writer = new WavFileWriter(path.join(o.dir, this.path), {
      channels: 2,
      sampleRate: SAMPLE_RATE,
      ...(o.maxQueueBytes ? { maxQueueBytes: o.maxQueueBytes } : {}),
      ...(o.open ? { open: o.open } : {}),
      onError: (err) => this.#fail(err),
      onBehind: () => o.log.warn('RECORDING_BEHIND', { file: this.path, queuedBytes: this.#writer.queuedBytes }),
    });
    this.tap = {
      sent: (mulaw) => this.#guard(() => this.#sent(mulaw)),
      cleared: () => this.#guard(() => this.#cleared()),
    };
    o.log.info('RECORDING_STARTED', { file: this.path });
  }

  /** Memory in use and audio given up so far (bytes): the writer's queue, the agent audio held ahead. */
  get stats(): { queuedBytes: number; heldAgentBytes: number; droppedBytes: number; agentDroppedBytes: number } {
    return {
      queuedBytes: this.#writer.queuedBytes,
      heldAgentBytes: this.#held,
      droppedBytes: this.#writer.droppedBytes,
      agentDroppedBytes: this.#agentDropped,
    };
  }

  /** An inbound frame (μ-law) and Twilio's `media.timestamp` (ms) when it has one. */
  caller(mulaw: Buffer, timestamp?: number): void {
    this.#guard(() => {
      this.#fillGap(timestamp, mulaw.length);
      this.#append(mulaw.length, mulaw);
      this.#lastFrameAt = this.#o.clock.now();
    });
  }

  /**
   * Ends the recording: writes the agent audio that could have played by now, closes the file and
   * resolves with its path (relative to the recordings dir), or undefined when there is no playable
   * file. Later frames and tap calls are ignored. Idempotent; never rejects.
   */
  finish(): Promise<string | undefined> {
    if (!this.#finishing) {
      this.#guard(() => this.#flush());
      this.#finishing = this.#close();
    }
    return this.#finishing;
  }

  async #close(): Promise<string | undefined> {
    this.#pieces = [];
    this.#held = 0;
    const { clock, finishTimeoutMs, log } = this.#o;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = clock.setTimeout(() => resolve('timeout'), finishTimeoutMs);
    });
    const result = await Promise.race([this.#writer.close(), timeout]);
    if (timer !== undefined) clock.clearTimeout(timer);
    if (result === 'timeout') {
      this.#fail(new Error(`the file was not finished within ${finishTimeoutMs} ms`));
      return undefined;
    }
    if (result.status === 'failed') return undefined;
    log.info('RECORDING_DONE', {
      file: this.path,
      ms: Math.round(result.dataBytes / WAV_BYTES_PER_MS),
      complete: result.status === 'ok',
      droppedMs: Math.round(result.droppedBytes / WAV_BYTES_PER_MS),
      agentDroppedMs: Math.round(this.#agentDropped / SPM),
      gapMs: Math.round(this.#gapFilled / SPM),
    });
    return this.path;
  }

  /** The caller's timeline now: the last frame's end plus the time since it came (at most maxGapMs). */
  #now(): number {
    const since = Math.round((this.#o.clock.now() - this.#lastFrameAt) * SPM);
    return this.#pos + Math.min(Math.max(0, since), this.#o.maxGapMs * SPM);
  }

  #sent(mulaw: Buffer): void {
    const start = Math.max(this.#agentEnd, this.#now());
    this.#agentEnd = start + mulaw.length;
    if (this.#held + mulaw.length > this.#o.maxAheadMs * SPM) {
      this.#agentDropped += mulaw.length; // its stretch stays silent, so what follows keeps its place
      return;
    }
    this.#pieces.push({ start, mulaw: Buffer.from(mulaw) });
    this.#held += mulaw.length;
  }

  #cleared(): void {
    const at = this.#now();
    if (this.#agentEnd <= at) return;
    this.#agentEnd = at;
    for (let last = this.#pieces.at(-1); last; last = this.#pieces.at(-1)) {
      const end = last.start + last.mulaw.length;
      if (end <= at) break;
      if (last.start >= at) {
        this.#pieces.pop();
        this.#held -= last.mulaw.length;
        continue;
      }
      this.#held -= end - at;
      last.mulaw = last.mulaw.subarray(0, at - last.start);
      break;
    }
  }

  /** Silence for frames Twilio's timestamps say went missing; the origin follows big jumps. */
  #fillGap(timestamp: number | undefined, frameLen: number): void {
    if (timestamp === undefined || !Number.isFinite(timestamp)) return;
    const gap = Math.round((timestamp - this.#origin) * SPM) - this.#pos;
    if (gap >= FRAME_BYTES / 2) {
      const fill = Math.min(gap, this.#o.maxGapMs * SPM);
      this.#append(fill, undefined);
      this.#gapFilled += fill;
      if (fill < gap) this.#origin = timestamp - this.#pos / SPM;
    } else if (gap < -Math.max(frameLen, FRAME_BYTES)) {
      this.#origin = timestamp - this.#pos / SPM; // timestamps running behind the audio: follow them
    }
  }

  /** Writes what could have played: up to now, at most to the end of the agent audio. */
  #flush(): void {
    const target = Math.min(this.#agentEnd, this.#now());
    if (target > this.#pos) this.#append(target - this.#pos, undefined);
  }

  /** Writes `n` samples of the timeline: the caller's (or silence) left, the agent's due audio right. */
  #append(n: number, mulaw: Buffer | undefined): void {
    for (let off = 0; off < n; off += MAX_SPAN) {
      const len = Math.min(MAX_SPAN, n - off);
      const left = mulaw ? mulawToPcm16(mulaw.subarray(off, off + len)) : new Int16Array(len);
      const right = new Int16Array(len);
      const from = this.#pos;
      const to = from + len;
      let used = 0;
      for (const p of this.#pieces) {
        if (p.start >= to) break;
        const end = p.start + p.mulaw.length;
        for (let s = Math.max(p.start, from); s < Math.min(end, to); s++) {
          right[s - from] = mulawDecodeSample(p.mulaw[s - p.start]!);
        }
        if (end > to) break;
        used++;
        this.#held -= p.mulaw.length;
      }
      if (used > 0) this.#pieces.splice(0, used);
      this.#writer.write(interleavePcm16(left, right));
      this.#pos = to;
    }
  }

  #guard(fn: () => void): void {
    if (this.#failed || this.#finishing) return;
    try {
      fn();
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#pieces = [];
    this.#held = 0;
    const error = types.isNativeError(err) ? err : new Error(String(err));
    this.#o.log.error('RECORDING_FAILED', { file: this.path, error: error.message });
    this.#writer.abandon(error);
  }
}

/** `<UTC date>/<callSid>_<streamSid>.wav`, with anything but letters, digits and `-` made `_`. */
export function recordingName(callSid: string, streamSid: string, date: Date): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 64) || '_';
  return `${date.toISOString().slice(0, 10)}/${safe(callSid)}_${safe(streamSid)}.wav`;
}
