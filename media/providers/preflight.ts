/**
 * GO/NO-GO of the provider configuration (`npm run preflight`, and PREFLIGHT_ON_START=true in the
 * gateway): the same configuration as `npm start`, checked against the real providers (or the
 * configured emulators) before a caller is on the line.
 *
 *   config ─▶ google-credentials ─┬─▶ tts-voice ─▶ tts-synthesis ─▶ [tts-streaming]
 *                                 ├─▶ stt-recognition
 *   (in parallel)                 └─▶ openai-model ─▶ openai-first-token
 *   twilio-public-url, twilio-auth-token (no network)
 *
 * Every check has a time limit and never throws; the report is GO when none failed (warnings do
 * not count). Secrets of the configuration never appear in a report. The checks cost one ListVoices,
 * one or two short syntheses, a 2 s recognition and one short completion.
 */
import type { Config } from '../../config/config.ts';
import { ConfigError, parseConfig } from '../../config/config.ts';
import { AgentsError, loadAgents } from '../../config/agents.ts';
import type { Agents } from '../../config/agents.ts';
import { ProviderClients } from './clients.ts';
import { maskSecrets } from './errors.ts';
import { runCheck } from './preflight-check.ts';
import type { CheckOutcome, PreflightCheck } from './preflight-check.ts';
import {
  googleCredentialsCheck,
  streamingVoice,
  ttsStreamingCheck,
  ttsSynthesisCheck,
  ttsVariable,
  ttsVoiceCheck,
} from './preflight-google.ts';
import type { VoiceToCheck } from './preflight-google.ts';
import { openaiFirstTokenOutcome, openaiModelExistsCheck, openaiVariable } from './preflight-openai.ts';
import { sttRecognitionCheck, sttVariable } from './preflight-stt.ts';
import type { SttCheckOptions } from './preflight-stt.ts';
import { publicBaseUrlCheck, twilioAuthTokenCheck } from './preflight-twilio.ts';

export type { PreflightCheck } from './preflight-check.ts';

/** The outcome of a whole preflight. */
export interface PreflightReport {
  /** True when no check failed (warnings allowed). */
  go: boolean;
  /** Every check, in the fixed order of the diagram above. */
  checks: PreflightCheck[];
  /** Names of the failed checks, in order. */
  failed: string[];
  /** Names of the checks that passed with a warning. */
  warnings: string[];
  /** Wall-clock time of the whole run. */
  ms: number;
}

/** Options of {@link runPreflight}; every field has a default. */
export interface PreflightOptions {
  /** The agents, whose own voices are checked too. Default: TTS_VOICE only. */
  agents?: Pick<Agents, 'byId'>;
  /** Aborting cancels every running check (they are reported as failed). */
  signal?: AbortSignal;
  /** Options of the recognition check (tests: a shorter wait for the final). */
  stt?: SttCheckOptions;
}

/** Time limits of the checks that talk to a provider, ms. */
const LIMIT = { credentials: 10_000, voices: 10_000, streaming: 15_000, modelExists: 10_000 } as const;

/**
 * Runs every check of `config` and resolves with the report; never rejects. Provider clients are
 * created for the run and closed at its end (the gateway's own clients are not touched).
 */
export async function runPreflight(config: Config, opts: PreflightOptions = {}): Promise<PreflightReport> {
  const started = performance.now();
  const voice = config.voice;
  const clients = new ProviderClients(voice);
  const signal = opts.signal;
  const check = (
    name: string,
    limitMs: number,
    body: (s: AbortSignal) => Promise<CheckOutcome>,
    variableOf?: Parameters<typeof runCheck>[2],
    timeoutVariable?: string,
  ): Promise<PreflightCheck> =>
    runCheck(
      { name, limitMs, ...(signal ? { signal } : {}), ...(timeoutVariable ? { timeoutVariable } : {}) },
      body,
      variableOf,
    );

  const voices = voicesToCheck(config, opts.agents);
  const streamVoice = streamingVoice(voice, voices);
  try {
    const credentials = await check('google-credentials', LIMIT.credentials, (s) =>
      googleCredentialsCheck(clients, voice, s),
    );
    const tts = (async () => {
      const out = [
        await check('tts-voice', LIMIT.voices, (s) => ttsVoiceCheck(clients, voice, voices, s)),
        await check(
          'tts-synthesis',
          // The synthesizer's own budget (TTS_TIMEOUT_MS, retry included) speaks first; this is a backstop.
          (voice.ttsTimeoutMs || 10_000) + 5000,
          (s) => ttsSynthesisCheck(clients, voice, s),
          (e) => ttsVariable(e, voice),
          'TTS_TIMEOUT_MS',
        ),
      ];
      if (streamVoice)
        out.push(
          await check('tts-streaming', LIMIT.streaming, (s) => ttsStreamingCheck(clients, voice, streamVoice, s)),
        );
      return out;
    })();
    const stt = check(
      'stt-recognition',
      // The clip (2.2 s) in real time, the wait for the final, and the client's start.
      (opts.stt?.finalWaitMs ?? 5000) + 15_000,
      (s) => sttRecognitionCheck(clients, voice, s, opts.stt),
      (e) => sttVariable(e, voice),
    );
    const openai = (async () => [
      await check(
        'openai-model',
        LIMIT.modelExists,
        (s) => openaiModelExistsCheck(clients, voice, s),
        (e) => openaiVariable(e, voice),
        'OPENAI_BASE_URL',
      ),
      await check(
        'openai-first-token',
        // The generator's own watchdogs (first token, then idle) speak first; this is a backstop.
        (voice.llmFirstTokenTimeoutMs || 10_000) + (voice.llmIdleTimeoutMs || 10_000) + 10_000,
        (s) => openaiFirstTokenOutcome(clients, voice, s),
        (e) => openaiVariable(e, voice),
        'LLM_FIRST_TOKEN_TIMEOUT_MS',
      ),
    ])();
    const [ttsChecks, sttCheck, openaiChecks] = await Promise.all([tts, stt, openai]);
    const twilio = [
      instant('twilio-public-url', publicBaseUrlCheck(config)),
      instant('twilio-auth-token', twilioAuthTokenCheck(config)),
    ];
    return report([credentials, ...ttsChecks, sttCheck, ...openaiChecks, ...twilio], config, started);
  } finally {
    await clients.close().catch(() => undefined); // a client that failed to start has nothing to release
  }
}

/**
 * Parses `env` as `npm start` does (configuration, then AGENTS_FILE) and runs the checks. A bad
 * configuration is a NO-GO with one failed check named `config` listing every problem. Never rejects.
 */
export async function runPreflightFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  opts: Omit<PreflightOptions, 'agents'> = {},
): Promise<PreflightReport> {
  const started = performance.now();
  let config: Config;
  let agents: Agents;
  try {
    config = parseConfig(env);
    agents = loadAgents(config.agentsFile, config.voice);
  } catch (err) {
    const problems =
      err instanceof ConfigError || err instanceof AgentsError ? [...err.problems] : [`(config): ${String(err)}`];
    const variables = problems.map((p) => /^([A-Z][A-Z0-9_]*):/.exec(p)?.[1]).filter(Boolean);
    const variable = err instanceof AgentsError ? 'AGENTS_FILE' : [...new Set(variables)].join(', ');
    const checks = [
      {
        name: 'config',
        ok: false,
        measured: `${problems.length} problem(s) in the ${err instanceof AgentsError ? 'agents file' : 'environment'}`,
        ...(variable ? { variable } : {}),
        detail: problems.join('; '),
        ms: 0,
      },
    ];
    return { go: false, checks, failed: ['config'], warnings: [], ms: Math.round(performance.now() - started) };
  }
  return runPreflight(config, { ...opts, agents });
}

/** TTS_VOICE first, then every distinct voice an agent sets for itself. */
function voicesToCheck(config: Config, agents: Pick<Agents, 'byId'> | undefined): VoiceToCheck[] {
  const out: VoiceToCheck[] = [{ name: config.voice.ttsVoice, source: 'TTS_VOICE', variable: 'TTS_VOICE' }];
  for (const agent of agents?.byId.values() ?? []) {
    if (agent.voice && !out.some((v) => v.name === agent.voice))
      out.push({ name: agent.voice, source: `agent ${agent.id}`, variable: 'AGENTS_FILE' });
  }
  return out;
}

function instant(name: string, outcome: CheckOutcome): PreflightCheck {
  return { name, ...outcome, ms: 0 };
}

/** Builds the report, with every secret of the configuration masked in every text. */
function report(checks: PreflightCheck[], config: Config, started: number): PreflightReport {
  const secrets = [
    config.twilioAuthToken,
    config.voice.openaiApiKey,
    config.consoleToken,
    config.webhookSecret,
    config.metricsToken,
  ];
  const clean = checks.map((c) => ({
    ...c,
    measured: maskSecrets(c.measured, secrets),
    ...(c.warn === undefined ? {} : { warn: maskSecrets(c.warn, secrets) }),
    ...(c.detail === undefined ? {} : { detail: maskSecrets(c.detail, secrets) }),
  }));
  return {
    go: clean.every((c) => c.ok),
    checks: clean,
    failed: clean.filter((c) => !c.ok).map((c) => c.name),
    warnings: clean.filter((c) => c.ok && c.warn !== undefined).map((c) => c.name),
    ms: Math.round(performance.now() - started),
  };
}
