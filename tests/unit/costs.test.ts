import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_PRICES,
  PricesFileError,
  computeCost,
  loadPrices,
  mergePrices,
  modelPrice,
  voiceFamily,
} from '../../server/store/costs.ts';

const none = { sttSeconds: 0, ttsChars: 0, llmInputTokens: 0, llmOutputTokens: 0 };

describe('voiceFamily', () => {
  it.each([
    ['he-IL-Wavenet-A', 'wavenet'],
    ['he-IL-Standard-B', 'standard'],
    ['he-IL-Chirp3-HD-Achernar', 'chirp3-hd'],
    ['en-US-Neural2-F', 'neural2'],
    ['he-IL', undefined],
    ['nonsense', undefined],
  ])('%s → %s', (voice, family) => {
    expect(voiceFamily(voice)).toBe(family);
  });
});

describe('modelPrice', () => {
  it('matches exact names, and dated snapshots by their longest base name', () => {
    expect(modelPrice('gpt-4o', DEFAULT_PRICES)).toEqual({ input: 2.5, output: 10 });
    expect(modelPrice('gpt-4o-mini-2024-07-18', DEFAULT_PRICES)).toEqual({ input: 0.15, output: 0.6 });
    // The default model is priced, also as a dated snapshot.
    expect(modelPrice('gpt-5.4-mini', DEFAULT_PRICES)).toEqual({ input: 0.75, output: 4.5 });
    expect(modelPrice('gpt-5.4-mini-2026-03-17', DEFAULT_PRICES)).toEqual({ input: 0.75, output: 4.5 });
    expect(modelPrice('gpt-4o-2024-08-06', DEFAULT_PRICES)).toEqual({ input: 2.5, output: 10 });
    expect(modelPrice('gpt-4omega', DEFAULT_PRICES)).toBeUndefined();
  });
});

describe('computeCost', () => {
  it('prices STT per minute, TTS per million characters by family, LLM per million tokens by model', () => {
    const cost = computeCost({
      sttSeconds: 90,
      ttsChars: 250_000,
      ttsVoice: 'he-IL-Chirp3-HD-Achernar',
      llmInputTokens: 2_000_000,
      llmOutputTokens: 100_000,
      llmModel: 'gpt-4o-mini',
    });
    expect(cost).toEqual({
      sttUsd: 0.036, // 1.5 min × 0.024
      ttsUsd: 7.5, // 0.25 M × 30
      llmUsd: 0.36, // 2 M × 0.15 + 0.1 M × 0.6
      totalUsd: 7.896,
      unpriced: [],
    });
  });

  it('is zero for no usage and needs no voice or model then', () => {
    expect(computeCost(none)).toEqual({ sttUsd: 0, ttsUsd: 0, llmUsd: 0, totalUsd: 0, unpriced: [] });
  });

  it('names what it cannot price and counts it as 0', () => {
    const cost = computeCost({
      ...none,
      sttSeconds: 60,
      ttsChars: 10,
      ttsVoice: 'he-IL-Mystery9-A',
      llmInputTokens: 5,
    });
    expect(cost.totalUsd).toBe(0.024);
    expect(cost.unpriced).toEqual(['tts:he-IL-Mystery9-A', 'llm:unknown model']);
  });

  it('rounds to a millionth of a dollar', () => {
    expect(computeCost({ ...none, llmOutputTokens: 1, llmModel: 'gpt-4o-mini' }).totalUsd).toBe(0.000001);
  });
});

describe('price overrides', () => {
  it('replace the entries they name and keep the rest', () => {
    const table = mergePrices(DEFAULT_PRICES, {
      sttPerMinute: 0.016,
      ttsPerMillionChars: { WaveNet: 16 },
      llmPerMillionTokens: { 'my-model': { input: 1, output: 2 } },
    });
    expect(table.sttPerMinute).toBe(0.016);
    expect(table.ttsPerMillionChars.wavenet).toBe(16);
    expect(table.ttsPerMillionChars.standard).toBe(DEFAULT_PRICES.ttsPerMillionChars.standard);
    expect(table.llmPerMillionTokens['my-model']).toEqual({ input: 1, output: 2 });
    expect(table.llmPerMillionTokens['gpt-4o-mini']).toEqual(DEFAULT_PRICES.llmPerMillionTokens['gpt-4o-mini']);
    expect(Object.isFrozen(table.ttsPerMillionChars)).toBe(true);
    expect(DEFAULT_PRICES.sttPerMinute).toBe(0.024);
  });

  it('list every bad entry with its path', () => {
    let err: unknown;
    try {
      mergePrices(
        DEFAULT_PRICES,
        {
          sttPerMinute: -1,
          ttsPerMillionChars: { wavenet: 'cheap' },
          llmPerMillionTokens: { x: { input: 1 } },
          extra: 1,
        },
        'prices.json',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PricesFileError);
    const problems = (err as PricesFileError).problems.join('\n');
    expect(problems).toMatch(/^sttPerMinute: /m);
    expect(problems).toMatch(/^ttsPerMillionChars\.wavenet: /m);
    expect(problems).toMatch(/^llmPerMillionTokens\.x\.output: /m);
    expect(problems).toMatch(/extra/);
    expect((err as Error).message).toContain('prices.json');
  });

  it('load from PRICES_FILE, and refuse a file that is not JSON', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'prices-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ llmPerMillionTokens: { 'gpt-4o-mini': { input: 0.3, output: 1.2 } } }));
    expect(loadPrices(good).llmPerMillionTokens['gpt-4o-mini']).toEqual({ input: 0.3, output: 1.2 });
    expect(loadPrices(undefined)).toBe(DEFAULT_PRICES);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => loadPrices(bad)).toThrow(PricesFileError);
    expect(() => loadPrices(path.join(dir, 'missing.json'))).toThrow(/missing\.json/);
  });
});
