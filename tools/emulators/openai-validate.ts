/**
 * The checks the real Chat Completions endpoint makes before it generates anything, as a pure
 * function of the request body: the emulator answers the first problem found with OpenAI's status
 * and error body, so a request the real API would refuse never passes a test here.
 */
import {
  invalidRequest,
  modelNotFound,
  quoteList,
  unsupportedParameter,
  type OpenAIErrorAnswer,
} from './openai-errors.ts';
import { ALL_REASONING_EFFORTS, isLive, type FakeModelSpec } from './openai-models.ts';

/** Parameters of `POST /v1/chat/completions` (the SDK's `ChatCompletionCreateParamsBase`, 7.55.0). */
const KNOWN_PARAMETERS = new Set([
  'messages',
  'model',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'moderation',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_options',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
  'web_search_options',
]);

const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** What the validator needs to know besides the body. */
export interface ValidationContext {
  /** Model table (id → spec). */
  models: Readonly<Record<string, FakeModelSpec>>;
  /** YYYY-MM-DD; models whose shutdown date is not after it are retired. */
  today: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first problem with a chat completion request, as the real API would answer it; undefined when it is fine. */
export function validateChatRequest(body: unknown, ctx: ValidationContext): OpenAIErrorAnswer | undefined {
  if (!isObject(body))
    return invalidRequest(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library " +
        'correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
    );
  for (const key of Object.keys(body))
    if (!KNOWN_PARAMETERS.has(key)) return invalidRequest(400, `Unrecognized request argument supplied: ${key}`);
  if (typeof body.model !== 'string' || body.model === '')
    return invalidRequest(400, 'you must provide a model parameter');
  if (body.messages === undefined)
    return invalidRequest(400, "Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(body.messages))
    return invalidRequest(400, "Invalid type for 'messages': expected an array.", 'messages', 'invalid_type');
  if (body.messages.length === 0)
    return invalidRequest(
      400,
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );

  const spec = ctx.models[body.model];
  if (!spec || !isLive(spec, ctx.today)) return modelNotFound(body.model);

  return checkParameters(body, body.model, spec) ?? checkMessages(body.messages as unknown[]) ?? checkTools(body.tools);
}

function checkParameters(
  body: Record<string, unknown>,
  model: string,
  spec: FakeModelSpec,
): OpenAIErrorAnswer | undefined {
  const reasoning = spec.efforts !== undefined;
  if (reasoning && body.max_tokens !== undefined && body.max_tokens !== null)
    return unsupportedParameter('max_tokens', "Use 'max_completion_tokens' instead.");
  for (const p of ['max_tokens', 'max_completion_tokens'] as const) {
    const v = body[p];
    if (v !== undefined && v !== null && !(Number.isInteger(v) && (v as number) >= 1))
      return invalidRequest(
        400,
        `Invalid '${p}': integer below minimum value. Expected a value >= 1, but got ${JSON.stringify(v)} instead.`,
        p,
        'integer_below_min_value',
      );
  }
  const effort = body.reasoning_effort;
  if (effort !== undefined && effort !== null) {
    if (typeof effort !== 'string' || !(ALL_REASONING_EFFORTS as readonly string[]).includes(effort))
      return invalidRequest(
        400,
        `Invalid value: '${String(effort)}'. Supported values are: ${quoteList(ALL_REASONING_EFFORTS)}.`,
        'reasoning_effort',
        'invalid_value',
      );
    if (!spec.efforts) return unsupportedParameter('reasoning_effort');
    if (!(spec.efforts as readonly string[]).includes(effort))
      return invalidRequest(
        400,
        `Unsupported value: '${effort}' is not supported with the '${model}' model. Supported values are: ${quoteList(spec.efforts)}.`,
        'reasoning_effort',
        'unsupported_value',
      );
  }
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true)
    return invalidRequest(
      400,
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      'stream_options',
    );
  return undefined;
}

/**
 * Roles and the tool-call protocol: a `tool` message answers an id from the `tool_calls` of the
 * assistant message just before it (other answers to that message may come between), and every
 * such id gets its answer before the next non-tool message.
 */
function checkMessages(messages: unknown[]): OpenAIErrorAnswer | undefined {
  let open: { index: number; ids: Set<string> } | undefined; // the assistant message whose calls are being answered
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObject(m))
      return invalidRequest(
        400,
        `Invalid type for 'messages[${i}]': expected an object.`,
        `messages[${i}]`,
        'invalid_type',
      );
    const role = m.role;
    if (typeof role !== 'string' || !ROLES.includes(role))
      return invalidRequest(
        400,
        `Invalid value: '${String(role)}'. Supported values are: ${quoteList(ROLES)}.`,
        `messages[${i}].role`,
        'invalid_value',
      );
    if (role === 'tool') {
      if (!open)
        return invalidRequest(
          400,
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${i}].role`,
        );
      const id = m.tool_call_id;
      if (typeof id !== 'string')
        return invalidRequest(
          400,
          `Missing required parameter: 'messages.[${i}].tool_call_id'.`,
          `messages.[${i}].tool_call_id`,
          'missing_required_parameter',
        );
      if (!open.ids.delete(id))
        return invalidRequest(
          400,
          `Invalid parameter: 'tool_call_id' of '${id}' not found in 'tool_calls' of previous message.`,
          `messages.[${i}].tool_call_id`,
        );
      continue;
    }
    if (open && open.ids.size > 0) return unanswered(open);
    open = undefined;
    if (role !== 'assistant' && (m.content === undefined || m.content === null))
      return invalidRequest(
        400,
        `Missing required parameter: 'messages[${i}].content'.`,
        `messages[${i}].content`,
        'missing_required_parameter',
      );
    if (role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      const ids = new Set<string>();
      for (const [k, call] of m.tool_calls.entries()) {
        const fn = isObject(call) ? call.function : undefined;
        if (
          !isObject(call) ||
          typeof call.id !== 'string' ||
          call.type !== 'function' ||
          !isObject(fn) ||
          typeof fn.name !== 'string' ||
          typeof fn.arguments !== 'string'
        )
          return invalidRequest(
            400,
            `Invalid 'messages[${i}].tool_calls[${k}]': expected an object with 'id', 'type': 'function' and 'function' { 'name', 'arguments' }.`,
            `messages[${i}].tool_calls[${k}]`,
            'invalid_value',
          );
        ids.add(call.id);
      }
      open = { index: i, ids };
    }
  }
  if (open && open.ids.size > 0) return unanswered(open);
  return undefined;
}

function unanswered(open: { index: number; ids: Set<string> }): OpenAIErrorAnswer {
  return invalidRequest(
    400,
    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. " +
      `The following tool_call_ids did not have response messages: ${[...open.ids].join(', ')}`,
    `messages.[${open.index}].role`,
  );
}

/** `tools`: a non-empty array of function tools whose parameters are an object schema. */
function checkTools(tools: unknown): OpenAIErrorAnswer | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools))
    return invalidRequest(400, "Invalid type for 'tools': expected an array.", 'tools', 'invalid_type');
  if (tools.length === 0)
    return invalidRequest(
      400,
      "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'tools',
      'empty_array',
    );
  for (const [i, tool] of tools.entries()) {
    const fn = isObject(tool) ? tool.function : undefined;
    if (!isObject(tool) || tool.type !== 'function' || !isObject(fn))
      return invalidRequest(
        400,
        `Missing required parameter: 'tools[${i}].function'.`,
        `tools[${i}].function`,
        'missing_required_parameter',
      );
    if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name))
      return invalidRequest(
        400,
        `Invalid 'tools[${i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        `tools[${i}].function.name`,
        'invalid_value',
      );
    const schema = fn.parameters;
    if (schema === undefined) continue; // no parameters: a function without arguments
    const param = `tools[${i}].function.parameters`;
    if (!isObject(schema))
      return invalidRequest(
        400,
        `Invalid schema for function '${fn.name}': ${JSON.stringify(schema)} is not of type 'object', 'boolean'.`,
        param,
        'invalid_function_parameters',
      );
    if (schema.type !== 'object')
      return invalidRequest(
        400,
        `Invalid schema for function '${fn.name}': schema must be a JSON Schema of 'type: "object"', got 'type: "${String(schema.type)}"'.`,
        param,
        'invalid_function_parameters',
      );
  }
  return undefined;
}
