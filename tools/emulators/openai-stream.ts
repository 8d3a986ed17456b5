/**
 * How the OpenAI emulator writes one completion: as SSE chunks (`stream: true`) or as one JSON
 * object. The chunk sequence follows the real API: a role chunk, content deltas, then for each tool
 * call a header delta (`index`, `id`, `type`, `function.name`, empty `arguments`) followed by its
 * `function.arguments` in pieces, a finish chunk, the usage chunk when `stream_options.include_usage`
 * asked for it (`choices: []`; every other chunk then carries `usage: null`), and `data: [DONE]`.
 */
import type { ServerResponse } from 'node:http';
import type { FakeOpenAIRequest, FakeReply } from './openai-types.ts';

/** The reply used when a reply gives no text and no tool calls: several Hebrew sentences, so sentence splitting is exercised. */
export const DEFAULT_OPENAI_REPLY =
  'שלום, הגעתם למוקד השירות. אשמח לעזור לכם היום! במה מדובר? אפשר לשאול אותי כל שאלה על ההזמנה שלכם.';

/** Size, in code points, of the pieces the reply text is cut into (real tokens are a few characters long). */
export const DEFAULT_CHUNK_CHARS = 3;

/** A tool call with everything resolved. */
interface PlannedCall {
  id: string;
  name: string;
  arguments: string;
}

/** What one answer consists of. */
export interface CompletionPlan {
  text: string;
  contentChunks: string[];
  calls: PlannedCall[];
  /** Output chunks in order: content pieces and tool-call deltas. */
  deltas: Array<Record<string, unknown>>;
  finishReason: string;
}

/** Resolves a {@link FakeReply} into the text, tool calls and the exact deltas to send. */
export function planCompletion(reply: FakeReply, requestIndex: number): CompletionPlan {
  const calls: PlannedCall[] = (reply.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_fake_${requestIndex}_${i}`,
    name: c.name,
    arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
  }));
  const text = reply.chunks ? reply.chunks.join('') : (reply.text ?? (calls.length ? '' : DEFAULT_OPENAI_REPLY));
  const contentChunks = reply.chunks ?? (text ? chunkText(text, DEFAULT_CHUNK_CHARS) : []);
  const deltas: Array<Record<string, unknown>> = contentChunks.map((content) => ({ content }));
  calls.forEach((call, index) => {
    deltas.push({
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
    });
    for (const part of chunkText(call.arguments, reply.argumentChunkChars ?? 8))
      deltas.push({ tool_calls: [{ index, function: { arguments: part } }] });
  });
  return {
    text,
    contentChunks,
    calls,
    deltas,
    finishReason: reply.finishReason ?? (calls.length ? 'tool_calls' : 'stop'),
  };
}

/** Shutdown-aware wait: resolves false when the emulator is closing (stop quietly). */
export type Pause = (ms: number | undefined) => Promise<boolean>;

/** Streams `plan` as SSE, honouring the reply's delays, stall, cut and mid-stream error. */
export async function streamCompletion(
  res: ServerResponse,
  rec: FakeOpenAIRequest,
  reply: FakeReply,
  plan: CompletionPlan,
  pause: Pause,
): Promise<void> {
  const id = `chatcmpl-fake-${rec.index}`;
  const model = typeof rec.body.model === 'string' ? rec.body.model : 'unknown';
  const created = Math.floor(rec.startedAt / 1000);
  const withUsage = rec.body.stream_options?.include_usage === true;
  const frame = (choices: unknown[], usage: unknown = null): string =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: null,
      choices,
      ...(withUsage ? { usage } : {}),
    })}\n\n`;
  const delta = (d: Record<string, unknown>, finish: string | null = null): string =>
    frame([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': `req_fake_${rec.index}`,
  });
  res.flushHeaders(); // the SDK's create() resolves on headers; send them before the first token like the real API
  if (!(await pause(reply.firstTokenDelayMs))) return;

  // The role arrives on its own chunk before text; a reply that starts with a tool call carries it on the call's header.
  const deltas = plan.deltas.map((d) => ({ ...d }));
  if (plan.contentChunks.length > 0 || deltas.length === 0) {
    if (!write(res, delta({ role: 'assistant', content: '', refusal: null }))) return;
  } else deltas[0] = { role: 'assistant', content: null, refusal: null, ...deltas[0] };

  const errorAt = reply.midStreamError ? Math.floor(deltas.length / 2) : -1;
  for (let i = 0; i < deltas.length; i++) {
    if (i > 0 && !(await pause(reply.chunkDelayMs))) return;
    if (reply.stallAfterChunks !== undefined && i >= reply.stallAfterChunks) return; // socket stays open, nothing more comes
    if (reply.cutAfterChunks !== undefined && i >= reply.cutAfterChunks) return void res.end();
    if (i === errorAt) {
      const error = {
        message: 'The server had an error while processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      };
      write(res, `data: ${JSON.stringify({ error })}\n\n`);
      return void res.end();
    }
    if (!write(res, delta(deltas[i]!))) return;
    rec.chunksSent++;
  }
  if (reply.stallAfterChunks !== undefined && reply.stallAfterChunks >= deltas.length) return;
  if (reply.cutAfterChunks !== undefined) return void res.end();
  write(res, delta({}, plan.finishReason));
  if (withUsage) write(res, frame([], usageOf(rec.body, plan, reply)));
  write(res, 'data: [DONE]\n\n');
  res.end();
}

/** The non-streaming answer: one `chat.completion` object. */
export function completionObject(
  rec: FakeOpenAIRequest,
  reply: FakeReply,
  plan: CompletionPlan,
): Record<string, unknown> {
  return {
    id: `chatcmpl-fake-${rec.index}`,
    object: 'chat.completion',
    created: Math.floor(rec.startedAt / 1000),
    model: rec.body.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: plan.text || (plan.calls.length ? null : ''),
          refusal: null,
          annotations: [],
          ...(plan.calls.length
            ? {
                tool_calls: plan.calls.map((c) => ({
                  id: c.id,
                  type: 'function',
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: plan.finishReason,
      },
    ],
    usage: usageOf(rec.body, plan, reply),
    service_tier: 'default',
    system_fingerprint: null,
  };
}

/** Token counts: the reply's own, or about 4 characters per token of the request and the answer. */
function usageOf(body: any, plan: CompletionPlan, reply: FakeReply): Record<string, unknown> {
  const prompt =
    reply.usage?.prompt_tokens ?? Math.ceil(JSON.stringify([body.messages ?? [], body.tools ?? []]).length / 4);
  const completion =
    reply.usage?.completion_tokens ??
    Math.ceil((plan.text.length + plan.calls.reduce((n, c) => n + c.name.length + c.arguments.length, 0)) / 4);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Cuts `text` into pieces of `size` code points (never splits a surrogate pair). */
export function chunkText(text: string, size: number): string[] {
  const cps = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += Math.max(1, size)) out.push(cps.slice(i, i + Math.max(1, size)).join(''));
  return out;
}

/** Writes unless the client is gone; false tells the caller to stop streaming. */
export function write(res: ServerResponse, data: string): boolean {
  if (res.destroyed || res.writableEnded) return false;
  res.write(data);
  return true;
}
