/**
 * What the demo call says: the caller's recording, what the emulated recognizer "hears" in it, and
 * what the emulated model answers. The recognizer emulator does not recognise anything (it detects
 * speech by level and returns the text it is given), so the transcript is the recording's script.
 */
import path from 'node:path';
import { REPO_ROOT } from '../gateway-child.ts';

/**
 * The caller's recording, read from the test fixtures rather than copied: `tests/fixtures/README.md`
 * documents how it was made (espeak-ng + sox), its hash and its frame profile, and one file cannot drift.
 * Raw 8 kHz μ-law, 2.16 s, no header.
 */
export const CALLER_AUDIO_PATH = 'tests/fixtures/caller-hebrew.ulaw';
/** The same, as an absolute path (the benchmark's callers say it too). */
export const CALLER_AUDIO_FILE = path.join(REPO_ROOT, CALLER_AUDIO_PATH);

/** What the recording says ("I want to book an appointment for tomorrow morning"). */
export const CALLER_TRANSCRIPT = 'אני רוצה לקבוע תור למחר בבוקר';

/**
 * The emulated model's answer to {@link CALLER_TRANSCRIPT}: two sentences, so the log shows the
 * first sentence synthesized and sent while the second is still on its way. Numbers are written as
 * words so espeak-ng reads them naturally.
 */
export const AGENT_REPLY = 'בשמחה, יש תור פנוי מחר בשמונה וחצי בבוקר. זה מתאים לכם?';

/** Said when the caller's text is not about an appointment (cannot happen with the bundled recording). */
export const AGENT_FALLBACK_REPLY = 'סליחה, לא הבנתי. אפשר לחזור על זה?';

/**
 * The emulated model's reply to a Chat Completions request body: {@link AGENT_REPLY} when the last
 * user message asks about a תור (appointment), else {@link AGENT_FALLBACK_REPLY}. Keying on what the
 * gateway sent shows the recognizer's text really travelled through the pipeline.
 */
export function scriptedReply(body: { messages?: Array<{ role?: string; content?: unknown }> }): string {
  const lastUser = (body.messages ?? []).findLast((m) => m.role === 'user');
  return typeof lastUser?.content === 'string' && lastUser.content.includes('תור') ? AGENT_REPLY : AGENT_FALLBACK_REPLY;
}
