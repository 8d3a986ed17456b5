/**
 * ChunkAssembler: Chat Completions stream chunks → text, tool-call and usage events, fed chunk by
 * chunk the way the SDK delivers them.
 */
import type OpenAI from 'openai';
import { ChunkAssembler } from '../../media/providers/openai-chunks.ts';
import { ProviderError } from '../../media/providers/types.ts';
import type { GenerationEvent } from '../../media/providers/types.ts';

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;
type Delta = Chunk['choices'][number]['delta'];

const chunk = (delta: Delta, finish: Chunk['choices'][number]['finish_reason'] = null): Chunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'm',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usage = (prompt: number, completion: number): Chunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'm',
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
});
const header = (index: number, id: string, name: string) => ({
  tool_calls: [{ index, id, type: 'function' as const, function: { name, arguments: '' } }],
});
const args = (index: number, part: string) => ({ tool_calls: [{ index, function: { arguments: part } }] });

function feed(a: ChunkAssembler, chunks: Chunk[]): { events: GenerationEvent[]; outputs: boolean[] } {
  const events: GenerationEvent[] = [];
  const outputs: boolean[] = [];
  for (const c of chunks) {
    const r = a.push(c);
    events.push(...r.events);
    outputs.push(r.output);
  }
  return { events, outputs };
}

describe('ChunkAssembler', () => {
  test('text as it comes; interleaved parallel calls only at the finish, by index; then usage', () => {
    const a = new ChunkAssembler();
    const { events, outputs } = feed(a, [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'רגע' }),
      chunk(header(1, 'call_b', 'book')),
      chunk(header(0, 'call_a', 'lookup')),
      chunk(args(1, '{"day":')),
      chunk(args(0, '{}')),
      chunk(args(1, '"א"}')),
      chunk({}, 'tool_calls'),
      usage(10, 4),
    ]);
    expect(events).toEqual([
      { type: 'text', text: 'רגע' },
      { type: 'tool-call', call: { id: 'call_a', name: 'lookup', arguments: '{}' } },
      { type: 'tool-call', call: { id: 'call_b', name: 'book', arguments: '{"day":"א"}' } },
      { type: 'usage', inputTokens: 10, outputTokens: 4 },
    ]);
    expect(outputs).toEqual([false, true, true, true, true, true, true, false, false]);
    expect(a.finishReason).toBe('tool_calls');
    expect(() => a.end()).not.toThrow();
  });

  test('no tool-call event before the finish, even when the arguments look complete', () => {
    const a = new ChunkAssembler();
    const { events } = feed(a, [chunk(header(0, 'c', 'book')), chunk(args(0, '{}'))]);
    expect(events).toEqual([]);
  });

  test('a stream that ends without a finish_reason is UNAVAILABLE', () => {
    const a = new ChunkAssembler();
    feed(a, [chunk({ content: 'שלום' }), chunk(header(0, 'c', 'book'))]);
    let error: unknown;
    try {
      a.end();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', provider: 'llm' });
  });

  test('a tool call that starts without an id or a name is a malformed stream (UNAVAILABLE)', () => {
    const a = new ChunkAssembler();
    expect(() => a.push(chunk(args(0, '{}')))).toThrow(ProviderError);
  });

  test('an empty answer with a finish reason is complete', () => {
    const a = new ChunkAssembler();
    expect(feed(a, [chunk({ role: 'assistant', content: '' }), chunk({}, 'stop')]).events).toEqual([]);
    expect(() => a.end()).not.toThrow();
  });
});
