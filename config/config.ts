/**
 * The gateway's configuration: every environment variable it understands, parsed once at
 * start-up by one zod schema, frozen, and handed to everything else explicitly.
 * Nothing outside this file reads `process.env` (the provider SDKs read their own standard
 * variables, such as GOOGLE_APPLICATION_CREDENTIALS, themselves).
 */
import { z } from 'zod';
import type { ReasoningEffort } from 'openai/resources/shared';
import { DEFAULT_BACKCHANNEL_WORDS } from './defaults.ts';

const DEFAULT_GREETING = 'שלום, הגעתם לנציג הדיגיטלי. איך אפשר לעזור?';
const DEFAULT_INSTRUCTIONS =
  'אתה נציג שירות טלפוני של העסק. ענה תמיד בעברית, בקצרה ובמשפטים פשוטים שנשמעים טוב בטלפון: ' +
  'משפט או שניים בכל תשובה, בלי רשימות, בלי סימנים מיוחדים ובלי קישורים. אם לא הבנת, בקש בנימוס לחזור על הדברים.';

/** Whole, non-negative number written in decimal digits only ("450", not "450ms" or "4.5e2"). */
const wholeNumber = (what: string) =>
  z.string().trim().regex(/^\d+$/, `expected a whole number of ${what}`).transform(Number);

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'expected true or false',
  })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** host:port of a local emulator (plain gRPC, no TLS). */
const hostPort = z
  .string()
  .trim()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9001');

/**
 * An origin such as https://gw.example.com (no path, query or fragment): the gateway's routes
 * live at fixed paths under it, and Twilio signs the exact URL it requests.
 */
const publicBaseUrl = z
  .string()
  .trim()
  .transform((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected an absolute URL such as https://gw.example.com' });
      return z.NEVER;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: 'expected an http(s) URL' });
      return z.NEVER;
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
      ctx.addIssue({ code: 'custom', message: 'expected only scheme and host (no path, query or credentials)' });
      return z.NEVER;
    }
    return url.origin;
  });

/** A number from 0 to 1 ("0.65"). */
const fraction = z
  .string()
  .trim()
  .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a number from 0 to 1, e.g. 0.65')
  .transform(Number);

/** A decimal number ("4.5"). */
const decimal = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'expected a number such as 4.5')
  .transform(Number);

/** Comma-separated words; an explicit empty list is written "none". */
const wordList = z
  .string()
  .trim()
  .transform((v) =>
    v.toLowerCase() === 'none'
      ? []
      : v
          .split(',')
          .map((w) => w.trim())
          .filter(Boolean),
  );

const trustProxy = z
  .string()
  .trim()
  .transform((v): boolean | number | string => {
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (/^\d+$/.test(v)) return Number(v);
    return v;
  });

const logLevels = ['error', 'warn', 'info', 'debug'] as const;

/**
 * OPENAI_REASONING_EFFORT values: the installed SDK's `ReasoningEffort` (the type check below fails
 * the build when the SDK adds or drops one), plus `omit` = do not send the parameter (models and
 * OpenAI-compatible servers that do not reason refuse it).
 */
const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
type SdkEffort = NonNullable<ReasoningEffort>;
// Both directions: every SDK value is listed here, and nothing here is unknown to the SDK.
const _effortsMatchSdk: [SdkEffort, (typeof REASONING_EFFORTS)[number]] extends [
  (typeof REASONING_EFFORTS)[number],
  SdkEffort,
]
  ? true
  : never = true;
void _effortsMatchSdk;

/** A reasoning effort to send as `reasoning_effort`, or `omit`. */
export type OpenAIReasoningEffort = (typeof REASONING_EFFORTS)[number] | 'omit';

/**
 * Google's Chirp 3 HD voices (`<locale>-Chirp3-HD-<persona>`, e.g. he-IL-Chirp3-HD-Achernar): the
 * only voices Google accepts for StreamingSynthesize.
 */
export function isChirp3HdVoice(voice: string): boolean {
  return /^[a-z]{2,3}-[A-Za-z0-9]{2,4}-Chirp3-HD-[A-Za-z]+$/.test(voice);
}

/** TTS_STREAMING: 'auto', or a boolean word as for the other switches. */
const ttsStreaming = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => v === 'auto' || ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'expected auto, true or false',
  })
  .transform((v): 'auto' | boolean => (v === 'auto' ? 'auto' : ['true', '1', 'yes', 'on'].includes(v)));

/** `postgres://…` (or `postgresql://…`) switches the call store to PostgreSQL; nothing else is accepted. */
const databaseUrl = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v), {
    message: 'expected a PostgreSQL URL such as postgres://user:pass@host:5432/db (unset means SQLite in DATA_DIR)',
  });

/** An absolute http(s) URL (the post-call webhook). */
const httpUrl = z
  .string()
  .trim()
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'expected an absolute http(s) URL such as https://crm.example.com/calls' },
  );

/** The schema: variable name → parser with default. Keys are exactly the environment names. */
const schema = z.object({
  PORT: wholeNumber('a TCP port').pipe(z.number().max(65535, 'expected a port from 0 to 65535')).default(5000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PUBLIC_BASE_URL: publicBaseUrl.optional(),
  TRUST_PROXY: trustProxy.default('loopback, linklocal, uniquelocal'),
  TWILIO_AUTH_TOKEN: z.string().trim().min(1).optional(),
  CONSOLE_TOKEN: z
    .string()
    .trim()
    .min(16, 'expected at least 16 characters (it guards call transcripts and recordings)')
    .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces (it travels in an Authorization header)')
    .optional(),
  DEPLOY_ID: z.string().trim().min(1).default('local'),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  DRAIN_TIMEOUT_MS: wholeNumber('milliseconds').default(120_000),
  BODY_LIMIT_BYTES: wholeNumber('bytes').pipe(z.number().min(1024, 'expected at least 1024')).default(65_536),
  WS_PING_INTERVAL_MS: wholeNumber('milliseconds').pipe(z.number().min(100, 'expected at least 100')).default(15_000),
  WS_MAX_PAYLOAD_BYTES: wholeNumber('bytes').pipe(z.number().min(4096, 'expected at least 4096')).default(262_144),
  WS_START_TIMEOUT_MS: wholeNumber('milliseconds').pipe(z.number().min(1000, 'expected at least 1000')).default(10_000),
  STREAM_START_WINDOW_MS: wholeNumber('milliseconds')
    .pipe(z.number().min(1000, 'expected at least 1000'))
    .default(60_000),
  STREAM_TOKENS_MAX_PENDING: wholeNumber('tokens').pipe(z.number().min(1, 'expected at least 1')).default(10_000),
  STREAM_TOKEN_MAX_SKEW_MS: wholeNumber('milliseconds').default(5000),
  HTTP_HEADERS_TIMEOUT_MS: wholeNumber('milliseconds')
    .pipe(z.number().min(1000, 'expected at least 1000'))
    .default(5000),
  HTTP_REQUEST_TIMEOUT_MS: wholeNumber('milliseconds')
    .pipe(z.number().min(1000, 'expected at least 1000'))
    .default(10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: wholeNumber('milliseconds').default(65_000),
  MAX_CONNECTIONS: wholeNumber('connections').pipe(z.number().min(10, 'expected at least 10')).default(2000),
  METRICS_TOKEN: z.string().trim().min(16, 'expected at least 16 characters').optional(),
  LOG_CALLER_NUMBERS: z.enum(['masked', 'full']).default('masked'),

  BARGE_IN: boolean.default(true),
  BARGE_IN_MIN_MS: wholeNumber('milliseconds').default(200),
  EOU_MS: wholeNumber('milliseconds').pipe(z.number().min(100, 'expected at least 100')).default(450),
  VAD_RMS: wholeNumber('RMS units').default(210),
  STT_LANGUAGE: z.string().trim().min(2).default('iw-IL'),
  STT_MODEL: z.string().trim().min(1).optional(),
  STT_STREAM_LIMIT_MS: wholeNumber('milliseconds')
    .pipe(z.number().min(1000, 'expected at least 1000'))
    .default(290_000),
  STT_API: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['v1', 'v2'], { message: 'expected v1 or v2' }))
    .default('v1'),
  STT_LOCATION: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, 'expected a Google Cloud location such as eu, us, global or europe-west4')
    .default('eu'),
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9.:-]*[a-z0-9]$/, 'expected a Google Cloud project id or number')
    .optional(),
  STT_HINT_BOOST: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'expected a number from 0 to 20')
    .transform(Number)
    .pipe(z.number().max(20, 'expected a number from 0 to 20 (Google refuses boosts above 20)'))
    .default(10),
  TTS_VOICE: z.string().trim().min(1).default('he-IL-Wavenet-A'),
  TTS_TIMEOUT_MS: wholeNumber('milliseconds').default(5000),
  TTS_STREAMING: ttsStreaming.default('auto'),
  // A current, fast model the installed SDK does not list as deprecated (tests/unit/openai-default-model.test.ts).
  OPENAI_MODEL: z.string().trim().min(1).default('gpt-5.4-mini'),
  // 'none': no reasoning tokens before the first word, so the first token comes as fast as from a chat model.
  OPENAI_REASONING_EFFORT: z.enum([...REASONING_EFFORTS, 'omit']).default('none'),
  // 0 = not sent. Counts reasoning tokens too; a phone answer is a sentence or two (~100 tokens).
  OPENAI_MAX_COMPLETION_TOKENS: wholeNumber('tokens').default(1024),
  LLM_FIRST_TOKEN_TIMEOUT_MS: wholeNumber('milliseconds').default(4000),
  LLM_IDLE_TIMEOUT_MS: wholeNumber('milliseconds').default(3000),
  AGENT_GREETING: z.string().trim().min(1).default(DEFAULT_GREETING),
  AGENT_INSTRUCTIONS: z.string().trim().min(1).default(DEFAULT_INSTRUCTIONS),
  GOOGLE_STT_EMULATOR_HOST: hostPort.optional(),
  GOOGLE_TTS_EMULATOR_HOST: hostPort.optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().trim().min(1).optional(),
  OPENAI_BASE_URL: z.url({ message: 'expected an absolute URL such as http://127.0.0.1:11434/v1' }).optional(),
  OPENAI_API_KEY: z.string().trim().min(1).optional(),

  AGENTS_FILE: z.string().trim().min(1).optional(),
  PRONUNCIATIONS_FILE: z.string().trim().min(1).optional(),
  WEBHOOK_SECRET: z.string().trim().min(16, 'expected at least 16 characters').optional(),
  TWILIO_SAY_VOICE: z.string().trim().min(1).default('Google.he-IL-Standard-A'),
  FALLBACK_NUMBER: z
    .string()
    .trim()
    .regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number such as +97231234567')
    .optional(),
  FILLER_AFTER_MS: wholeNumber('milliseconds').default(1000),
  DTMF_TIMEOUT_MS: wholeNumber('milliseconds').pipe(z.number().min(200, 'expected at least 200')).default(2000),
  EOU_DIGITS_MS: wholeNumber('milliseconds').default(1200),
  STT_MIN_CONFIDENCE: fraction.default(0),
  BACKCHANNEL_WORDS: wordList.default([...DEFAULT_BACKCHANNEL_WORDS]),
  BACKCHANNEL_HOLD_MS: wholeNumber('milliseconds').default(1200),
  BACKCHANNEL_REPEAT_MS: wholeNumber('milliseconds').default(300),
  PREFLIGHT_ON_START: boolean.default(false),
  SPEECH_DETECTOR: z.enum(['auto', 'energy']).default('auto'),
  SPEECH_DETECTOR_MODEL: z.string().trim().min(1).optional(),
  SPEECH_ON_SCORE: fraction.default(0.5),
  SPEECH_OFF_SCORE: fraction.default(0.35),
  SPEECH_ON_MARGIN_DB: decimal.default(8),
  SPEECH_OFF_MARGIN_DB: decimal.default(4.5),
  SPEECH_MIN_RMS: wholeNumber('RMS units').default(100),
  SPEECH_HANGOVER_MS: wholeNumber('milliseconds').default(96),

  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: databaseUrl.optional(),
  RETENTION_DAYS: wholeNumber('days').default(30),
  RECORD_CALLS: boolean.default(false),
  CALL_WEBHOOK_URL: httpUrl.optional(),
  CALL_WEBHOOK_MAX_AGE_S: wholeNumber('seconds').pipe(z.number().min(1, 'expected at least 1')).default(86_400),
  PRICES_FILE: z.string().trim().min(1).optional(),
  STORE_BUFFER_OPS: wholeNumber('operations').pipe(z.number().min(100, 'expected at least 100')).default(20_000),
});

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

type Env = z.output<typeof schema>;

/** The parsed, frozen configuration. Field names are camelCase versions of the variables. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicBaseUrl: string | undefined;
  readonly trustProxy: boolean | number | string;
  readonly twilioAuthToken: string | undefined;
  /**
   * Bearer token of the console and the call API (`CONSOLE_TOKEN`); undefined = both answer
   * loopback only.
   */
  readonly consoleToken: string | undefined;
  readonly deployId: string;
  readonly logLevel: (typeof logLevels)[number];
  readonly logFormat: 'json' | 'pretty';
  readonly drainTimeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly wsPingIntervalMs: number;
  readonly wsMaxPayloadBytes: number;
  /** AGENTS_FILE: agents per phone number (config/agents.ts). */
  readonly agentsFile: string | undefined;
  /** PRONUNCIATIONS_FILE: the pronunciation dictionary when there is no agents file. */
  readonly pronunciationsFile: string | undefined;
  /** WEBHOOK_SECRET: signs every request to the business's systems (server/signing.ts). */
  readonly webhookSecret: string | undefined;
  /** TWILIO_SAY_VOICE: Twilio's own voice for apologies and transfer summaries. */
  readonly twilioSayVoice: string;
  /** FALLBACK_NUMBER: a person who takes calls the agent could not serve. */
  readonly fallbackNumber: string | undefined;
  readonly preflightOnStart: boolean;
  /** RECORD_CALLS (default false): a stereo WAV per call in DATA_DIR/recordings (caller left, agent right). */
  readonly recordCalls: boolean;
  /** A media socket must send an acceptable `start` within this long or it is closed (1008). */
  readonly wsStartTimeoutMs: number;
  /** How long a stream token handed out in TwiML stays usable (and holds a drain). */
  readonly streamStartWindowMs: number;
  /** Most stream tokens waiting for their socket; the oldest are forgotten beyond it. */
  readonly streamTokensMaxPending: number;
  /** How far in the future a token's issue time may be (clocks of other instances). */
  readonly streamTokenMaxSkewMs: number;
  readonly httpHeadersTimeoutMs: number;
  readonly httpRequestTimeoutMs: number;
  readonly httpKeepAliveTimeoutMs: number;
  /** Cap on open TCP connections (HTTP and media sockets); further ones are dropped at once. */
  readonly maxConnections: number;
  /** When set, `/metrics` needs `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** `masked` (default): caller and called numbers are masked in logs; `full` keeps them. */
  readonly logCallerNumbers: 'masked' | 'full';
  readonly voice: VoiceConfig;
  readonly store: StoreConfig;
}

/** Settings of the call store, its post-call webhook and its retention. */
export interface StoreConfig {
  /** DATA_DIR (default ./data): the SQLite file and recordings/ live here; created on first start. */
  readonly dataDir: string;
  /** DATABASE_URL: postgres://… switches to PostgreSQL; unset = SQLite at DATA_DIR/calls.db. */
  readonly databaseUrl: string | undefined;
  /** RETENTION_DAYS (default 30): calls older than this are deleted with their recordings; 0 keeps all. */
  readonly retentionDays: number;
  /** CALL_WEBHOOK_URL: where each ended call's record is POSTed; unset = no webhook. */
  readonly callWebhookUrl: string | undefined;
  /** CALL_WEBHOOK_MAX_AGE_S (default 86400): retries stop this long after the call ended. */
  readonly callWebhookMaxAgeS: number;
  /** WEBHOOK_SECRET: HMAC key of the X-Gateway-Signature header; unset = requests go unsigned. */
  readonly webhookSecret: string | undefined;
  /** PRICES_FILE: JSON overriding entries of the built-in price table (server/store/costs.ts). */
  readonly pricesFile: string | undefined;
  /** STORE_BUFFER_OPS (default 20000): writes held while the database is slow or down. */
  readonly bufferOps: number;
}

/** Settings of the voice pipeline behind the media socket. */
export interface VoiceConfig {
  readonly bargeIn: boolean;
  readonly bargeInMinMs: number;
  readonly eouMs: number;
  readonly vadRms: number;
  readonly sttLanguage: string;
  readonly sttModel: string | undefined;
  readonly sttStreamLimitMs: number;
  /** Google Speech-to-Text API version: v1 (default) or v2 (Chirp models, regional endpoints). */
  readonly sttApi: 'v1' | 'v2';
  /** v2 location: the recognizer's location and the regional endpoint (`global` = the default host). */
  readonly sttLocation: string;
  /** Project of the v2 recognizer path; required with v2 unless an emulator is configured. */
  readonly googleCloudProject: string | undefined;
  /** Boost of phrase hints, 0–20 (0 = phrases sent without a boost). */
  readonly sttHintBoost: number;
  readonly ttsVoice: string;
  readonly ttsTimeoutMs: number;
  /** TTS_STREAMING: 'auto' streams with Chirp 3 HD voices only, true with every voice, false never. */
  readonly ttsStreaming: 'auto' | boolean;
  readonly openaiModel: string;
  /** Sent as `reasoning_effort` unless `omit`. */
  readonly openaiReasoningEffort: OpenAIReasoningEffort;
  /** Sent as `max_completion_tokens` unless 0 (never `max_tokens`, which reasoning models refuse). */
  readonly openaiMaxCompletionTokens: number;
  readonly llmFirstTokenTimeoutMs: number;
  readonly llmIdleTimeoutMs: number;
  readonly greeting: string;
  readonly instructions: string;
  readonly googleSttEmulatorHost: string | undefined;
  readonly googleTtsEmulatorHost: string | undefined;
  readonly googleCredentialsFile: string | undefined;
  readonly openaiBaseUrl: string | undefined;
  readonly openaiApiKey: string | undefined;
  readonly fillerAfterMs: number;
  readonly dtmfTimeoutMs: number;
  readonly eouDigitsMs: number;
  readonly sttMinConfidence: number;
  readonly backchannelWords: readonly string[];
  readonly backchannelHoldMs: number;
  readonly backchannelRepeatMs: number;
  /** SPEECH_DETECTOR: 'auto' uses the speech detector when its model loads, 'energy' the VAD_RMS threshold. */
  readonly speechDetector: 'auto' | 'energy';
  readonly speechDetectorModel: string | undefined;
  /** The speech detector's thresholds (media/audio/speech-detector.ts). */
  readonly speechThresholds: {
    readonly onScore: number;
    readonly offScore: number;
    readonly onMarginDb: number;
    readonly offMarginDb: number;
    readonly minRms: number;
    readonly hangoverMs: number;
  };
}

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
  return toConfig(result.data);
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

function toConfig(e: Env): Config {
  return deepFreeze({
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    trustProxy: e.TRUST_PROXY,
    twilioAuthToken: e.TWILIO_AUTH_TOKEN,
    consoleToken: e.CONSOLE_TOKEN,
    deployId: e.DEPLOY_ID,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    wsPingIntervalMs: e.WS_PING_INTERVAL_MS,
    wsMaxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
    agentsFile: e.AGENTS_FILE,
    pronunciationsFile: e.PRONUNCIATIONS_FILE,
    webhookSecret: e.WEBHOOK_SECRET,
    twilioSayVoice: e.TWILIO_SAY_VOICE,
    fallbackNumber: e.FALLBACK_NUMBER,
    preflightOnStart: e.PREFLIGHT_ON_START,
    recordCalls: e.RECORD_CALLS,
    wsStartTimeoutMs: e.WS_START_TIMEOUT_MS,
    streamStartWindowMs: e.STREAM_START_WINDOW_MS,
    streamTokensMaxPending: e.STREAM_TOKENS_MAX_PENDING,
    streamTokenMaxSkewMs: e.STREAM_TOKEN_MAX_SKEW_MS,
    httpHeadersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    httpKeepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS,
    metricsToken: e.METRICS_TOKEN,
    logCallerNumbers: e.LOG_CALLER_NUMBERS,
    voice: {
      bargeIn: e.BARGE_IN,
      bargeInMinMs: e.BARGE_IN_MIN_MS,
      eouMs: e.EOU_MS,
      vadRms: e.VAD_RMS,
      sttLanguage: e.STT_LANGUAGE,
      sttModel: e.STT_MODEL,
      sttStreamLimitMs: e.STT_STREAM_LIMIT_MS,
      sttApi: e.STT_API,
      sttLocation: e.STT_LOCATION,
      googleCloudProject: e.GOOGLE_CLOUD_PROJECT,
      sttHintBoost: e.STT_HINT_BOOST,
      ttsVoice: e.TTS_VOICE,
      ttsTimeoutMs: e.TTS_TIMEOUT_MS,
      ttsStreaming: e.TTS_STREAMING,
      openaiModel: e.OPENAI_MODEL,
      openaiReasoningEffort: e.OPENAI_REASONING_EFFORT,
      openaiMaxCompletionTokens: e.OPENAI_MAX_COMPLETION_TOKENS,
      llmFirstTokenTimeoutMs: e.LLM_FIRST_TOKEN_TIMEOUT_MS,
      llmIdleTimeoutMs: e.LLM_IDLE_TIMEOUT_MS,
      greeting: e.AGENT_GREETING,
      instructions: e.AGENT_INSTRUCTIONS,
      googleSttEmulatorHost: e.GOOGLE_STT_EMULATOR_HOST,
      googleTtsEmulatorHost: e.GOOGLE_TTS_EMULATOR_HOST,
      googleCredentialsFile: e.GOOGLE_APPLICATION_CREDENTIALS,
      openaiBaseUrl: e.OPENAI_BASE_URL,
      openaiApiKey: e.OPENAI_API_KEY,
      fillerAfterMs: e.FILLER_AFTER_MS,
      dtmfTimeoutMs: e.DTMF_TIMEOUT_MS,
      eouDigitsMs: e.EOU_DIGITS_MS,
      sttMinConfidence: e.STT_MIN_CONFIDENCE,
      backchannelWords: e.BACKCHANNEL_WORDS,
      backchannelHoldMs: e.BACKCHANNEL_HOLD_MS,
      backchannelRepeatMs: e.BACKCHANNEL_REPEAT_MS,
      speechDetector: e.SPEECH_DETECTOR,
      speechDetectorModel: e.SPEECH_DETECTOR_MODEL,
      speechThresholds: {
        onScore: e.SPEECH_ON_SCORE,
        offScore: e.SPEECH_OFF_SCORE,
        onMarginDb: e.SPEECH_ON_MARGIN_DB,
        offMarginDb: e.SPEECH_OFF_MARGIN_DB,
        minRms: e.SPEECH_MIN_RMS,
        hangoverMs: e.SPEECH_HANGOVER_MS,
      },
    },
    store: {
      dataDir: e.DATA_DIR,
      databaseUrl: e.DATABASE_URL,
      retentionDays: e.RETENTION_DAYS,
      callWebhookUrl: e.CALL_WEBHOOK_URL,
      callWebhookMaxAgeS: e.CALL_WEBHOOK_MAX_AGE_S,
      webhookSecret: e.WEBHOOK_SECRET,
      pricesFile: e.PRICES_FILE,
      bufferOps: e.STORE_BUFFER_OPS,
    },
  });
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}

/** The variable names the schema knows, for documentation checks. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(schema.shape));
