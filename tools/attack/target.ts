/**
 * Targets of the attack suite: a gateway child started with the settings one attack needs (its log,
 * descriptors and memory are all visible), or a gateway someone else runs (`--base`), of which only
 * what travels over the wire — and /proc, given `--pid` — can be seen.
 */
import { startGatewayChild, type GatewayChild } from '../gateway-child.ts';
import type { Target } from './types.ts';

/** Options of {@link launchChild}. */
export interface ChildTargetOptions {
  /** Script to run instead of gateway.ts (the tool's own tests use stand-in servers). */
  script?: string;
  args?: string[];
  /** Settings every child of this run gets, under the attack's own. */
  baseEnv?: Record<string, string>;
  /** Longest wait for start-up. Default 20000 (the machine may be busy). */
  startTimeoutMs?: number;
}

/** A target that is our own child process. */
export interface ChildTarget extends Target {
  readonly child: GatewayChild;
}

/**
 * Starts a gateway child with `env` (on top of `baseEnv`); its log is kept for the attack to read.
 * @throws GatewayStartError when it does not come up (the message carries its stderr).
 */
export async function launchChild(env: Record<string, string>, opts: ChildTargetOptions = {}): Promise<ChildTarget> {
  const full = { ...opts.baseEnv, ...env };
  const child = await startGatewayChild({
    env: full,
    startTimeoutMs: opts.startTimeoutMs ?? 20_000,
    ...(opts.script ? { script: opts.script } : {}),
    ...(opts.args ? { args: opts.args } : {}),
  });
  return {
    child,
    base: child.url,
    host: new URL(child.url).hostname,
    port: child.port,
    authToken: full['TWILIO_AUTH_TOKEN'] || undefined,
    publicBase: full['PUBLIC_BASE_URL'] || undefined,
    metricsToken: full['METRICS_TOKEN'] || undefined,
    pid: child.pid,
    logBytes: () => child.stdoutBytes(),
    logs: () => child.logs,
    signal: (sig) => {
      child.signal(sig);
      return true;
    },
    exited: child.exited.then((e) => e.code),
  };
}

/** Stops a child target: SIGTERM (drain), SIGKILL after `graceMs`. Never rejects. */
export async function stopChild(t: Target, graceMs = 5000): Promise<void> {
  const child = (t as Partial<ChildTarget>).child;
  if (child) await child.stop(graceMs);
}

/** What is known of a gateway started by someone else. */
export interface ExternalTargetOptions {
  base: string;
  authToken?: string | undefined;
  publicBase?: string | undefined;
  metricsToken?: string | undefined;
  pid?: number | undefined;
}

/** A gateway reached at `--base`; its log cannot be seen and it is not ours to signal. */
export function externalTarget(o: ExternalTargetOptions): Target {
  const url = new URL(o.base);
  return {
    base: url.origin,
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    authToken: o.authToken,
    publicBase: o.publicBase,
    metricsToken: o.metricsToken,
    pid: o.pid,
    logBytes: () => undefined,
    logs: () => undefined,
    signal: () => false,
    exited: undefined,
  };
}
