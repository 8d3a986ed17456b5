/** Plain-text rendering of the demo for `npm run demo` (the library never prints). */
import type { TurnReport } from '../call/run-call.ts';
import { describeRecord, msSince } from './log-flow.ts';
import type { DemoReport, DemoSetup } from './run-demo.ts';

/** The first lines, printed before anything starts: what this is, and that it is partly emulated. */
export const TITLE: readonly string[] = [
  'npm run demo: one Hebrew phone call through the real gateway, on this machine, with no accounts.',
  'The speech recognizer and the language model are EMULATED: nothing is recognised and no model runs.',
];

/** Printed once everything is up: what is real, what is emulated, where each part runs. */
export function formatSetup(s: DemoSetup): string[] {
  const voice =
    s.ttsVoice === 'espeak'
      ? 'speaking Hebrew with espeak-ng (a robotic voice, but real words)'
      : s.toneReason === 'asked'
        ? 'answering with a tone instead of speech (--tone)'
        : 'answering with a tone instead of speech: espeak-ng is not on PATH (install it, e.g. apt-get install espeak-ng, to hear Hebrew)';
  return [
    `  gateway         REAL       node gateway.ts, pid ${s.gatewayPid}, ${s.gatewayUrl} (its real Google and OpenAI SDK clients)`,
    `  speech-to-text  EMULATED   Google STT over gRPC at ${s.sttAddress}: detects speech by its level and returns a fixed transcript`,
    `  language model  EMULATED   OpenAI-compatible streaming at ${s.openaiBaseUrl}: a scripted Hebrew answer`,
    `  text-to-speech  EMULATED   Google TTS over gRPC at ${s.ttsAddress}, ${voice}`,
    `  caller          SIMULATED  a Twilio call saying ${s.callerAudioPath} (${(s.callerAudioMs / 1000).toFixed(2)} s of Hebrew): "${s.transcript}"`,
    '',
  ];
}

/** Latency per turn, the gateway's log for the call with the flow check, the WAV, the shutdown. */
export function formatResults(r: DemoReport): string[] {
  const lines: string[] = [];
  if (r.call?.turns.length) {
    lines.push('', 'latency: caller end of speech → first reply audio received → first reply audio played');
    for (const t of r.call.turns) lines.push(formatTurn(t));
  }
  if (r.call) {
    const origin = r.records.find((x) => x['message'] === 'WS_START');
    lines.push('', `gateway log for call ${r.call.callSid} (${r.records.length} lines; ms since WS_START)`);
    for (const rec of r.records) {
      const ms = msSince(rec, origin);
      lines.push(`${ms === undefined ? '      ?' : String(ms).padStart(7)}  ${describeRecord(rec)}`);
    }
    lines.push(
      "  (MEDIA_TX: a sentence fully sent, paced about 1 s ahead of playback; TURN: ms from the caller's end of speech)",
    );
  }
  lines.push('', ...formatVerdict(r));
  return lines;
}

/** The lines `--quiet` keeps: flow check, WAV, shutdown, result. */
export function formatVerdict(r: DemoReport): string[] {
  const lines: string[] = [];
  const flow = r.flow.expected.join(' → ');
  if (r.call && r.interrupted) lines.push('flow check: skipped (interrupted)');
  else if (r.call) {
    lines.push(
      r.flow.ok
        ? `flow check: PASS  ${flow}, seen in this order`
        : `flow check: FAIL  expected ${flow}; seen in order only ${r.flow.found.join(' → ') || 'none of it'}`,
    );
  }
  if (r.reply) {
    const what = r.reply.wholeCall ? 'everything the caller heard (the reply could not be cut out)' : 'the reply';
    const voice = r.setup?.ttsVoice === 'espeak' ? 'espeak-ng Hebrew' : 'a tone';
    lines.push(
      `reply audio: ${what}, ${(r.reply.ms / 1000).toFixed(2)} s of ${voice}, 8 kHz μ-law mono WAV → ${r.reply.path}`,
    );
  }
  if (r.gatewayExit)
    lines.push(
      `shutdown: the gateway (pid ${r.setup?.gatewayPid ?? '?'}) ${formatExit(r.gatewayExit)}; emulators closed`,
    );
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.interrupted) lines.push('result: INTERRUPTED (everything was shut down)');
  else if (r.ok)
    lines.push('result: OK: a Hebrew call went through the gateway end to end (recognizer and model emulated)');
  else {
    lines.push('result: FAILED');
    for (const p of r.problems) lines.push(`  - ${p}`);
  }
  return lines;
}

function formatExit(exit: NonNullable<DemoReport['gatewayExit']>): string {
  const status = exit.signal ?? `code ${exit.code}`;
  if (exit.killed) return `had not drained and was killed ${exit.ms} ms after SIGTERM`;
  if (exit.unexpected) return `had already exited (${status})`;
  return `${exit.code === 0 ? 'drained and exited' : 'exited'} (${status}) ${exit.ms} ms after SIGTERM`;
}

function formatTurn(t: TurnReport): string {
  const head = `  turn ${t.turn}: caller spoke ${Math.round(t.speechStartedAtMs)}–${Math.round(t.speechEndedAtMs)} ms`;
  if (t.receiveLatencyMs === undefined) return `${head}   no reply`;
  const played = t.playLatencyMs === undefined ? 'never played' : `played +${t.playLatencyMs} ms`;
  return `${head}   received +${t.receiveLatencyMs} ms   ${played}   (${(t.replyBytes / 8000).toFixed(2)} s of reply audio)`;
}
