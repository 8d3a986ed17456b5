/**
 * The speech detector shared by the v1 and v2 STT emulators: it reacts to the audio it is sent,
 * not to a clock. Every 20 ms window of decoded audio is classified as speech or silence by its
 * RMS, and all times are audio time, so results are identical however fast the audio is pushed.
 *
 * One utterance, as seen by the detector (times are audio time):
 *
 *   silence ──loud window──▶ speaking ──speech ≥ minSpeechMs──▶ recognised ─┬─ every interimEveryMs of speech: interim
 *      ▲                        │                                            │
 *      └── endSilenceMs quiet ──┘ (noise: nothing sent)                      └─ endSilenceMs quiet (or flush): final
 */
import { mulawToPcm16 } from '../../media/audio/mulaw.ts';

/** Duration of one analysed window of audio. */
export const WINDOW_MS = 20;

/** Thresholds of {@link UtteranceDetector}. */
export interface DetectorOptions {
  /** A window whose decoded PCM16 RMS is at least this counts as speech. */
  speechRms: number;
  /** An interim is due after every this many ms of speech. */
  interimEveryMs: number;
  /** This much silence after speech ends the utterance. */
  endSilenceMs: number;
  /** Utterances with less speech than this are noise. */
  minSpeechMs: number;
}

/** What the audio just pushed means for recognition, in order. */
export type DetectorAction =
  /** An utterance became more than noise (`atMs`: where its speech started). */
  | { type: 'begin'; utterance: number; atMs: number }
  /** Interim number `count` (1-based) of an utterance is due. */
  | { type: 'interim'; utterance: number; count: number; speechMs: number; atMs: number }
  /** A recognised utterance ended (`endMs`: end of its last speech window). */
  | { type: 'end'; utterance: number; speechMs: number; endMs: number; atMs: number }
  /** Loud audio too short to be speech ended. */
  | { type: 'noise'; speechMs: number; atMs: number };

interface Utterance {
  startMs: number;
  endMs: number;
  speechMs: number;
  silenceMs: number;
  /** -1 until the utterance has enough speech to be more than noise. */
  index: number;
  interims: number;
}

/** Decoded audio format of a stream: μ-law or 16-bit little-endian PCM, mono. */
export interface AudioFormat {
  encoding: 'MULAW' | 'LINEAR16';
  sampleRate: number;
}

/** Segments one stream's audio into utterances. Pure: no timers, no I/O. */
export class UtteranceDetector {
  private readonly o: DetectorOptions;
  private readonly decode: (b: Buffer) => Int16Array;
  private readonly windowBytes: number;
  /** Bytes per ms of audio of the stream's format. */
  readonly bytesPerMs: number;
  private pending: Buffer = Buffer.alloc(0);
  private windows = 0;
  private utt: Utterance | undefined;
  private utterances = 0;

  constructor(o: DetectorOptions, format: AudioFormat) {
    this.o = o;
    const bytesPerSample = format.encoding === 'LINEAR16' ? 2 : 1;
    this.decode =
      format.encoding === 'LINEAR16'
        ? (b) => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))
        : mulawToPcm16;
    this.bytesPerMs = (format.sampleRate / 1000) * bytesPerSample;
    this.windowBytes = Math.round((format.sampleRate * WINDOW_MS) / 1000) * bytesPerSample;
  }

  /** Audio time of the end of the last complete window. */
  get audioMs(): number {
    return this.windows * WINDOW_MS;
  }

  /** Analyses `audio` (any length; a partial window waits for the next push). */
  push(audio: Buffer): DetectorAction[] {
    const out: DetectorAction[] = [];
    this.pending = this.pending.length ? Buffer.concat([this.pending, audio]) : audio;
    let at = 0;
    while (this.pending.length - at >= this.windowBytes) {
      this.onWindow(rms(this.decode(this.pending.subarray(at, at + this.windowBytes))), out);
      at += this.windowBytes;
    }
    this.pending = this.pending.subarray(at);
    return out;
  }

  /** Ends the utterance in progress, if any (the client half-closed: Google recognises what it has). */
  flush(): DetectorAction[] {
    const out: DetectorAction[] = [];
    this.endUtterance(out);
    return out;
  }

  private onWindow(level: number, out: DetectorAction[]): void {
    const start = this.windows++ * WINDOW_MS;
    const o = this.o;
    if (level >= o.speechRms) {
      const u = (this.utt ??= { startMs: start, endMs: start, speechMs: 0, silenceMs: 0, index: -1, interims: 0 });
      u.speechMs += WINDOW_MS;
      u.silenceMs = 0;
      u.endMs = start + WINDOW_MS;
      if (u.index < 0 && u.speechMs >= o.minSpeechMs) {
        u.index = this.utterances++;
        out.push({ type: 'begin', utterance: u.index, atMs: u.startMs });
      }
      if (u.index >= 0 && u.speechMs >= (u.interims + 1) * o.interimEveryMs) {
        u.interims++;
        out.push({
          type: 'interim',
          utterance: u.index,
          count: u.interims,
          speechMs: u.speechMs,
          atMs: this.audioMs,
        });
      }
    } else if (this.utt) {
      this.utt.silenceMs += WINDOW_MS;
      if (this.utt.silenceMs >= o.endSilenceMs) this.endUtterance(out);
    }
  }

  private endUtterance(out: DetectorAction[]): void {
    const u = this.utt;
    this.utt = undefined;
    if (!u) return;
    if (u.index < 0) out.push({ type: 'noise', speechMs: u.speechMs, atMs: this.audioMs });
    else out.push({ type: 'end', utterance: u.index, speechMs: u.speechMs, endMs: u.endMs, atMs: this.audioMs });
  }
}

/** Root mean square of PCM16 samples. */
function rms(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  return pcm.length ? Math.sqrt(sum / pcm.length) : 0;
}

/** A google.protobuf.Duration for `ms` of audio. */
export function duration(ms: number): { seconds: number; nanos: number } {
  const whole = Math.floor(ms);
  return { seconds: Math.floor(whole / 1000), nanos: (whole % 1000) * 1e6 };
}
