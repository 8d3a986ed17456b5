/**
 * The shapes of `npm run attack`: an {@link Attack} is one bounded, loopback-only probe of a running
 * gateway (a {@link Target}) that ends with a verdict and the figures it measured.
 */
import type { LogRecord } from '../gateway-child.ts';

export type { LogRecord } from '../gateway-child.ts';

/** What an attack concluded. `skip`: it could not run against this target (the figures say why). */
export type Verdict = 'held' | 'broke' | 'skip';

/** The end of one attack. */
export interface Outcome {
  verdict: Verdict;
  /** Measured values, printed in this order (`requests: 200`, `fds: 12→12`, …). */
  figures: Record<string, string | number>;
  /** Why it broke (or was skipped), one short sentence each. */
  findings: string[];
}

/** A gateway under attack: its address and what can be observed of it. */
export interface Target {
  /** `http://host:port`, no path. */
  readonly base: string;
  readonly host: string;
  readonly port: number;
  /** The TWILIO_AUTH_TOKEN it enforces, when known (signs requests like Twilio). */
  readonly authToken: string | undefined;
  /** Its PUBLIC_BASE_URL, when known (what signatures are computed over). */
  readonly publicBase: string | undefined;
  /** Its METRICS_TOKEN, when known. */
  readonly metricsToken: string | undefined;
  /** Process id, when known: descriptors and memory are read from /proc/<pid>. */
  readonly pid: number | undefined;
  /** Bytes it has written to its log so far; undefined when its log cannot be seen. */
  logBytes(): number | undefined;
  /** Its parsed log records so far; undefined when its log cannot be seen. */
  logs(): readonly LogRecord[] | undefined;
  /** Sends a signal (own child only); false when the target is not ours to signal. */
  signal(sig: NodeJS.Signals): boolean;
  /** Resolves with the exit code when the process exits; undefined when it is not our child. */
  readonly exited: Promise<number | null> | undefined;
}

/** Starts a gateway with settings on top of the suite's base environment. */
export type Launch = (env: Record<string, string>) => Promise<Target>;

/** The limits an attack works within; `--quick` and the full run differ only here. */
export interface Limits {
  /** Longest time the gateway may take to cut a slow or idle client before it counts as broken. */
  cutWithinMs: number;
  /** Longest wait for any single answer (status line, close). */
  answerWithinMs: number;
  /** Descriptors above the baseline still allowed once the attacker has left. */
  fdSlack: number;
  /** Log bytes per hostile request above which the log counts as amplified. */
  logBytesPerRequest: number;
  /** Connections, requests, repetitions: multiplied into each attack's own counts. */
  scale: number;
}

/** What an attack gets to work with. */
export interface AttackContext {
  /** The gateway started for this attack (or given with `--base`). */
  target: Target;
  /** The settings `target` was started with (the attack's own, emulators included). */
  env: Record<string, string>;
  /** Starts another gateway (own children only); undefined with `--base`. */
  launch: Launch | undefined;
  /** Stops a target started with `launch` (SIGTERM, then SIGKILL). */
  stop: (t: Target) => Promise<void>;
  limits: Limits;
  quick: boolean;
  /** Aborted when the run is interrupted: attacks stop sending at once. */
  signal: AbortSignal;
}

/** One attack of the suite. */
export interface Attack {
  /** Stable name, used with `--only`. */
  name: string;
  /** What it does, one line. */
  what: string;
  /** Settings the gateway is started with for this attack (on top of the suite's base env). */
  env: Record<string, string>;
  /** What the attack cannot do without (it is skipped when the target lacks it). */
  needs?: ReadonlyArray<'child' | 'logs' | 'authToken' | 'metricsToken' | 'pid' | 'emulators'>;
  run(ctx: AttackContext): Promise<Outcome>;
}
