/**
 * The μ-law in the chunks of a streaming synthesis. Whether Google puts a WAV header on streamed
 * MULAW is UNCONFIRMED (the proto's comment on the response is stale), so any chunk that starts
 * with one (also one split over several chunks) has it checked and removed; headerless chunks pass
 * unchanged. A caller must never hear header bytes, nor audio in a format Twilio would play as noise.
 */
import { parseWav, WavError, WAV_FORMAT } from '../audio/wav.ts';
import { providerError } from './errors.ts';

/** A header this long that still does not parse is not a header in pieces but a broken one. */
const MAX_HEADER_BYTES = 4096;

/** Strips streamed WAV headers, one chunk at a time (stateful: a header may span chunks). */
export class StreamedMulaw {
  private partial: Buffer | undefined;

  /**
   * The playable μ-law of `chunk` (empty while a split header is being collected). Throws a
   * BAD_AUDIO ProviderError for a header that is unreadable or not μ-law 8000 Hz mono.
   */
  push(chunk: Buffer): Buffer {
    const bytes = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    if (!this.partial && (bytes.length < 4 || bytes.toString('latin1', 0, 4) !== 'RIFF')) return bytes;
    let wav;
    try {
      wav = parseWav(bytes);
    } catch (err) {
      if (err instanceof WavError && err.code === 'WAV_TRUNCATED' && bytes.length < MAX_HEADER_BYTES) {
        this.partial = bytes; // the rest of the header is in the next chunk
        return Buffer.alloc(0);
      }
      if (err instanceof WavError && err.code === 'WAV_NOT_RIFF') return bytes;
      throw providerError('tts', 'BAD_AUDIO', `unreadable WAV header in the audio stream (${String(err)})`);
    }
    this.partial = undefined;
    if (wav.formatTag !== WAV_FORMAT.MULAW || wav.sampleRate !== 8000 || wav.channels !== 1) {
      throw providerError(
        'tts',
        'BAD_AUDIO',
        `expected μ-law 8000 Hz mono, got format ${wav.formatTag}, ${wav.sampleRate} Hz, ${wav.channels} channel(s)`,
      );
    }
    // A streamed data chunk cannot know its length: everything after its header is audio.
    return bytes.subarray(wav.data.byteOffset - bytes.byteOffset);
  }
}
