/**
 * The vendor SDK clients, created on first use and shared by every call of the process.
 *
 * Nothing happens at import or start-up: the Google SDKs are even loaded on first use (loading
 * `@google-cloud/speech` alone takes a few hundred ms). A Google client is initialised once with
 * `await client.initialize()`; if that fails (no credentials, unreadable key file) the client is
 * never touched again, because every generated method of a client whose initialisation failed
 * leaves an unhandled promise rejection behind (providers.md §3.6). Instead the classified AUTH
 * error is cached and every later use fails fast with that same ProviderError.
 *
 * SDK retries are off here (OpenAI `maxRetries: 0`) or per call (Google `retry: { retryCodes: [] }`
 * in the provider files): `retry.ts` is the only retry layer.
 */
import OpenAI from 'openai';
import type { SpeechClient, v2 } from '@google-cloud/speech';
import type { TextToSpeechClient } from '@google-cloud/text-to-speech';
import type { ClientOptions } from 'google-gax';
import type { VoiceConfig } from '../../config/config.ts';
import { fromGrpcError, fromOpenAIError, providerError } from './errors.ts';
import type { ProviderError, ProviderName } from './types.ts';

/** Google client options for an emulator at `host:port` (plain gRPC, no credentials), or undefined for Google Cloud. */
export interface EmulatorEndpoint {
  /** Host as gRPC wants it in a target: an IPv6 address keeps its brackets. */
  apiEndpoint: string;
  port: number;
}

/**
 * Splits `host:port` or `[ipv6]:port` (as GOOGLE_*_EMULATOR_HOST is validated by the config).
 * Throws RangeError on anything else.
 */
export function parseEmulatorHost(hostPort: string): EmulatorEndpoint {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(hostPort.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || !(port > 0 && port < 65536))
    throw new RangeError(`expected host:port or [ipv6]:port, got ${JSON.stringify(hostPort)}`);
  return { apiEndpoint: m[1], port };
}

type GoogleClient = SpeechClient | v2.SpeechClient | TextToSpeechClient;

/**
 * Host of the Speech-to-Text v2 endpoint for `location`: `<location>-speech.googleapis.com`
 * (Google serves a regional location only from its own endpoint), or undefined for `global`,
 * which the default host serves.
 */
export function speechV2Endpoint(location: string): string | undefined {
  return location === 'global' ? undefined : `${location}-speech.googleapis.com`;
}

/**
 * Owns the SDK clients for the process (or for one test). Every getter creates its client on
 * first use; `close()` releases what was created. Errors are ProviderErrors:
 * - AUTH when credentials are missing or unreadable (cached: the same error on every later use);
 * - ABORTED after `close()`.
 */
export class ProviderClients {
  private readonly config: VoiceConfig;
  /** Each Google client's creation and initialisation, started on first use; settled once, then reused. */
  private speechReady: Promise<SpeechClient> | undefined;
  private speechV2Ready: Promise<v2.SpeechClient> | undefined;
  private ttsReady: Promise<TextToSpeechClient> | undefined;
  private openaiClient: OpenAI | undefined;
  private openaiError: ProviderError | undefined;
  private closed = false;

  constructor(config: VoiceConfig) {
    this.config = config;
  }

  /** The Speech-to-Text v1 client, initialised. Rejects with AUTH (cached) or ABORTED after close(). */
  speech(): Promise<SpeechClient> {
    if (this.closed) return Promise.reject(this.closedError('stt'));
    this.speechReady ??= this.createGoogle('stt', this.config.googleSttEmulatorHost, async (opts) => {
      const { SpeechClient } = await import('@google-cloud/speech');
      return new SpeechClient(opts);
    });
    return this.speechReady;
  }

  /**
   * The Speech-to-Text v2 client, initialised, on the regional endpoint of STT_LOCATION (see
   * {@link speechV2Endpoint}), or on the emulator when GOOGLE_STT_EMULATOR_HOST is set.
   * Rejects with AUTH (cached) or ABORTED after close().
   */
  speechV2(): Promise<v2.SpeechClient> {
    if (this.closed) return Promise.reject(this.closedError('stt'));
    const endpoint = speechV2Endpoint(this.config.sttLocation);
    this.speechV2Ready ??= this.createGoogle('stt', this.config.googleSttEmulatorHost, async (opts) => {
      const { v2 } = await import('@google-cloud/speech');
      return new v2.SpeechClient(
        this.config.googleSttEmulatorHost || !endpoint ? opts : { ...opts, apiEndpoint: endpoint },
      );
    });
    return this.speechV2Ready;
  }

  /** The Text-to-Speech v1 client, initialised. Rejects with AUTH (cached) or ABORTED after close(). */
  tts(): Promise<TextToSpeechClient> {
    if (this.closed) return Promise.reject(this.closedError('tts'));
    this.ttsReady ??= this.createGoogle('tts', this.config.googleTtsEmulatorHost, async (opts) => {
      const { TextToSpeechClient } = await import('@google-cloud/text-to-speech');
      return new TextToSpeechClient(opts);
    });
    return this.ttsReady;
  }

  /**
   * The OpenAI client (`maxRetries: 0`; `timeout`, which only bounds the wait for response
   * headers, a little above the first-token watchdog so the watchdog normally speaks first).
   * Throws AUTH when no key is configured and no OPENAI_BASE_URL either (a local compatible
   * server gets a placeholder key); ABORTED after close(). The outcome is cached.
   */
  openai(): OpenAI {
    if (this.closed) throw this.closedError('llm');
    if (this.openaiError) throw this.openaiError;
    if (this.openaiClient) return this.openaiClient;
    const { openaiApiKey, openaiBaseUrl, llmFirstTokenTimeoutMs } = this.config;
    try {
      this.openaiClient = new OpenAI({
        apiKey: openaiApiKey ?? (openaiBaseUrl ? 'unused' : undefined),
        ...(openaiBaseUrl ? { baseURL: openaiBaseUrl } : {}),
        maxRetries: 0,
        ...(llmFirstTokenTimeoutMs > 0 ? { timeout: llmFirstTokenTimeoutMs + 1000 } : {}),
      });
      return this.openaiClient;
    } catch (err) {
      this.openaiError = fromOpenAIError(err, [openaiApiKey]);
      throw this.openaiError;
    }
  }

  /** Closes every Google client that was created (in-flight initialisations are awaited first); later uses get ABORTED. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const pending: Array<Promise<GoogleClient> | undefined> = [this.speechReady, this.speechV2Ready, this.ttsReady];
    await Promise.all(
      pending.map(async (ready) => {
        if (!ready) return;
        // A failed initialisation leaves nothing to release, and close() on such a client rejects
        // with the initialisation error, so only clients that initialised are closed.
        const client = await ready.then(
          (c) => c,
          () => undefined,
        );
        if (client) await client.close();
      }),
    );
  }

  private createGoogle<C extends GoogleClient>(
    provider: ProviderName,
    emulatorHost: string | undefined,
    make: (opts: ClientOptions) => Promise<C>,
  ): Promise<C> {
    const ready = (async () => {
      try {
        const client = await make(await googleOptions(emulatorHost));
        await client.initialize();
        return client;
      } catch (err) {
        throw setupError(provider, err);
      }
    })();
    // Every caller gets this promise and handles its rejection; this marks the stored copy as
    // handled too, so a rejection nobody is waiting for is not reported as unhandled.
    ready.catch(() => undefined);
    return ready;
  }

  private closedError(provider: ProviderName): ProviderError {
    return providerError(provider, 'ABORTED', 'the provider clients were closed (the gateway is shutting down)');
  }
}

/**
 * Constructor options: an emulator gets insecure gRPC credentials from gax's own grpc-js copy (a
 * second copy would be rejected by `instanceof`) and an explicit universe domain so no metadata
 * server is probed; Google Cloud gets nothing, so the SDK finds GOOGLE_APPLICATION_CREDENTIALS or
 * the host's default credentials itself.
 */
async function googleOptions(emulatorHost: string | undefined): Promise<ClientOptions> {
  if (!emulatorHost) return {};
  const { grpc } = await import('google-gax');
  const { apiEndpoint, port } = parseEmulatorHost(emulatorHost);
  return { apiEndpoint, port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' };
}

/** A client that cannot be set up is a credentials problem for the operator: always AUTH. */
function setupError(provider: ProviderName, err: unknown): ProviderError {
  const classified = fromGrpcError(provider, err);
  if (classified.code === 'AUTH') return classified;
  const text = err instanceof Error ? err.message : String(err);
  return providerError(provider, 'AUTH', text, {
    cause: err,
    ...(classified.vendorCode === undefined ? {} : { vendorCode: classified.vendorCode }),
  });
}
