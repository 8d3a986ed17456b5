/**
 * OpenAIReplyGenerator with the real `openai` SDK against the wire-level OpenAI emulator: the
 * request it sends, streaming, tool calls, usage, cut streams, barge-in, watchdogs, the single
 * retry before the first token, error classes; and the preflight model check.
 */
import { parseConfig } from '../../config/config.ts';
import { ProviderClients } from '../../media/providers/clients.ts';
import { FIRST_TOKEN_PROMPT, openaiFirstTokenCheck, openaiModelCheck } from '../../media/providers/openai-check.ts';
import { OpenAIReplyGenerator } from '../../media/providers/openai-llm.ts';
import { ProviderError } from '../../media/providers/types.ts';
import type { ChatMessage, GenerationEvent, ToolSpec } from '../../media/providers/types.ts';
import { DEFAULT_OPENAI_REPLY, startFakeOpenAI } from '../../tools/emulators/index.ts';
import type { FakeOpenAI, FakeOpenAIOptions, FakeReply } from '../../tools/emulators/index.ts';

jest.setTimeout(15_000);

const KEY = 'sk-test-0123456789abcdefSECRET';
const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'ענה בקצרה.' },
  { role: 'user', content: 'מה שעות הפתיחה?' },
];

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(
  reply: FakeReply | ((index: number) => FakeReply) = {},
  env: Record<string, string> = {},
  fakeOpts: FakeOpenAIOptions = {},
) {
  const fake: FakeOpenAI = await startFakeOpenAI({
    reply: ({ index }) => (typeof reply === 'function' ? reply(index) : reply),
    ...fakeOpts,
  });
  const config = parseConfig({
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_API_KEY: KEY,
    ...env,
  }).voice;
  const clients = new ProviderClients(config);
  cleanups.push(
    () => fake.close(),
    () => clients.close(),
  );
  return { fake, config, clients, llm: new OpenAIReplyGenerator(clients, config, { retryDelayMs: 10 }) };
}

/** Every event of the iteration, and the error it ended with, if any. */
async function events(iterable: AsyncIterable<GenerationEvent>) {
  const out: GenerationEvent[] = [];
  try {
    for await (const e of iterable) out.push(e);
    return { events: out, error: undefined };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return { events: out, error };
  }
}

/** Runs the iteration to its end; `onPiece` may abort. Returns the pieces and the error, if any. */
async function drain(
  events: AsyncIterable<GenerationEvent>,
  onPiece?: (piece: string, index: number) => void | Promise<void>,
) {
  const pieces: string[] = [];
  try {
    for await (const event of events) {
      if (event.type !== 'text') continue;
      const piece = event.text;
      pieces.push(piece);
      await onPiece?.(piece, pieces.length - 1);
    }
    return { pieces, error: undefined };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return { pieces, error };
  }
}

describe('OpenAIReplyGenerator', () => {
  test('streams the reply text and sends model, messages, stream, usage, reasoning effort and max_completion_tokens', async () => {
    const { fake, llm } = await setup();
    let sent = 0;
    const { pieces, error } = await drain(
      llm.generate(MESSAGES, new AbortController().signal, { onRequestSent: () => sent++ }),
    );

    expect(error).toBeUndefined();
    expect(pieces.join('')).toBe(DEFAULT_OPENAI_REPLY);
    expect(pieces.length).toBeGreaterThan(5);
    expect(sent).toBe(1);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body).toEqual({
      model: 'gpt-5.4-mini',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: 'none',
      max_completion_tokens: 1024,
    });
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(fake.requests[0]!.headers['x-stainless-retry-count']).toBe('0');
  });

  test('caller abort mid-stream ends the iteration quietly and closes the request', async () => {
    const { fake, llm } = await setup({ chunkDelayMs: 20 });
    const abort = new AbortController();
    const { pieces, error } = await drain(llm.generate(MESSAGES, abort.signal), (_p, i) => {
      if (i === 1) abort.abort();
    });
    expect(error).toBeUndefined();
    expect(pieces.length).toBeLessThanOrEqual(3);
    expect((await fake.waitForAbort(0)).abortedByClient).toBe(true);
  });

  test('caller abort before the first token ends quietly too', async () => {
    const { fake, llm } = await setup({ firstTokenDelayMs: 5000 });
    const abort = new AbortController();
    const done = drain(llm.generate(MESSAGES, abort.signal));
    await fake.waitForRequest(0);
    abort.abort();
    expect(await done).toEqual({ pieces: [], error: undefined });
    expect((await fake.waitForAbort(0)).abortedByClient).toBe(true);
  });

  test('no first token within LLM_FIRST_TOKEN_TIMEOUT_MS: TIMEOUT, request aborted, not retried', async () => {
    const { fake, llm } = await setup({ firstTokenDelayMs: 5000 }, { LLM_FIRST_TOKEN_TIMEOUT_MS: '150' });
    const { pieces, error } = await drain(llm.generate(MESSAGES, new AbortController().signal));
    expect(pieces).toEqual([]);
    expect(error).toMatchObject({ provider: 'llm', code: 'TIMEOUT' });
    expect(error!.message).toMatch(/first token/);
    expect((await fake.waitForAbort(0)).abortedByClient).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  test('a stream that stalls after some text: TIMEOUT after the pieces, request aborted', async () => {
    const { fake, llm } = await setup({ stallAfterChunks: 3 }, { LLM_IDLE_TIMEOUT_MS: '150' });
    const { pieces, error } = await drain(llm.generate(MESSAGES, new AbortController().signal));
    expect(pieces).toHaveLength(3);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(error!.message).toMatch(/stalled/);
    expect((await fake.waitForAbort(0)).abortedByClient).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  test('a slow consumer does not trip the idle watchdog', async () => {
    const { llm } = await setup({ chunks: ['א', 'ב', 'ג'] }, { LLM_IDLE_TIMEOUT_MS: '50' });
    const { pieces, error } = await drain(
      llm.generate(MESSAGES, new AbortController().signal),
      () => new Promise((r) => setTimeout(r, 150)),
    );
    expect(error).toBeUndefined();
    expect(pieces).toEqual(['א', 'ב', 'ג']);
  });

  test('500 is retried once, then UNAVAILABLE after exactly two requests', async () => {
    const { fake, llm } = await setup({ status: 500 });
    let sent = 0;
    const { error } = await drain(
      llm.generate(MESSAGES, new AbortController().signal, { onRequestSent: () => sent++ }),
    );
    expect(error).toMatchObject({ code: 'UNAVAILABLE', vendorCode: 500, retryable: true });
    expect(fake.requests).toHaveLength(2);
    expect(sent).toBe(2);
  });

  test('a 500 followed by a good answer yields the reply', async () => {
    const { fake, llm } = await setup((i) => (i === 0 ? { status: 503 } : { text: 'בסדר.' }));
    const { pieces, error } = await drain(llm.generate(MESSAGES, new AbortController().signal));
    expect(error).toBeUndefined();
    expect(pieces.join('')).toBe('בסדר.');
    expect(fake.requests).toHaveLength(2);
  });

  test('429 is RATE_LIMITED and retried once', async () => {
    const { fake, llm } = await setup({ status: 429 });
    const { error } = await drain(llm.generate(MESSAGES, new AbortController().signal));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', vendorCode: 429 });
    expect(fake.requests).toHaveLength(2);
  });

  test('401 is AUTH, not retried, and the key never appears in the message', async () => {
    const { fake, llm } = await setup({}, {}, { apiKey: 'another-key' });
    const { error } = await drain(llm.generate(MESSAGES, new AbortController().signal));
    expect(error).toMatchObject({ code: 'AUTH', vendorCode: 401, retryable: false });
    expect(error!.message).toMatch(/^OpenAI: credentials missing or invalid \(set OPENAI_API_KEY/);
    expect(error!.message).not.toContain(KEY);
    expect(fake.requests).toHaveLength(1);
  });

  test('an error in the middle of the stream is UNAVAILABLE and never retried once text was yielded', async () => {
    const { fake, llm } = await setup({ midStreamError: true });
    const { pieces, error } = await drain(llm.generate(MESSAGES, new AbortController().signal));
    expect(pieces.length).toBeGreaterThan(0);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(fake.requests).toHaveLength(1);
  });

  test('breaking out of the loop early aborts the request', async () => {
    const { fake, llm } = await setup({ chunkDelayMs: 20 });
    for await (const event of llm.generate(MESSAGES, new AbortController().signal)) {
      expect(event).toMatchObject({ type: 'text' });
      break;
    }
    expect((await fake.waitForAbort(0)).abortedByClient).toBe(true);
  });
});

describe('OpenAI credentials', () => {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    // The SDK falls back to these variables itself; the test must not depend on the machine's.
    for (const k of ['OPENAI_API_KEY', 'OPENAI_ADMIN_KEY', 'OPENAI_BASE_URL']) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  });

  test('no key and no base URL: AUTH at first use, not at construction', async () => {
    const config = parseConfig({}).voice;
    const clients = new ProviderClients(config);
    const llm = new OpenAIReplyGenerator(clients, config);
    const { error } = await drain(llm.generate(MESSAGES, new AbortController().signal));
    expect(error).toMatchObject({ provider: 'llm', code: 'AUTH', retryable: false });
    expect(error!.message).toMatch(/^OpenAI: credentials missing or invalid \(set OPENAI_API_KEY, or OPENAI_BASE_URL/);
    expect(() => clients.openai()).toThrow(error!); // cached: the same error every time
  });

  test('no key with a base URL (a local compatible server) works with a placeholder key', async () => {
    const fake = await startFakeOpenAI({ reply: () => ({ text: 'שלום' }) });
    cleanups.push(() => fake.close());
    const config = parseConfig({ OPENAI_BASE_URL: fake.baseURL }).voice;
    const llm = new OpenAIReplyGenerator(new ProviderClients(config), config);
    expect((await drain(llm.generate(MESSAGES, new AbortController().signal))).pieces.join('')).toBe('שלום');
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer unused');
  });
});

describe('OpenAIReplyGenerator: parameters, tool calls, usage, refusals', () => {
  const TOOLS: ToolSpec[] = [
    {
      name: 'book',
      description: 'Book an appointment',
      parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
    },
    { name: 'lookup', description: 'Find the caller', parameters: { type: 'object', properties: {} } },
  ];

  test('OPENAI_REASONING_EFFORT=omit and OPENAI_MAX_COMPLETION_TOKENS=0 leave the parameters out; other values are sent', async () => {
    const { fake, llm } = await setup(
      { text: 'כן.' },
      { OPENAI_REASONING_EFFORT: 'omit', OPENAI_MAX_COMPLETION_TOKENS: '0', OPENAI_MODEL: 'gpt-4o' },
      { today: '2026-11-29' },
    );
    expect((await events(llm.generate(MESSAGES, new AbortController().signal))).error).toBeUndefined();
    expect(Object.keys(fake.requests[0]!.body).sort()).toEqual(['messages', 'model', 'stream', 'stream_options']);
    const second = await setup(
      { text: 'כן.' },
      { OPENAI_REASONING_EFFORT: 'low', OPENAI_MAX_COMPLETION_TOKENS: '300' },
    );
    expect((await events(second.llm.generate(MESSAGES, new AbortController().signal))).error).toBeUndefined();
    expect(second.fake.requests[0]!.body).toMatchObject({ reasoning_effort: 'low', max_completion_tokens: 300 });
    expect(second.fake.requests[0]!.body).not.toHaveProperty('max_tokens');
  });

  test('tools are offered as functions, and history with tool calls and results is sent in the API shape', async () => {
    const { fake, llm } = await setup({ text: 'נקבע.' });
    const history: ChatMessage[] = [
      ...MESSAGES,
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'book', arguments: '{"day":"א"}' }] },
      { role: 'tool', toolCallId: 'call_1', content: '{"ok":true}' },
    ];
    const r = await events(llm.generate(history, new AbortController().signal, { tools: TOOLS }));
    expect(r.error).toBeUndefined();
    const body = fake.requests[0]!.body;
    expect(body.tools).toEqual(TOOLS.map((t) => ({ type: 'function', function: t })));
    expect(body.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'book', arguments: '{"day":"א"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true}' },
    ]);
  });

  test('no tools offered: no tools parameter (the API refuses an empty list)', async () => {
    const { fake, llm } = await setup({ text: 'כן.' });
    expect((await events(llm.generate(MESSAGES, new AbortController().signal, { tools: [] }))).error).toBeUndefined();
    expect(fake.requests[0]!.body).not.toHaveProperty('tools');
  });

  test('text, then parallel tool calls assembled from their deltas in index order, then usage', async () => {
    const { llm } = await setup({
      chunks: ['רגע, ', 'אני בודקת.'],
      toolCalls: [
        { id: 'call_a', name: 'lookup', arguments: { phone: '+972501234567' } },
        { id: 'call_b', name: 'book', arguments: { day: 'יום שלישי', time: '10:30' } },
      ],
      argumentChunkChars: 4,
      usage: { prompt_tokens: 120, completion_tokens: 33 },
    });
    const r = await events(llm.generate(MESSAGES, new AbortController().signal, { tools: TOOLS }));
    expect(r.error).toBeUndefined();
    expect(r.events).toEqual([
      { type: 'text', text: 'רגע, ' },
      { type: 'text', text: 'אני בודקת.' },
      { type: 'tool-call', call: { id: 'call_a', name: 'lookup', arguments: '{"phone":"+972501234567"}' } },
      { type: 'tool-call', call: { id: 'call_b', name: 'book', arguments: '{"day":"יום שלישי","time":"10:30"}' } },
      { type: 'usage', inputTokens: 120, outputTokens: 33 },
    ]);
  });

  test('a tool call streams slowly past the first-token limit: its first delta counts as the first token', async () => {
    const { llm } = await setup(
      { toolCalls: [{ name: 'book', arguments: { day: 'x'.repeat(40) } }], argumentChunkChars: 4, chunkDelayMs: 30 },
      { LLM_FIRST_TOKEN_TIMEOUT_MS: '200', LLM_IDLE_TIMEOUT_MS: '150' },
    );
    const r = await events(llm.generate(MESSAGES, new AbortController().signal, { tools: TOOLS }));
    expect(r.error).toBeUndefined();
    expect(r.events.filter((e) => e.type === 'tool-call')).toHaveLength(1);
  });

  test('a stream cut without a finish_reason: the text so far, then UNAVAILABLE; a half-streamed tool call is dropped', async () => {
    const { fake, llm } = await setup({
      chunks: ['שלום. ', 'מה ', 'נשמע'],
      toolCalls: [{ name: 'book', arguments: { day: 'ראשון' } }],
      cutAfterChunks: 4,
    });
    const r = await events(llm.generate(MESSAGES, new AbortController().signal, { tools: TOOLS }));
    expect(r.events).toEqual([
      { type: 'text', text: 'שלום. ' },
      { type: 'text', text: 'מה ' },
      { type: 'text', text: 'נשמע' },
    ]);
    expect(r.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(r.error!.message).toMatch(/without a finish_reason/);
    expect(fake.requests).toHaveLength(1); // text was already out: no retry
  });

  test('a stream cut before any output is retried once like any UNAVAILABLE', async () => {
    const { fake, llm } = await setup((i) => (i === 0 ? { text: 'x', cutAfterChunks: 0 } : { text: 'שוב.' }));
    const r = await events(llm.generate(MESSAGES, new AbortController().signal));
    expect(r.error).toBeUndefined();
    expect(
      r.events
        .filter((e) => e.type === 'text')
        .map((e) => (e.type === 'text' ? e.text : ''))
        .join(''),
    ).toBe('שוב.');
    expect(fake.requests).toHaveLength(2);
  });

  test('an unknown or retired model: BAD_REQUEST naming OPENAI_MODEL, permanent, not retried', async () => {
    const { fake, llm } = await setup({}, { OPENAI_MODEL: 'gpt-4o-mini' }, { today: '2027-01-14' });
    const { error } = await events(llm.generate(MESSAGES, new AbortController().signal));
    expect(error).toMatchObject({ code: 'BAD_REQUEST', vendorCode: 404, retryable: false, permanent: true });
    expect(error!.message).toMatch(/check OPENAI_MODEL=gpt-4o-mini/);
    expect(error!.message).toMatch(/does not exist/);
    expect(fake.requests).toHaveLength(1);
  });

  test('a reasoning effort the model refuses: BAD_REQUEST naming OPENAI_REASONING_EFFORT', async () => {
    const { llm } = await setup({}, { OPENAI_REASONING_EFFORT: 'minimal' });
    const { error } = await events(llm.generate(MESSAGES, new AbortController().signal));
    expect(error).toMatchObject({ code: 'BAD_REQUEST', vendorCode: 400, permanent: true });
    expect(error!.message).toMatch(/check OPENAI_REASONING_EFFORT=minimal for OPENAI_MODEL=gpt-5\.4-mini/);
  });

  test('insufficient_quota: QUOTA, permanent, never retried', async () => {
    const { fake, llm } = await setup({}, {}, { insufficientQuota: true });
    const { error } = await events(llm.generate(MESSAGES, new AbortController().signal));
    expect(error).toMatchObject({ code: 'QUOTA', vendorCode: 429, retryable: false, permanent: true });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('openaiModelCheck', () => {
  test('the configured model exists: ok with its id', async () => {
    const { clients, config, fake } = await setup();
    const r = await openaiModelCheck(clients, config);
    expect(r).toMatchObject({ ok: true, model: 'gpt-5.4-mini', ownedBy: 'system' });
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models/gpt-5.4-mini' });
  });

  test('a retired model: BAD_REQUEST naming OPENAI_MODEL', async () => {
    const { clients, config } = await setup({}, { OPENAI_MODEL: 'gpt-5' }, { today: '2026-12-11' });
    const r = await openaiModelCheck(clients, config);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ code: 'BAD_REQUEST', vendorCode: 404, permanent: true });
    expect(r.error.message).toMatch(/model not found \(check OPENAI_MODEL=gpt-5\)/);
  });

  test('a wrong key: AUTH, and the key is not in the message', async () => {
    const { clients, config } = await setup({}, {}, { apiKeys: ['sk-other-key-000000'] });
    const r = await openaiModelCheck(clients, config);
    expect(r).toMatchObject({ ok: false, error: { code: 'AUTH', vendorCode: 401 } });
    if (!r.ok) expect(r.error.message).not.toContain(KEY);
  });

  test('nothing listening: UNAVAILABLE, never a throw', async () => {
    const { clients, config, fake } = await setup();
    await fake.close();
    const r = await openaiModelCheck(clients, config, { timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
  });
});

describe('openaiFirstTokenCheck', () => {
  test('one short completion with the configured parameters: the time to its first text', async () => {
    const { fake, llm } = await setup({ chunks: ['עב', 'רית'], firstTokenDelayMs: 120 });
    const r = await openaiFirstTokenCheck(llm);
    expect(r).toMatchObject({ ok: true, text: 'עברית' });
    if (r.ok) expect(r.firstTokenMs).toBeGreaterThanOrEqual(100);
    expect(fake.requests[0]!.body).toMatchObject({
      messages: [{ role: 'user', content: FIRST_TOKEN_PROMPT }],
      reasoning_effort: 'none',
      max_completion_tokens: 1024,
    });
  });

  test('no first token within LLM_FIRST_TOKEN_TIMEOUT_MS: TIMEOUT', async () => {
    const { llm } = await setup({ firstTokenDelayMs: 5000 }, { LLM_FIRST_TOKEN_TIMEOUT_MS: '150' });
    expect(await openaiFirstTokenCheck(llm)).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
  });

  test('a refused parameter: BAD_REQUEST naming the setting; an answer without text: UNKNOWN', async () => {
    const { llm } = await setup({}, { OPENAI_REASONING_EFFORT: 'max' });
    const refused = await openaiFirstTokenCheck(llm);
    expect(refused).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    if (!refused.ok) expect(refused.error.message).toMatch(/OPENAI_REASONING_EFFORT=max/);
    const empty = await setup({ chunks: [] });
    expect(await openaiFirstTokenCheck(empty.llm)).toMatchObject({ ok: false, error: { code: 'UNKNOWN' } });
  });
});
