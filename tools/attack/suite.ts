/**
 * The attack suite and its runner. Each attack gets a fresh gateway child started with the settings
 * it needs (or the `--base` gateway), runs within a time cap, and is judged; afterwards the runner
 * adds what every attack must respect (the process did not die, no uncaught exception was logged).
 *
 *   for each attack: launch(env) ─▶ run (capped) ─▶ after-checks ─▶ stop ─▶ one result line
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeOpenAI, startFakeStt, startFakeTts } from '../emulators/index.ts';
import { CALLER_TRANSCRIPT, scriptedReply } from '../demo/conversation.ts';
import { floodNextToCall, drainHeld, pendingTokenFlood } from './attacks/floods.ts';
import { corruptBody, malformedHttp, metricsToken, protoReflection } from './attacks/http.ts';
import { callerNumbers, logAmplification, unsignedLogging } from './attacks/logs.ts';
import { futureToken, replayIncomingCall, secondStream, tokenAfterRestart, tokenReuse } from './attacks/replays.ts';
import { connectionCap, idleSockets, slowBody, slowHeaders } from './attacks/slow.ts';
import { badFrames, neverStart, subprotocol } from './attacks/sockets.ts';
import { hostileUpgrades, signatureSteering, tokenWithoutPublicBase } from './attacks/upgrades.ts';
import type { Attack, Launch, Limits, Outcome, Target } from './types.ts';

/** Every attack, in the order they run. */
export const ATTACKS: readonly Attack[] = [
  slowHeaders,
  slowBody,
  idleSockets,
  connectionCap,
  neverStart,
  hostileUpgrades,
  tokenWithoutPublicBase,
  signatureSteering,
  protoReflection,
  malformedHttp,
  badFrames,
  subprotocol,
  corruptBody,
  metricsToken,
  replayIncomingCall,
  secondStream,
  tokenReuse,
  tokenAfterRestart,
  futureToken,
  logAmplification,
  unsignedLogging,
  callerNumbers,
  pendingTokenFlood,
  floodNextToCall,
  drainHeld,
];

/** Limits of `--quick` (CI) and of the full run. */
export const LIMITS: Record<'quick' | 'full', Limits> = {
  quick: { cutWithinMs: 15_000, answerWithinMs: 5000, fdSlack: 8, logBytesPerRequest: 4096, scale: 1 },
  full: { cutWithinMs: 15_000, answerWithinMs: 5000, fdSlack: 8, logBytesPerRequest: 4096, scale: 5 },
};

/** One attack's result. */
export interface AttackResult extends Outcome {
  name: string;
  what: string;
  ms: number;
}

/** Where the suite runs. */
export interface SuiteOptions {
  attacks: readonly Attack[];
  limits: Limits;
  quick: boolean;
  /** Starts a gateway child; undefined with `--base`. */
  launch: Launch | undefined;
  stop: (t: Target) => Promise<void>;
  /** The `--base` gateway; undefined when each attack gets its own child. */
  external: Target | undefined;
  /** Longest an attack may take before it counts as broken (the gateway wedged it). */
  attackCapMs: number;
  signal: AbortSignal;
  /** Called with each result as soon as it is known. */
  onResult?: (r: AttackResult) => void;
}

/** Runs the attacks one after the other; never throws for anything a gateway does. */
export async function runSuite(o: SuiteOptions): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  const emulators =
    o.attacks.some((a) => a.needs?.includes('emulators')) && o.launch ? await startEmulators() : undefined;
  try {
    for (const attack of o.attacks) {
      if (o.signal.aborted) break;
      const t0 = performance.now();
      const outcome = await runOne(attack, o, emulators?.env ?? {});
      const r = { name: attack.name, what: attack.what, ms: Math.round(performance.now() - t0), ...outcome };
      results.push(r);
      o.onResult?.(r);
    }
  } finally {
    await emulators?.close();
  }
  return results;
}

async function runOne(attack: Attack, o: SuiteOptions, emulatorEnv: Record<string, string>): Promise<Outcome> {
  const missing = unmet(attack, o);
  if (missing) return { verdict: 'skip', figures: {}, findings: [missing] };
  // One deployment per attack: a restart within the attack keeps its call store (DATA_DIR), as a
  // restarted `npm start` would; the directory goes when the attack is over.
  const dataDir = o.external ? undefined : mkdtempSync(join(tmpdir(), 'attack-data-'));
  const env = {
    ...(attack.needs?.includes('emulators') ? emulatorEnv : {}),
    ...(dataDir ? { DATA_DIR: dataDir } : {}),
    ...attack.env,
  };
  let target: Target;
  try {
    target = o.external ?? (await o.launch!(env));
  } catch (err) {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    return {
      verdict: 'broke',
      figures: {},
      findings: [`the gateway did not start: ${(err as Error).message.slice(0, 300)}`],
    };
  }
  const launched: Target[] = [target];
  const launch: Launch | undefined = o.launch
    ? async (e) => {
        const t = await o.launch!(e);
        launched.push(t);
        return t;
      }
    : undefined;
  const cap = new AbortController();
  const onAbort = () => cap.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const capped = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => {
        cap.abort();
        resolve({
          verdict: 'broke',
          figures: {},
          findings: [`the attack did not finish within ${o.attackCapMs / 1000} s`],
        });
      }, o.attackCapMs);
    });
    const ran = attack
      .run({ target, env, launch, stop: o.stop, limits: o.limits, quick: o.quick, signal: cap.signal })
      .catch((err: unknown): Outcome => ({
        verdict: 'broke',
        figures: {},
        findings: [`the attack failed: ${err instanceof Error ? err.message : String(err)}`],
      }));
    const outcome = await Promise.race([ran, capped]);
    for (const t of launched) afterEffects(outcome, t);
    return outcome;
  } finally {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onAbort);
    if (!o.external) for (const t of launched) await o.stop(t);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** What every attack must respect, whatever it judged: no crash, no uncaught exception. */
function afterEffects(outcome: Outcome, t: Target): void {
  const logs = t.logs() ?? [];
  const uncaught = logs.filter((r) => r['message'] === 'UNCAUGHT_EXCEPTION');
  if (uncaught.length > 0) {
    outcome.verdict = 'broke';
    outcome.findings.push(
      `${uncaught.length} uncaught exception(s) logged, first: ${String(uncaught[0]!['error']).slice(0, 160)}`,
    );
  }
}

function unmet(attack: Attack, o: SuiteOptions): string | undefined {
  const t = o.external;
  if (!t) return undefined;
  for (const need of attack.needs ?? []) {
    if (need === 'child') return 'needs a gateway it starts itself (not --base)';
    if (need === 'logs') return "needs the gateway's log (not available with --base)";
    if (need === 'authToken' && !t.authToken) return 'needs --auth-token';
    if (need === 'metricsToken' && !t.metricsToken) return 'needs --metrics-token';
    if (need === 'pid' && t.pid === undefined) return 'needs --pid';
  }
  return undefined;
}

/** The three provider emulators, set up for the demo's conversation, and the settings pointing at them. */
async function startEmulators(): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const stt = await startFakeStt({ transcript: () => CALLER_TRANSCRIPT });
  const tts = await startFakeTts({ voice: 'tone' });
  const openai = await startFakeOpenAI({ reply: ({ body }) => ({ text: scriptedReply(body) }) });
  return {
    env: {
      GOOGLE_STT_EMULATOR_HOST: stt.address,
      GOOGLE_TTS_EMULATOR_HOST: tts.address,
      OPENAI_BASE_URL: openai.baseURL,
    },
    close: async () => {
      await Promise.all([stt.close(), tts.close(), openai.close()]);
    },
  };
}
