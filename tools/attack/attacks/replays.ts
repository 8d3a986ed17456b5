/**
 * Replays of what an eavesdropper could capture: a signed `incoming_call` (Twilio signs no time, so it
 * can be replayed at will), the upgrade signature (the same for every call), a stream token already
 * used — in the same process, after a restart — and a token dated in the future. A call gets one
 * agent session, however often its TwiML was handed out.
 */
import WebSocket from 'ws';
import { StreamTokens } from '../../../media/twilio/stream-token.ts';
import { Judge } from '../judge.ts';
import { randomSid, streamTwiml, tryStream, type StreamFate } from '../probes.ts';
import type { Attack, Target } from '../types.ts';
import { ATTACK_AUTH_TOKEN, ATTACK_PUBLIC_BASE } from './upgrades.ts';

const SIGNED = { TWILIO_AUTH_TOKEN: ATTACK_AUTH_TOKEN, PUBLIC_BASE_URL: ATTACK_PUBLIC_BASE };

/** Closes sockets left open by accepted streams. */
function closeAll(sockets: Array<WebSocket | undefined>): void {
  for (const ws of sockets) if (ws && ws.readyState === ws.OPEN) ws.close(1000);
}

const accepted = (fate: StreamFate) => fate === 'accepted' || fate.startsWith('closed');

/** The stream token Twilio would get for `callSid` (undefined when the gateway gave none). */
async function tokenFor(t: Target, callSid: string): Promise<Record<string, string> | undefined> {
  const { twiml } = await streamTwiml(t, callSid);
  return twiml?.parameters;
}

export const replayIncomingCall: Attack = {
  name: 'replay-incoming-call',
  what: 'one signed incoming_call replayed twice: how many agent sessions does it buy?',
  env: SIGNED,
  needs: ['authToken', 'emulators'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const callSid = randomSid('CA');
    const open: Array<WebSocket | undefined> = [];
    try {
      // The same signed request three times: what an eavesdropper replays.
      const answers = [await tokenFor(t, callSid), await tokenFor(t, callSid), await tokenFor(t, callSid)];
      j.fig('TwiML answers', answers.filter(Boolean).length);
      if (!answers[0]) {
        j.check(true, 'the signed incoming_call got no stream TwiML, so nothing could be replayed');
        return j.outcome();
      }
      const fates: StreamFate[] = [];
      const first = await tryStream(t, callSid, answers[0]);
      fates.push(first.fate);
      open.push(first.ws);
      if (answers[1]) {
        const second = await tryStream(t, callSid, answers[1]);
        fates.push(second.fate);
        open.push(second.ws);
      }
      closeAll(open);
      await new Promise((r) => setTimeout(r, 300));
      if (answers[2]) {
        const third = await tryStream(t, callSid, answers[2]);
        fates.push(third.fate);
        open.push(third.ws);
      }
      const sessions = fates.filter(accepted).length;
      j.fig('streams', fates.join(', '));
      j.fig('sessions', `${sessions} of ${fates.length}`);
      j.check(!accepted(fates[0]!), "the first stream (Twilio's own) was refused");
      j.check(sessions > 1, `${sessions} agent sessions for one call`);
    } finally {
      closeAll(open);
    }
    return j.outcome();
  },
};

export const secondStream: Attack = {
  name: 'second-stream',
  what: 'a second stream for a CallSid whose first stream is live',
  env: SIGNED,
  needs: ['authToken', 'emulators'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const callSid = randomSid('CA');
    const open: Array<WebSocket | undefined> = [];
    try {
      // Two hand-outs for one call, as when Twilio re-requests the webhook.
      const a = await tokenFor(t, callSid);
      const b = await tokenFor(t, callSid);
      if (!a || !b) {
        j.check(true, 'no stream TwiML for the call');
        return j.outcome();
      }
      const first = await tryStream(t, callSid, a);
      open.push(first.ws);
      const second = await tryStream(t, callSid, b);
      open.push(second.ws);
      const firstAlive = first.ws?.readyState === WebSocket.OPEN;
      j.fig('first', first.fate);
      j.fig('second', second.fate);
      j.fig('first after', firstAlive ? 'still open' : 'closed');
      j.check(first.fate !== 'accepted', `the first stream was not accepted (${first.fate})`);
      j.check(second.fate !== 'refused', `the second stream was ${second.fate}, not refused with 1008`);
      j.check(!firstAlive, 'the first stream did not survive the second');
    } finally {
      closeAll(open);
    }
    return j.outcome();
  },
};

export const tokenReuse: Attack = {
  name: 'token-reuse',
  what: 'a consumed stream token used again, for the same and for another call',
  env: SIGNED,
  needs: ['authToken', 'emulators'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const callSid = randomSid('CA');
    const params = await tokenFor(t, callSid);
    if (!params) {
      j.check(true, 'no stream TwiML for the call');
      return j.outcome();
    }
    const first = await tryStream(t, callSid, params);
    closeAll([first.ws]);
    await new Promise((r) => setTimeout(r, 300));
    const same = await tryStream(t, callSid, params);
    closeAll([same.ws]);
    const other = await tryStream(t, randomSid('CA'), params);
    closeAll([other.ws]);
    j.fig('streams', `${first.fate}, ${same.fate}, ${other.fate}`);
    j.check(!accepted(first.fate), `the first use was not accepted (${first.fate})`);
    j.check(accepted(same.fate), 'the used token was accepted again for its call');
    j.check(accepted(other.fate), 'the used token was accepted for another call');
    return j.outcome();
  },
};

export const tokenAfterRestart: Attack = {
  name: 'token-after-restart',
  what: 'a consumed stream token used again after the gateway restarted',
  env: SIGNED,
  needs: ['child', 'authToken', 'emulators'],
  async run(ctx) {
    const j = new Judge();
    const callSid = randomSid('CA');
    const params = await tokenFor(ctx.target, callSid);
    if (!params) {
      j.check(true, 'no stream TwiML for the call');
      return j.outcome();
    }
    const first = await tryStream(ctx.target, callSid, params);
    closeAll([first.ws]);
    const t0 = performance.now();
    await ctx.stop(ctx.target);
    const again = await ctx.launch!(ctx.env);
    try {
      const restartMs = Math.round(performance.now() - t0);
      const replay = await tryStream(again, callSid, params);
      closeAll([replay.ws]);
      // Control: the restarted gateway still serves new calls.
      const fresh = randomSid('CA');
      const control = await tryStream(again, fresh, (await tokenFor(again, fresh)) ?? {});
      closeAll([control.ws]);
      j.fig('restart', `${restartMs} ms`);
      j.fig('streams', `${first.fate}, replay ${replay.fate}, new call ${control.fate}`);
      j.check(!accepted(first.fate), `the first use was not accepted (${first.fate})`);
      j.check(accepted(replay.fate), 'the used token was accepted after the restart');
      j.check(!accepted(control.fate), `a new call after the restart was not accepted (${control.fate})`);
    } finally {
      await ctx.stop(again);
    }
    return j.outcome();
  },
};

export const futureToken: Attack = {
  name: 'future-token',
  what: "a stream token minted with the gateway's key, dated an hour ahead",
  env: SIGNED,
  needs: ['authToken', 'emulators'],
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const mint = (offsetMs: number, callSid: string) => {
      const tokens = new StreamTokens({ secret: t.authToken!, now: () => Date.now() + offsetMs });
      try {
        return tokens.issue(callSid);
      } finally {
        tokens.close?.();
      }
    };
    const nowSid = randomSid('CA');
    const control = await tryStream(t, nowSid, { call_sid: nowSid, token: mint(0, nowSid) });
    closeAll([control.ws]);
    const futureSid = randomSid('CA');
    const future = await tryStream(t, futureSid, { call_sid: futureSid, token: mint(3_600_000, futureSid) });
    closeAll([future.ws]);
    j.fig('dated now', control.fate);
    j.fig('dated +1 h', future.fate);
    if (!accepted(control.fate)) {
      return { verdict: 'skip', figures: j.figures, findings: ['a token minted here is not accepted: format differs'] };
    }
    j.check(accepted(future.fate), 'a token dated an hour ahead was accepted');
    return j.outcome();
  },
};
