/**
 * The voice catalogue of the TTS emulator: Google's Hebrew voices (providers.md §2.2), plus a few
 * voices of other languages so that a language mismatch and a language filter can be tested.
 *
 * A snapshot, not the truth: the live list comes from `ListVoices` (`npm run preflight` checks
 * TTS_VOICE against it). Standard and WaveNet: A and C female, B and D male. Chirp 3 HD: the
 * persona names and genders of Google's Chirp 3 HD voice table.
 */

/** One voice as `ListVoices` describes it (the proto's `Voice` message, enums as strings). */
export interface FakeVoice {
  name: string;
  languageCodes: string[];
  ssmlGender: 'MALE' | 'FEMALE' | 'NEUTRAL';
  naturalSampleRateHertz: number;
}

/** Google's voices are produced at 24 kHz; other rates are resampled on request. */
const NATURAL_RATE = 24000;

/** Chirp 3 HD personas and their genders. */
export const CHIRP3_HD_PERSONAS: ReadonlyArray<readonly [persona: string, gender: 'MALE' | 'FEMALE']> = [
  ['Achernar', 'FEMALE'],
  ['Achird', 'MALE'],
  ['Algenib', 'MALE'],
  ['Algieba', 'MALE'],
  ['Alnilam', 'MALE'],
  ['Aoede', 'FEMALE'],
  ['Autonoe', 'FEMALE'],
  ['Callirrhoe', 'FEMALE'],
  ['Charon', 'MALE'],
  ['Despina', 'FEMALE'],
  ['Enceladus', 'MALE'],
  ['Erinome', 'FEMALE'],
  ['Fenrir', 'MALE'],
  ['Gacrux', 'FEMALE'],
  ['Iapetus', 'MALE'],
  ['Kore', 'FEMALE'],
  ['Laomedeia', 'FEMALE'],
  ['Leda', 'FEMALE'],
  ['Orus', 'MALE'],
  ['Pulcherrima', 'FEMALE'],
  ['Puck', 'MALE'],
  ['Rasalgethi', 'MALE'],
  ['Sadachbia', 'MALE'],
  ['Sadaltager', 'MALE'],
  ['Schedar', 'MALE'],
  ['Sulafat', 'FEMALE'],
  ['Umbriel', 'MALE'],
  ['Vindemiatrix', 'FEMALE'],
  ['Zephyr', 'FEMALE'],
  ['Zubenelgenubi', 'MALE'],
];

function voice(name: string, gender: FakeVoice['ssmlGender']): FakeVoice {
  const language = /^([a-z]{2,3}-[A-Z]{2})-/.exec(name)?.[1] ?? 'und';
  return { name, languageCodes: [language], ssmlGender: gender, naturalSampleRateHertz: NATURAL_RATE };
}

/** The default catalogue: every he-IL voice, then a handful of en-US, ar-XA and ru-RU voices. */
export const DEFAULT_TTS_VOICES: readonly FakeVoice[] = Object.freeze([
  ...['Standard', 'Wavenet'].flatMap((family) =>
    ['A', 'B', 'C', 'D'].map((v, i) => voice(`he-IL-${family}-${v}`, i % 2 ? 'MALE' : 'FEMALE')),
  ),
  ...CHIRP3_HD_PERSONAS.map(([persona, gender]) => voice(`he-IL-Chirp3-HD-${persona}`, gender)),
  voice('en-US-Standard-C', 'FEMALE'),
  voice('en-US-Wavenet-D', 'MALE'),
  voice('en-US-Chirp3-HD-Kore', 'FEMALE'),
  voice('ar-XA-Wavenet-A', 'FEMALE'),
  voice('ru-RU-Wavenet-A', 'FEMALE'),
]);

/** Whether Google accepts `name` for StreamingSynthesize: only Chirp 3 HD voices (`<locale>-Chirp3-HD-<persona>`). */
export function isStreamingVoice(name: string): boolean {
  return /^[a-z]{2,3}-[A-Za-z0-9]{2,4}-Chirp3-HD-[A-Za-z]+$/.test(name);
}

/**
 * `ListVoices` filtering as the proto documents it: no code gives every voice; a code gives the
 * voices that can speak it, matched case-insensitively on the whole tag ("he-IL") or on its
 * language ("he" gives every he-* voice). An unknown language gives an empty list, not an error.
 */
export function voicesFor(voices: readonly FakeVoice[], languageCode: string | null | undefined): FakeVoice[] {
  const wanted = (languageCode ?? '').trim().toLowerCase();
  if (!wanted) return [...voices];
  return voices.filter((v) =>
    v.languageCodes.some((c) => {
      const code = c.toLowerCase();
      return code === wanted || code.startsWith(`${wanted}-`);
    }),
  );
}
