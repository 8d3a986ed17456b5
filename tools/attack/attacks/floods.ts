/**
 * Floods: unsigned `incoming_call` requests piling up stream tokens, a mixed flood next to a real
 * simulated call (which must complete normally), and a drain held open by sockets and TwiML hand-outs
 * that never become calls.
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { runCall } from '../../call/run-call.ts';
import { CALLER_AUDIO_FILE } from '../../demo/conversation.ts';
import type { FloodCounts, FloodSettings } from '../flood-worker.ts';
import { Judge, secs } from '../judge.ts';
import { pool, rssMiB, sleep, tally } from '../net.ts';
import { callParams, openSocket, postWebhook, readMetric } from '../probes.ts';
import type { Attack, Target } from '../types.ts';

const PENDING_CAP = 500;
const WINDOW_MS = 3000;

export const pendingTokenFlood: Attack = {
  name: 'pending-token-flood',
  what: `unsigned incoming_call flood: pending stream tokens capped (${PENDING_CAP}) and swept after the window`,
  env: { STREAM_TOKENS_MAX_PENDING: String(PENDING_CAP), STREAM_START_WINDOW_MS: String(WINDOW_MS) },
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const n = Math.round(4000 * ctx.limits.scale);
    const rss0 = rssMiB(t.pid);
    const t0 = performance.now();
    const statuses = await pool(n, 32, async (i) => {
      if (ctx.signal.aborted) return 'aborted';
      const r = await postWebhook(t, '/webhook/incoming_call', callParams(`CAflood${i}`), { signed: false });
      return r.status ?? 'error';
    });
    const ms = performance.now() - t0;
    const afterFlood = await readMetric(t, 'voice_stream_tokens_pending');
    await sleep(WINDOW_MS + 2500, ctx.signal);
    const later = await readMetric(t, 'voice_stream_tokens_pending');
    j.fig('requests', n);
    j.fig('time', secs(ms));
    j.fig('statuses', tally(statuses));
    j.fig('rss', `${rss0 ?? '?'}→${rssMiB(t.pid) ?? '?'} MiB`);
    j.fig('pending', `${afterFlood ?? 'no gauge'}→${later ?? 'no gauge'}`);
    j.check(afterFlood === undefined, 'no voice_stream_tokens_pending gauge: the pending tokens cannot be seen');
    j.check(afterFlood !== undefined && afterFlood > PENDING_CAP, `${afterFlood} tokens pending, over the cap`);
    j.check(later !== undefined && later > 0, `${later} tokens still pending after the window passed`);
    return j.outcome();
  },
};

/** Runs the flood worker until `stop()`; resolves with what it sent. */
function startFlood(settings: FloodSettings): { stop(): void; done: Promise<FloodCounts | Error> } {
  const worker = new Worker(new URL('../flood-worker.ts', import.meta.url), { workerData: settings });
  const done = new Promise<FloodCounts | Error>((resolve) => {
    worker.once('message', (m: FloodCounts) => resolve(m));
    worker.once('error', (err) => resolve(err));
    worker.once('exit', () => resolve(new Error('the flood worker exited without a report')));
  });
  // The worker listens for 'stop', which keeps its thread alive: end it once it has reported.
  void done.then(() => worker.terminate());
  return { stop: () => worker.postMessage('stop'), done };
}

export const floodNextToCall: Attack = {
  name: 'flood-next-to-call',
  what: 'unsigned webhooks, hostile upgrades, idle and junk sockets while a real simulated call runs',
  env: {},
  needs: ['emulators'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const audio = await readFile(CALLER_AUDIO_FILE);
    const flood = startFlood({
      host: t.host,
      port: t.port,
      durationMs: 60_000,
      webhooksPerSecond: Math.round(100 * Math.min(ctx.limits.scale, 3)),
      upgradesPerSecond: 50,
      maxIdleSockets: Math.round(50 * ctx.limits.scale),
      junkPerSecond: 200,
    });
    await sleep(1000, ctx.signal);
    const call = await runCall({
      base: t.base,
      audio,
      ...(t.authToken ? { authToken: t.authToken } : {}),
      ...(t.publicBase ? { publicBase: t.publicBase } : {}),
      quietMs: 800,
      replyMaxWaitMs: 12_000,
      maxCallMs: 25_000,
      signal: ctx.signal,
    });
    flood.stop();
    const counts = await flood.done;
    if (counts instanceof Error) j.check(true, `the flood failed: ${counts.message}`);
    else {
      j.fig(
        'flood',
        `${counts.webhooks} webhooks, ${counts.upgrades} upgrades, ${counts.idleSockets} idle sockets, ${counts.junkFrames} junk frames`,
      );
      j.check(counts.webhooks + counts.upgrades < 50, 'the flood hardly sent anything, so the call proves nothing');
    }
    const turn = call.turns[0];
    j.fig('call', call.ok ? 'completed' : 'failed');
    j.fig('reply', turn?.playLatencyMs === undefined ? 'none' : `${turn.playLatencyMs} ms after speech`);
    for (const p of call.problems) j.check(true, `the call next to the flood: ${p}`);
    j.check(!turn?.replyBytes, 'the caller got no reply during the flood');
    return j.outcome();
  },
};

const DRAIN_WINDOW_MS = 4000;

export const drainHeld: Attack = {
  name: 'drain-held',
  what: 'SIGTERM while never-starting sockets and a trickle of unsigned TwiML hand-outs are open',
  env: { STREAM_START_WINDOW_MS: String(DRAIN_WINDOW_MS), DRAIN_TIMEOUT_MS: '60000' },
  needs: ['child'],
  async run(ctx) {
    const t: Target = ctx.target;
    const j = new Judge();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openSocket(t).catch(() => undefined)));
    let handouts = 0;
    const trickle = setInterval(() => {
      handouts++;
      void postWebhook(t, '/webhook/incoming_call', callParams(`CAdrain${handouts}`), {
        signed: false,
        timeoutMs: 2000,
      });
    }, 500);
    try {
      await sleep(1000, ctx.signal);
      const t0 = performance.now();
      t.signal('SIGTERM');
      const limit = DRAIN_WINDOW_MS + ctx.limits.cutWithinMs;
      const code = await Promise.race([t.exited, sleep(limit, ctx.signal).then(() => 'still running' as const)]);
      const ms = performance.now() - t0;
      j.fig('idle sockets', sockets.filter(Boolean).length);
      j.fig('hand-outs', handouts);
      j.fig('exit', code === 'still running' ? `none after ${secs(limit)}` : `code ${code} after ${secs(ms)}`);
      j.check(
        code === 'still running',
        `the drain was held for over ${secs(limit)} by sockets and hand-outs that are not calls`,
      );
      j.check(code !== 'still running' && code !== 0, `the drain ended with exit code ${String(code)}`);
    } finally {
      clearInterval(trickle);
      for (const ws of sockets) ws?.terminate();
    }
    return j.outcome();
  },
};
