/**
 * The agent acts, end to end: real SDKs against the emulators, a CRM emulator, and a client that
 * behaves as Twilio does. The caller is recognised from the CRM before the greeting, the model
 * calls a CRM tool (with a filler while the CRM is slow), hangs up and transfers, the keypad works,
 * and the agent is chosen by the number dialled.
 */
import { verifySignature } from '../../server/signing.ts';
import { fakeTtsAudio } from '../../tools/emulators/index.ts';
import { eventually } from '../helpers/gateway-harness.ts';
import { HEBREW, startVoiceStack, type VoiceStack } from '../helpers/voice-stack.ts';

jest.setTimeout(40_000);

const SECRET = 'test-webhook-secret-0123456789';
const BOOK = {
  name: 'book_appointment',
  description: 'קובע תור ללקוח',
  parameters: {
    type: 'object',
    properties: { date: { type: 'string' }, time: { type: 'string', pattern: '^\\d{2}:\\d{2}$' } },
    required: ['date', 'time'],
    additionalProperties: false,
  },
};
const FILLER = 'רגע, אני בודקת ביומן.';

/** The last message the model was sent. */
const last = (req: { body: any }) => (req.body?.messages as Array<{ role: string; content: unknown }>).at(-1)!;
const texts = (stack: VoiceStack) => stack.tts.requests.map((r) => r.text);
const contains = (hay: Buffer, needle: Buffer) => hay.indexOf(needle.subarray(0, 800)) !== -1;

describe('an agent with a CRM', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  const agents =
    (tools: unknown[] = [], extra: Record<string, unknown> = {}) =>
    (crm: any) => ({
      defaultAgent: 'clinic',
      agents: [
        {
          id: 'clinic',
          numbers: ['+972722222222'],
          greeting: 'שלום {{name}}, כאן המרפאה.',
          instructions: 'את נציגת המרפאה.',
          context: { url: crm.contextUrl, timeoutMs: 800 },
          tools: tools.map((t: any) => ({ ...t, url: crm.toolUrl(t.name), timeoutMs: 3000 })),
          transfer: { reception: '+97231234567,ww12' },
          fillers: [FILLER],
          ...extra,
        },
      ],
    });

  it('greets the caller by name from the CRM, appends its instructions, and signs the request', async () => {
    stack = await startVoiceStack({
      env: { WEBHOOK_SECRET: SECRET },
      crm: { secret: SECRET, context: { body: { variables: { name: 'דנה' }, instructions: 'הלקוחה מעדיפה בקרים.' } } },
      agents: agents(),
    });
    const client = await stack.call({ from: '+972501234567' });
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    expect(texts(stack)).toContain('שלום דנה, כאן המרפאה.');
    const ctx = stack.crm!.requests[0]!;
    expect(ctx.route).toBe('context');
    expect(ctx.json).toEqual({
      callSid: client.callSid,
      from: '+972501234567',
      to: '+972722222222',
      agentId: 'clinic',
    });
    expect(ctx.signature).toBe('valid');
    const headers = {
      timestamp: ctx.headers['x-gateway-timestamp'] as string,
      signature: ctx.headers['x-gateway-signature'] as string,
    };
    expect(verifySignature(SECRET, headers, ctx.rawBody)).toBe(true);
    await client.say(HEBREW);
    await stack.openai.waitForRequest(0, 10_000);
    const system = (stack.openai.requests[0]!.body.messages as Array<{ role: string; content: string }>)[0]!;
    expect(system.content).toContain('את נציגת המרפאה.');
    expect(system.content).toContain('הלקוחה מעדיפה בקרים.');
    await client.stop();
  });

  it.each([
    ['a timeout', { delayMs: 3000 }],
    ['a 500', { status: 500 }],
    ['bad JSON', { badJson: true }],
  ])(
    'on %s from the context URL the greeting uses the defaults and the call goes on (CONTEXT_FAILED)',
    async (_what, context) => {
      stack = await startVoiceStack({ crm: { context }, agents: agents() });
      const started = Date.now();
      const client = await stack.call();
      await client.waitFor((e) => e.kind === 'playback-start', 10_000);
      expect(Date.now() - started).toBeLessThan(2500); // never waits past the context timeout (800 ms) for long
      expect(texts(stack)).toContain('שלום, כאן המרפאה.');
      expect(stack.h.logs.events('CONTEXT_FAILED')).toEqual([
        expect.objectContaining({ agentId: 'clinic', callSid: client.callSid }),
      ]);
      await client.say(HEBREW);
      await stack.openai.waitForRequest(0, 10_000);
      await client.stop();
    },
  );

  it('calls a CRM tool with validated arguments and an idempotency key, says a filler while it is slow, then answers', async () => {
    stack = await startVoiceStack({
      env: { WEBHOOK_SECRET: SECRET, FILLER_AFTER_MS: '300' },
      crm: { secret: SECRET, tools: { book_appointment: { delayMs: 1500, body: { booked: true, slot: '10:30' } } } },
      agents: agents([BOOK]),
      openai: {
        reply: (req) =>
          last(req).role === 'tool'
            ? { text: 'קבעתי לך תור למחר בעשר וחצי.' }
            : { toolCalls: [{ id: 'call_1', name: 'book_appointment', arguments: { date: 'מחר', time: '10:30' } }] },
      },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(HEBREW);
    await stack.openai.waitForRequest(1, 15_000);
    const tool = stack.crm!.requests.find((r) => r.route === 'tool')!;
    expect(tool.json).toEqual({
      callSid: client.callSid,
      agentId: 'clinic',
      tool: 'book_appointment',
      arguments: { date: 'מחר', time: '10:30' },
      callId: 'call_1',
    });
    expect(tool.idempotencyKey).toBe(`${client.callSid}:call_1`);
    const logged = await eventually(() => stack.h.logs.events('TOOL_CALL')[0], 5000, 'TOOL_CALL');
    expect(logged).toMatchObject({ tool: 'book_appointment', callId: 'call_1', outcome: 'ok', status: 200 });
    expect(logged).not.toHaveProperty('arguments'); // personal data: debug level only
    expect(stack.h.logs.events('TOOL_CALL_DETAIL')[0]).toMatchObject({
      level: 'debug',
      arguments: expect.stringContaining('10:30'),
    });
    expect(tool.signature).toBe('valid');
    const second = stack.openai.requests[1]!.body.messages as Array<{
      role: string;
      content: string;
      tool_call_id?: string;
    }>;
    expect(second.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 'call_1',
      content: JSON.stringify({ booked: true, slot: '10:30' }),
    });
    // The filler was said while the CRM was slow, and the answer followed it without cutting it.
    await eventually(() => texts(stack).includes('קבעתי לך תור למחר בעשר וחצי.'), 10_000, 'the answer');
    const order = texts(stack);
    expect(order.indexOf(FILLER)).toBeGreaterThan(-1);
    expect(order.indexOf(FILLER)).toBeLessThan(order.indexOf('קבעתי לך תור למחר בעשר וחצי.'));
    await eventually(
      () =>
        !client.isPlaying() &&
        contains(client.heard(), fakeTtsAudio('קבעתי לך תור למחר בעשר וחצי.', { msPerChar: 30 })),
      10_000,
      'the answer heard',
    );
    expect(contains(client.heard(), fakeTtsAudio(FILLER, { msPerChar: 30 }))).toBe(true);
    await client.stop();
  });

  it('does not call the CRM with arguments that break the schema; the model gets the error', async () => {
    stack = await startVoiceStack({
      crm: {},
      agents: agents([BOOK]),
      openai: {
        reply: (req) =>
          last(req).role === 'tool'
            ? { text: 'אני צריכה שעה מדויקת.' }
            : { toolCalls: [{ id: 'call_9', name: 'book_appointment', arguments: { date: 'מחר', time: 'בבוקר' } }] },
      },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(HEBREW);
    await stack.openai.waitForRequest(1, 15_000);
    expect(stack.crm!.requests.filter((r) => r.route === 'tool')).toHaveLength(0);
    const result = JSON.parse((stack.openai.requests[1]!.body.messages as Array<{ content: string }>).at(-1)!.content);
    expect(result.error).toMatch(/invalid arguments: \/time must match pattern/);
    await client.stop();
  });

  it('a CRM failure goes back to the model as an error with its status, and the call goes on', async () => {
    stack = await startVoiceStack({
      crm: { tools: { book_appointment: { status: 503 } } },
      agents: agents([BOOK]),
      openai: {
        reply: (req) =>
          last(req).role === 'tool'
            ? { text: 'המערכת לא זמינה כרגע.' }
            : { toolCalls: [{ id: 'c1', name: 'book_appointment', arguments: { date: 'מחר', time: '09:00' } }] },
      },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(HEBREW);
    await stack.openai.waitForRequest(1, 15_000);
    const result = JSON.parse((stack.openai.requests[1]!.body.messages as Array<{ content: string }>).at(-1)!.content);
    expect(result).toEqual({ error: 'HTTP 503', status: 503 });
    await eventually(() => texts(stack).includes('המערכת לא זמינה כרגע.'), 10_000, 'the answer');
    await client.stop();
  });

  it('end_call: the agent finishes its goodbye, closes the stream, and <Connect action> hangs up', async () => {
    stack = await startVoiceStack({
      crm: {},
      agents: agents(),
      openai: {
        reply: () => ({
          text: 'תודה שהתקשרת, להתראות.',
          toolCalls: [{ name: 'end_call', arguments: { reason: 'done' } }],
        }),
      },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(HEBREW);
    const close = await client.closed;
    expect(close.code).toBe(1000);
    expect(contains(client.heard(), fakeTtsAudio('תודה שהתקשרת, להתראות.', { msPerChar: 30 }))).toBe(true);
    expect(await stack.endings.get(client.callSid)).toMatchObject({ action: 'hangup' });
    const ended = await fetch(`${stack.h.httpBase}/webhook/stream_ended`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: client.callSid }),
    });
    expect(await ended.text()).toContain('<Hangup/>');
  });

  it('transfer_call: the agent finishes its line, then Twilio dials the target with its digits and whispers the summary', async () => {
    stack = await startVoiceStack({
      crm: {},
      agents: agents(),
      openai: {
        reply: (req) =>
          last(req).role === 'tool'
            ? { text: 'מעבירה אותך לקבלה.' }
            : {
                toolCalls: [
                  { name: 'transfer_call', arguments: { target: 'reception', summary: 'המטופל רוצה לשנות תור' } },
                ],
              },
      },
    });
    const client = await stack.call({ to: '+972722222222' });
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    await client.say(HEBREW);
    const close = await client.closed;
    expect(close.code).toBe(1000);
    expect(contains(client.heard(), fakeTtsAudio('מעבירה אותך לקבלה.', { msPerChar: 30 }))).toBe(true);
    const ended = await fetch(`${stack.h.httpBase}/webhook/stream_ended`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: client.callSid }),
    });
    const xml = await ended.text();
    expect(xml).toMatch(
      /<Dial callerId="\+972722222222"><Number sendDigits="ww12" url="[^"]+transfer_whisper\?s=[^"]+" method="POST">\+97231234567<\/Number><\/Dial>/,
    );
  });
});

describe('the keypad', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('digits until # become the caller turn; a key while the agent speaks interrupts it', async () => {
    stack = await startVoiceStack({
      env: { DTMF_TIMEOUT_MS: '5000' },
      openai: { reply: () => ({ text: 'קיבלתי את המספר. '.repeat(8), chunkDelayMs: 5 }) },
    });
    const client = await stack.call();
    await client.waitFor((e) => e.kind === 'playback-end', 10_000);
    for (const d of ['1', '2', '3', '4', '#']) client.sendDtmf(d);
    await stack.openai.waitForRequest(0, 10_000);
    expect(last(stack.openai.requests[0]!)).toEqual({ role: 'user', content: 'הקשתי 1234' });
    await client.waitFor((e) => e.kind === 'playback-start', 10_000);
    const before = client.now();
    client.sendDtmf('5');
    await client.waitFor((e) => e.kind === 'recv-clear' && e.atMs >= before, 5000);
    await client.stop();
  });
});

describe('agents by number', () => {
  let stack: VoiceStack;
  afterEach(() => stack?.stop());

  it('the number dialled chooses the agent and its voice; a socket claiming another agent is refused', async () => {
    stack = await startVoiceStack({
      agents: () => ({
        defaultAgent: 'main',
        agents: [
          { id: 'main', numbers: ['+972722222222'], greeting: 'שלום מהמרכזייה.', instructions: 'x' },
          {
            id: 'sales',
            numbers: ['+972733333333'],
            greeting: 'שלום ממכירות.',
            instructions: 'y',
            voice: 'he-IL-Wavenet-B',
          },
        ],
      }),
    });
    const sales = await stack.call({ to: '+972733333333' });
    await sales.waitFor((e) => e.kind === 'playback-end', 10_000);
    const req = stack.tts.requests.find((r) => r.text === 'שלום ממכירות.')!;
    expect(req.voice?.name).toBe('he-IL-Wavenet-B');
    await sales.stop();

    // The TwiML of a call to the main number, presented with agent=sales: the token does not match.
    const res = await fetch(`${stack.h.httpBase}/webhook/incoming_call`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: 'CA' + 'f'.repeat(32), From: '+972501111111', To: '+972722222222' }),
    });
    const { parseConnectStream } = await import('../helpers/twiml.ts');
    const { parameters } = parseConnectStream(await res.text());
    expect(parameters.agent).toBe('main');
    const { TwilioMediaClient } = await import('../../tools/twilio/media-client.ts');
    const forged = await TwilioMediaClient.connect(stack.h.wsUrl, {
      callSid: 'CA' + 'f'.repeat(32),
      customParameters: { ...parameters, agent: 'sales' },
    });
    const close = await forged.closed;
    expect(close.code).toBe(1008);
  });
});
