/**
 * Log amplification: small requests carrying huge fields (a 200 KB DTMF digit, a 200 KB custom
 * parameter name, an 8 KB User-Agent, a 60 KB caller number, big unsigned status callbacks) and
 * floods of bad frames. The gateway holds when what it logs per request stays small whatever the
 * request carried, and when caller numbers do not reach its log in full.
 */
import WebSocket from 'ws';
import { Judge, kib, logBytesDuring } from '../judge.ts';
import {
  callParams,
  closeCode,
  openSocket,
  postWebhook,
  randomSid,
  startMessage,
  streamTwiml,
  tryStream,
  upgradeAuth,
} from '../probes.ts';
import type { Attack, AttackContext, Target } from '../types.ts';
import { ATTACK_AUTH_TOKEN, ATTACK_PUBLIC_BASE } from './upgrades.ts';

const BIG = 200_000;

/** Runs `act` `k` times and judges the log bytes per repetition against `limit`. */
async function perRequest(
  j: Judge,
  t: Target,
  label: string,
  k: number,
  limit: number,
  act: (i: number) => Promise<void>,
): Promise<void> {
  const bytes = await logBytesDuring(t, async () => {
    for (let i = 0; i < k; i++) await act(i);
  });
  const each = bytes === undefined ? undefined : Math.round(bytes / k);
  j.fig(label, `${kib(each)}/req`);
  j.check(each !== undefined && each > limit, `${label}: ${kib(each)} of log per request (limit ${kib(limit)})`);
}

/** A live call: its socket, stream SID and call SID (undefined when the gateway accepted none). */
async function liveCall(t: Target): Promise<{ ws: WebSocket; streamSid: string } | undefined> {
  const callSid = randomSid('CA');
  const { twiml } = await streamTwiml(t, callSid);
  if (!twiml) return undefined;
  const s = await tryStream(t, callSid, twiml.parameters, 500);
  return s.ws ? { ws: s.ws, streamSid: s.streamSid } : undefined;
}

/** Sends `text` on `ws` and waits for it to be flushed. */
function send(ws: WebSocket, text: string): Promise<void> {
  return new Promise((resolve) => ws.send(text, () => resolve()));
}

export const logAmplification: Attack = {
  name: 'log-amplification',
  what: 'huge DTMF digits, custom parameters, User-Agents and caller numbers; a flood of bad frames',
  env: {},
  needs: ['logs', 'emulators'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const k = Math.max(3, Math.round(3 * ctx.limits.scale));
    const limit = ctx.limits.logBytesPerRequest;
    const call = await liveCall(t);
    if (!call) {
      j.check(true, 'no call could be started to send DTMF on');
    } else {
      const digit = '7'.repeat(BIG);
      await perRequest(j, t, 'dtmf 200 KB', k, limit, () =>
        send(
          call.ws,
          JSON.stringify({
            event: 'dtmf',
            streamSid: call.streamSid,
            sequenceNumber: '9',
            dtmf: { track: 'inbound_track', digit },
          }),
        ),
      );
      j.check(call.ws.readyState !== WebSocket.OPEN, 'the call closed while DTMF was sent, so the DTMF proves nothing');
      call.ws.close(1000);
    }
    await perRequest(j, t, 'custom parameter 200 KB', k, limit, async () => {
      const callSid = randomSid('CA');
      const { twiml } = await streamTwiml(t, callSid);
      const ws = await openSocket(t).catch(() => undefined);
      if (!ws) return;
      await send(ws, startMessage(callSid, randomSid('MZ'), { ...twiml?.parameters, ['k'.repeat(BIG)]: 'v' }));
      ws.close(1000);
      await closeCode(ws, 2000);
    });
    await perRequest(j, t, 'user agent 8 KB', k, limit, async () => {
      const ws = await openSocket(t, { ...upgradeAuth(t), 'user-agent': 'u'.repeat(8192) }).catch(() => undefined);
      ws?.close(1000);
      if (ws) await closeCode(ws, 2000);
    });
    await perRequest(j, t, 'From 60 KB', k, limit, async () => {
      await postWebhook(t, '/webhook/incoming_call', callParams(randomSid('CA'), { From: '+' + '9'.repeat(60_000) }));
    });
    await badFrameFlood(j, ctx, t);
    return j.outcome();
  },
};

/** One socket sends many bad frames: the log must not grow with their number. */
async function badFrameFlood(j: Judge, ctx: AttackContext, t: Target): Promise<void> {
  const n = Math.round(5000 * ctx.limits.scale);
  const ws = await openSocket(t).catch(() => undefined);
  if (!ws) {
    j.check(true, 'no socket for the bad-frame flood');
    return;
  }
  const bytes = await logBytesDuring(t, async () => {
    for (let i = 0; i < n && ws.readyState === ws.OPEN; i++) {
      ws.send(i % 3 === 0 ? 'not json' : i % 3 === 1 ? '{"event":"surprise"}' : '{"event":"media"}');
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
  });
  ws.terminate();
  const limit = 32 * 1024;
  j.fig(`${n} bad frames`, kib(bytes));
  j.check(
    bytes !== undefined && bytes > limit,
    `${n} bad frames on one socket logged ${kib(bytes)} (limit ${kib(limit)})`,
  );
}

export const unsignedLogging: Attack = {
  name: 'unsigned-logging',
  what: 'unsigned requests with big fields while signatures are enforced: each logged briefly',
  env: { TWILIO_AUTH_TOKEN: ATTACK_AUTH_TOKEN, PUBLIC_BASE_URL: ATTACK_PUBLIC_BASE },
  needs: ['logs'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const k = Math.max(5, Math.round(5 * ctx.limits.scale));
    const limit = 1024;
    const big = 's'.repeat(20_000);
    await perRequest(j, t, 'stream_status', k, limit, async () => {
      await postWebhook(
        t,
        '/webhook/stream_status',
        { StreamEvent: big, StreamSid: big, CallSid: big, StreamError: big, Timestamp: big },
        { signed: false },
      );
    });
    await perRequest(j, t, 'incoming_call', k, limit, async () => {
      await postWebhook(t, '/webhook/incoming_call', callParams(big, { From: big }), { signed: false });
    });
    await perRequest(j, t, 'upgrade', k, limit, async () => {
      await openSocket(t, { host: 'h'.repeat(8000), 'user-agent': big.slice(0, 8000) }).catch(() => undefined);
    });
    return j.outcome();
  },
};

export const callerNumbers: Attack = {
  name: 'caller-numbers',
  what: "a call's From/To numbers must not reach the log in full (default LOG_CALLER_NUMBERS)",
  env: {},
  needs: ['logs'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const from = '+972541234987';
    const to = '+97237654321';
    await postWebhook(
      t,
      '/webhook/incoming_call',
      callParams(randomSid('CA'), { From: from, To: to, Caller: from, Called: to }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const text = JSON.stringify(t.logs() ?? []);
    const leaked = [from, to].filter((n) => text.includes(n.slice(1)));
    j.fig('numbers in log', leaked.length ? leaked.join(' ') : 'masked');
    j.check(leaked.length > 0, `caller numbers logged in full: ${leaked.join(', ')}`);
    return j.outcome();
  },
};
