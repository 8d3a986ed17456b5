/**
 * Media sockets that are not calls: WebSockets that answer every ping but never send `start`,
 * broken WebSocket frames after a good handshake, and subprotocol offers the gateway must not echo.
 */
import net from 'node:net';
import type WebSocket from 'ws';
import { afterChecks, fdBaseline, Judge, secs } from '../judge.ts';
import { httpRequest, rawExchange, tally, upgradeHeaders } from '../net.ts';
import { closeCode, MEDIA_PATH, openSocket, upgradeAuth } from '../probes.ts';
import type { Attack, Target } from '../types.ts';

export const neverStart: Attack = {
  name: 'never-start',
  what: 'WebSockets that answer pings but never send start',
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const before = await fdBaseline(t);
    const n = Math.round(30 * ctx.limits.scale);
    const t0 = performance.now();
    const sockets = await Promise.all(Array.from({ length: n }, () => openSocket(t).catch((err: Error) => err)));
    const opened = sockets.filter((s): s is WebSocket => !(s instanceof Error));
    for (const ws of opened) ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    const codes = await Promise.all(opened.map((ws) => closeCode(ws, ctx.limits.cutWithinMs)));
    const ms = Math.round(performance.now() - t0);
    for (const ws of opened) ws.terminate();
    j.fig('sockets', `${opened.length}/${n}`);
    j.fig('closed', tally(codes.map((c) => c ?? 'open')));
    j.fig('after', secs(ms));
    j.check(opened.length < n, `${n - opened.length} upgrades refused, so the attack could not be made`);
    const open = codes.filter((c) => c === undefined).length;
    j.check(open > 0, `${open} sockets still open after ${secs(ctx.limits.cutWithinMs)} without a start`);
    const other = codes.filter((c) => c !== undefined && c !== 1008).length;
    j.check(other > 0, `${other} closed with a code other than 1008`);
    await afterChecks(j, t, before, ctx.limits.fdSlack);
    return j.outcome();
  },
};

/** A masked client frame; `mask: false` sends it unmasked (a protocol error from a client). */
function frame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv?: number; mask?: boolean } = {}): Buffer {
  const first = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
  const masked = o.mask ?? true;
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([first, (masked ? 0x80 : 0) | len])
      : Buffer.from([first, (masked ? 0x80 : 0) | 126, len >> 8, len & 255]);
  if (!masked) return Buffer.concat([head, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, body]);
}

const text = (s: string) => Buffer.from(s, 'utf8');

/** Broken frames, each sent alone on a fresh, upgraded socket. */
const BAD_FRAMES: Array<[string, Buffer]> = [
  ['unmasked text', frame(1, text('{"event":"connected"}'), { mask: false })],
  ['reserved bit set', frame(1, text('{}'), { rsv: 4 })],
  ['unknown opcode', frame(3, text('x'))],
  ['ping over 125 bytes', frame(9, Buffer.alloc(126, 1))],
  ['fragmented ping', frame(9, text('p'), { fin: false })],
  ['continuation without start', frame(0, text('x'))],
  ['invalid UTF-8 text', frame(1, Buffer.from([0xc3, 0x28, 0xff]))],
  ['close code 999', frame(8, Buffer.from([0x03, 0xe7]))],
  ['close with 1-byte body', frame(8, Buffer.from([0x03]))],
  ['64-bit length with top bit', Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4])],
  ['declared 100 MB frame', Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0x06, 0, 0, 0, 1, 2, 3, 4])],
  ['new message inside a fragmented one', Buffer.concat([frame(1, text('{"ev'), { fin: false }), frame(1, text('x'))])],
  ['random bytes', Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 73 + 11) & 255))],
];

/** Opens a raw upgraded socket; resolves once the 101 came, or with an error description. */
function rawUpgraded(t: Target): Promise<net.Socket | string> {
  return new Promise((resolve) => {
    const s = net.connect(t.port, t.host);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve('no upgrade answer');
    }, 5000);
    s.on('error', () => undefined);
    s.on('connect', () => {
      const headers = upgradeHeaders([['Host', `${t.host}:${t.port}`], ...Object.entries(upgradeAuth(t))]);
      s.write(httpRequest('GET', MEDIA_PATH, headers));
    });
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      s.off('data', onData);
      if (buf.startsWith('HTTP/1.1 101')) resolve(s);
      else {
        s.destroy();
        resolve(buf.split('\r\n')[0] ?? 'no status');
      }
    };
    s.on('data', onData);
  });
}

/** Sends `bytes` and waits for a close frame or the TCP close. */
function sendAndWatch(s: net.Socket, bytes: Buffer, withinMs: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done('ignored'), withinMs);
    function done(how: string) {
      clearTimeout(timer);
      s.destroy();
      resolve(how);
    }
    s.on('data', (d: Buffer) => {
      if ((d[0]! & 0x0f) === 8) done(d.length >= 4 ? `close ${d.readUInt16BE(2)}` : 'close');
    });
    s.on('close', () => done('tcp close'));
    s.write(bytes);
  });
}

export const badFrames: Attack = {
  name: 'bad-frames',
  what: `${BAD_FRAMES.length} kinds of broken WebSocket frames after a good handshake`,
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const before = await fdBaseline(t);
    const outcomes: string[] = [];
    const rounds = Math.max(1, Math.round(ctx.limits.scale));
    for (let r = 0; r < rounds && !ctx.signal.aborted; r++) {
      for (const [name, bytes] of BAD_FRAMES) {
        const s = await rawUpgraded(t);
        if (typeof s === 'string') {
          j.check(true, `${name}: upgrade failed (${s})`);
          continue;
        }
        const how = await sendAndWatch(s, bytes, ctx.limits.answerWithinMs);
        outcomes.push(how.split(' ')[0]!);
        j.check(how === 'ignored', `${name}: socket neither closed nor answered with a close frame`);
      }
    }
    j.fig('frames', outcomes.length);
    j.fig('ended by', tally(outcomes));
    await afterChecks(j, t, before, ctx.limits.fdSlack);
    return j.outcome();
  },
};

export const subprotocol: Attack = {
  name: 'subprotocol',
  what: 'offered subprotocols: only audio.twilio.com may be chosen, others never echoed',
  env: {},
  async run(ctx) {
    const t = ctx.target;
    const j = new Judge();
    const cases: Array<[string, string | undefined]> = [
      ['chat, superchat', undefined],
      ['chat, audio.twilio.com', 'audio.twilio.com'],
      ['audio.twilio.com', 'audio.twilio.com'],
      ['javascript', undefined],
    ];
    const seen: string[] = [];
    for (const [offer, expected] of cases) {
      const headers = upgradeHeaders([
        ['Host', `${t.host}:${t.port}`],
        ['Sec-WebSocket-Protocol', offer],
        ...Object.entries(upgradeAuth(t)),
      ]);
      const r = await rawExchange(t.port, httpRequest('GET', MEDIA_PATH, headers), {
        host: t.host,
        timeoutMs: ctx.limits.answerWithinMs,
        closeGraceMs: 100,
      });
      const chosen = /\r\nsec-websocket-protocol: *([^\r\n]*)/i.exec(r.text)?.[1];
      seen.push(`${r.statuses[0] ?? 'none'}${chosen ? `(${chosen})` : ''}`);
      j.check(r.statuses[0] !== 101, `offer "${offer}": upgrade answered ${r.statuses[0] ?? 'nothing'}, not 101`);
      j.check(chosen !== expected, `offer "${offer}": chose ${chosen ?? 'none'}, expected ${expected ?? 'none'}`);
    }
    j.fig('answers', seen.join(' '));
    return j.outcome();
  },
};
