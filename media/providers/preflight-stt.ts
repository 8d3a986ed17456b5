/**
 * Preflight check of speech recognition: the bundled Hebrew clip (assets/preflight-hebrew.ulaw,
 * 2.2 s) is streamed in 20 ms frames at real-time pace through the recognizer the configuration
 * selects, exactly as a caller's audio would be, followed by silence until the final result.
 *
 *   frames (20 ms, clip) ──▶ silence frames ──final──▶ PASS (transcript, time to final)
 *        │                        └── no final within finalWaitMs ──▶ FAIL (or PASS if a final came during the clip)
 *        └── 'failed', or a stream restarted after an error ──▶ FAIL naming the setting
 *
 * Any stream error fails the check, even one the session would retry: a configuration that
 * needs retries on its first utterance is not ready for a caller.
 */
import { readFile } from 'node:fs/promises';
import type { VoiceConfig } from '../../config/config.ts';
import { MULAW_SILENCE } from '../audio/mulaw.ts';
import type { ProviderClients } from './clients.ts';
import { createSpeechRecognizer } from './google-stt-factory.ts';
import { failure, formatMs, variableFor } from './preflight-check.ts';
import type { CheckOutcome } from './preflight-check.ts';
import type { ProviderError, RecognizerEvent, SpeechRecognizer } from './types.ts';

/**
 * The bundled clip: "אני רוצה לקבוע תור למחר בבוקר" (espeak-ng, 8 kHz μ-law, 2.163 s), the same
 * bytes as tests/fixtures/caller-hebrew.ulaw, copied so the product never reads tests/.
 */
export const PREFLIGHT_CLIP_URL = new URL('./assets/preflight-hebrew.ulaw', import.meta.url);

/** 20 ms of 8 kHz μ-law. */
const FRAME_BYTES = 160;
const FRAME_MS = 20;
const SILENCE = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);

/**
 * The recognizer calls use: today the v1 adapter. When STT_API (v1/v2) is merged, this line becomes
 * `createSpeechRecognizer(clients, config)` from google-stt-factory.ts, and the check follows it.
 */
export function configuredRecognizer(clients: ProviderClients, config: VoiceConfig): SpeechRecognizer {
  return createSpeechRecognizer(clients, config);
}

/** Options of {@link sttRecognitionCheck}; every field has a default. */
export interface SttCheckOptions {
  /** The audio to recognize (8 kHz μ-law). Default: the bundled clip. */
  clip?: Buffer;
  /** How long to wait for the final after the clip ends. Default 5000. */
  finalWaitMs?: number;
  /** The recognizer. Default: {@link configuredRecognizer}. */
  recognizer?: SpeechRecognizer;
}

/** Reads the bundled clip. Rejects with the file system's error if it is missing. */
export function readPreflightClip(): Promise<Buffer> {
  return readFile(PREFLIGHT_CLIP_URL);
}

/**
 * The setting behind an STT failure. A refused request names STT_MODEL when Google's text is about
 * the model (v1: "The requested model is currently not supported for language : iw-IL"; v2: "The
 * model … does not exist in the location …"), STT_LANGUAGE when it is about the language alone,
 * STT_LOCATION or GOOGLE_CLOUD_PROJECT for a v2 recognizer path; otherwise STT_MODEL when one is
 * set, else STT_LANGUAGE.
 */
export function sttVariable(err: ProviderError, config: VoiceConfig): string | undefined {
  return variableFor(err, config, (e) => {
    const text = e.message;
    if (/\bmodel\b/i.test(text)) return 'STT_MODEL';
    if (/language/i.test(text)) return 'STT_LANGUAGE';
    if (/location/i.test(text)) return 'STT_LOCATION';
    if (/recognizer|project/i.test(text)) return 'GOOGLE_CLOUD_PROJECT';
    return config.sttModel ? 'STT_MODEL' : 'STT_LANGUAGE';
  });
}

/**
 * Streams the clip at real-time pace and waits for the final result. Resolves (never rejects)
 * with: PASS and the transcript with the time from the end of the clip to the final; WARN when the
 * final has no words; FAIL on any recognizer error (naming its setting), or when no final came
 * within `finalWaitMs` of the clip's end. Aborting `signal` stops the audio and closes the session.
 */
export async function sttRecognitionCheck(
  clients: ProviderClients,
  config: VoiceConfig,
  signal: AbortSignal,
  opts: SttCheckOptions = {},
): Promise<CheckOutcome> {
  const clip = opts.clip ?? (await readPreflightClip());
  const recognizer = opts.recognizer ?? configuredRecognizer(clients, config);
  const finalWaitMs = opts.finalWaitMs ?? 5000;
  const setup = `${config.sttLanguage}, model ${config.sttModel ?? 'default'}`;
  const clipMs = (clip.length / FRAME_BYTES) * FRAME_MS;
  const frames = Math.ceil(clip.length / FRAME_BYTES);

  return new Promise<CheckOutcome>((resolve) => {
    const started = performance.now();
    const now = (): number => performance.now() - started;
    const finals: Array<{ text: string; at: number }> = [];
    let firstInterimAt: number | undefined;
    let clipEndAt: number | undefined;
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;

    const finish = (outcome: CheckOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
      session.close();
    };
    // Timers and recognizer events run outside any caller's try: a bug here must fail the check,
    // never become an uncaught exception (which makes the gateway drain).
    const guarded =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        try {
          fn(...args);
        } catch (err) {
          finish(failure(err, () => undefined, `recognition check failed after ${formatMs(now())} (${setup})`));
        }
      };
    const onAbort = (): void => finish({ ok: false, measured: `cancelled after ${formatMs(now())} (${setup})` });
    const fail = (err: ProviderError, when: string): void =>
      finish(failure(err, (e) => sttVariable(e, config), `${when} (${setup})`));

    const passed = (): CheckOutcome => {
      const transcript = finals
        .map((f) => f.text)
        .filter(Boolean)
        .join(' ');
      const last = finals[finals.length - 1]!;
      const toFinal =
        clipEndAt !== undefined && last.at >= clipEndAt
          ? `final ${formatMs(last.at - clipEndAt)} after the clip`
          : 'final before the end of the clip';
      const interim = firstInterimAt === undefined ? '' : `, first interim ${formatMs(firstInterimAt)} into the audio`;
      const measured = `${toFinal}${interim}, ${formatMs(clipMs)} clip in real time (${setup}): "${transcript}"`;
      return transcript
        ? { ok: true, measured }
        : { ok: true, measured, warn: 'the final result has no words', variable: 'STT_LANGUAGE' };
    };

    const onEvent = guarded((e: RecognizerEvent): void => {
      switch (e.type) {
        case 'interim':
          firstInterimAt ??= now();
          return;
        case 'final':
          finals.push({ text: e.text, at: now() });
          if (clipEndAt !== undefined) finish(passed());
          return;
        case 'restarted':
          if (e.reason === 'error' && e.error) fail(e.error, `stream failed after ${formatMs(now())}`);
          return;
        case 'failed':
          fail(e.error, `recognition failed after ${formatMs(now())}`);
          return;
      }
    });

    // Each frame is due at a fixed offset from the start, so timer lateness does not add up.
    const tick = guarded((): void => {
      timer = undefined;
      if (settled) return;
      const offset = sent * FRAME_BYTES;
      session.write(offset < clip.length ? clip.subarray(offset, offset + FRAME_BYTES) : SILENCE);
      sent++;
      if (sent === frames) clipEndAt = now();
      if (clipEndAt !== undefined && now() - clipEndAt >= finalWaitMs) {
        return finish(
          finals.length > 0
            ? passed()
            : {
                ok: false,
                measured: `no final result within ${formatMs(finalWaitMs)} after the ${formatMs(clipMs)} clip (${setup})`,
                variable: 'STT_LANGUAGE',
                detail: 'the recognizer took the audio without an error but returned no final result',
              },
        );
      }
      timer = setTimeout(tick, Math.max(0, sent * FRAME_MS - now()));
    });

    const session = recognizer.start(onEvent, signal);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    tick();
  });
}
