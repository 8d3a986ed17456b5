/**
 * The OpenAI API's error answers, as the emulator sends them: status plus the body
 * `{"error":{"message","type","param","code"}}`. Texts follow what the real API answers (as
 * quoted in public bug reports and OpenAI's docs); the SDK maps the status to its error class and
 * exposes `code`, `param` and `type`.
 */

/** The `error` object of an OpenAI error body. */
export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** An error answer: HTTP status and the error object. */
export interface OpenAIErrorAnswer {
  status: number;
  error: OpenAIErrorBody;
}

/** Builds an `invalid_request_error` answer (the type of every request-shape error). */
export function invalidRequest(
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = null,
): OpenAIErrorAnswer {
  return { status, error: { message, type: 'invalid_request_error', param, code } };
}

/** 401 when no `Authorization: Bearer …` header came at all (the real API gives no code then). */
export function missingKey(): OpenAIErrorAnswer {
  return invalidRequest(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth " +
      '(i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.',
  );
}

/** 401 `invalid_api_key` for a key that is not accepted; the key is shown masked, as the real API does. */
export function invalidKey(key: string): OpenAIErrorAnswer {
  const shown =
    key.length > 8 ? `${key.slice(0, 3)}${'*'.repeat(Math.min(20, key.length - 7))}${key.slice(-4)}` : '***';
  return invalidRequest(
    401,
    `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    null,
    'invalid_api_key',
  );
}

/** 429 `insufficient_quota`: the account is out of credit (waiting does not help). */
export function insufficientQuota(): OpenAIErrorAnswer {
  return {
    status: 429,
    error: {
      message:
        'You exceeded your current quota, please check your plan and billing details. For more information on this ' +
        'error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      type: 'insufficient_quota',
      param: null,
      code: 'insufficient_quota',
    },
  };
}

/** 404 `model_not_found` for a completion with an unknown or retired model. */
export function modelNotFound(model: string): OpenAIErrorAnswer {
  return invalidRequest(
    404,
    `The model \`${model}\` does not exist or you do not have access to it.`,
    null,
    'model_not_found',
  );
}

/** 404 `model_not_found` for `GET /v1/models/{id}`. */
export function modelNotFoundForRetrieve(model: string): OpenAIErrorAnswer {
  return invalidRequest(404, `The model '${model}' does not exist`, 'model', 'model_not_found');
}

/** 400 `unsupported_parameter` (e.g. `max_tokens` on a reasoning model); `hint` is appended. */
export function unsupportedParameter(param: string, hint = ''): OpenAIErrorAnswer {
  return invalidRequest(
    400,
    `Unsupported parameter: '${param}' is not supported with this model.${hint ? ` ${hint}` : ''}`,
    param,
    'unsupported_parameter',
  );
}

/** Quotes and joins values the way OpenAI's messages list them: 'a', 'b', and 'c'. */
export function quoteList(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  if (q.length <= 2) return q.join(' and ');
  return `${q.slice(0, -1).join(', ')}, and ${q[q.length - 1]}`;
}

/** Error bodies shaped like the real API's for statuses a test injects without a body. */
export function defaultErrorFor(status: number): OpenAIErrorBody {
  if (status === 429)
    return { message: 'Rate limit reached for requests.', type: 'requests', param: null, code: 'rate_limit_exceeded' };
  if (status === 401) return invalidKey('sk-unknown-key').error;
  if (status < 500) return { message: `Fake error ${status}.`, type: 'invalid_request_error', param: null, code: null };
  return {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  };
}
