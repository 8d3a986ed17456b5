/**
 * The bounded audio buffer of a recognition session: caller audio waits here while no stream is
 * open or the open one pushes back, and only the newest audio is kept. A caller's words from
 * seconds ago are worth less than memory that cannot grow; what is dropped is counted.
 */

/** 8 kHz μ-law: one byte per sample. */
export const MULAW_BYTES_PER_MS = 8;

/** Chunks of μ-law in arrival order, capped by duration at each insertion. */
export class RecognizerBuffer {
  private chunks: Buffer[] = [];
  /** Bytes waiting. */
  bytes = 0;
  /** Bytes dropped so far because the buffer was full. */
  dropped = 0;

  /**
   * Adds `chunk` at the end (or at the front with `first`: audio that was already due, such as
   * the rest of a split write), then drops the oldest audio beyond `capMs`.
   */
  add(chunk: Buffer, capMs: number, first = false): void {
    if (first) this.chunks.unshift(chunk);
    else this.chunks.push(chunk);
    this.bytes += chunk.length;
    const cap = capMs * MULAW_BYTES_PER_MS;
    while (this.bytes > cap && this.chunks.length > 0) {
      const oldest = this.chunks[0]!;
      const cut = Math.min(this.bytes - cap, oldest.length);
      if (cut === oldest.length) this.chunks.shift();
      else this.chunks[0] = oldest.subarray(cut);
      this.bytes -= cut;
      this.dropped += cut;
    }
  }

  /** The oldest chunk, removed; undefined when empty. */
  take(): Buffer | undefined {
    const chunk = this.chunks.shift();
    if (chunk) this.bytes -= chunk.length;
    return chunk;
  }

  /** Drops everything waiting (not counted as dropped: the session is over). */
  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}
