/**
 * One contract for every ReplyGenerator: the same behavioural expectations run against the scripted
 * FakeReplyGenerator (what stage tests use) and the real OpenAIReplyGenerator on the real SDK and
 * the OpenAI emulator. A stage test that passes on the fake can then trust the real one to behave
 * alike: text in order, quiet aborts, tool calls whole and after the text, usage, and the same
 * error codes for the same failures.
 */
import { parseConfig } from '../../config/config.ts';
import { ProviderClients } from '../../media/providers/clients.ts';
import { FakeReplyGenerator } from '../../media/providers/fakes/generator.ts';
import type { FakeGeneration } from '../../media/providers/fakes/generator.ts';
import { OpenAIReplyGenerator } from '../../media/providers/openai-llm.ts';
import { ProviderError } from '../../media/providers/types.ts';
import type { ChatMessage, GenerationEvent, ReplyGenerator, ToolSpec } from '../../media/providers/types.ts';
import { startFakeOpenAI } from '../../tools/emulators/index.ts';
import type { FakeOpenAIOptions, FakeReply } from '../../tools/emulators/index.ts';

jest.setTimeout(15_000);

/** A situation, described independently of the implementation. */
interface Scenario {
  pieces?: string[];
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
  usage?: { inputTokens: number; outputTokens: number };
  pieceDelayMs?: number;
  failure?: 'auth' | 'unknown-model' | 'quota' | 'stall-first' | 'stall-after-2' | 'cut' | 'unavailable-once';
}

/** A generator set up for a scenario, and how many attempts (requests) it made. */
interface Subject {
  generator: ReplyGenerator;
  attempts(): number;
}

const WATCHDOG_MS = 300;
const MESSAGES: ChatMessage[] = [{ role: 'user', content: 'אפשר לקבוע תור?' }];
const TOOLS: ToolSpec[] = [
  { name: 'book', description: 'Book', parameters: { type: 'object', properties: { day: { type: 'string' } } } },
  { name: 'lookup', description: 'Find the caller', parameters: { type: 'object', properties: {} } },
];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function fakeSubject(s: Scenario): Promise<Subject> {
  const g: FakeGeneration = {
    ...(s.pieces ? { pieces: s.pieces } : {}),
    ...(s.toolCalls ? { toolCalls: s.toolCalls } : {}),
    ...(s.usage ? { usage: s.usage } : {}),
    ...(s.pieceDelayMs ? { pieceDelayMs: s.pieceDelayMs } : {}),
  };
  switch (s.failure) {
    case 'auth':
      g.fail = { code: 'AUTH' };
      break;
    case 'unknown-model':
      g.fail = { code: 'BAD_REQUEST' };
      break;
    case 'quota':
      g.fail = { code: 'QUOTA' };
      break;
    case 'stall-first':
      g.stallAfterPieces = 0;
      break;
    case 'stall-after-2':
      g.stallAfterPieces = 2;
      break;
    case 'cut':
      g.cut = true;
      break;
    case 'unavailable-once':
      g.fail = { code: 'UNAVAILABLE', attempts: 1 };
      break;
    case undefined:
      break;
  }
  const generator = new FakeReplyGenerator(g, { firstTokenTimeoutMs: WATCHDOG_MS, idleTimeoutMs: WATCHDOG_MS });
  return { generator, attempts: () => generator.attempts };
}

async function realSubject(s: Scenario): Promise<Subject> {
  const reply: FakeReply = {
    chunks: s.pieces ?? [],
    ...(s.toolCalls ? { toolCalls: s.toolCalls } : {}),
    ...(s.usage ? { usage: { prompt_tokens: s.usage.inputTokens, completion_tokens: s.usage.outputTokens } } : {}),
    ...(s.pieceDelayMs ? { chunkDelayMs: s.pieceDelayMs } : {}),
  };
  const fakeOpts: FakeOpenAIOptions = {};
  const env: Record<string, string> = {};
  switch (s.failure) {
    case 'auth':
      fakeOpts.apiKeys = ['sk-another-key-0000'];
      break;
    case 'unknown-model':
      env.OPENAI_MODEL = 'gpt-nonexistent';
      break;
    case 'quota':
      fakeOpts.insufficientQuota = true;
      break;
    case 'stall-first':
      reply.firstTokenDelayMs = 60_000;
      break;
    case 'stall-after-2':
      reply.stallAfterChunks = 2;
      break;
    case 'cut':
      reply.cutAfterChunks = (s.pieces ?? []).length;
      break;
    case 'unavailable-once':
      break;
    case undefined:
      break;
  }
  const fake = await startFakeOpenAI({
    ...fakeOpts,
    reply: ({ index }) => (s.failure === 'unavailable-once' && index === 0 ? { status: 503 } : reply),
  });
  const config = parseConfig({
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_API_KEY: 'sk-contract-key-1234',
    LLM_FIRST_TOKEN_TIMEOUT_MS: String(WATCHDOG_MS),
    LLM_IDLE_TIMEOUT_MS: String(WATCHDOG_MS),
    ...env,
  }).voice;
  const clients = new ProviderClients(config);
  cleanups.push(
    () => fake.close(),
    () => clients.close(),
  );
  return {
    generator: new OpenAIReplyGenerator(clients, config, { retryDelayMs: 10 }),
    attempts: () => fake.requests.filter((r) => r.path === '/v1/chat/completions').length,
  };
}

/** Runs the iteration; `onEvent` may abort. */
async function run(
  generator: ReplyGenerator,
  signal: AbortSignal = new AbortController().signal,
  onEvent?: (e: GenerationEvent, i: number) => void,
) {
  const events: GenerationEvent[] = [];
  let sent = 0;
  try {
    for await (const e of generator.generate(MESSAGES, signal, { tools: TOOLS, onRequestSent: () => sent++ })) {
      events.push(e);
      onEvent?.(e, events.length - 1);
    }
    return { events, error: undefined, sent };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return { events, error, sent };
  }
}

const text = (pieces: string[]): GenerationEvent[] => pieces.map((t) => ({ type: 'text', text: t }));
/** The real API reports usage on every complete answer and the fake only when scripted: compare the rest. */
const content = (r: { events: GenerationEvent[] }) => ({ ...r, events: r.events.filter((e) => e.type !== 'usage') });

describe.each([
  ['FakeReplyGenerator', fakeSubject],
  ['OpenAIReplyGenerator on the emulator', realSubject],
])('ReplyGenerator contract: %s', (_name, make) => {
  const PIECES = ['שלום, ', 'יש תור ', 'ביום ראשון.'];

  test('streams the text pieces in order and ends', async () => {
    const s = await make({ pieces: PIECES });
    const r = await run(s.generator);
    expect(content(r)).toEqual({ events: text(PIECES), error: undefined, sent: 1 });
    expect(s.attempts()).toBe(1);
  });

  test('an abort mid-stream ends the iteration quietly, without the rest of the text', async () => {
    const s = await make({ pieces: ['א', 'ב', 'ג', 'ד', 'ה', 'ו'], pieceDelayMs: 40 });
    const abort = new AbortController();
    const r = await run(s.generator, abort.signal, (_e, i) => i === 1 && abort.abort());
    expect(r.error).toBeUndefined();
    expect(r.events.length).toBeGreaterThanOrEqual(2);
    expect(r.events.length).toBeLessThan(6);
  });

  test('an abort before the first token ends quietly too', async () => {
    const s = await make({ pieces: PIECES, failure: 'stall-first' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    expect(await run(s.generator, abort.signal)).toMatchObject({ events: [], error: undefined });
  });

  test('tool calls come whole, in order, after the text; usage comes last', async () => {
    const calls = [
      { id: 'call_1', name: 'lookup', arguments: '{}' },
      { id: 'call_2', name: 'book', arguments: '{"day":"ראשון"}' },
    ];
    const s = await make({ pieces: ['רגע.'], toolCalls: calls, usage: { inputTokens: 50, outputTokens: 12 } });
    const r = await run(s.generator);
    expect(r.error).toBeUndefined();
    expect(r.events).toEqual([
      ...text(['רגע.']),
      { type: 'tool-call', call: calls[0] },
      { type: 'tool-call', call: calls[1] },
      { type: 'usage', inputTokens: 50, outputTokens: 12 },
    ]);
  });

  test.each([
    ['auth', 'AUTH'],
    ['unknown-model', 'BAD_REQUEST'],
    ['quota', 'QUOTA'],
  ] as const)('%s: %s, permanent, one attempt, nothing yielded', async (failure, code) => {
    const s = await make({ pieces: PIECES, failure });
    const r = await run(s.generator);
    expect(r.events).toEqual([]);
    expect(r.error).toMatchObject({ provider: 'llm', code, retryable: false, permanent: true });
    expect(s.attempts()).toBe(1);
  });

  test('no first token: TIMEOUT, not retried', async () => {
    const s = await make({ pieces: PIECES, failure: 'stall-first' });
    const r = await run(s.generator);
    expect(r.events).toEqual([]);
    expect(r.error).toMatchObject({ code: 'TIMEOUT', retryable: true, permanent: false });
    expect(s.attempts()).toBe(1);
  });

  test('a stall after some text: the text, then TIMEOUT', async () => {
    const s = await make({ pieces: PIECES, failure: 'stall-after-2' });
    const r = await run(s.generator);
    expect(r.events).toEqual(text(PIECES.slice(0, 2)));
    expect(r.error).toMatchObject({ code: 'TIMEOUT' });
  });

  test('a stream cut without a finish reason: the text, then UNAVAILABLE (tool calls lost)', async () => {
    const s = await make({ pieces: PIECES, toolCalls: [{ id: 'c', name: 'book', arguments: '{}' }], failure: 'cut' });
    const r = await run(s.generator);
    expect(r.events).toEqual(text(PIECES));
    expect(r.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(s.attempts()).toBe(1);
  });

  test('a transient failure before the first token is retried once, then the reply comes', async () => {
    const s = await make({ pieces: PIECES, failure: 'unavailable-once' });
    const r = await run(s.generator);
    expect(content(r)).toEqual({ events: text(PIECES), error: undefined, sent: 2 });
    expect(s.attempts()).toBe(2);
  });
});
