/**
 * A PCM16 WAV file written as it goes (wav-stream.ts gives the framing). `write()` only queues and
 * returns; one write at a time goes to disk, coalescing what queued meanwhile. It never throws and
 * never rejects, so the media path that feeds it cannot be hurt by the disk:
 *
 * - the queue is bounded (`maxQueueBytes`): audio that does not fit is dropped and counted, and its
 *   place is written as zeros once the disk catches up, so what follows stays at the right time;
 * - the first I/O error abandons the file: `onError` is told once, later writes are ignored, and
 *   close() still tries to patch the header so the audio already on disk stays playable.
 *
 *   new ─open─► writing ─close()─► flush queue ─► patch sizes ─► closed
 *                  └─ I/O error ─► abandoned ─close()─► patch sizes (best effort) ─► closed
 */
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { types } from 'node:util';
import { MAX_WAV_DATA_BYTES, STREAM_HEADER_BYTES, streamingWavHeader, wavFinishPatches } from './wav-stream.ts';

/** Where the bytes go: a file handle in production, memory in tests. */
export interface WavSink {
  /** Writes all of `data` at byte `position`; rejects on failure. */
  write(data: Buffer, position: number): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link WavFileWriter}. */
export interface WavFileWriterOptions {
  channels: number;
  sampleRate: number;
  /** Sample bytes held in memory waiting for the disk (default 256 KiB: 8 s of 8 kHz stereo). */
  maxQueueBytes?: number;
  /** Opens the destination (default: creates `file` and its folder; fails if the file exists). */
  open?: (file: string) => Promise<WavSink>;
  /** Called once, with the error that abandoned the file. */
  onError?: (err: Error) => void;
  /** Called once, the first time audio is dropped because the disk is behind. */
  onBehind?: () => void;
}

/** How a file ended up. */
export interface WavFileResult {
  /**
   * ok: every byte written and the header patched; partial: abandoned after an error, but the
   * header was patched, so the first `dataBytes` play; failed: no playable file.
   */
  status: 'ok' | 'partial' | 'failed';
  /** Sample bytes in the file (zeros written for dropped audio included). */
  dataBytes: number;
  /** Sample bytes dropped because the queue was full (written as zeros) or the file was full. */
  droppedBytes: number;
  error?: Error;
}

/** Largest single write: coalesced chunks and runs of zeros are cut to this. */
const MAX_WRITE_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(MAX_WRITE_BYTES);

/** Writes one streamed WAV file. */
export class WavFileWriter {
  readonly file: string;
  readonly #o: Required<Omit<WavFileWriterOptions, 'onError' | 'onBehind'>> &
    Pick<WavFileWriterOptions, 'onError' | 'onBehind'>;
  /** Sample chunks waiting for the disk, and runs of zeros (a number of bytes) standing for dropped audio. */
  readonly #queue: Array<Buffer | number> = [];
  #queuedBytes = 0;
  /** Bytes of the write on its way to disk. */
  #inFlight = 0;
  /** Sample bytes accepted so far (queued or written, zeros included). */
  #accepted = 0;
  #written = 0;
  #dropped = 0;
  #sink: Promise<WavSink | undefined>;
  #loop: Promise<void> | undefined;
  #error: Error | undefined;
  #closing: Promise<WavFileResult> | undefined;

  /** Starts creating `file` (see `open`); nothing throws here, a failure shows in close()'s result. */
  constructor(file: string, opts: WavFileWriterOptions) {
    this.file = file;
    this.#o = { maxQueueBytes: 256 * 1024, open: openFile, ...opts };
    const header = streamingWavHeader(opts.channels, opts.sampleRate);
    this.#sink = this.#o
      .open(file)
      .then(async (sink) => {
        await sink.write(header, 0);
        return sink;
      })
      .catch((err: unknown) => {
        this.#fail(err);
        return undefined;
      });
    void this.#sink.then(() => this.#pump());
  }

  /** Queues sample bytes (whole frames) behind the previous ones. Never throws. */
  write(chunk: Buffer): void {
    if (this.#error || this.#closing || chunk.length === 0) return;
    if (this.#accepted + chunk.length > MAX_WAV_DATA_BYTES) {
      this.#dropped += chunk.length; // the file is full: nothing more can be declared
      return;
    }
    this.#accepted += chunk.length;
    if (this.queuedBytes + chunk.length > this.#o.maxQueueBytes) {
      if (this.#dropped === 0) this.#o.onBehind?.();
      this.#dropped += chunk.length;
      const last = this.#queue.at(-1);
      if (typeof last === 'number') this.#queue[this.#queue.length - 1] = last + chunk.length;
      else this.#queue.push(chunk.length);
    } else {
      this.#queue.push(chunk);
      this.#queuedBytes += chunk.length;
    }
    this.#pump();
  }

  /** Sample bytes in memory waiting for the disk (at most `maxQueueBytes`). */
  get queuedBytes(): number {
    return this.#queuedBytes + this.#inFlight;
  }

  /** Sample bytes dropped so far. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** True once an error abandoned the file. */
  get failed(): boolean {
    return this.#error !== undefined;
  }

  /** Stops writing (what is queued is dropped); close() then patches what is on disk. Idempotent. */
  abandon(reason: Error): void {
    this.#fail(reason);
  }

  /** Flushes the queue, patches the sizes and closes the file. Idempotent; never rejects. */
  close(): Promise<WavFileResult> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<WavFileResult> {
    const sink = await this.#sink;
    this.#pump();
    while (this.#loop) await this.#loop;
    const result = (status: WavFileResult['status']): WavFileResult => ({
      status,
      dataBytes: this.#written,
      droppedBytes: this.#dropped,
      ...(this.#error ? { error: this.#error } : {}),
    });
    if (!sink) return result('failed');
    let patched = true;
    try {
      for (const p of wavFinishPatches(this.#written)) await sink.write(p.bytes, p.offset);
    } catch (err) {
      this.#fail(err);
      patched = false;
    }
    try {
      await sink.close();
    } catch (err) {
      this.#fail(err);
    }
    return result(!patched ? 'failed' : this.#error ? 'partial' : 'ok');
  }

  #pump(): void {
    if (this.#loop || this.#error || this.#queue.length === 0) return;
    this.#loop = this.#drain().finally(() => {
      this.#loop = undefined;
      this.#pump();
    });
  }

  async #drain(): Promise<void> {
    const sink = await this.#sink;
    if (!sink) return;
    try {
      while (this.#queue.length > 0 && !this.#error) {
        const head = this.#queue[0]!;
        if (typeof head === 'number') {
          const n = Math.min(head, MAX_WRITE_BYTES);
          await sink.write(ZEROS.subarray(0, n), STREAM_HEADER_BYTES + this.#written);
          this.#written += n;
          if (this.#error) break;
          // write() may have added to this run meanwhile: take off only what was written.
          const left = (this.#queue[0] as number) - n;
          if (left > 0) this.#queue[0] = left;
          else this.#queue.shift();
          continue;
        }
        const parts: Buffer[] = [];
        let size = 0;
        while (this.#queue.length > 0 && Buffer.isBuffer(this.#queue[0])) {
          const next = this.#queue[0];
          if (size > 0 && size + next.length > MAX_WRITE_BYTES) break;
          parts.push(next);
          size += next.length;
          this.#queue.shift();
        }
        this.#queuedBytes -= size;
        this.#inFlight = size;
        const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
        await sink.write(data, STREAM_HEADER_BYTES + this.#written);
        this.#written += size;
        this.#inFlight = 0;
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#inFlight = 0;
    }
  }

  #fail(err: unknown): void {
    if (this.#error) return;
    this.#error = types.isNativeError(err) ? err : new Error(String(err)); // fs errors may come from another realm
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#o.onError?.(this.#error);
  }
}

/** Creates `file` (and its folder) for writing; fails if it already exists. */
async function openFile(file: string): Promise<WavSink> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'wx');
  return {
    async write(data, position) {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
        if (bytesWritten <= 0) throw new Error(`no progress writing ${path.basename(file)}`);
        done += bytesWritten;
      }
    },
    close: () => handle.close(),
  };
}
