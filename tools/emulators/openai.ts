/**
 * A wire-level fake of the OpenAI Chat Completions API (streaming SSE and plain JSON), for tests,
 * the demo and the benchmark. It is a bare `node:http` server so the real `openai` SDK talks to it
 * through its ordinary fetch path: `new OpenAI({ apiKey: 'test', baseURL: fake.baseURL })`.
 *
 * Wire format follows providers.md §4.6: one `data:` frame per chunk, a role chunk first, content
 * chunks, a finish chunk, an optional usage chunk, then `data: [DONE]`.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The reply used when `opts.reply` gives no text: several Hebrew sentences, so sentence splitting is exercised. */
export const DEFAULT_OPENAI_REPLY =
  'שלום, הגעתם למוקד השירות. אשמח לעזור לכם היום! במה מדובר? אפשר לשאול אותי כל שאלה על ההזמנה שלכם.';

/** Size, in code points, of the pieces the default reply is cut into (real tokens are a few characters long). */
export const DEFAULT_CHUNK_CHARS = 3;

/** How the fake answers one request. Every field is optional; the defaults give a fast, well-formed stream. */
export interface FakeReply {
  /** Reply text. Default {@link DEFAULT_OPENAI_REPLY}. Ignored when `chunks` is given. */
  text?: string;
  /** Exact content deltas to send. Default: `text` cut into {@link DEFAULT_CHUNK_CHARS}-code-point pieces. */
  chunks?: string[];
  /** Wall-clock wait before response headers are sent (exercises the SDK's header timeout). Default 0. */
  headersDelayMs?: number;
  /** Wait after the headers before the role chunk and first content chunk (time to first token). Default 0. */
  firstTokenDelayMs?: number;
  /** Wait between consecutive content chunks. Default 0. */
  chunkDelayMs?: number;
  /** Send only this many content chunks, then go silent with the connection left open (a stalled stream). */
  stallAfterChunks?: number;
  /** HTTP status. Any status ≥ 400 answers a JSON error body instead of a completion. Default 200. */
  status?: number;
  /** Error body for a non-200 answer; setting it without `status` means status 500. */
  error?: { message: string; type?: string; code?: string };
  /** Stream half the chunks, then send an SSE `data: {"error":…}` frame and end the response. */
  midStreamError?: boolean;
  /** Value of the `x-should-retry` header on error answers. Default false, so the SDK never retries on its own. */
  shouldRetry?: boolean;
  /** `finish_reason` of the final chunk. Default 'stop'. */
  finishReason?: string;
}

/** What the fake recorded about one request. Mutated in place while the request is in flight. */
export interface FakeOpenAIRequest {
  index: number;
  method: string;
  path: string;
  /** Parsed JSON body (`model`, `messages`, `stream`…), or null if it was not JSON. */
  body: any;
  headers: IncomingHttpHeaders;
  /** HTTP status that was (or is being) answered. */
  status: number;
  startedAt: number;
  /** Set when the response ended, failed or was aborted. Never set for a stall the client never aborts. */
  finishedAt?: number;
  /** The client closed the connection before the response was complete (barge-in, SDK abort). */
  abortedByClient: boolean;
  /** Content chunks written so far (the role, finish and usage chunks are not counted). */
  chunksSent: number;
}

/** Options of {@link startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port to bind. Default 0 (an ephemeral port). */
  port?: number;
  /** Per-request behaviour; may be async (e.g. to hold a request until a test releases it). Default `{}`. */
  reply?: (req: { body: any; index: number }) => FakeReply | Promise<FakeReply>;
  /** If set, requests whose `Authorization` is not `Bearer <apiKey>` get 401 like the real API. */
  apiKey?: string;
  /** Request bodies larger than this get 413. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** A running fake. */
export interface FakeOpenAI {
  /** "127.0.0.1:PORT". */
  readonly address: string;
  readonly port: number;
  /** "http://127.0.0.1:PORT/v1": pass as the SDK's `baseURL`. */
  readonly baseURL: string;
  /** Every request in arrival order (index = position). */
  readonly requests: FakeOpenAIRequest[];
  /** Resolves once request `index` (0-based) has arrived; rejects after `timeoutMs` (default 5000). */
  waitForRequest(index: number, timeoutMs?: number): Promise<FakeOpenAIRequest>;
  /** Resolves once the client aborted request `index`; rejects after `timeoutMs` (default 5000). */
  waitForAbort(index: number, timeoutMs?: number): Promise<FakeOpenAIRequest>;
  /** Resolves once request `index` is over (completed, errored or aborted); rejects after `timeoutMs` (default 5000). */
  waitForEnd(index: number, timeoutMs?: number): Promise<FakeOpenAIRequest>;
  /** Destroys every open connection (stalled streams included) and stops listening. Idempotent, never hangs. */
  close(): Promise<void>;
}

/**
 * Starts the fake on `opts.host:opts.port` (default 127.0.0.1, ephemeral port).
 * Routes: `POST /v1/chat/completions` (stream or JSON), `GET /v1/models`; anything else is 404.
 */
export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const host = opts.host ?? '127.0.0.1';
  const requests: FakeOpenAIRequest[] = [];
  const bus = new EventEmitter();
  // One controller for the whole server: closing it wakes every pending delay so no timer outlives close().
  const shutdown = new AbortController();
  let closing = false;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the fake must still answer something, or the SDK would hang until its timeout.
      if (!res.headersSent)
        sendError(res, 500, { message: `fake internal error: ${String(err)}`, type: 'server_error' }, false);
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
    if (raw !== undefined) {
      try {
        rec.body = raw.length > 0 ? JSON.parse(raw) : null;
      } catch {
        rec.body = null;
      }
    }
    bus.emit('request', rec);

    if (raw === undefined)
      return answerError(res, rec, 413, { message: 'Request body too large.', type: 'invalid_request_error' });
    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return answerError(res, rec, 401, {
        message: 'Incorrect API key provided.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      });
    }
    if (rec.method === 'GET' && rec.path === '/v1/models') {
      return answerJson(res, rec, {
        object: 'list',
        data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }],
      });
    }
    if (rec.method !== 'POST' || rec.path !== '/v1/chat/completions') {
      return answerError(res, rec, 404, {
        message: `Invalid URL (${rec.method} ${rec.path})`,
        type: 'invalid_request_error',
      });
    }
    if (rec.body === null || typeof rec.body !== 'object' || !Array.isArray(rec.body.messages)) {
      return answerError(res, rec, 400, {
        message: "We could not parse the JSON body of your request, or 'messages' is missing.",
        type: 'invalid_request_error',
      });
    }

    const reply = (await opts.reply?.({ body: rec.body, index: rec.index })) ?? {};
    if (!(await pause(reply.headersDelayMs))) return;
    const status = reply.status ?? (reply.error ? 500 : 200);
    if (status >= 400)
      return answerError(res, rec, status, reply.error ?? defaultError(status), reply.shouldRetry ?? false);

    const text = reply.chunks ? reply.chunks.join('') : (reply.text ?? DEFAULT_OPENAI_REPLY);
    const chunks = reply.chunks ?? chunkText(text, DEFAULT_CHUNK_CHARS);
    const model = typeof rec.body.model === 'string' ? rec.body.model : 'fake-model';
    const id = `chatcmpl-fake-${rec.index}`;
    if (rec.body.stream === true) return streamReply(res, rec, reply, chunks, id, model);

    if (!(await pause(reply.firstTokenDelayMs))) return;
    rec.chunksSent = chunks.length;
    return answerJson(res, rec, {
      id,
      object: 'chat.completion',
      created: Math.floor(rec.startedAt / 1000),
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          logprobs: null,
          finish_reason: reply.finishReason ?? 'stop',
        },
      ],
      usage: usage(rec.body, text),
    });
  }

  async function streamReply(
    res: ServerResponse,
    rec: FakeOpenAIRequest,
    reply: FakeReply,
    chunks: string[],
    id: string,
    model: string,
  ): Promise<void> {
    const created = Math.floor(rec.startedAt / 1000);
    const frame = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices, ...extra })}\n\n`;
    const delta = (d: Record<string, unknown>, finish: string | null = null): string =>
      frame([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_fake_${rec.index}`,
    });
    res.flushHeaders(); // the SDK's create() resolves on headers; send them before the first token like the real API
    if (!(await pause(reply.firstTokenDelayMs))) return;
    if (!write(res, delta({ role: 'assistant', content: '', refusal: null }))) return;

    const errorAt = reply.midStreamError ? Math.floor(chunks.length / 2) : -1;
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0 && !(await pause(reply.chunkDelayMs))) return;
      if (reply.stallAfterChunks !== undefined && i >= reply.stallAfterChunks) return; // keep the socket open, send nothing more
      if (i === errorAt) {
        write(
          res,
          `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } })}\n\n`,
        );
        res.end();
        return;
      }
      if (!write(res, delta({ content: chunks[i] }))) return;
      rec.chunksSent++;
    }
    if (reply.stallAfterChunks !== undefined && reply.stallAfterChunks >= chunks.length) return;
    write(res, delta({}, reply.finishReason ?? 'stop'));
    if (rec.body.stream_options?.include_usage === true)
      write(res, frame([], { usage: usage(rec.body, chunks.join('')) }));
    write(res, 'data: [DONE]\n\n');
    res.end();
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

/** Cuts `text` into pieces of `size` code points (never splits a surrogate pair). */
function chunkText(text: string, size: number): string[] {
  const cps = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
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

/** Writes unless the client is gone; false tells the caller to stop streaming. */
function write(res: ServerResponse, data: string): boolean {
  if (res.destroyed || res.writableEnded) return false;
  res.write(data);
  return true;
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
  error: FakeReply['error'] & {},
  shouldRetry = false,
): void {
  rec.status = status;
  sendError(res, status, error, shouldRetry);
}

function sendError(
  res: ServerResponse,
  status: number,
  error: { message: string; type?: string; code?: string },
  shouldRetry: boolean,
): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-should-retry': String(shouldRetry) });
  res.end(
    JSON.stringify({
      error: { message: error.message, type: error.type ?? 'server_error', param: null, code: error.code ?? null },
    }),
  );
}

/** Error bodies shaped like the real API's for the statuses tests usually inject. */
function defaultError(status: number): { message: string; type: string; code?: string } {
  if (status === 429)
    return { message: 'Rate limit reached for requests.', type: 'requests', code: 'rate_limit_exceeded' };
  if (status === 401)
    return { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status < 500) return { message: `Fake error ${status}.`, type: 'invalid_request_error' };
  return { message: 'The server had an error while processing your request.', type: 'server_error' };
}

/** A rough, deterministic token count (about 4 characters per token) so usage fields are plausible. */
function usage(body: any, text: string): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
  const completion = Math.ceil(text.length / 4);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
