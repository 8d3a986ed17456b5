/**
 * Preflight checks of OpenAI, as check outcomes: the model exists ({@link openaiModelCheck}) and
 * one short streamed completion with the configured parameters gives its first token within
 * LLM_FIRST_TOKEN_TIMEOUT_MS ({@link openaiFirstTokenCheck}).
 */
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { openaiFirstTokenCheck, openaiModelCheck } from './openai-check.ts';
import { OpenAIReplyGenerator } from './openai-llm.ts';
import { failure, formatMs, variableFor } from './preflight-check.ts';
import type { CheckOutcome } from './preflight-check.ts';
import type { ProviderError } from './types.ts';

/**
 * The setting behind an OpenAI failure. A refused request names the parameter OpenAI names
 * (`param` of its error body, else its text): `reasoning_effort` → OPENAI_REASONING_EFFORT,
 * `max_completion_tokens`/`max_tokens` → OPENAI_MAX_COMPLETION_TOKENS, anything else (an unknown
 * or retired model, 404) → OPENAI_MODEL. No first token in time → LLM_FIRST_TOKEN_TIMEOUT_MS.
 */
export function openaiVariable(err: ProviderError, config: VoiceConfig): string | undefined {
  if (err.code === 'TIMEOUT' && /first token/i.test(err.message)) return 'LLM_FIRST_TOKEN_TIMEOUT_MS';
  return variableFor(err, config, (e) => {
    const cause = e.cause as { param?: unknown } | undefined;
    const said = `${typeof cause?.param === 'string' ? cause.param : ''} ${e.message}`;
    if (/reasoning_effort/.test(said)) return 'OPENAI_REASONING_EFFORT';
    if (/max_(completion_)?tokens/.test(said)) return 'OPENAI_MAX_COMPLETION_TOKENS';
    return 'OPENAI_MODEL';
  });
}

/** `GET /v1/models/{OPENAI_MODEL}` answers: the model exists for this key. */
export async function openaiModelExistsCheck(
  clients: ProviderClients,
  config: VoiceConfig,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const r = await openaiModelCheck(clients, config, { signal, timeoutMs: 5000 });
  if (!r.ok) return failure(r.error, (e) => openaiVariable(e, config), `${config.openaiModel}: ${r.error.code}`);
  return { ok: true, measured: `${r.model} exists (owned by ${r.ownedBy}, ${formatMs(r.ms)})` };
}

/** One short streamed completion through the real reply generator: time to its first token. */
export async function openaiFirstTokenOutcome(
  clients: ProviderClients,
  config: VoiceConfig,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const params = [
    config.openaiModel,
    config.openaiReasoningEffort === 'omit'
      ? 'no reasoning_effort'
      : `reasoning_effort ${config.openaiReasoningEffort}`,
    config.openaiMaxCompletionTokens > 0
      ? `max_completion_tokens ${config.openaiMaxCompletionTokens}`
      : 'no max_completion_tokens',
  ].join(', ');
  const limit = config.llmFirstTokenTimeoutMs > 0 ? `limit ${formatMs(config.llmFirstTokenTimeoutMs)}` : 'no limit';
  const r = await openaiFirstTokenCheck(new OpenAIReplyGenerator(clients, config), { signal });
  if (!r.ok)
    return failure(r.error, (e) => openaiVariable(e, config), `${r.error.code} after ${formatMs(r.ms)} (${params})`);
  return { ok: true, measured: `first token ${formatMs(r.firstTokenMs)} (${limit}; ${params})` };
}
