/**
 * The environment schema: every variable the gateway understands, mapped to its value parser
 * (config/parsers.ts) and default, grouped by concern. Keys are exactly the environment names; the
 * groups are spread in a fixed order, which is the order problems are listed in.
 */
import { z } from 'zod';
import { DEFAULT_BACKCHANNEL_WORDS } from './defaults.ts';
import {
  boolean,
  databaseUrl,
  decimal,
  fraction,
  hostPort,
  httpUrl,
  publicBaseUrl,
  reasoningEffort,
  trustProxy,
  ttsStreaming,
  wholeNumber,
  wordList,
} from './parsers.ts';

const DEFAULT_GREETING = 'שלום, הגעתם לנציג הדיגיטלי. איך אפשר לעזור?';
const DEFAULT_INSTRUCTIONS =
  'אתה נציג שירות טלפוני של העסק. ענה תמיד בעברית, בקצרה ובמשפטים פשוטים שנשמעים טוב בטלפון: ' +
  'משפט או שניים בכל תשובה, בלי רשימות, בלי סימנים מיוחדים ובלי קישורים. אם לא הבנת, בקש בנימוס לחזור על הדברים.';

/** LOG_LEVEL values, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** The HTTP server, media sockets, stream tokens, logs and metrics. */
const serverVariables = {
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
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
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
};

/** The voice pipeline: turn-taking, Google STT/TTS, OpenAI, and the providers' endpoints and keys. */
const voiceVariables = {
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
  OPENAI_REASONING_EFFORT: reasoningEffort.default('none'),
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
};

/** What a call does: agents, pronunciations, transfers, DTMF, back-channels, the speech detector. */
const callVariables = {
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
};

/** The call store, its recordings, retention and post-call webhook. */
const storeVariables = {
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: databaseUrl.optional(),
  RETENTION_DAYS: wholeNumber('days').default(30),
  RECORD_CALLS: boolean.default(false),
  CALL_WEBHOOK_URL: httpUrl.optional(),
  CALL_WEBHOOK_MAX_AGE_S: wholeNumber('seconds').pipe(z.number().min(1, 'expected at least 1')).default(86_400),
  PRICES_FILE: z.string().trim().min(1).optional(),
  STORE_BUFFER_OPS: wholeNumber('operations').pipe(z.number().min(100, 'expected at least 100')).default(20_000),
};

/** The schema: variable name → parser with default. */
export const schema = z.object({ ...serverVariables, ...voiceVariables, ...callVariables, ...storeVariables });

/** The environment after parsing: typed values under the variables' names. */
export type Env = z.output<typeof schema>;
