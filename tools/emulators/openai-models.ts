/**
 * The OpenAI emulator's knowledge of models: which ids exist, when each is shut down, and which
 * request parameters each family refuses.
 *
 * Shutdown dates are copied from the installed `openai` SDK's "Deprecated values" notes
 * (node_modules/openai/resources/shared.d.ts, SDK 7.55.0); tests/unit/openai-default-model.test.ts
 * fails when the SDK's notes and this table disagree. A model whose date has come (as of the
 * emulator's `today`) answers 404 `model_not_found`, as the real API does for a retired model.
 *
 * Which `reasoning_effort` values each family accepts is only partly confirmed (OpenAI's own error
 * texts confirm gpt-5.1: none/low/medium/high and gpt-5.4-mini: none…xhigh); the rest is UNCONFIRMED
 * and can be replaced through the emulator's `models` / `reasoningEfforts` options.
 */

/** `reasoning_effort` values the SDK knows (its `ReasoningEffort` type), in OpenAI's order. */
export const ALL_REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

/** One of {@link ALL_REASONING_EFFORTS}. */
export type ReasoningEffortValue = (typeof ALL_REASONING_EFFORTS)[number];

/** What the emulator knows about one model id. */
export interface FakeModelSpec {
  /**
   * The `reasoning_effort` values it accepts. Absent: not a reasoning model, so `reasoning_effort`
   * is refused and `max_tokens` accepted. Present (a reasoning model): `max_tokens` is refused.
   */
  efforts?: readonly ReasoningEffortValue[];
  /** Announced shutdown date (YYYY-MM-DD); from that day on the id answers 404. Absent: current. */
  shutdown?: string;
}

const O_SERIES: readonly ReasoningEffortValue[] = ['low', 'medium', 'high'];
const GPT_5: readonly ReasoningEffortValue[] = ['minimal', 'low', 'medium', 'high'];
const GPT_5_1: readonly ReasoningEffortValue[] = ['none', 'low', 'medium', 'high'];
const GPT_5_2: readonly ReasoningEffortValue[] = ['none', 'low', 'medium', 'high', 'xhigh'];
const GPT_5_2_PRO: readonly ReasoningEffortValue[] = ['medium', 'high', 'xhigh']; // UNCONFIRMED
const GPT_5_5: readonly ReasoningEffortValue[] = ['none', 'low', 'medium', 'high', 'xhigh', 'max']; // UNCONFIRMED
const CHAT_LATEST: readonly ReasoningEffortValue[] = ['medium']; // UNCONFIRMED (all retired by now anyway)

/** Builds table rows: every id gets the same spec. */
function rows(ids: readonly string[], spec: FakeModelSpec): Array<[string, FakeModelSpec]> {
  return ids.map((id) => [id, spec]);
}

/**
 * The default model table: the Chat Completions models of the SDK's `ChatModel` type (audio-only
 * models left out), with the SDK's shutdown dates. Ids not in the table answer 404, like an id the
 * account cannot see. `gpt-5.1-mini` is absent on purpose: the SDK calls it "not a supported model ID".
 */
export const DEFAULT_OPENAI_MODELS: Readonly<Record<string, FakeModelSpec>> = Object.freeze(
  Object.fromEntries([
    // Current: not in the SDK's deprecation notes.
    ...rows(['gpt-6-astra', 'gpt-6.1-sol', 'gpt-6.1-terra', 'gpt-6-sol', 'gpt-6-luna'], { efforts: GPT_5_5 }),
    ...rows(['gpt-5.6-sol', 'gpt-5.6-terra', 'gpt-5.6-luna', 'gpt-5.5', 'gpt-5.5-2026-04-23'], { efforts: GPT_5_5 }),
    ...rows(['gpt-5.4', 'gpt-5.4-mini', 'gpt-5.4-mini-2026-03-17', 'gpt-5.2', 'gpt-5.2-2025-12-11'], {
      efforts: GPT_5_2,
    }),
    ...rows(['gpt-5.2-pro', 'gpt-5.2-pro-2025-12-11'], { efforts: GPT_5_2_PRO }),
    // Deprecated, with the SDK's announced shutdown dates.
    ...rows(['gpt-5.4-nano', 'gpt-5.4-nano-2026-03-17'], { efforts: GPT_5_2, shutdown: '2027-04-01' }),
    ...rows(['gpt-5.1', 'gpt-5.1-2025-11-13'], { efforts: GPT_5_1, shutdown: '2027-04-01' }),
    ...rows(['gpt-5.3-chat-latest', 'gpt-5.2-chat-latest'], { efforts: CHAT_LATEST, shutdown: '2026-08-10' }),
    ...rows(['gpt-5.1-codex', 'gpt-5.1-chat-latest', 'gpt-5-chat-latest'], {
      efforts: CHAT_LATEST,
      shutdown: '2026-07-23',
    }),
    ...rows(
      [
        'gpt-4o-search-preview',
        'gpt-4o-mini-search-preview',
        'gpt-4o-search-preview-2025-03-11',
        'gpt-4o-mini-search-preview-2025-03-11',
      ],
      { shutdown: '2026-07-23' },
    ),
    ...rows(
      ['gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-5-2025-08-07', 'gpt-5-mini-2025-08-07', 'gpt-5-nano-2025-08-07'],
      {
        efforts: GPT_5,
        shutdown: '2026-12-11',
      },
    ),
    ...rows(['o3', 'o3-2025-04-16'], { efforts: O_SERIES, shutdown: '2026-12-11' }),
    ...rows(
      [
        'gpt-4.1',
        'gpt-4.1-mini',
        'gpt-4.1-2025-04-14',
        'gpt-4.1-mini-2025-04-14',
        'gpt-4o',
        'gpt-4o-2024-11-20',
        'gpt-4o-2024-08-06',
        'gpt-4o-mini',
        'gpt-4o-mini-2024-07-18',
      ],
      { shutdown: '2027-01-14' },
    ),
    ...rows(['o4-mini', 'o4-mini-2025-04-16', 'o3-mini', 'o3-mini-2025-01-31', 'o1', 'o1-2024-12-17'], {
      efforts: O_SERIES,
      shutdown: '2026-10-23',
    }),
    ...rows(
      [
        'gpt-4.1-nano',
        'gpt-4.1-nano-2025-04-14',
        'gpt-4o-2024-05-13',
        'gpt-4-turbo',
        'gpt-4-turbo-2024-04-09',
        'gpt-4-1106-preview',
        'gpt-4',
        'gpt-4-0613',
        'gpt-3.5-turbo',
        'gpt-3.5-turbo-0125',
      ],
      { shutdown: '2026-10-23' },
    ),
    ...rows(['o1-preview', 'o1-preview-2024-09-12'], { efforts: O_SERIES, shutdown: '2025-07-28' }),
    ...rows(['o1-mini', 'o1-mini-2024-09-12'], { efforts: O_SERIES, shutdown: '2025-10-27' }),
    ...rows(['chatgpt-4o-latest'], { shutdown: '2026-02-17' }),
    ...rows(['codex-mini-latest'], { efforts: O_SERIES, shutdown: '2026-02-12' }),
    ...rows(['gpt-4-0125-preview', 'gpt-4-turbo-preview', 'gpt-4-0314'], { shutdown: '2026-03-26' }),
    ...rows(['gpt-4-vision-preview'], { shutdown: '2024-12-06' }),
    ...rows(['gpt-4-32k', 'gpt-4-32k-0314', 'gpt-4-32k-0613'], { shutdown: '2025-06-06' }),
    ...rows(['gpt-3.5-turbo-16k', 'gpt-3.5-turbo-0301', 'gpt-3.5-turbo-0613', 'gpt-3.5-turbo-16k-0613'], {
      shutdown: '2024-09-13',
    }),
    ...rows(['gpt-3.5-turbo-1106'], { shutdown: '2026-09-28' }),
  ]),
);

/** Today's date as YYYY-MM-DD (UTC), the default "today" of the emulator. */
export function isoToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** Whether `spec` is still served on `today` (YYYY-MM-DD): no shutdown date, or one still ahead. */
export function isLive(spec: FakeModelSpec, today: string): boolean {
  return spec.shutdown === undefined || today < spec.shutdown;
}

/** A `created` time for the model listing: the snapshot date in the id when it has one, else 2025-01-01. */
export function createdOf(id: string): number {
  const m = /(\d{4}-\d{2}-\d{2})$/.exec(id);
  return Math.floor(Date.parse(m?.[1] ?? '2025-01-01') / 1000);
}
