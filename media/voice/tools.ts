/**
 * The agent's tools: its own (POSTed to the CRM) and the gateway's built-ins (`end_call`, and
 * `transfer_call` when the agent has transfer targets). Arguments are checked against the tool's
 * JSON Schema before anything is sent; whatever goes wrong (invalid arguments, a timeout, a
 * network error, a non-2xx answer) becomes a JSON result the model reads, and the call goes on.
 */
import type { Agent, AgentTool } from '../../config/agents.ts';
import { argumentsCheck } from '../../config/json-schema.ts';
import type { EndingDecision } from '../../server/call-endings.ts';
import type { CrmClient } from '../../server/crm-client.ts';
import type { ToolCallRequest, ToolSpec } from '../providers/types.ts';

/** Most of a CRM answer handed to the model. */
export const MAX_TOOL_RESULT_BYTES = 16 * 1024;

/** What one tool call came to. */
export interface ToolOutcome {
  outcome: 'ok' | 'error' | 'timeout' | 'invalid' | 'cancelled';
  /** JSON text for the model. */
  content: string;
  ms: number;
  status?: number;
  /** A built-in asked to end the call this way once the agent has finished speaking. */
  ending?: EndingDecision;
}

/** The call, as tools see it. */
export interface ToolCallContext {
  callSid: string;
  /** The number the caller dialled (caller ID of a transfer). */
  to: string | undefined;
}

/** Runs one agent's tools for one call. */
export class ToolRunner {
  readonly #agent: Agent;
  readonly #crm: CrmClient;
  readonly #call: ToolCallContext;
  readonly #specs: ToolSpec[];

  constructor(agent: Agent, crm: CrmClient, call: ToolCallContext) {
    this.#agent = agent;
    this.#crm = crm;
    this.#call = call;
    const targets = Object.keys(agent.transfer);
    this.#specs = [
      ...agent.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
      {
        name: 'end_call',
        description: 'End the phone call after your last sentence (say goodbye first).',
        parameters: { type: 'object', properties: { reason: { type: 'string' } }, additionalProperties: false },
      },
      ...(targets.length
        ? [
            {
              name: 'transfer_call',
              description: 'Transfer the caller to a person. Say that you are transferring them first.',
              parameters: {
                type: 'object',
                properties: {
                  target: { type: 'string', enum: targets, description: 'who takes the call' },
                  summary: { type: 'string', description: 'one or two Hebrew sentences for the person who answers' },
                },
                required: ['target'],
                additionalProperties: false,
              },
            },
          ]
        : []),
    ];
  }

  /** The tools offered to the model. */
  get specs(): readonly ToolSpec[] {
    return this.#specs;
  }

  /** Runs one call; never throws. `signal` (barge-in) abandons a request already sent (it is not repeated). */
  async run(call: ToolCallRequest, signal: AbortSignal): Promise<ToolOutcome> {
    const started = performance.now();
    const ms = (): number => Math.round(performance.now() - started);
    let args: unknown;
    try {
      args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch {
      return { outcome: 'invalid', content: json({ error: 'the arguments are not valid JSON' }), ms: ms() };
    }
    if (call.name === 'end_call') return this.#endCall(args, ms());
    if (call.name === 'transfer_call' && Object.keys(this.#agent.transfer).length) return this.#transfer(args, ms());
    const tool = this.#agent.tools.find((t) => t.name === call.name);
    if (!tool) return { outcome: 'invalid', content: json({ error: `no tool named ${call.name}` }), ms: ms() };
    const problem = argumentsCheck(tool.parameters)(args);
    if (problem) return { outcome: 'invalid', content: json({ error: `invalid arguments: ${problem}` }), ms: ms() };
    return this.#callCrm(tool, call.id, args, signal);
  }

  async #callCrm(tool: AgentTool, callId: string, args: unknown, signal: AbortSignal): Promise<ToolOutcome> {
    const res = await this.#crm.post({
      url: tool.url,
      body: { callSid: this.#call.callSid, agentId: this.#agent.id, tool: tool.name, arguments: args, callId },
      timeoutMs: tool.timeoutMs,
      signal,
      maxBytes: MAX_TOOL_RESULT_BYTES,
      headers: { 'idempotency-key': `${this.#call.callSid}:${callId}` },
    });
    if (res.ok) return { outcome: 'ok', content: json(res.body), ms: res.ms, status: res.status };
    const status = res.status === undefined ? {} : { status: res.status };
    if (res.reason === 'aborted') {
      return {
        outcome: 'cancelled',
        content: json({ error: 'cancelled: the caller interrupted' }),
        ms: res.ms,
        ...status,
      };
    }
    const outcome = res.reason === 'timeout' ? 'timeout' : 'error';
    return { outcome, content: json({ error: res.detail, status: res.status ?? null }), ms: res.ms, ...status };
  }

  #endCall(args: unknown, ms: number): ToolOutcome {
    const reason =
      typeof (args as { reason?: unknown })?.reason === 'string'
        ? (args as { reason: string }).reason.slice(0, 200)
        : undefined;
    return {
      outcome: 'ok',
      content: json({ ok: true, note: 'the call ends after your last sentence' }),
      ms,
      ending: { action: 'hangup', ...(reason ? { reason } : {}) },
    };
  }

  #transfer(args: unknown, ms: number): ToolOutcome {
    const a = (args ?? {}) as { target?: unknown; summary?: unknown };
    const target = typeof a.target === 'string' ? a.target : '';
    const dial = this.#agent.transfer[target];
    if (!dial) {
      const known = Object.keys(this.#agent.transfer).join(', ');
      return {
        outcome: 'invalid',
        content: json({ error: `unknown transfer target "${target}"; use one of: ${known}` }),
        ms,
      };
    }
    const [number, sendDigits] = dial.split(',') as [string, string | undefined];
    const summary = typeof a.summary === 'string' && a.summary.trim() ? a.summary.trim().slice(0, 500) : undefined;
    return {
      outcome: 'ok',
      content: json({ ok: true, note: 'the caller is transferred after your last sentence' }),
      ms,
      ending: {
        action: 'transfer',
        target,
        number,
        ...(sendDigits ? { sendDigits } : {}),
        ...(this.#call.to ? { callerId: this.#call.to } : {}),
        ...(summary ? { summary } : {}),
      },
    };
  }
}

function json(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  return text.length > MAX_TOOL_RESULT_BYTES ? JSON.stringify({ error: 'the answer was too large' }) : text;
}
