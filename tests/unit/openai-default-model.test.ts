/**
 * The default OPENAI_MODEL against the installed `openai` SDK's own notes: the SDK lists deprecated
 * model ids with their announced shutdown dates in the doc comment of `ChatModel`
 * (resources/shared.d.ts). An SDK upgrade that deprecates the default breaks this test, not the
 * calls. The OpenAI emulator's model table and effort list are checked against the same file.
 */
import fs from 'node:fs';
import { ConfigError, parseConfig } from '../../config/config.ts';
import { ALL_REASONING_EFFORTS, DEFAULT_OPENAI_MODELS } from '../../tools/emulators/index.ts';

const SHARED_DTS = require.resolve('openai/resources/shared').replace(/\.js$/, '.d.ts');
const source = fs.readFileSync(SHARED_DTS, 'utf8');

/** Quoted string literals of a union type alias `export type <name> = 'a' | 'b' …;`. */
function unionOf(name: string): string[] {
  const m = new RegExp(`export type ${name} = ([^;]+);`).exec(source);
  if (!m) throw new Error(`no type ${name} in ${SHARED_DTS}`);
  return [...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
}

/**
 * id → announced shutdown date (YYYY-MM-DD), or 'unsupported' ("Not a supported model ID"), from
 * the "Deprecated values" list in the doc comment right above `export type ChatModel`.
 */
function deprecations(): Map<string, string> {
  const end = source.indexOf('export type ChatModel');
  const start = source.lastIndexOf('/**', end);
  const comment = source
    .slice(start, end)
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .join(' ');
  const list = comment.split('Deprecated values:')[1] ?? '';
  const out = new Map<string, string>();
  for (const entry of list.split(/\s-\s(?=")/)) {
    const ids = [...entry.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    const date = /Announced shutdown\s+date:\s*(\d{4}-\d{2}-\d{2})/.exec(entry)?.[1];
    const what = date ?? (/Not a supported model ID/.test(entry) ? 'unsupported' : undefined);
    if (what) for (const id of ids) out.set(id, what);
  }
  return out;
}

describe('the default OpenAI model', () => {
  const deprecated = deprecations();
  const model = parseConfig({}).voice.openaiModel;

  test('the deprecation notes were read (a parser that finds nothing would pass everything)', () => {
    expect(deprecated.size).toBeGreaterThan(30);
    expect(deprecated.get('gpt-4o-mini')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  test('is a model the installed SDK knows, and is not on its deprecation list', () => {
    expect(unionOf('ChatModel')).toContain(model);
    expect(deprecated.get(model)).toBeUndefined();
  });

  test('is served by the emulator with no shutdown date', () => {
    expect(DEFAULT_OPENAI_MODELS[model]).toBeDefined();
    expect(DEFAULT_OPENAI_MODELS[model]!.shutdown).toBeUndefined();
  });
});

describe('the OpenAI emulator agrees with the installed SDK', () => {
  const deprecated = deprecations();

  test("every model in the emulator's table has the SDK's shutdown date (or none when the SDK lists none)", () => {
    const disagreements = Object.entries(DEFAULT_OPENAI_MODELS)
      .filter(([id, spec]) => (spec.shutdown ?? 'current') !== (deprecated.get(id) ?? 'current'))
      .map(([id, spec]) => `${id}: emulator ${spec.shutdown ?? 'current'}, SDK ${deprecated.get(id) ?? 'current'}`);
    expect(disagreements).toEqual([]);
  });

  test('every chat model of the SDK is in the table, except audio models and unsupported ids', () => {
    const missing = unionOf('ChatModel').filter(
      (id) => !(id in DEFAULT_OPENAI_MODELS) && !/audio/.test(id) && deprecated.get(id) !== 'unsupported',
    );
    expect(missing).toEqual([]);
  });

  test("the reasoning efforts are the SDK's ReasoningEffort values", () => {
    expect([...ALL_REASONING_EFFORTS].sort()).toEqual(unionOf('ReasoningEffort').sort());
  });
});

describe('the OpenAI request settings', () => {
  test('default to no reasoning before the first word and 1024 completion tokens', () => {
    expect(parseConfig({}).voice).toMatchObject({ openaiReasoningEffort: 'none', openaiMaxCompletionTokens: 1024 });
    expect(parseConfig({ OPENAI_REASONING_EFFORT: 'omit', OPENAI_MAX_COMPLETION_TOKENS: '0' }).voice).toMatchObject({
      openaiReasoningEffort: 'omit',
      openaiMaxCompletionTokens: 0,
    });
  });

  test("a value outside the SDK's efforts or a non-number is a config error naming the variable", () => {
    let error: unknown;
    try {
      parseConfig({ OPENAI_REASONING_EFFORT: 'turbo', OPENAI_MAX_COMPLETION_TOKENS: '1e3' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^OPENAI_REASONING_EFFORT: .*"none".*"max".*"omit".*\(got "turbo"\)/);
    expect(problems[1]).toMatch(/^OPENAI_MAX_COMPLETION_TOKENS: expected a whole number of tokens/);
  });
});
