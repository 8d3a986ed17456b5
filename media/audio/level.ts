/**
 * Frame loudness for voice-activity detection: a 20 ms frame (160 samples at 8 kHz) whose RMS
 * reaches VAD_RMS (210 on the PCM16 scale) counts as speech. Pure arithmetic, no allocation,
 * because it runs on every inbound frame of every call.
 */
import { mulawDecodeSample } from './mulaw.ts';

/** Root-mean-square of PCM16 samples, on the same scale as the samples; 0 for an empty frame. */
export function rmsPcm16(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s = pcm[i]!;
    sum += s * s;
  }
  return Math.sqrt(sum / pcm.length);
}

/**
 * RMS of μ-law bytes after decoding to PCM16, so the result is comparable with rmsPcm16 and
 * the same threshold applies; 0 for an empty frame. Decodes sample by sample through the
 * lookup table instead of allocating a decoded copy of the frame.
 */
export function rmsMulaw(mulaw: Uint8Array): number {
  if (mulaw.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < mulaw.length; i++) {
    const s = mulawDecodeSample(mulaw[i]!);
    sum += s * s;
  }
  return Math.sqrt(sum / mulaw.length);
}
