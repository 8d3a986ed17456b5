/**
 * What a call cost: its usage priced by a table. Pure functions; the table is built in and can be
 * overridden entry by entry by a JSON file (PRICES_FILE).
 *
 * The built-in prices are public list prices in USD as the vendors published them (Google Cloud
 * Speech-to-Text v1 standard recognition per minute without data logging, Google Cloud Text-to-Speech per million
 * characters by voice family, OpenAI per million tokens by model). They are UNCONFIRMED for any
 * given account: discounts, free tiers, regions, billing increments and later price changes are
 * not modelled. Set PRICES_FILE to your own contract's prices.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A price table. */
export interface PriceTable {
  /** USD per minute of audio sent to speech recognition. */
  readonly sttPerMinute: number;
  /** USD per million synthesized characters, by voice family (lower case: `wavenet`, `chirp3-hd`…). */
  readonly ttsPerMillionChars: Readonly<Record<string, number>>;
  /** USD per million tokens, by model name (a dated snapshot is priced as its base name). */
  readonly llmPerMillionTokens: Readonly<Record<string, { readonly input: number; readonly output: number }>>;
}

/** The built-in table (see the file comment: list prices, UNCONFIRMED for your account). */
export const DEFAULT_PRICES: PriceTable = deepFreeze({
  sttPerMinute: 0.024,
  ttsPerMillionChars: {
    standard: 4,
    wavenet: 4,
    neural2: 16,
    polyglot: 16,
    news: 16,
    journey: 30,
    'chirp-hd': 30,
    'chirp3-hd': 30,
    studio: 160,
  },
  llmPerMillionTokens: {
    // The gpt-5.4 family (OPENAI_MODEL's default is gpt-5.4-mini): list prices as published in 2026.
    'gpt-5.4-mini': { input: 0.75, output: 4.5 },
    'gpt-5.4-nano': { input: 0.2, output: 1.25 },
    'gpt-5.4': { input: 2.5, output: 15 },
    'gpt-4o-mini': { input: 0.15, output: 0.6 },
    'gpt-4o': { input: 2.5, output: 10 },
    'gpt-4.1-nano': { input: 0.1, output: 0.4 },
    'gpt-4.1-mini': { input: 0.4, output: 1.6 },
    'gpt-4.1': { input: 2, output: 8 },
  },
});

/** Usage of one call, as the store accumulates it. */
export interface Usage {
  sttSeconds: number;
  ttsChars: number;
  llmInputTokens: number;
  llmOutputTokens: number;
  /** The TTS voice name (e.g. `he-IL-Wavenet-A`), for its family's price. */
  ttsVoice?: string | null;
  /** The LLM model name (e.g. `gpt-4o-mini`). */
  llmModel?: string | null;
}

/** A priced usage. Parts without a price count 0 and are named in `unpriced`. */
export interface Cost {
  sttUsd: number;
  ttsUsd: number;
  llmUsd: number;
  totalUsd: number;
  /** What was used but has no price in the table, e.g. `tts:studio-x`, `llm:my-model`. */
  unpriced: string[];
}

/**
 * The voice family of a Google voice name: everything between the locale and the variant, lower
 * case. `he-IL-Wavenet-A` → `wavenet`, `he-IL-Chirp3-HD-Achernar` → `chirp3-hd`; a name without
 * that shape → undefined.
 */
export function voiceFamily(voice: string): string | undefined {
  const parts = voice.split('-');
  if (parts.length < 4) return undefined;
  return parts.slice(2, -1).join('-').toLowerCase() || undefined;
}

/** The price entry of a model: exact name, else the longest table name followed by `-` (snapshots). */
export function modelPrice(model: string, table: PriceTable): { input: number; output: number } | undefined {
  const exact = table.llmPerMillionTokens[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const name of Object.keys(table.llmPerMillionTokens)) {
    if (model.startsWith(`${name}-`) && (!best || name.length > best.length)) best = name;
  }
  return best ? table.llmPerMillionTokens[best] : undefined;
}

/** Prices a usage. Amounts are rounded to 1e-6 USD. */
export function computeCost(usage: Usage, table: PriceTable = DEFAULT_PRICES): Cost {
  const unpriced: string[] = [];
  const sttUsd = (usage.sttSeconds / 60) * table.sttPerMinute;

  let ttsUsd = 0;
  if (usage.ttsChars > 0) {
    const family = usage.ttsVoice ? voiceFamily(usage.ttsVoice) : undefined;
    const price = family === undefined ? undefined : table.ttsPerMillionChars[family];
    if (price === undefined) unpriced.push(`tts:${usage.ttsVoice ?? 'unknown voice'}`);
    else ttsUsd = (usage.ttsChars / 1e6) * price;
  }

  let llmUsd = 0;
  if (usage.llmInputTokens > 0 || usage.llmOutputTokens > 0) {
    const price = usage.llmModel ? modelPrice(usage.llmModel, table) : undefined;
    if (!price) unpriced.push(`llm:${usage.llmModel ?? 'unknown model'}`);
    else llmUsd = (usage.llmInputTokens / 1e6) * price.input + (usage.llmOutputTokens / 1e6) * price.output;
  }
  return {
    sttUsd: round6(sttUsd),
    ttsUsd: round6(ttsUsd),
    llmUsd: round6(llmUsd),
    totalUsd: round6(sttUsd + ttsUsd + llmUsd),
    unpriced,
  };
}

const usd = z.number().finite().nonnegative();
const overrideSchema = z
  .object({
    sttPerMinute: usd.optional(),
    ttsPerMillionChars: z.record(z.string().min(1), usd).optional(),
    llmPerMillionTokens: z.record(z.string().min(1), z.object({ input: usd, output: usd }).strict()).optional(),
  })
  .strict();

/** A price file that cannot be used; `problems` lists every bad entry with its path. */
export class PricesFileError extends Error {
  readonly code = 'PRICES_FILE_INVALID';
  readonly problems: readonly string[];
  constructor(file: string, problems: string[]) {
    super(`PRICES_FILE ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PricesFileError';
    this.problems = problems;
  }
}

/**
 * Merges an override (the parsed JSON of PRICES_FILE) onto a table: entries it names replace the
 * table's, others stay. @throws PricesFileError listing every malformed entry (`file` names it).
 */
export function mergePrices(base: PriceTable, override: unknown, file = '(inline)'): PriceTable {
  const r = overrideSchema.safeParse(override);
  if (!r.success) {
    throw new PricesFileError(
      file,
      r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`),
    );
  }
  const ttsOverride = Object.fromEntries(
    Object.entries(r.data.ttsPerMillionChars ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return deepFreeze({
    sttPerMinute: r.data.sttPerMinute ?? base.sttPerMinute,
    ttsPerMillionChars: { ...base.ttsPerMillionChars, ...ttsOverride },
    llmPerMillionTokens: { ...base.llmPerMillionTokens, ...r.data.llmPerMillionTokens },
  });
}

/** The table in force: the built-in one, overridden by `file` when given. @throws PricesFileError */
export function loadPrices(file: string | undefined): PriceTable {
  if (!file) return DEFAULT_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PricesFileError(file, [err instanceof Error ? err.message : String(err)]);
  }
  return mergePrices(DEFAULT_PRICES, parsed, file);
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}
