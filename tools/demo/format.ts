/** Plain-text rendering of the demo for `npm run demo` (the library never prints). */
import type { TurnReport } from '../call/run-call.ts';
import { describeNext } from '../call/format.ts';
import type { DemoPoints, PointCheck, RecordedTool } from './checks.ts';
import { describeRecord, msSince } from './log-flow.ts';
import type { DemoReport, DemoSetup } from './run-demo.ts';

/** The first lines, printed before anything starts: what this is, and that it is partly emulated. */
export const TITLE: readonly string[] = [
  'npm run demo: one Hebrew phone call through the real gateway, on this machine, with no accounts.',
  "The speech recognizer, the language model and the business's CRM are EMULATED: nothing is recognised and no model runs.",
];

/** Printed once everything is up: what is real, what is emulated, where each part runs. */
export function formatSetup(s: DemoSetup): string[] {
  const voice =
    s.ttsVoice === 'espeak'
      ? 'speaking Hebrew with espeak-ng (a robotic voice, but real words)'
      : s.toneReason === 'asked'
        ? 'answering with a tone instead of speech (--tone)'
        : 'answering with a tone instead of speech: espeak-ng is not on PATH (install it, e.g. apt-get install espeak-ng, to hear Hebrew)';
  const a = s.agent;
  const tools = a.tools.map((t) => `tool ${t.name}`).join(', ');
  const targets = Object.keys(a.transfer).join(', ');
  const store = s.keep ? 'kept after the demo (--keep)' : 'removed at the end; --keep keeps it';
  return [
    `  gateway         REAL       node gateway.ts, pid ${s.gatewayPid}, ${s.gatewayUrl} (its real Google and OpenAI SDK clients)`,
    `  agent           REAL       "${a.id}" from tools/demo/agents.yaml on ${a.numbers.join(', ')}: greeting with {{name}}, ${tools}, transfer to ${targets}`,
    `  call store      REAL       SQLite and the call's recording in a temporary DATA_DIR ${s.dataDir} (${store})`,
    `  speech-to-text  EMULATED   Google STT over gRPC at ${s.sttAddress}: detects speech by its level and returns each turn's script`,
    `  language model  EMULATED   OpenAI-compatible streaming at ${s.openaiBaseUrl}: scripted Hebrew answers and tool calls`,
    `  text-to-speech  EMULATED   Google TTS over gRPC at ${s.ttsAddress}, ${voice}`,
    `  business CRM    EMULATED   ${s.crmUrl}: the caller's name by number, and bookings (slow on purpose); checks the gateway's signatures`,
    `  caller          SIMULATED  a Twilio call from ${s.from} to ${s.to}, saying:`,
    ...s.turns.map(
      (t, i) =>
        `                               ${i + 1}. ${t.audioPath} (${(t.audioMs / 1000).toFixed(2)} s): "${t.transcript}"`,
    ),
    '',
  ];
}

/** Latency per turn, the gateway's log for the call, the four points, the flow check, the WAV, the shutdown. */
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
  if (r.points) lines.push('', ...formatPoints(r.points, true));
  lines.push('', ...formatVerdict(r, false));
  return lines;
}

/** The four points: a headline each, with the evidence (`detailed`) or only the addresses of the call. */
export function formatPoints(p: DemoPoints, detailed: boolean): string[] {
  const lines: string[] = [];
  const head = (n: number, title: string, c: PointCheck) => {
    lines.push(`${n}. ${title}: ${c.ok ? 'PASS' : 'FAIL'}`);
    for (const problem of c.problems) lines.push(`   ! ${problem}`);
  };
  const say = (label: string, text: string | undefined) => {
    if (detailed && text !== undefined) lines.push(`   ${label}: "${text}"`);
  };

  head(1, 'the caller recognised by name', p.name);
  if (detailed && p.name.name) lines.push(`   the CRM's context answer for the caller's number: name "${p.name.name}"`);
  say(`greeting heard${p.name.greetingMs === undefined ? '' : ` (${seconds(p.name.greetingMs)})`}`, p.name.greeting);

  head(2, 'a booking made with a tool call', p.booking);
  if (detailed && p.booking.tool) lines.push(`   tool call: ${describeTool(p.booking.tool)}`);
  say('filler said while the CRM was slow', p.booking.filler);
  say('heard in that turn', p.booking.heard);

  head(3, 'a transfer to a person', p.transfer);
  if (detailed && p.transfer.tool) lines.push(`   tool call: ${describeTool(p.transfer.tool)}`);
  say('heard in that turn', p.transfer.heard);
  if (detailed && p.transfer.next) lines.push(`   then (<Connect action>): ${describeNext(p.transfer.next)}`);
  const whisper = p.transfer.whisper?.say[0];
  if (detailed && whisper)
    lines.push(
      `   the person who answers hears first: "${whisper.text}"${whisper.voice ? ` (${whisper.voice})` : ''}, then the caller is connected`,
    );

  head(4, 'where to see the call', p.where);
  const l = p.where.lookup;
  if (l) {
    const doc = l.api.doc;
    const facts = doc
      ? ` (${doc.turns.length} turns, ${doc.toolCalls.length} tool calls${doc.call.recording ? ', recorded' : ''})`
      : '';
    lines.push(`   console  ${l.consoleUrl}   ${l.console.status ?? l.console.error}`);
    lines.push(`   API      ${l.apiUrl}   ${l.api.status ?? l.api.error}${facts}`);
  }
  return lines;
}

/** The closing lines: flow check, WAV, where the store went, shutdown, result (`quiet` adds the four headlines). */
export function formatVerdict(r: DemoReport, quiet = true): string[] {
  const lines: string[] = [];
  if (quiet && r.points) lines.push(...formatPoints(r.points, false));
  const flow = r.flow.expected.join(' → ');
  if (r.call && r.interrupted) lines.push('flow check: skipped (interrupted)');
  else if (r.call) {
    lines.push(
      r.flow.ok
        ? `flow check: PASS  ${flow}, seen in this order`
        : `flow check: FAIL  expected ${flow}; seen in order only ${r.flow.found.join(' → ') || 'none of it'}`,
    );
  }
  if (r.audio) {
    const voice = r.setup?.ttsVoice === 'espeak' ? 'espeak-ng Hebrew' : 'a tone';
    lines.push(
      `heard audio: everything the caller heard, ${seconds(r.audio.ms)} of ${voice}, 8 kHz μ-law mono WAV → ${r.audio.path}`,
    );
  }
  if (r.dataDir && r.call && !r.interrupted) lines.push(formatStore(r.dataDir, r.setup?.gatewayUrl));
  if (r.gatewayExit)
    lines.push(
      `shutdown: the gateway (pid ${r.setup?.gatewayPid ?? '?'}) ${formatExit(r.gatewayExit)}; emulators closed`,
    );
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.interrupted) lines.push('result: INTERRUPTED (everything was shut down)');
  else if (r.ok)
    lines.push(
      'result: OK: a Hebrew call went through the gateway end to end: greeted by name, booked, transferred (recognizer, model and CRM emulated)',
    );
  else {
    lines.push('result: FAILED');
    for (const p of r.problems) lines.push(`  - ${p}`);
  }
  return lines;
}

/** Where the call store went: removed, or kept with the command that serves the same URLs again. */
function formatStore(dir: { path: string; kept: boolean }, gatewayUrl: string | undefined): string {
  if (!dir.kept)
    return `call store: the temporary DATA_DIR was removed (run with --keep to look at the call afterwards)`;
  const port = gatewayUrl ? new URL(gatewayUrl).port : '5000';
  return `call store: kept in ${dir.path}; DATA_DIR=${dir.path} PORT=${port} npm start serves the two addresses above again`;
}

function describeTool(t: RecordedTool): string {
  const status = t.status === null ? '' : ` (HTTP ${t.status})`;
  return `${t.name} ${JSON.stringify(t.arguments)} → ${t.outcome}${status} in ${t.ms} ms`;
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
  return `${head}   received +${t.receiveLatencyMs} ms   ${played}   (${seconds(t.replyBytes / 8)} of reply audio)`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
