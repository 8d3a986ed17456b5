/**
 * An in-memory WavSink for the WAV writer's tests: bytes land at their positions in a growing
 * buffer, writes can be held (a slow disk) and failed on purpose, and the largest backlog is kept.
 */
import type { WavSink } from '../../media/audio/wav-file-writer.ts';
import { parseWav } from '../../media/audio/wav.ts';

/** A controllable sink. */
export class MemorySink implements WavSink {
  bytes = Buffer.alloc(0);
  writes = 0;
  closed = false;
  /** While true, writes wait for release(). */
  held = false;
  /** The write with this number (1-based) rejects. */
  failAt: number | undefined;
  /** Every write from this number (1-based) on rejects: a disk that stays full. */
  failFrom: number | undefined;
  #waiting: Array<() => void> = [];

  async write(data: Buffer, position: number): Promise<void> {
    const n = ++this.writes;
    if (this.held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    if (n === this.failAt || (this.failFrom !== undefined && n >= this.failFrom))
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const end = position + data.length;
    if (end > this.bytes.length) this.bytes = Buffer.concat([this.bytes, Buffer.alloc(end - this.bytes.length)]);
    data.copy(this.bytes, position);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Lets held writes (and later ones) through. */
  release(): void {
    this.held = false;
    for (const go of this.#waiting.splice(0)) go();
  }
}

/** The two channels of a 16-bit stereo WAV. */
export function stereoChannels(wav: Buffer): { left: Int16Array; right: Int16Array; channels: number; rate: number } {
  const info = parseWav(wav);
  const frames = Math.floor(info.data.length / 4);
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = info.data.readInt16LE(i * 4);
    right[i] = info.data.readInt16LE(i * 4 + 2);
  }
  return { left, right, channels: info.channels, rate: info.sampleRate };
}

/** Lets pending promise callbacks (the writer's loop on a MemorySink) run; works under fake timers. */
export async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
