/** Defaults shared by the configuration and the pipeline, kept in one place. */

/** Short acknowledgements callers make while listening; BACKCHANNEL_WORDS and agents override them. */
export const DEFAULT_BACKCHANNEL_WORDS: readonly string[] = [
  'כן',
  'אהה',
  'אה',
  'מממ',
  'ממ',
  'נכון',
  'בסדר',
  'אוקיי',
  'אוקי',
  'יופי',
  'טוב',
  'ברור',
];
