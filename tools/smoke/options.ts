/**
 * Command-line arguments of `npm run smoke`, parsed into {@link SmokeOptions}. Parsing never
 * throws and never exits: a bad argument comes back as an error message so the CLI can print
 * the usage and exit 2, and tests can check the message.
 */
import { parseArgs } from 'node:util';

/** Default per-step time limit. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** What one smoke run needs. */
export interface SmokeOptions {
  /** Where requests are sent: an `http:` or `https:` origin, no path (e.g. `http://127.0.0.1:5000`). */
  baseUrl: string;
  /** The origin Twilio uses, which webhooks are signed over and the stream URL must be on. Default: `baseUrl`. */
  publicBaseUrl: string;
  /** The account's auth token: requests are signed and unsigned ones must be refused. Default: none. */
  authToken?: string;
  /** Time limit of each step, in ms. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs: number;
  /** Skip TLS certificate verification (self-signed staging). Default false. */
  insecure: boolean;
}

/** The result of {@link parseSmokeArgs}. */
export type ParsedArgs = { kind: 'run'; options: SmokeOptions } | { kind: 'help' } | { kind: 'error'; message: string };

/** Printed with exit code 2 on bad arguments, and for `--help`. */
export const USAGE = `usage: npm run smoke -- <base-url> [--auth-token TOKEN] [--public-base https://public.origin] [--timeout-ms N] [--insecure]

  <base-url>      origin to test: https://gw.example.com (a deployment) or http://127.0.0.1:5000 (local)
  --auth-token    the Twilio auth token: sign every request like Twilio, and require unsigned ones to be refused
  --public-base   the origin configured in Twilio, when requests go elsewhere (e.g. a local port behind a tunnel)
  --timeout-ms    time limit of each step (default ${DEFAULT_TIMEOUT_MS})
  --insecure      do not verify TLS certificates

exit codes: 0 every step passed, 1 a step failed, 2 bad arguments`;

const MAX_TIMEOUT_MS = 600_000;

/** Parses `argv` (without `node` and the script). */
export function parseSmokeArgs(argv: readonly string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'auth-token': { type: 'string' },
        'public-base': { type: 'string' },
        'timeout-ms': { type: 'string' },
        insecure: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    // parseArgs explains unknown options and missing values well; keep its words.
    return { kind: 'error', message: (err as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (positionals.length !== 1) {
    return {
      kind: 'error',
      message: positionals.length === 0 ? 'missing <base-url>' : `expected one <base-url>, got ${positionals.length}`,
    };
  }
  const baseUrl = parseOrigin(positionals[0]!, '<base-url>');
  if (typeof baseUrl !== 'string') return baseUrl;
  let publicBaseUrl = baseUrl;
  if (values['public-base'] !== undefined) {
    const p = parseOrigin(values['public-base'], '--public-base');
    if (typeof p !== 'string') return p;
    publicBaseUrl = p;
  }
  const authToken = values['auth-token'];
  if (authToken !== undefined && authToken.trim() === '') return { kind: 'error', message: '--auth-token is empty' };
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (values['timeout-ms'] !== undefined) {
    const raw = values['timeout-ms'];
    timeoutMs = Number(raw);
    if (!/^\d+$/.test(raw) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
      return {
        kind: 'error',
        message: `--timeout-ms: expected whole milliseconds between 1 and ${MAX_TIMEOUT_MS} (got "${raw}")`,
      };
    }
  }
  const options: SmokeOptions = { baseUrl, publicBaseUrl, timeoutMs, insecure: values.insecure === true };
  if (authToken !== undefined) options.authToken = authToken;
  return { kind: 'run', options };
}

/**
 * Accepts an http(s) origin, with or without a trailing slash, and returns it without one. A path
 * is refused because the gateway's routes and stream URL live at the root of its origin.
 */
function parseOrigin(raw: string, what: string): string | { kind: 'error'; message: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { kind: 'error', message: `${what}: not a URL (got "${raw}")` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'error', message: `${what}: expected http:// or https:// (got "${raw}")` };
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return { kind: 'error', message: `${what}: expected an origin without path, query or credentials (got "${raw}")` };
  }
  return url.origin;
}
