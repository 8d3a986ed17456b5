/**
 * OpenAIReplyGenerator with the real `openai` SDK against the wire-level OpenAI fake: streaming,
 * barge-in, watchdogs, the single retry before the first token, and error classes.
 */
import { parseConfig } from '../../config/config.ts';
import { ProviderClients } from '../../media/providers/clients.ts';
import { OpenAIReplyGenerator } from '../../media/providers/openai-llm.ts';
import { ProviderError } from '../../media/providers/types.ts';
import type { ChatMessage, GenerationEvent } from '../../media/providers/types.ts';
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
    OPENAI_MODEL: 'gpt-test',
    ...env,
  }).voice;
  const clients = new ProviderClients(config);
  cleanups.push(
    () => fake.close(),
    () => clients.close(),
  );
  return { fake, llm: new OpenAIReplyGenerator(clients, config, { retryDelayMs: 10 }) };
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
  test('streams the reply text and sends model, messages and stream: true', async () => {
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
    expect(fake.requests[0]!.body).toMatchObject({ model: 'gpt-test', messages: MESSAGES, stream: true });
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
