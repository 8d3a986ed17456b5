/**
 * A wire-level emulator of the OpenAI API (Chat Completions, streaming SSE and plain JSON; the
 * models endpoints), for tests, the demo and the benchmark. It is a bare `node:http` server so the
 * real `openai` SDK talks to it through its ordinary fetch path:
 * `new OpenAI({ apiKey: 'test', baseURL: fake.baseURL })`.
 *
 * It is as strict as the real service where the gateway could get it wrong: a bearer key is
 * required, unknown and retired models answer 404 `model_not_found`, reasoning models refuse
 * `max_tokens` and the `reasoning_effort` values they do not support, malformed tool-call
 * conversations and tool schemas are refused, and an `insufficient_quota` mode answers 429
 * (openai-validate.ts, openai-models.ts). Answers are scripted per request (text, tool calls,
 * delays, stalls, cuts, errors: {@link FakeReply}); the wire format is in openai-stream.ts.
 *
 * Routes: `POST /v1/chat/completions`, `GET /v1/models`, `GET /v1/models/{id}`; anything else 404.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  defaultErrorFor,
  insufficientQuota,
  invalidKey,
  invalidRequest,
  missingKey,
  modelNotFoundForRetrieve,
  type OpenAIErrorAnswer,
  type OpenAIErrorBody,
} from './openai-errors.ts';
import { createdOf, DEFAULT_OPENAI_MODELS, isLive, isoToday, type FakeModelSpec } from './openai-models.ts';
import { completionObject, planCompletion, streamCompletion } from './openai-stream.ts';
import type { FakeOpenAI, FakeOpenAIOptions, FakeOpenAIRequest, FakeOpenAISettings } from './openai-types.ts';
import { validateChatRequest } from './openai-validate.ts';

export { DEFAULT_OPENAI_REPLY, DEFAULT_CHUNK_CHARS } from './openai-stream.ts';
export type {
  FakeOpenAI,
  FakeOpenAIOptions,
  FakeOpenAIRequest,
  FakeOpenAISettings,
  FakeReply,
  FakeToolCall,
} from './openai-types.ts';

/**
 * Starts the emulator on `opts.host:opts.port` (default 127.0.0.1, an ephemeral port). Rejects if
 * the port cannot be bound. See {@link FakeOpenAIOptions} for the defaults.
 */
export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const host = opts.host ?? '127.0.0.1';
  const requests: FakeOpenAIRequest[] = [];
  const bus = new EventEmitter();
  const models = modelTable(opts);
  const settings: FakeOpenAISettings = {
    ...(opts.apiKeys ? { apiKeys: opts.apiKeys } : opts.apiKey !== undefined ? { apiKeys: [opts.apiKey] } : {}),
    insufficientQuota: opts.insufficientQuota ?? false,
    ...(opts.today ? { today: opts.today } : {}),
  };
  // One controller for the whole server: closing it wakes every pending delay so no timer outlives close().
  const shutdown = new AbortController();
  let closing = false;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the emulator must still answer something, or the SDK would hang until its timeout.
      if (!res.headersSent)
        send(
          res,
          500,
          { message: `fake internal error: ${String(err)}`, type: 'server_error', param: null, code: null },
          false,
        );
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, opts.maxBodyBytes ?? 1 << 20);
    const url = new URL(req.url ?? '/', 'http://fake');
    const rec: FakeOpenAIRequest = {
      index: requests.length,
      method: req.method ?? 'GET',
      path: url.pathname,
      body: null,
      headers: req.headers,
      status: 200,
      startedAt: Date.now(),
      abortedByClient: false,
      chunksSent: 0,
    };
    requests.push(rec);
    res.on('close', () => {
      // 'close' before the body was finished means the peer went away, unless we are the ones closing.
      if (!res.writableEnded && !closing) {
        rec.abortedByClient = true;
        bus.emit('abort', rec);
      }
      rec.finishedAt ??= Date.now();
      bus.emit('end', rec);
    });
    let parsedOk = raw !== undefined && raw.length === 0;
    if (raw) {
      try {
        rec.body = JSON.parse(raw);
        parsedOk = true;
      } catch {
        rec.body = null;
      }
    }
    bus.emit('request', rec);

    const fail = (a: OpenAIErrorAnswer, shouldRetry = false): void =>
      answerError(res, rec, a.status, a.error, shouldRetry);
    if (raw === undefined) return fail(invalidRequest(413, 'Request body too large.'));
    const auth = checkAuth(req.headers.authorization);
    if (auth) return fail(auth);

    const models_ = /^\/v1\/models(?:\/(.+))?$/.exec(rec.path);
    if (rec.method === 'GET' && models_) return answerModels(res, rec, models_[1] && decodeURIComponent(models_[1]));
    if (rec.method !== 'POST' || rec.path !== '/v1/chat/completions')
      return fail(invalidRequest(404, `Invalid URL (${rec.method} ${rec.path})`));
    if (settings.insufficientQuota) return fail(insufficientQuota());
    const invalid = validateChatRequest(parsedOk ? rec.body : undefined, { models, today: today() });
    if (invalid) return fail(invalid);

    const reply = (await opts.reply?.({ body: rec.body, index: rec.index })) ?? {};
    if (!(await pause(reply.headersDelayMs))) return;
    const status = reply.status ?? (reply.error ? 500 : 200);
    if (status >= 400) {
      const error = reply.error
        ? {
            message: reply.error.message,
            type: reply.error.type ?? 'server_error',
            param: reply.error.param ?? null,
            code: reply.error.code ?? null,
          }
        : defaultErrorFor(status);
      return answerError(res, rec, status, error, reply.shouldRetry ?? false);
    }
    const plan = planCompletion(reply, rec.index);
    if (rec.body.stream === true) return streamCompletion(res, rec, reply, plan, pause);
    if (!(await pause(reply.firstTokenDelayMs))) return;
    rec.chunksSent = plan.deltas.length;
    answerJson(res, rec, completionObject(rec, reply, plan));
  }

  function today(): string {
    return settings.today ?? isoToday();
  }

  /** 401 unless `Authorization: Bearer <key>` with an accepted key. */
  function checkAuth(header: string | undefined): OpenAIErrorAnswer | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return missingKey();
    if (settings.apiKeys && !settings.apiKeys.includes(m[1]!)) return invalidKey(m[1]!);
    return undefined;
  }

  function answerModels(res: ServerResponse, rec: FakeOpenAIRequest, id: string | undefined): void {
    const entry = (m: string) => ({ id: m, object: 'model', created: createdOf(m), owned_by: 'system' });
    const live = Object.entries(models).filter(([, spec]) => isLive(spec, today()));
    if (id === undefined) return answerJson(res, rec, { object: 'list', data: live.map(([m]) => entry(m)) });
    if (!live.some(([m]) => m === id)) {
      const a = modelNotFoundForRetrieve(id);
      return answerError(res, rec, a.status, a.error, false);
    }
    answerJson(res, rec, entry(id));
  }

  /** Waits `ms` (if any); false when the server is closing, so the caller stops quietly. */
  async function pause(ms: number | undefined): Promise<boolean> {
    if (ms === undefined || ms <= 0) return !shutdown.signal.aborted;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        shutdown.signal.removeEventListener('abort', done);
        resolve();
      }
      shutdown.signal.addEventListener('abort', done);
    });
    return !shutdown.signal.aborted;
  }

  function waitFor(kind: 'request' | 'abort' | 'end', index: number, timeoutMs: number): Promise<FakeOpenAIRequest> {
    const done = (r: FakeOpenAIRequest | undefined): boolean =>
      r !== undefined && (kind === 'request' || (kind === 'abort' ? r.abortedByClient : r.finishedAt !== undefined));
    const now = requests[index];
    if (now !== undefined && done(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        bus.off(kind, listener);
        reject(new Error(`fake OpenAI: request ${index} did not reach '${kind}' within ${timeoutMs} ms`));
      }, timeoutMs);
      function listener(r: FakeOpenAIRequest): void {
        if (r.index !== index || !done(r)) return;
        clearTimeout(timer);
        bus.off(kind, listener);
        resolve(r);
      }
      bus.on(kind, listener);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;

  return {
    address: `${host}:${port}`,
    port,
    baseURL: `http://${host}:${port}/v1`,
    requests,
    set(s) {
      Object.assign(settings, s);
    },
    waitForRequest: (i, t = 5000) => waitFor('request', i, t),
    waitForAbort: (i, t = 5000) => waitFor('abort', i, t),
    waitForEnd: (i, t = 5000) => waitFor('end', i, t),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        shutdown.abort();
        server.close(() => resolve());
        server.closeAllConnections(); // stalled streams and keep-alive sockets would otherwise hold close() open
      });
      return closed;
    },
  };
}

/** The model table with the per-model effort overrides applied. */
function modelTable(opts: FakeOpenAIOptions): Record<string, FakeModelSpec> {
  const table: Record<string, FakeModelSpec> = { ...(opts.models ?? DEFAULT_OPENAI_MODELS) };
  for (const [id, efforts] of Object.entries(opts.reasoningEfforts ?? {})) table[id] = { ...table[id], efforts };
  return table;
}

/** Reads the body as UTF-8; undefined when it exceeds `limit` (the rest is drained, not buffered). */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size <= limit) parts.push(part as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(parts).toString('utf8');
}

function answerJson(res: ServerResponse, rec: FakeOpenAIRequest, body: unknown): void {
  rec.status = 200;
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_fake_${rec.index}` });
  res.end(JSON.stringify(body));
}

function answerError(
  res: ServerResponse,
  rec: FakeOpenAIRequest,
  status: number,
  error: OpenAIErrorBody,
  shouldRetry: boolean,
): void {
  rec.status = status;
  const code = error.code ?? error.type;
  if (code) rec.errorCode = code;
  send(res, status, error, shouldRetry);
}

function send(res: ServerResponse, status: number, error: OpenAIErrorBody, shouldRetry: boolean): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-should-retry': String(shouldRetry) });
  res.end(JSON.stringify({ error }));
}
