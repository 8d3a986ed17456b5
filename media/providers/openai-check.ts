/**
 * Preflight checks of the OpenAI configuration: does the configured model exist for this key
 * (`GET /v1/models/{id}`: a retired or mistyped OPENAI_MODEL answers 404 here before any caller
 * hears the fallback line), and does one short streamed completion with the configured parameters
 * give its first token in time?
 */
import { NotFoundError } from 'openai';
import type { VoiceConfig } from '../../config/config.ts';
import type { ProviderClients } from './clients.ts';
import { fromOpenAIError, providerError } from './errors.ts';
import { ProviderError } from './types.ts';
import type { ReplyGenerator } from './types.ts';

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

/** Outcome of {@link openaiFirstTokenCheck}. */
export type OpenAIFirstTokenCheck =
  { ok: true; firstTokenMs: number; text: string } | { ok: false; error: ProviderError; ms: number };

/** The short question the first-token check asks (Hebrew, answered in a few words). */
export const FIRST_TOKEN_PROMPT = 'ענה במילה אחת: באיזו שפה אנחנו מדברים?';

/**
 * Streams one short completion through `generator` (the real one, so OPENAI_MODEL,
 * OPENAI_REASONING_EFFORT, OPENAI_MAX_COMPLETION_TOKENS and the watchdogs all apply) and measures
 * the time from the request to the first text. Never throws: the generator's ProviderError comes
 * back as `{ ok: false, error }` — TIMEOUT when no first token came within LLM_FIRST_TOKEN_TIMEOUT_MS,
 * BAD_REQUEST naming the refused setting, AUTH, QUOTA…; an answer without any text is UNKNOWN.
 */
export async function openaiFirstTokenCheck(
  generator: ReplyGenerator,
  opts: { signal?: AbortSignal } = {},
): Promise<OpenAIFirstTokenCheck> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  let firstTokenMs: number | undefined;
  let text = '';
  try {
    const messages = [{ role: 'user' as const, content: FIRST_TOKEN_PROMPT }];
    for await (const e of generator.generate(messages, opts.signal ?? new AbortController().signal)) {
      if (e.type !== 'text') continue;
      firstTokenMs ??= ms();
      text += e.text;
    }
  } catch (err) {
    const error = err instanceof ProviderError ? err : providerError('llm', 'UNKNOWN', String(err), { cause: err });
    return { ok: false, error, ms: ms() };
  }
  if (firstTokenMs === undefined) {
    const error = opts.signal?.aborted
      ? providerError('llm', 'ABORTED', undefined)
      : providerError('llm', 'UNKNOWN', 'the completion ended without any text');
    return { ok: false, error, ms: ms() };
  }
  return { ok: true, firstTokenMs, text };
}
