/**
 * Preflight check of the OpenAI configuration: does the configured model exist for this key?
 * (`GET /v1/models/{id}`: a retired or mistyped OPENAI_MODEL answers 404 here before any caller
 * hears the fallback line.)
 */
import { NotFoundError } from 'openai';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromOpenAIError, providerError } from './errors.ts';
import type { ProviderError } from './types.ts';

/** Outcome of {@link openaiModelCheck}. */
export type OpenAIModelCheck =
  { ok: true; model: string; ownedBy: string; ms: number } | { ok: false; error: ProviderError; ms: number };

/**
 * Retrieves OPENAI_MODEL with the configured client. Never throws: failures come back as
 * `{ ok: false, error }` with the usual codes — BAD_REQUEST naming OPENAI_MODEL when the model
 * does not exist (404), AUTH for a missing or wrong key, QUOTA, UNAVAILABLE, TIMEOUT (after
 * `timeoutMs`, default 5000), ABORTED when `signal` aborts.
 */
export async function openaiModelCheck(
  clients: ProviderClients,
  config: VoiceConfig,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<OpenAIModelCheck> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  try {
    const model = await clients.openai().models.retrieve(config.openaiModel, {
      timeout: opts.timeoutMs ?? 5000,
      maxRetries: 0,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { ok: true, model: model.id, ownedBy: model.owned_by, ms: ms() };
  } catch (err) {
    if (err instanceof NotFoundError)
      return {
        ok: false,
        ms: ms(),
        error: providerError('llm', 'BAD_REQUEST', err.message, {
          phrase: `model not found (check OPENAI_MODEL=${config.openaiModel})`,
          vendorCode: 404,
          cause: err,
          secrets: [config.openaiApiKey],
        }),
      };
    return { ok: false, ms: ms(), error: fromOpenAIError(err, [config.openaiApiKey]) };
  }
}
