/** Plain-text rendering of a call report, for the `npm run call` CLI (the library never prints). */
import type { CallEvent } from './timeline-entries.ts';
import type { CallReport, TurnReport } from './types.ts';

const REASON = {
  drained: 'played to the end',
  cleared: 'cut by clear',
  halted: 'cut off when the call ended',
} as const;

/** One timeline line: stream time in ms, right-aligned, then the description. */
export function formatEntry(e: CallEvent): string {
  return `${String(Math.round(e.atMs)).padStart(7)}  ${e.text}`;
}

/** The timeline heading, printed before the first entry. */
export const TIMELINE_HEADING = 'timeline (ms since the stream started)';

/** Everything but the timeline: latency per turn, greeting, webhooks, heard audio, violations, verdict. */
export function formatSummary(report: CallReport, outPath?: string): string[] {
  const lines: string[] = [''];
  if (report.streamUrl !== undefined) {
    lines.push(
      `stream: ${report.streamUrl}${report.dialledUrl !== report.streamUrl ? ` (dialled ${report.dialledUrl})` : ''}`,
    );
    lines.push(`callSid ${report.callSid}  streamSid ${report.streamSid ?? '-'}`);
  }
  if (report.streamSid !== undefined) {
    const g = report.greeting;
    lines.push(
      g === undefined
        ? 'greeting: none heard'
        : `greeting: ${seconds(g.receivedBytes)} of audio, ${g.marksPlayed} marks played, ${g.endReason ? REASON[g.endReason] : 'still playing at the end'}`,
    );
  }
  if (report.turns.length > 0) {
    lines.push('latency: caller end of speech → first reply audio received → first reply audio played');
    for (const t of report.turns) lines.push(formatTurn(t));
  }
  lines.push('webhooks:');
  for (const w of report.webhooks) {
    const status = w.status === undefined ? `failed: ${w.error ?? '?'}` : String(w.status);
    const flag = w.status === w.expected ? '' : `   expected ${w.expected}`;
    lines.push(`  ${w.name.padEnd(34)} ${status.padEnd(4)} ${String(w.ms).padStart(5)} ms${flag}`);
  }
  if (report.streamSid !== undefined) {
    const out = outPath === undefined ? '' : ` → ${outPath}`;
    lines.push(`heard: ${seconds(report.heard.length)} (${report.heard.length} bytes of 8 kHz μ-law)${out}`);
    if (report.violations.length === 0) lines.push('violations: none');
    else {
      lines.push(`violations (${report.violations.length}):`);
      for (const v of report.violations)
        lines.push(
          `  ${String(Math.round(v.atMs)).padStart(7)}  ${v.code}: ${v.reason}${v.dropped ? ' (refused)' : ''}`,
        );
    }
  }
  if (report.next) lines.push(`next: ${describeNext(report.next)}`);
  for (const n of report.notes) lines.push(`note: ${n}`);
  if (report.ok)
    lines.push(`result: OK (call completed, no violations, the caller heard ${seconds(report.heard.length)})`);
  else {
    lines.push('result: FAILED');
    for (const p of report.problems) lines.push(`  - ${p}`);
  }
  return lines;
}

function formatTurn(t: TurnReport): string {
  const head = `  turn ${t.turn}: spoke ${Math.round(t.speechStartedAtMs)}–${Math.round(t.speechEndedAtMs)}`;
  if (t.receiveLatencyMs === undefined) return `${head}   no reply`;
  const played = t.playLatencyMs === undefined ? 'never played' : `played +${t.playLatencyMs} ms`;
  const end = t.replyEndReason === undefined ? '' : `, ${REASON[t.replyEndReason]}`;
  const clears = t.clears > 0 ? `, ${t.clears} clear, ${t.marksFlushed} marks flushed` : '';
  return `${head}   received +${t.receiveLatencyMs} ms   ${played}   (${seconds(t.replyBytes)} of reply audio${end}${clears})`;
}

function seconds(mulawBytes: number): string {
  return `${(mulawBytes / 8000).toFixed(2)} s`;
}

/** "Twilio says … then dials +972… (caller ID …, digits …)" */
export function describeNext(n: NonNullable<CallReport['next']>): string {
  const said = n.say.map((s) => `says "${s.text}"${s.voice ? ` (${s.voice})` : ''}, then `).join('');
  if (n.action === 'dial' && n.dial) {
    const extra = [
      n.dial.callerId ? `caller ID ${n.dial.callerId}` : '',
      n.dial.sendDigits ? `digits ${n.dial.sendDigits}` : '',
      n.dial.url ? 'whispers a summary to whoever answers' : '',
    ].filter(Boolean);
    return `Twilio ${said}dials ${n.dial.number}${extra.length ? ` (${extra.join(', ')})` : ''}`;
  }
  return `Twilio ${said}${n.action === 'hangup' ? 'hangs up' : 'has nothing more to do (the call ends)'}`;
}
