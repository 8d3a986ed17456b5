/**
 * The configuration as the rest of the gateway sees it: the {@link Config} type (camelCase names,
 * the voice pipeline's and the call store's settings grouped apart) and {@link toConfig}, which
 * fills it from the parsed environment. config/config.ts checks, builds and freezes it.
 */
import type { OpenAIReasoningEffort } from './parsers.ts';
import type { Env, LOG_LEVELS } from './schema.ts';

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
  readonly logLevel: (typeof LOG_LEVELS)[number];
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

/**
 * Maps the parsed environment (config/schema.ts) onto {@link Config}, one field per variable
 * (WEBHOOK_SECRET appears twice: at the top and in `store`). Does not freeze; never throws.
 */
export function toConfig(e: Env): Config {
  return {
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
  };
}
