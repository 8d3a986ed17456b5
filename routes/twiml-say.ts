/**
 * `<Say>` in Hebrew with the configured Twilio voice (TWILIO_SAY_VOICE). Twilio skips `<Say>` when
 * the voice and language do not fit together, so the language is always he-IL and the voice is
 * always named explicitly.
 */
import type twilio from 'twilio';

type SayAttributes = Exclude<Parameters<twilio.twiml.VoiceResponse['say']>[0], string>;

/** The attributes of a Hebrew `<Say>`. The voice is a setting, checked by Twilio, not by the SDK's types. */
export function hebrewSay(voice: string): SayAttributes {
  return { voice: voice as SayAttributes['voice'], language: 'he-IL' };
}
