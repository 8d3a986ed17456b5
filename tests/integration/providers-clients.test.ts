/**
 * The provider plumbing: error classification, the retry layer, lazy clients (emulator endpoints,
 * IPv6), and what happens without credentials, checked in a child process with a real
 * `unhandledRejection` listener (inside jest the sandbox's `process` is a copy that never hears
 * about unhandled rejections; jest-circus itself fails a test that leaves one behind).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  OpenAIError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from 'openai';
import { parseConfig } from '../../config/config.ts';
import { parseEmulatorHost, ProviderClients } from '../../media/providers/clients.ts';
import { fromGrpcError, fromOpenAIError, maskSecrets } from '../../media/providers/errors.ts';
import { GoogleSynthesizer } from '../../media/providers/google-tts.ts';
import { backoffDelay, withRetry } from '../../media/providers/retry.ts';
import { ProviderError } from '../../media/providers/types.ts';
import { fakeTtsAudio, startFakeTts } from '../../tools/emulators/index.ts';

jest.setTimeout(20_000);

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} X: ${details}`), { code, details });

describe('fromGrpcError', () => {
  test.each([
    [16, 'AUTH'],
    [7, 'AUTH'],
    [3, 'BAD_REQUEST'],
    [5, 'BAD_REQUEST'],
    [9, 'BAD_REQUEST'],
    [8, 'QUOTA'],
    [14, 'UNAVAILABLE'],
    [13, 'UNAVAILABLE'],
    [4, 'TIMEOUT'],
    [11, 'STREAM_LIMIT'],
    [1, 'ABORTED'],
    [15, 'UNKNOWN'],
  ])('gRPC %i → %s', (code, ours) => {
    const err = fromGrpcError('stt', grpcError(code, 'details here'));
    expect(err).toMatchObject({ provider: 'stt', code: ours, vendorCode: code });
    expect(err.message).toMatch(/^Google Speech-to-Text: .* — \d+ [A-Z_]+: details here$/);
  });

  test('2 UNKNOWN is UNAVAILABLE only when it names a connection problem', () => {
    expect(fromGrpcError('tts', grpcError(2, 'read ECONNRESET')).code).toBe('UNAVAILABLE');
    expect(fromGrpcError('tts', grpcError(2, 'something odd')).code).toBe('UNKNOWN');
  });

  test('retryable follows the code', () => {
    expect(fromGrpcError('stt', grpcError(14, 'x')).retryable).toBe(true);
    expect(fromGrpcError('stt', grpcError(11, 'Audio Timeout Error')).retryable).toBe(true);
    expect(fromGrpcError('stt', grpcError(3, 'x')).retryable).toBe(false);
  });

  test("google-auth's missing-credentials error → AUTH with an operator's hint", () => {
    const err = fromGrpcError(
      'stt',
      new Error(
        'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.',
      ),
    );
    expect(err.code).toBe('AUTH');
    expect(err.message).toMatch(
      /^Google Speech-to-Text: credentials missing or invalid \(set GOOGLE_APPLICATION_CREDENTIALS, or GOOGLE_STT_EMULATOR_HOST for a local emulator\)/,
    );
  });

  test('a ProviderError passes through unchanged', () => {
    const e = new ProviderError('tts', 'BAD_AUDIO', 'x');
    expect(fromGrpcError('tts', e)).toBe(e);
  });
});

describe('fromOpenAIError', () => {
  const h = new Headers();
  test.each([
    ['AuthenticationError', new AuthenticationError(401, { message: 'bad key' }, 'bad key', h), 'AUTH'],
    ['PermissionDeniedError', new PermissionDeniedError(403, undefined, 'no', h), 'AUTH'],
    ['BadRequestError', new BadRequestError(400, undefined, 'bad', h), 'BAD_REQUEST'],
    ['NotFoundError', new NotFoundError(404, undefined, 'no model', h), 'BAD_REQUEST'],
    ['UnprocessableEntityError', new UnprocessableEntityError(422, undefined, 'bad', h), 'BAD_REQUEST'],
    ['RateLimitError', new RateLimitError(429, { code: 'rate_limit_exceeded' }, 'slow down', h), 'RATE_LIMITED'],
    ['InternalServerError', new InternalServerError(502, undefined, 'bad gateway', h), 'UNAVAILABLE'],
    ['APIConnectionError', new APIConnectionError({ message: 'Connection error.' }), 'UNAVAILABLE'],
    ['APIConnectionTimeoutError', new APIConnectionTimeoutError(), 'TIMEOUT'],
    ['APIUserAbortError', new APIUserAbortError(), 'ABORTED'],
    [
      'a mid-stream APIError',
      new APIError(undefined, { message: 'server_error' }, 'server_error', undefined),
      'UNAVAILABLE',
    ],
    ['Missing credentials', new OpenAIError('Missing credentials. Please pass an `apiKey`.'), 'AUTH'],
    ['a plain Error', new Error('???'), 'UNKNOWN'],
  ])('%s → %s', (_name, err, ours) => {
    expect(fromOpenAIError(err)).toMatchObject({ provider: 'llm', code: ours });
  });

  test('an account out of quota is RATE_LIMITED but not retryable', () => {
    const err = fromOpenAIError(new RateLimitError(429, { code: 'insufficient_quota' }, 'quota', h));
    expect(err).toMatchObject({ code: 'QUOTA', retryable: false, permanent: true });
  });

  test('keys never reach the message', () => {
    const err = fromOpenAIError(
      new AuthenticationError(
        401,
        undefined,
        'Incorrect API key provided: sk-proj-abcdefghijkl1234. You can find your key at …',
        h,
      ),
      ['my-local-key'],
    );
    expect(err.message).not.toContain('abcdefghijkl1234');
    expect(maskSecrets('Bearer abc.def and key=AIzaSyA-1234567890abcdefghijk and my-local-key', ['my-local-key'])).toBe(
      'Bearer [redacted] and key=[redacted] and [redacted]',
    );
  });
});

describe('withRetry', () => {
  const retryable = () => new ProviderError('llm', 'UNAVAILABLE', 'down');

  test('retries retryable errors up to `attempts`, then rethrows the last one', async () => {
    const seen: number[] = [];
    const err = retryable();
    await expect(
      withRetry(
        async (n) => {
          seen.push(n);
          throw err;
        },
        { provider: 'llm', attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      ),
    ).rejects.toBe(err);
    expect(seen).toEqual([1, 2, 3]);
  });

  test('stops at the first non-retryable error and returns the first success', async () => {
    let n = 0;
    await expect(
      withRetry(
        async () => {
          n++;
          throw new ProviderError('tts', 'AUTH', 'no');
        },
        { provider: 'tts', attempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
      ),
    ).rejects.toMatchObject({ code: 'AUTH' });
    expect(n).toBe(1);
    await expect(
      withRetry(
        async (a) => {
          if (a < 2) throw retryable();
          return 'ok';
        },
        { provider: 'llm', attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      ),
    ).resolves.toBe('ok');
  });

  test('an abort during the delay rejects with ABORTED and starts no new attempt', async () => {
    const abort = new AbortController();
    let n = 0;
    const p = withRetry(
      async () => {
        n++;
        throw retryable();
      },
      { provider: 'stt', attempts: 3, baseDelayMs: 10_000, maxDelayMs: 10_000, signal: abort.signal },
    );
    await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED', provider: 'stt' });
    expect(n).toBe(1);
  });

  test('backoff doubles from the base, is capped, and is jittered between half and all of it', () => {
    expect([1, 2, 3, 4, 5, 6].map((f) => backoffDelay(f, 100, 2000, () => 1))).toEqual([
      100, 200, 400, 800, 1600, 2000,
    ]);
    expect([1, 2, 6].map((f) => backoffDelay(f, 100, 2000, () => 0))).toEqual([50, 100, 1000]);
  });
});

describe('ProviderClients', () => {
  test('parses emulator hosts, IPv6 included', () => {
    expect(parseEmulatorHost('127.0.0.1:9001')).toEqual({ apiEndpoint: '127.0.0.1', port: 9001 });
    expect(parseEmulatorHost('stt-emulator:80')).toEqual({ apiEndpoint: 'stt-emulator', port: 80 });
    expect(parseEmulatorHost('[::1]:9001')).toEqual({ apiEndpoint: '[::1]', port: 9001 });
    expect(() => parseEmulatorHost('::1:9001')).toThrow(RangeError);
    expect(() => parseEmulatorHost('host:0')).toThrow(RangeError);
  });

  test('reaches an emulator on [::1]', async () => {
    const fake = await startFakeTts({ host: '[::1]' });
    const config = parseConfig({ GOOGLE_TTS_EMULATOR_HOST: `[::1]:${fake.port}` }).voice;
    const clients = new ProviderClients(config);
    try {
      const result = await new GoogleSynthesizer(clients, config).synthesize('שלום', new AbortController().signal);
      expect(result.mulaw.equals(fakeTtsAudio('שלום'))).toBe(true);
    } finally {
      await clients.close();
      await fake.close();
    }
  });

  test('creates nothing until first use, and refuses use after close()', async () => {
    const clients = new ProviderClients(parseConfig({ OPENAI_API_KEY: 'k' }).voice);
    await clients.close(); // nothing was created: nothing to close
    await expect(clients.speech()).rejects.toMatchObject({ code: 'ABORTED', provider: 'stt' });
    expect(() => clients.openai()).toThrow(expect.objectContaining({ code: 'ABORTED' }));
  });
});

/** Runs in a plain Node process: a real unhandledRejection listener, and Node's default of crashing on one. */
const CHILD = `
const unhandled = [];
process.on('unhandledRejection', (r) => unhandled.push(String(r && r.message || r)));
const root = process.argv[1];
const { parseConfig } = await import(root + '/config/config.ts');
const { ProviderClients } = await import(root + '/media/providers/clients.ts');
const { GoogleSpeechRecognizer } = await import(root + '/media/providers/google-stt.ts');
const { GoogleSynthesizer } = await import(root + '/media/providers/google-tts.ts');
const { startFakeStt } = await import(root + '/tools/emulators/index.ts');
const brief = (e) => ({ code: e.code, provider: e.provider, message: e.message });
const out = { unhandled };

// 1. No credentials at all.
let config = parseConfig({}).voice;
let clients = new ProviderClients(config);
const first = await clients.speech().catch((e) => e);
out.speech = brief(first);
out.sameError = (await clients.speech().catch((e) => e)) === first;
out.sttEvents = [];
const s1 = new GoogleSpeechRecognizer(clients, config).start((e) => out.sttEvents.push({ type: e.type, code: e.error && e.error.code }), new AbortController().signal);
s1.write(Buffer.alloc(800, 0xff));
out.tts = await new GoogleSynthesizer(clients, config).synthesize('שלום', new AbortController().signal).then(() => 'ok', brief);
await new Promise((r) => setTimeout(r, 300));
s1.close();
await clients.close();

// 2. An emulator whose streams fail, rotate and close.
const fake = await startFakeStt();
config = parseConfig({ GOOGLE_STT_EMULATOR_HOST: fake.address, STT_STREAM_LIMIT_MS: '2000' }).voice;
clients = new ProviderClients(config);
out.emulatorEvents = [];
const s2 = new GoogleSpeechRecognizer(clients, config).start((e) => out.emulatorEvents.push(e.type + ':' + (e.reason || '')), new AbortController().signal);
const feed = (ms) => { for (let i = 0; i < ms; i += 100) s2.write(Buffer.alloc(800, 0xff)); };
await fake.waitForEvent('config');
feed(300);
await new Promise((r) => setTimeout(r, 50));
fake.failActiveStreams(14, 'reset');
await fake.waitForEvent('config', (e) => e.stream === 1);
feed(1700);
const rotatedOut = fake.waitForEvent('closed', (e) => e.stream === 1);
s2.quietMoment();
await fake.waitForEvent('config', (e) => e.stream === 2);
feed(300);
await rotatedOut;
fake.failActiveStreams(11, 'Audio Timeout Error');
await fake.waitForEvent('config', (e) => e.stream === 3);
s2.close();
await new Promise((r) => setTimeout(r, 300));
out.emulatorStates = fake.streams.map((s) => s.state);
await clients.close();
await fake.close();
console.log(JSON.stringify(out));
`;

describe('without Google credentials (child process)', () => {
  test('AUTH for STT and TTS, the same cached error, and no unhandled rejection anywhere', async () => {
    const home = mkdtempSync(join(tmpdir(), 'no-adc-')); // no gcloud application-default file in it
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      CLOUDSDK_CONFIG: home,
      METADATA_SERVER_DETECTION: 'none',
    };
    const root = join(__dirname, '..', '..');
    try {
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--input-type=module', '-e', CHILD, root],
          { env, cwd: root, timeout: 15_000 },
          (err, out, errOut) => (err ? reject(new Error(`child failed: ${err.message}\n${errOut}`)) : resolve(out)),
        ),
      );
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(out.unhandled).toEqual([]);
      expect(out.speech).toMatchObject({ code: 'AUTH', provider: 'stt' });
      expect(out.speech.message).toMatch(
        /^Google Speech-to-Text: credentials missing or invalid \(set GOOGLE_APPLICATION_CREDENTIALS/,
      );
      expect(out.sameError).toBe(true);
      expect(out.sttEvents).toEqual([{ type: 'failed', code: 'AUTH' }]);
      expect(out.tts).toMatchObject({ code: 'AUTH', provider: 'tts' });
      expect(out.emulatorEvents).toEqual(['restarted:error', 'restarted:rotation', 'restarted:error']);
      expect(out.emulatorStates).toEqual(['failed', 'ended', 'failed', 'ended']);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
