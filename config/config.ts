/**
 * The gateway's configuration: every environment variable it understands, parsed once at
 * start-up by one zod schema, frozen, and handed to everything else explicitly.
 * Nothing outside config/ reads `process.env` (the provider SDKs read their own standard
 * variables, such as GOOGLE_APPLICATION_CREDENTIALS, themselves).
 *
 * This file is the entry point: {@link parseConfig}, {@link ConfigError} and the rules between
 * variables. The value parsers live in config/parsers.ts, the variables and their defaults in
 * config/schema.ts, the {@link Config} type and its mapping in config/settings.ts.
 */
import { schema } from './schema.ts';
import { toConfig, type Config } from './settings.ts';

// One import site for the rest of the gateway.
export type { OpenAIReasoningEffort } from './parsers.ts';
export type { Config, StoreConfig, VoiceConfig } from './settings.ts';

/**
 * Google's Chirp 3 HD voices (`<locale>-Chirp3-HD-<persona>`, e.g. he-IL-Chirp3-HD-Achernar): the
 * only voices Google accepts for StreamingSynthesize.
 */
export function isChirp3HdVoice(voice: string): boolean {
  return /^[a-z]{2,3}-[A-Za-z0-9]{2,4}-Chirp3-HD-[A-Za-z]+$/.test(voice);
}

/** Rules that involve more than one variable. */
const crossChecked = schema.superRefine((env, ctx) => {
  if (env.SPEECH_OFF_SCORE > env.SPEECH_ON_SCORE) {
    ctx.addIssue({
      code: 'custom',
      path: ['SPEECH_OFF_SCORE'],
      message: `must not be above SPEECH_ON_SCORE (${env.SPEECH_ON_SCORE})`,
    });
  }
  if (env.SPEECH_OFF_MARGIN_DB > env.SPEECH_ON_MARGIN_DB) {
    ctx.addIssue({
      code: 'custom',
      path: ['SPEECH_OFF_MARGIN_DB'],
      message: `must not be above SPEECH_ON_MARGIN_DB (${env.SPEECH_ON_MARGIN_DB})`,
    });
  }
  // Google refuses StreamingSynthesize for every voice but Chirp 3 HD: say so at start-up, not on the first call.
  if (env.TTS_STREAMING === true && typeof env.TTS_VOICE === 'string' && !isChirp3HdVoice(env.TTS_VOICE)) {
    ctx.addIssue({
      code: 'custom',
      path: ['TTS_STREAMING'],
      message: `true needs a Chirp 3 HD TTS_VOICE (such as he-IL-Chirp3-HD-Achernar), not ${env.TTS_VOICE}; TTS_STREAMING=auto streams only with Chirp 3 HD voices`,
    });
  }
});

/** Raised by {@link parseConfig}; `problems` holds one line per bad variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses an environment (normally `process.env`) into a frozen {@link Config}.
 * Empty values count as unset, so `EOU_MS=` in an env file means "use the default".
 * @throws ConfigError listing every malformed variable by name, never only the first.
 */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const result = crossChecked.safeParse(input);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(config)');
        const shown = input[name] === undefined ? '' : ` (got ${JSON.stringify(redactForError(name, input[name]))})`;
        return `${name}: ${issue.message}${shown}`;
      });
  problems.push(...crossFieldProblems(input));
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(toConfig(result.data));
}

/** Rules between variables, checked on the raw input so they are listed with every other problem. */
function crossFieldProblems(input: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  const v2 = input['STT_API']?.trim().toLowerCase() === 'v2';
  if (v2 && !input['GOOGLE_CLOUD_PROJECT'] && !input['GOOGLE_STT_EMULATOR_HOST']) {
    out.push(
      'GOOGLE_CLOUD_PROJECT: required when STT_API=v2 (the recognizer path names the project), unless GOOGLE_STT_EMULATOR_HOST is set',
    );
  }
  if (input['TWILIO_AUTH_TOKEN'] !== undefined && input['PUBLIC_BASE_URL'] === undefined) {
    out.push(
      'PUBLIC_BASE_URL: required when TWILIO_AUTH_TOKEN is set (signatures are checked against this public ' +
        'origin, never against Host or X-Forwarded-* headers)',
    );
  }
  const headers = Number(input['HTTP_HEADERS_TIMEOUT_MS'] ?? 5000);
  const request = Number(input['HTTP_REQUEST_TIMEOUT_MS'] ?? 10_000);
  if (Number.isFinite(headers) && Number.isFinite(request) && request < headers) {
    out.push(`HTTP_REQUEST_TIMEOUT_MS: expected at least HTTP_HEADERS_TIMEOUT_MS (${headers})`);
  }
  return out;
}

/** Secrets are never echoed back, not even in a config error. */
function redactForError(name: string, value: string): string {
  return /TOKEN|KEY|SECRET|DATABASE_URL/.test(name) ? '…' : value;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}

/** The variable names the schema knows, for documentation checks. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(schema.shape));
