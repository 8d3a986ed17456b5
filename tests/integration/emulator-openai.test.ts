/**
 * The OpenAI emulator driven by the real `openai` SDK (and by raw HTTP where the wire itself is the
 * point): streaming, tool calls, usage, cuts and stalls, and every refusal the real API makes that
 * the gateway could run into (key, model, parameters, conversation shape, quota).
 */
import OpenAI from 'openai';
import { DEFAULT_OPENAI_REPLY, startFakeOpenAI } from '../../tools/emulators/index.ts';
import type { FakeOpenAI, FakeOpenAIOptions } from '../../tools/emulators/index.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const MODEL = 'gpt-5.4-mini';
const messages = [{ role: 'user' as const, content: 'שלום' }];

async function setup(opts: FakeOpenAIOptions = {}, maxRetries = 0) {
  const fake = await startFakeOpenAI(opts);
  const client = new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, maxRetries });
  cleanups.push(() => fake.close());
  return { fake, client };
}

/** POSTs `body` and returns the status and the parsed JSON, or the SSE `data:` frames and whether `[DONE]` came. */
async function raw(fake: FakeOpenAI, body: unknown, headers: Record<string, string> = { authorization: 'Bearer k' }) {
  const res = await fetch(`${fake.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream'))
    return { status: res.status, json: JSON.parse(text) as any, frames: [] as any[], done: false };
  const data = text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice(6));
  return {
    status: res.status,
    json: undefined,
    frames: data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as any),
    done: data.includes('[DONE]'),
  };
}

/** The error the SDK throws for a create() call. */
async function refusal(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error('expected the request to be refused');
}

describe('streaming', () => {
  test('streams the reply in small chunks, then the finish, the usage chunk and [DONE]', async () => {
    const { fake, client } = await setup();
    const stream = await client.chat.completions.create({
      model: MODEL,
      stream: true,
      messages,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    let pieces = 0;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta?.content) pieces++;
      text += choice?.delta?.content ?? '';
      finish = choice?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(DEFAULT_OPENAI_REPLY);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
    expect(pieces).toBe(fake.requests[0]!.chunksSent);
    expect(pieces).toBeGreaterThan(10);
    expect(fake.requests[0]).toMatchObject({ path: '/v1/chat/completions', abortedByClient: false });
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer test');
  });

  test('with include_usage every chunk carries usage: null except the last, which has choices: []', async () => {
    const { fake } = await setup({
      reply: () => ({ text: 'שלום לך', usage: { prompt_tokens: 7, completion_tokens: 3 } }),
    });
    const r = await raw(fake, { model: MODEL, messages, stream: true, stream_options: { include_usage: true } });
    const last = r.frames.at(-1);
    expect(last).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });
    expect(r.frames.slice(0, -1).every((f) => f.usage === null && f.choices.length === 1)).toBe(true);
    expect(r.frames.at(-2).choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(r.done).toBe(true);
    const plain = await raw(fake, { model: MODEL, messages, stream: true });
    expect(plain.frames.some((f) => 'usage' in f)).toBe(false);
  });

  test('answers non-streaming requests with a JSON completion', async () => {
    const { client } = await setup({ reply: () => ({ text: 'בסדר.' }) });
    const res = await client.chat.completions.create({ model: MODEL, messages });
    expect(res.choices[0]).toMatchObject({ message: { content: 'בסדר.' }, finish_reason: 'stop' });
  });

  test('sees an abort in the middle of the stream as abortedByClient', async () => {
    const { fake, client } = await setup({ reply: () => ({ chunkDelayMs: 20 }) });
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: MODEL, stream: true, messages },
      { signal: ac.signal },
    );
    let received = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content && ++received === 2) ac.abort();
    const rec = await fake.waitForAbort(0);
    expect(rec.abortedByClient).toBe(true);
    expect(rec.chunksSent).toBeLessThan(Array.from(DEFAULT_OPENAI_REPLY).length / 3);
  });

  test('keeps a stalled stream open until the client gives up', async () => {
    const { fake, client } = await setup({ reply: () => ({ chunks: ['שלום', ' לך', '!'], stallAfterChunks: 2 }) });
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: MODEL, stream: true, messages },
      { signal: ac.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    const got: string[] = [];
    while (got.length < 2) {
      const { value } = await it.next();
      if (value?.choices[0]?.delta?.content) got.push(value.choices[0].delta.content);
    }
    expect(got).toEqual(['שלום', ' לך']);
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise((resolve) => (timer = setTimeout(resolve, 150, 'quiet')));
    expect(await Promise.race([it.next().then(() => 'data'), quiet])).toBe('quiet');
    clearTimeout(timer);
    expect(fake.requests[0]!.finishedAt).toBeUndefined();
    ac.abort();
    expect(await fake.waitForAbort(0)).toMatchObject({ abortedByClient: true, chunksSent: 2 });
  });

  test('a cut stream ends with no finish_reason and no [DONE]; the SDK iteration ends normally', async () => {
    const { fake, client } = await setup({ reply: () => ({ chunks: ['א', 'ב', 'ג', 'ד'], cutAfterChunks: 2 }) });
    const r = await raw(fake, { model: MODEL, messages, stream: true, stream_options: { include_usage: true } });
    expect(r.done).toBe(false);
    expect(r.frames.map((f) => f.choices[0]?.delta?.content ?? '').join('')).toBe('אב');
    expect(r.frames.every((f) => f.choices[0]?.finish_reason === null && f.usage === null)).toBe(true);
    const stream = await client.chat.completions.create({ model: MODEL, stream: true, messages });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('אב');
  });

  test('maps HTTP 500 and 429 to the SDK error classes, and x-should-retry: false stops its retries', async () => {
    const { fake, client } = await setup(
      { reply: ({ index }) => (index === 0 ? { status: 500 } : { status: 429 }) },
      2,
    );
    const r500 = client.chat.completions.create({ model: MODEL, stream: true, messages });
    await expect(r500).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const r429 = client.chat.completions.create({ model: MODEL, stream: true, messages });
    await expect(r429).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(r429).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(fake.requests.map((r) => r.status)).toEqual([500, 429]); // maxRetries: 2, yet one request each
  });

  test('a mid-stream error frame makes the iterator throw after the text already yielded', async () => {
    const { client } = await setup({ reply: () => ({ chunks: ['א', 'ב', 'ג', 'ד'], midStreamError: true }) });
    const stream = await client.chat.completions.create({ model: MODEL, stream: true, messages });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(text).toBe('אב');
  });
});

describe('tool calls', () => {
  const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
    {
      type: 'function',
      function: {
        name: 'book',
        description: 'Book a slot',
        parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
      },
    },
  ];
  const calls = [
    { id: 'call_a', name: 'book', arguments: { day: 'יום ראשון', time: '10:00' } },
    { id: 'call_b', name: 'lookup', arguments: '{"phone":"+972501234567"}' },
  ];

  test('streams text, then parallel calls: a header delta each, arguments split across chunks, finish tool_calls', async () => {
    const { fake } = await setup({ reply: () => ({ text: 'רגע.', toolCalls: calls, argumentChunkChars: 5 }) });
    const r = await raw(fake, { model: MODEL, messages, tools, stream: true });
    const deltas = r.frames.map((f) => f.choices[0].delta);
    expect(deltas[0]).toEqual({ role: 'assistant', content: '', refusal: null });
    const toolDeltas = deltas.filter((d) => d.tool_calls).map((d) => d.tool_calls);
    expect(toolDeltas.every((t) => t.length === 1)).toBe(true);
    const headers = toolDeltas.map((t) => t[0]).filter((t) => t.id);
    expect(headers).toEqual([
      { index: 0, id: 'call_a', type: 'function', function: { name: 'book', arguments: '' } },
      { index: 1, id: 'call_b', type: 'function', function: { name: 'lookup', arguments: '' } },
    ]);
    const pieces0 = toolDeltas.map((t) => t[0]).filter((t) => t.index === 0 && !t.id);
    expect(pieces0.length).toBeGreaterThan(2);
    expect(pieces0.every((t) => Object.keys(t).sort().join() === 'function,index')).toBe(true);
    expect(JSON.parse(pieces0.map((t) => t.function.arguments).join(''))).toEqual(calls[0]!.arguments);
    // Text strictly before the calls; the finish after all of them.
    const firstTool = deltas.findIndex((d) => d.tool_calls);
    expect(deltas.slice(firstTool).some((d) => d.content)).toBe(false);
    expect(r.frames.at(-1).choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
  });

  test("the SDK's own stream helper assembles the same calls", async () => {
    const { client } = await setup({ reply: () => ({ toolCalls: calls, argumentChunkChars: 3 }) });
    const stream = client.chat.completions.stream({ model: MODEL, messages, tools });
    const done = await stream.finalChatCompletion();
    const choice = done.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(
      choice.message.tool_calls?.map((c) =>
        c.type === 'function' ? [c.id, c.function.name, c.function.arguments] : [],
      ),
    ).toEqual([
      ['call_a', 'book', JSON.stringify(calls[0]!.arguments)],
      ['call_b', 'lookup', calls[1]!.arguments],
    ]);
  });

  test('a reply that starts with a call carries the role on the call header (content null)', async () => {
    const { fake } = await setup({ reply: () => ({ toolCalls: [calls[0]!] }) });
    const r = await raw(fake, { model: MODEL, messages, tools, stream: true });
    expect(r.frames[0].choices[0].delta).toMatchObject({
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'book', arguments: '' } }],
    });
  });

  test('non-streaming answers carry message.tool_calls', async () => {
    const { client } = await setup({ reply: () => ({ toolCalls: [calls[0]!] }) });
    const res = await client.chat.completions.create({ model: MODEL, messages, tools });
    expect(res.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: null, tool_calls: [{ id: 'call_a', function: { name: 'book' } }] },
    });
  });

  test('a multi-round conversation is scripted as a function of the messages', async () => {
    const { fake, client } = await setup({
      reply: ({ body }) =>
        body.messages.at(-1).role === 'tool'
          ? { text: `הוזמן: ${JSON.parse(body.messages.at(-1).content).slot}` }
          : { toolCalls: [calls[0]!] },
    });
    const first = await client.chat.completions.create({ model: MODEL, messages, tools });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const second = await client.chat.completions.create({
      model: MODEL,
      tools,
      messages: [
        ...messages,
        first.choices[0]!.message,
        { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ slot: '10:00' }) },
      ],
    });
    expect(second.choices[0]!.message.content).toBe('הוזמן: 10:00');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('refusals like the real API', () => {
  test('no Authorization header: 401 with the missing-key message; a key not accepted: 401 invalid_api_key, masked', async () => {
    const { fake, client } = await setup({ apiKeys: ['sk-good-key-123456'] });
    const none = await raw(fake, { model: MODEL, messages }, {});
    expect(none.status).toBe(401);
    expect(none.json.error).toMatchObject({ type: 'invalid_request_error', code: null });
    expect(none.json.error.message).toMatch(/^You didn't provide an API key/);
    const err = await refusal(client.chat.completions.create({ model: MODEL, messages }));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: 'invalid_api_key' });
    const wrongKey = new OpenAI({ apiKey: 'sk-wrong-key-ABCDEFGH', baseURL: fake.baseURL, maxRetries: 0 });
    const masked = await refusal(wrongKey.chat.completions.create({ model: MODEL, messages }));
    expect(masked.message).toMatch(/Incorrect API key provided: sk-\*+EFGH\./);
    expect(masked.message).not.toContain('sk-wrong-key-ABCDEFGH');
    const good = new OpenAI({ apiKey: 'sk-good-key-123456', baseURL: fake.baseURL, maxRetries: 0 });
    await expect(good.chat.completions.create({ model: MODEL, messages })).resolves.toBeDefined();
  });

  test('an unknown model: 404 with exactly OpenAI’s model_not_found body', async () => {
    const { fake, client } = await setup();
    const r = await raw(fake, { model: 'gpt-foo', messages, stream: true });
    expect(r.status).toBe(404);
    expect(r.json).toEqual({
      error: {
        message: 'The model `gpt-foo` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    });
    const err = await refusal(client.chat.completions.create({ model: 'gpt-foo', messages, stream: true }));
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.code).toBe('model_not_found');
  });

  test('a deprecated model works until its shutdown date, then answers 404 (per the configurable today)', async () => {
    const { fake, client } = await setup({ today: '2027-01-13' });
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages })).resolves.toBeDefined();
    fake.set({ today: '2027-01-14' });
    const err = await refusal(client.chat.completions.create({ model: 'gpt-4o-mini', messages }));
    expect(err).toMatchObject({ status: 404, code: 'model_not_found' });
    // Retired long ago whatever the clock says:
    fake.set({ today: undefined });
    expect(await refusal(client.chat.completions.create({ model: 'o1-mini', messages }))).toMatchObject({
      status: 404,
    });
  });

  test('GET /v1/models lists the live models; /v1/models/{id} answers 404 model_not_found for a retired one', async () => {
    const { client } = await setup({ today: '2026-11-29' });
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-5.4-mini', 'gpt-5.5', 'gpt-4o-mini', 'gpt-5']));
    expect(ids).not.toContain('o1-mini');
    expect(ids).not.toContain('gpt-4o-2024-05-13'); // shut down 2026-10-23
    await expect(client.models.retrieve('gpt-5.4-mini')).resolves.toMatchObject({
      id: 'gpt-5.4-mini',
      object: 'model',
    });
    const err = await refusal(client.models.retrieve('gpt-4o-2024-05-13'));
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  test('max_tokens to a reasoning model: 400 unsupported_parameter pointing to max_completion_tokens', async () => {
    const { client } = await setup({ today: '2026-11-29' });
    const err = await refusal(client.chat.completions.create({ model: MODEL, messages, max_tokens: 100 }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ code: 'unsupported_parameter', param: 'max_tokens' });
    expect(err.message).toContain(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    );
    await expect(
      client.chat.completions.create({ model: MODEL, messages, max_completion_tokens: 100 }),
    ).resolves.toBeDefined();
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 100 })).resolves.toBeDefined();
    await expect(
      refusal(client.chat.completions.create({ model: 'o3', messages, max_tokens: 100 })),
    ).resolves.toMatchObject({ status: 400 });
  });

  test('reasoning_effort: per-model values, refused on a chat model, unknown values refused; the table is an option', async () => {
    const { client } = await setup({ today: '2026-11-29' });
    await expect(
      client.chat.completions.create({ model: MODEL, messages, reasoning_effort: 'none' }),
    ).resolves.toBeDefined();
    const minimal = await refusal(
      client.chat.completions.create({ model: MODEL, messages, reasoning_effort: 'minimal' }),
    );
    expect(minimal).toMatchObject({ status: 400, code: 'unsupported_value', param: 'reasoning_effort' });
    expect(minimal.message).toContain(
      "Unsupported value: 'minimal' is not supported with the 'gpt-5.4-mini' model. Supported values are: 'none', 'low', 'medium', 'high', and 'xhigh'.",
    );
    await expect(
      client.chat.completions.create({ model: 'gpt-5', messages, reasoning_effort: 'minimal' }),
    ).resolves.toBeDefined();
    expect(
      await refusal(client.chat.completions.create({ model: 'gpt-5', messages, reasoning_effort: 'none' })),
    ).toMatchObject({ code: 'unsupported_value' });
    expect(
      await refusal(client.chat.completions.create({ model: 'gpt-4o', messages, reasoning_effort: 'low' })),
    ).toMatchObject({
      code: 'unsupported_parameter',
      param: 'reasoning_effort',
    });
    expect(
      await refusal(client.chat.completions.create({ model: MODEL, messages, reasoning_effort: 'turbo' as never })),
    ).toMatchObject({
      code: 'invalid_value',
    });
    const { client: custom } = await setup({ reasoningEfforts: { [MODEL]: ['low'] } });
    expect(
      await refusal(custom.chat.completions.create({ model: MODEL, messages, reasoning_effort: 'none' })),
    ).toMatchObject({ status: 400 });
    await expect(
      custom.chat.completions.create({ model: MODEL, messages, reasoning_effort: 'low' }),
    ).resolves.toBeDefined();
  });

  test('request shape: messages required and non-empty, stream_options only with stream, no unknown arguments', async () => {
    const { fake } = await setup();
    const cases: Array<[unknown, number, Record<string, unknown>]> = [
      [{ model: MODEL }, 400, { code: 'missing_required_parameter', param: 'messages' }],
      [{ model: MODEL, messages: [] }, 400, { code: 'empty_array' }],
      [{ model: MODEL, messages, stream_options: { include_usage: true } }, 400, { param: 'stream_options' }],
      [
        { model: MODEL, messages, reasoning: { effort: 'low' } },
        400,
        { message: 'Unrecognized request argument supplied: reasoning' },
      ],
      ['{not json', 400, { message: expect.stringMatching(/could not parse the JSON body/) }],
    ];
    for (const [body, status, error] of cases) {
      const r = await raw(fake, body);
      expect({ status: r.status, error: r.json.error }).toEqual({ status, error: expect.objectContaining(error) });
    }
  });

  test('tool protocol: a tool message must answer an id of the assistant message just before; every call needs its answer', async () => {
    const { fake } = await setup();
    const assistant = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'book', arguments: '{}' } }],
    };
    const cases: Array<[unknown[], RegExp | undefined]> = [
      [
        [...messages, { role: 'tool', tool_call_id: 'call_1', content: '{}' }],
        /must be a response to a preceeding message with 'tool_calls'/,
      ],
      [
        [...messages, assistant, { role: 'tool', tool_call_id: 'call_9', content: '{}' }],
        /'tool_call_id' of 'call_9' not found/,
      ],
      [[...messages, assistant, { role: 'user', content: 'ו?' }], /did not have response messages: call_1/],
      [[...messages, assistant], /did not have response messages: call_1/],
      [[...messages, assistant, { role: 'tool', tool_call_id: 'call_1', content: '{}' }], undefined],
    ];
    for (const [msgs, problem] of cases) {
      const r = await raw(fake, { model: MODEL, messages: msgs });
      if (problem) {
        expect(r.status).toBe(400);
        expect(r.json.error.message).toMatch(problem);
      } else expect(r.status).toBe(200);
    }
  });

  test("tools: an empty list and a schema that is not an object schema are refused with OpenAI's codes", async () => {
    const { fake } = await setup();
    const fn = (parameters: unknown) => [{ type: 'function', function: { name: 'book', parameters } }];
    const empty = await raw(fake, { model: MODEL, messages, tools: [] });
    expect(empty.json.error).toMatchObject({ code: 'empty_array', param: 'tools' });
    const str = await raw(fake, { model: MODEL, messages, tools: fn({ type: 'string' }) });
    expect(str.json.error).toMatchObject({
      code: 'invalid_function_parameters',
      param: 'tools[0].function.parameters',
    });
    expect(str.json.error.message).toBe(
      `Invalid schema for function 'book': schema must be a JSON Schema of 'type: "object"', got 'type: "string"'.`,
    );
    const arr = await raw(fake, { model: MODEL, messages, tools: fn([]) });
    expect(arr.json.error.message).toMatch(/\[\] is not of type 'object', 'boolean'/);
    const badName = await raw(fake, {
      model: MODEL,
      messages,
      tools: [{ type: 'function', function: { name: 'book now' } }],
    });
    expect(badName.status).toBe(400);
    expect((await raw(fake, { model: MODEL, messages, tools: fn({ type: 'object', properties: {} }) })).status).toBe(
      200,
    );
  });

  test('insufficient_quota mode: 429 with OpenAI’s body, switchable while running', async () => {
    const { fake, client } = await setup({ insufficientQuota: true });
    const err = await refusal(client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    expect(err.message).toMatch(/You exceeded your current quota/);
    expect(fake.requests[0]!.errorCode).toBe('insufficient_quota');
    fake.set({ insufficientQuota: false });
    await expect(client.chat.completions.create({ model: MODEL, messages })).resolves.toBeDefined();
  });
});
