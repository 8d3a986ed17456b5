/**
 * Agents: who answers which phone number, what they say and what they can do. Read once at
 * start-up from AGENTS_FILE (JSON, or YAML for .yaml/.yml), validated as carefully as the
 * environment (every problem listed with its path, e.g. `agents[0].tools[1].parameters: …`), and
 * frozen. Without AGENTS_FILE one agent is built from the environment, so nothing changes for
 * gateways that never had a file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import YAML from 'yaml';
import { jsonSchemaProblems } from './json-schema.ts';
import { pronunciationProblems } from './pronunciations.ts';

/** Tools the gateway itself provides; agents' own tools may not use these names. */
export const BUILTIN_TOOLS = ['end_call', 'transfer_call'] as const;

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number such as +97231234567');
const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' });
/** E.164, optionally followed by digits to send once the callee answers: `+97231234567,ww123`. */
const transferTarget = z
  .string()
  .regex(
    /^\+[1-9]\d{6,14}(,[0-9wW*#]{1,32})?$/,
    'expected an E.164 number, optionally with ",<digits>" (w = wait 0.5 s)',
  );
const toolName = z
  .string()
  .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'expected 1–64 letters, digits, _ or -')
  .refine((n) => !(BUILTIN_TOOLS as readonly string[]).includes(n), 'is a built-in tool name');
const phrase = z.string().trim().min(1).max(100);

/** A pronunciation dictionary: written form → spoken form (config/pronunciations.ts says what is allowed). */
const pronunciations = z
  .unknown()
  .superRefine((v, ctx) => {
    for (const message of pronunciationProblems(v)) ctx.addIssue({ code: 'custom', message });
  })
  .transform((v) => v as Record<string, string>);

const tool = z.object({
  name: toolName,
  description: z.string().trim().min(1).max(1024),
  parameters: z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
    for (const message of jsonSchemaProblems(schema)) ctx.addIssue({ code: 'custom', message });
  }),
  url: httpUrl,
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
});

const agent = z
  .object({
    id: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'expected 1–64 letters, digits, _ or -'),
    numbers: z.array(e164).default([]),
    greeting: z.string().trim().min(1).max(2000),
    instructions: z.string().trim().min(1).max(20_000),
    voice: z.string().trim().min(1).optional(),
    context: z
      .object({ url: httpUrl, timeoutMs: z.number().int().min(50).max(10_000).default(800) })
      .strict()
      .optional(),
    tools: z.array(tool).max(64).default([]),
    transfer: z.record(z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'expected a short name'), transferTarget).default({}),
    fillers: z.array(z.string().trim().min(1).max(200)).max(20).default([]),
    maxToolRounds: z.number().int().min(1).max(10).default(3),
    pronunciations: pronunciations.default({}),
    sttHints: z.array(phrase).max(500).default([]),
    backchannelWords: z.array(z.string().trim().min(1).max(30)).max(100).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const names = new Set<string>();
    a.tools.forEach((t, i) => {
      if (names.has(t.name))
        ctx.addIssue({ code: 'custom', path: ['tools', i, 'name'], message: `duplicate tool name "${t.name}"` });
      names.add(t.name);
    });
  });

const file = z
  .object({
    defaultAgent: z
      .string({
        error: (iss) =>
          iss.input === undefined
            ? 'required: the id of the agent that answers numbers no agent lists'
            : 'expected an agent id',
      })
      .min(1),
    agents: z.array(agent).min(1),
  })
  .strict()
  .superRefine((f, ctx) => {
    const ids = new Set<string>();
    const owner = new Map<string, string>();
    f.agents.forEach((a, i) => {
      if (ids.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['agents', i, 'id'], message: `duplicate agent id "${a.id}"` });
      ids.add(a.id);
      a.numbers.forEach((n, j) => {
        const other = owner.get(n);
        if (other && other !== a.id) {
          ctx.addIssue({
            code: 'custom',
            path: ['agents', i, 'numbers', j],
            message: `${n} is already answered by "${other}"`,
          });
        }
        owner.set(n, a.id);
      });
    });
    if (!ids.has(f.defaultAgent)) {
      ctx.addIssue({ code: 'custom', path: ['defaultAgent'], message: `no agent has id "${f.defaultAgent}"` });
    }
  });

/** One tool of an agent, as offered to the model and called on the CRM. */
export type AgentTool = z.output<typeof tool>;
/** One agent, validated and with defaults filled in. */
export type Agent = z.output<typeof agent>;

/** The agents of the gateway. */
export interface Agents {
  readonly byId: ReadonlyMap<string, Agent>;
  readonly defaultAgent: Agent;
  /** True when they came from AGENTS_FILE. */
  readonly fromFile: boolean;
  /** The agent that answers calls to `to` (the `To` of incoming_call): its number's, else the default. */
  forNumber(to: string | undefined): Agent;
}

/** Raised by {@link loadAgents}; `problems` holds one line per problem, each with its path. */
export class AgentsError extends Error {
  readonly code = 'AGENTS_INVALID';
  readonly problems: readonly string[];
  /** `source`: what was read, e.g. "agents file /etc/agents.json". */
  constructor(source: string, problems: string[]) {
    super(`invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentsError';
    this.problems = problems;
  }
}

/** What an agent built from the environment needs. */
export interface EnvAgentSettings {
  greeting: string;
  instructions: string;
  /** PRONUNCIATIONS_FILE: a JSON dictionary every agent starts from (an agent's own entries win). */
  pronunciationsFile?: string | undefined;
}

/**
 * The gateway's agents: from `agentsFile` when given (read and parsed here), else one agent
 * (`default`) from the environment's greeting and instructions.
 * @throws AgentsError listing every problem with its path (unreadable file, bad JSON/YAML, bad fields).
 */
export function loadAgents(agentsFile: string | undefined, env: EnvAgentSettings): Agents {
  const shared = env.pronunciationsFile ? readPronunciations(env.pronunciationsFile) : {};
  if (!agentsFile) {
    const only: Agent = agent.parse({
      id: 'default',
      greeting: env.greeting,
      instructions: env.instructions,
      pronunciations: shared,
    });
    return freeze([only], only.id, false);
  }
  let raw: unknown;
  try {
    const text = readFileSync(agentsFile, 'utf8');
    raw = /\.ya?ml$/i.test(agentsFile) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new AgentsError(`agents file ${agentsFile}`, [
      `(file): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    ]);
  }
  const agents = parseAgents(raw, `agents file ${agentsFile}`);
  if (Object.keys(shared).length === 0) return agents;
  const list = [...agents.byId.values()].map((a) => ({ ...a, pronunciations: { ...shared, ...a.pronunciations } }));
  return freeze(list, agents.defaultAgent.id, true);
}

/** PRONUNCIATIONS_FILE, read and checked. @throws AgentsError listing every problem. */
function readPronunciations(file: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AgentsError(`pronunciations file ${file}`, [
      `(file): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    ]);
  }
  const problems = pronunciationProblems(raw);
  if (problems.length) throw new AgentsError(`pronunciations file ${file}`, problems);
  return raw as Record<string, string>;
}

/** Validates an already parsed agents document. @throws AgentsError */
export function parseAgents(raw: unknown, source = 'agents'): Agents {
  const result = file.safeParse(raw);
  if (!result.success)
    throw new AgentsError(
      source,
      result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    );
  return freeze(result.data.agents, result.data.defaultAgent, true);
}

/** `agents[0].tools[1].parameters` from zod's path. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(file)';
}

function freeze(list: Agent[], defaultId: string, fromFile: boolean): Agents {
  const byId = new Map(list.map((a) => [a.id, deepFreeze(a)]));
  const byNumber = new Map(list.flatMap((a) => a.numbers.map((n) => [n, byId.get(a.id)!] as const)));
  const defaultAgent = byId.get(defaultId)!;
  return Object.freeze({
    byId,
    defaultAgent,
    fromFile,
    forNumber: (to: string | undefined) => (to && byNumber.get(to)) || defaultAgent,
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
