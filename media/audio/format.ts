/**
 * The one audio format on a Twilio media stream: G.711 μ-law, 8000 samples per second, mono, one
 * byte per sample, so 8 bytes per millisecond and 160 bytes per 20 ms frame.
 */

/** Samples per second. */
export const SAMPLE_RATE = 8000;
/** μ-law bytes per millisecond of audio. */
export const BYTES_PER_MS = 8;
/** Bytes of one 20 ms frame, as Twilio sends them (never assume every frame has it). */
export const FRAME_BYTES = 160;
