/**
 * The gateway's configuration: every environment variable it understands, parsed once at
 * start-up by one zod schema, frozen, and handed to everything else explicitly.
 * Nothing outside this file reads `process.env` (the provider SDKs read their own standard
 * variables, such as GOOGLE_APPLICATION_CREDENTIALS, themselves).
 */
import { z } from 'zod';

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

/** The schema: variable name → parser with default. Keys are exactly the environment names. */
const schema = z.object({
  PORT: wholeNumber('a TCP port').pipe(z.number().max(65535, 'expected a port from 0 to 65535')).default(5000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PUBLIC_BASE_URL: publicBaseUrl.optional(),
  TRUST_PROXY: trustProxy.default('loopback, linklocal, uniquelocal'),
  TWILIO_AUTH_TOKEN: z.string().trim().min(1).optional(),
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
  TTS_VOICE: z.string().trim().min(1).default('he-IL-Wavenet-A'),
  TTS_TIMEOUT_MS: wholeNumber('milliseconds').default(5000),
  OPENAI_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  LLM_FIRST_TOKEN_TIMEOUT_MS: wholeNumber('milliseconds').default(4000),
  LLM_IDLE_TIMEOUT_MS: wholeNumber('milliseconds').default(3000),
  AGENT_GREETING: z.string().trim().min(1).default(DEFAULT_GREETING),
  AGENT_INSTRUCTIONS: z.string().trim().min(1).default(DEFAULT_INSTRUCTIONS),
  GOOGLE_STT_EMULATOR_HOST: hostPort.optional(),
  GOOGLE_TTS_EMULATOR_HOST: hostPort.optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().trim().min(1).optional(),
  OPENAI_BASE_URL: z.url({ message: 'expected an absolute URL such as http://127.0.0.1:11434/v1' }).optional(),
  OPENAI_API_KEY: z.string().trim().min(1).optional(),
});

type Env = z.output<typeof schema>;

/** The parsed, frozen configuration. Field names are camelCase versions of the variables. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicBaseUrl: string | undefined;
  readonly trustProxy: boolean | number | string;
  readonly twilioAuthToken: string | undefined;
  readonly deployId: string;
  readonly logLevel: (typeof logLevels)[number];
  readonly logFormat: 'json' | 'pretty';
  readonly drainTimeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly wsPingIntervalMs: number;
  readonly wsMaxPayloadBytes: number;
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
  readonly ttsVoice: string;
  readonly ttsTimeoutMs: number;
  readonly openaiModel: string;
  readonly llmFirstTokenTimeoutMs: number;
  readonly llmIdleTimeoutMs: number;
  readonly greeting: string;
  readonly instructions: string;
  readonly googleSttEmulatorHost: string | undefined;
  readonly googleTtsEmulatorHost: string | undefined;
  readonly googleCredentialsFile: string | undefined;
  readonly openaiBaseUrl: string | undefined;
  readonly openaiApiKey: string | undefined;
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
  const result = schema.safeParse(input);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(config)');
        const shown = input[name] === undefined ? '' : ` (got ${JSON.stringify(redactForError(name, input[name]))})`;
        return `${name}: ${issue.message}${shown}`;
      });
  problems.push(...crossProblems(input));
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  return toConfig(result.data);
}

/** Rules between variables, checked on the raw input so they are listed with every other problem. */
function crossProblems(input: Record<string, string>): string[] {
  const out: string[] = [];
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
  return /TOKEN|KEY|SECRET/.test(name) ? '…' : value;
}

function toConfig(e: Env): Config {
  return deepFreeze({
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    trustProxy: e.TRUST_PROXY,
    twilioAuthToken: e.TWILIO_AUTH_TOKEN,
    deployId: e.DEPLOY_ID,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    wsPingIntervalMs: e.WS_PING_INTERVAL_MS,
    wsMaxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
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
      ttsVoice: e.TTS_VOICE,
      ttsTimeoutMs: e.TTS_TIMEOUT_MS,
      openaiModel: e.OPENAI_MODEL,
      llmFirstTokenTimeoutMs: e.LLM_FIRST_TOKEN_TIMEOUT_MS,
      llmIdleTimeoutMs: e.LLM_IDLE_TIMEOUT_MS,
      greeting: e.AGENT_GREETING,
      instructions: e.AGENT_INSTRUCTIONS,
      googleSttEmulatorHost: e.GOOGLE_STT_EMULATOR_HOST,
      googleTtsEmulatorHost: e.GOOGLE_TTS_EMULATOR_HOST,
      googleCredentialsFile: e.GOOGLE_APPLICATION_CREDENTIALS,
      openaiBaseUrl: e.OPENAI_BASE_URL,
      openaiApiKey: e.OPENAI_API_KEY,
    },
  });
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}

/** The variable names the schema knows, for documentation checks. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(schema.shape));
