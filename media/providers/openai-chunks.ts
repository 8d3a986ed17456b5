/**
 * Chat Completions stream chunks → {@link GenerationEvent}s, as a pure state machine so the
 * assembly of streamed tool calls can be tested chunk by chunk.
 *
 * The API streams a tool call as a header delta (`index`, `id`, `type`, `function.name`) followed
 * by `function.arguments` in pieces, several calls side by side by `index`; the calls are complete
 * only when the choice's `finish_reason` arrives. The usage chunk (`choices: []`, asked for with
 * `stream_options.include_usage`) comes after it.
 */
import type OpenAI from 'openai';
import { providerError } from './errors.ts';
import type { GenerationEvent, ProviderError } from './types.ts';

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

/** What one chunk produced. */
export interface ChunkResult {
  /** Events to yield, in order: text, then (at the finish) the complete tool calls by index, then usage. */
  events: GenerationEvent[];
  /** The chunk carried model output (content or a tool-call delta): the first-token watchdog is satisfied. */
  output: boolean;
}

/** Assembles one completion's chunks. Not reusable across requests. */
export class ChunkAssembler {
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();
  /** The choice's `finish_reason`, once it arrived (`stop`, `tool_calls`, `length`, `content_filter`…). */
  finishReason: string | undefined;

  /**
   * Feeds one chunk. Throws an UNAVAILABLE ProviderError for a tool call whose first delta has no
   * `id` or no `function.name` (the stream is not what the API sends).
   */
  push(chunk: Chunk): ChunkResult {
    const events: GenerationEvent[] = [];
    let output = false;
    const choice = chunk.choices[0];
    if (choice) {
      const text = choice.delta?.content;
      if (text) {
        events.push({ type: 'text', text });
        output = true;
      }
      for (const d of choice.delta?.tool_calls ?? []) {
        output = true;
        const known = this.calls.get(d.index);
        if (known) {
          known.arguments += d.function?.arguments ?? '';
          continue;
        }
        if (!d.id || !d.function?.name) throw malformed(`tool call ${d.index} started without an id or a name`);
        this.calls.set(d.index, { id: d.id, name: d.function.name, arguments: d.function.arguments ?? '' });
      }
      if (choice.finish_reason && this.finishReason === undefined) {
        this.finishReason = choice.finish_reason;
        for (const index of [...this.calls.keys()].sort((a, b) => a - b))
          events.push({ type: 'tool-call', call: { ...this.calls.get(index)! } });
        this.calls.clear();
      }
    }
    if (chunk.usage)
      events.push({
        type: 'usage',
        inputTokens: chunk.usage.prompt_tokens,
        outputTokens: chunk.usage.completion_tokens,
      });
    return { events, output };
  }

  /**
   * The stream ended (the SDK's iteration is done). Throws UNAVAILABLE when no `finish_reason` came:
   * the stream was cut (by a proxy, or the connection dropped) and the answer is incomplete; tool
   * calls still pending are dropped, since their arguments may be cut too.
   */
  end(): void {
    if (this.finishReason !== undefined) return;
    this.calls.clear();
    throw providerError(
      'llm',
      'UNAVAILABLE',
      'the reply stream ended without a finish_reason (cut by a proxy or a dropped connection); the rest of the answer is missing',
    );
  }
}

function malformed(what: string): ProviderError {
  return providerError('llm', 'UNAVAILABLE', `malformed reply stream: ${what}`);
}
