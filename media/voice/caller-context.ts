/**
 * The caller's record from the CRM, before the greeting: who is calling, in variables the greeting
 * and the instructions can use (`{{name}}`), extra instructions, and phrase hints for the
 * recognizer. The greeting never waits longer than the agent's `context.timeoutMs`; a timeout, a
 * non-2xx answer or a malformed one means the defaults and a `CONTEXT_FAILED` warning, and the
 * call goes on normally.
 */
import { z } from 'zod';
import type { Agent } from '../../config/agents.ts';
import type { CrmClient } from '../../server/crm-client.ts';

/** What the context lookup gives the call. */
export interface CallerContext {
  variables: Readonly<Record<string, string>>;
  /** Appended to the agent's instructions. */
  instructions: string;
  /** Extra recognizer phrase hints (e.g. the caller's own name). */
  hints: readonly string[];
}

/** No context: the agent's own greeting and instructions. */
export const EMPTY_CONTEXT: CallerContext = Object.freeze({ variables: {}, instructions: '', hints: [] });

const scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);
const answer = z.object({
  variables: z.record(z.string().max(64), scalar).optional(),
  instructions: z.string().max(10_000).optional(),
  hints: z.array(z.string().trim().min(1).max(100)).max(200).optional(),
});

/** The call as the CRM is told about it. */
export interface CallIdentity {
  callSid: string;
  from: string | undefined;
  to: string | undefined;
  agentId: string;
}

/** Asks the agent's context URL about the caller; `onFailure` hears why the defaults were used. */
export async function fetchCallerContext(
  agent: Agent,
  call: CallIdentity,
  crm: CrmClient,
  signal: AbortSignal,
  onFailure: (reason: string, detail: string, status?: number) => void,
): Promise<CallerContext> {
  if (!agent.context) return EMPTY_CONTEXT;
  const res = await crm.post({
    url: agent.context.url,
    body: { callSid: call.callSid, from: call.from ?? null, to: call.to ?? null, agentId: call.agentId },
    timeoutMs: agent.context.timeoutMs,
    signal,
    maxBytes: 64 * 1024,
  });
  if (!res.ok) {
    if (res.reason !== 'aborted') onFailure(res.reason, res.detail, res.status);
    return EMPTY_CONTEXT;
  }
  const parsed = answer.safeParse(res.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    onFailure(
      'bad-shape',
      `${issue?.path.join('.') || '(answer)'}: ${issue?.message ?? 'unexpected shape'}`,
      res.status,
    );
    return EMPTY_CONTEXT;
  }
  const variables: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.data.variables ?? {})) variables[k] = v === null ? '' : String(v);
  return { variables, instructions: parsed.data.instructions?.trim() ?? '', hints: parsed.data.hints ?? [] };
}

/** Fills `{{name}}` placeholders (spaces inside the braces allowed); unknown names become empty. */
export function fillTemplate(text: string, variables: Readonly<Record<string, string>>): string {
  return text
    .replace(/\{\{\s*([\p{L}\p{N}_.-]+)\s*\}\}/gu, (_m, name: string) => variables[name] ?? '')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/\s+([,.!?])/g, '$1')
    .trim();
}
