/**
 * The sections of `latest.md` after the ladder: synthesis paths (first audio), interruptions
 * (acknowledgements vs real interruptions) and the speech detector's CPU. Pure: text from results.
 */
import type { LevelResult } from './measure.ts';
import type { BenchConfig } from './options.ts';
import type { BenchSections, Section, SectionRun } from './sections.ts';
import type { Summary } from './stats.ts';

const fmt = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? '–' : v.toFixed(digits);
const pair = (s: Summary, digits = 0) => `${fmt(s.p50, digits)} / ${fmt(s.p95, digits)}`;
const table = (head: string[], rows: string[][]) =>
  [head, head.map(() => '---:'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`);

/** A run's label with a mark when it was taken from the ladder; the failure when it could not run. */
function name(r: SectionRun): string {
  return `${r.label}${r.reused ? ' (ladder run)' : ''}`;
}

/** Rows for runs that produced a level; one line per failed run below the table. */
function rowsOf(
  section: Section,
  row: (r: SectionRun, l: LevelResult) => string[],
): { rows: string[][]; notes: string } {
  const rows = section.runs.flatMap((r) => (r.level ? [row(r, r.level)] : []));
  const notes = section.runs
    .flatMap((r) => [
      ...(r.error ? [`- **${r.label}: could not run: ${r.error}**`] : []),
      ...(r.level?.verdict ?? []).map((v) => `- **${r.label}: ${v}.**`),
    ])
    .join('\n');
  return { rows, notes: notes ? `\n${notes}\n` : '' };
}

function ttsSection(s: Section, c: BenchConfig): string {
  const head = [
    'path',
    'voice',
    'calls',
    'completed',
    'streamed replies',
    'first audio received p50/p95 ms',
    'first audio played p50/p95 ms',
    'gateway: first media sent p50/p95',
    'gateway: TTS request → first audio p50/p95',
    'overhead p50/p99 ms',
    'CPU ms/call',
  ];
  const { rows, notes } = rowsOf(s, (r, l) => [
    name(r),
    r.variant.ttsPath === 'streaming' ? c.streamingVoice : c.unaryVoice,
    String(l.calls),
    String(l.completed),
    String(l.ttsStream.replies),
    pair(l.receiveMs),
    pair(l.voiceToVoiceMs),
    pair(l.gatewayFirstMediaMs),
    pair(l.stagesMs.tts),
    `${fmt(l.overheadMs.p50, 1)} / ${fmt(l.overheadMs.p99, 1)}`,
    fmt(l.gateway.cpuMsPerCall),
  ]);
  const every = Math.round(c.ttsChunkMs * c.ttsRealTimeFactor);
  return `## Synthesis paths: first audio

The same calls (the ladder's mix) and the same emulator settings on both paths; only the gateway's
voice differs (\`TTS_STREAMING=auto\` streams with Chirp 3 HD voices, unary sentence by sentence with
the others). Unary: every sentence answered whole after ${c.ttsMs} ms. Streaming: an input reaching an idle
synthesizer gets its first ${c.ttsChunkMs} ms chunk after ${c.ttsFirstChunkMs} ms, every further chunk ${every} ms after the one
before (real-time factor ${c.ttsRealTimeFactor}). First audio is from the caller's end of speech (client clock); the
gateway columns are its own clock from the same instant. "Streamed replies" counts \`TTS_STREAM\` log
records: 0 on the unary path, one per answer on the streaming path.

${rows.length ? table(head, rows) : '(no run)'}
${notes}`;
}

function interruptionsSection(s: Section, c: BenchConfig): string {
  const head = [
    'kind',
    'calls',
    'cleared',
    'onset → clear p50/p95 ms',
    'clear → next audio p50/p95 ms',
    'reply 1 resumed',
    'in order',
    'share of reply 1 heard p50 / lowest',
    'repeated ms p50/max',
    'unheard ms p50/max',
    'answered',
    'gateway: calls with BACKCHANNEL / BARGE_IN',
    'gateway BARGE_IN.reactionMs p50/p95',
  ];
  const { rows, notes } = rowsOf(s, (r, l) => {
    const i = l.interruptions;
    if (!i) return [name(r), String(l.calls), ...head.slice(2).map(() => '–')];
    return [
      name(r),
      String(i.calls),
      String(i.cleared),
      pair(i.onsetToClearMs),
      pair(i.clearToAudioMs),
      String(i.resumed),
      String(i.inOrder),
      `${pct(i.heardShare.p50)} / ${pct(i.heardShareMin)}`,
      `${fmt(i.repeatedMs.p50)} / ${fmt(i.repeatedMs.max)}`,
      `${fmt(i.unheardMs.p50)} / ${fmt(i.unheardMs.max)}`,
      String(i.answered),
      `${i.gatewayBackchannels} / ${i.gatewayBargeIns}`,
      pair(i.gatewayReactionMs),
    ];
  });
  return `## Interruptions: acknowledgements vs real interruptions

Every call asks its question and, ${c.bargeInAfterMs} ms after the reply starts playing, speaks over it:
**backchannel** calls say "כן" (\`tests/fixtures/caller-ack.ulaw\`, 0.31 s), which the recognizer hears as
"${c.backchannelText}"; **interrupt** calls say 2.16 s of speech, heard as "${c.interruptText}" (the model then answers
"${c.interruptReplyText}"). An acknowledgement should pause the reply (\`clear\`) and let it go on from where
the caller stopped hearing it; an interruption should stop it for good and answer. Onset → clear follows
the same rule for both (the gateway pauses after \`BARGE_IN_MIN_MS\` of speech, before it knows the words);
"next audio" is the resumed reply for an acknowledgement and the answer for an interruption.

What the caller heard after the greeting is matched, byte for byte, against the same reply heard whole in
the level's warm-up call (\`alignment.ts\`). "Reply 1 resumed": it was heard in more than one run; "in order":
each run started at or before where the previous one stopped (a jump ahead, or a run of later audio played
before the rest of the cut sentence, is out of order); "share heard": reply 1's audio heard at least once;
"repeated": heard twice (at most one short fragment is expected); "unheard": never played; "answered":
calls that heard ≥ 100 ms of other audio (the answer to their words). The emulator's tone repeats itself
every 250 ms to 1 s; a run is placed where it matches furthest, which is exact whenever the run reaches the
start or end of a sentence (every run here does, unless a second pause cuts it). On the gateway's side: the
calls it logged \`BACKCHANNEL\` (resumed) and \`BARGE_IN\` (stopped) for.

${rows.length ? table(head, rows) : '(no run)'}
${notes}`;
}

function detectorSection(s: Section): string {
  const head = [
    'SPEECH_DETECTOR',
    'in use',
    'calls',
    'CPU ms/call',
    'µs/frame',
    'gw loop p99 ms',
    'overhead p50/p99 ms',
    'machine busy %',
    'other cores',
  ];
  const { rows, notes } = rowsOf(s, (r, l) => [
    name(r),
    l.speechDetectorInUse === 'model' ? 'Silero model' : 'energy (VAD_RMS)',
    String(l.calls),
    fmt(l.gateway.cpuMsPerCall),
    fmt(l.gateway.usPerFrame, 1),
    fmt(l.gateway.loopDelayP99Ms, 1),
    `${fmt(l.overheadMs.p50, 1)} / ${fmt(l.overheadMs.p99, 1)}`,
    fmt(l.machine.cpuBusy * 100),
    fmt(l.machine.otherCores, 2),
  ]);
  const by = (d: string) => s.runs.find((r) => r.variant.speechDetector === d && r.level)?.level;
  const model = by('auto');
  const energy = by('energy');
  let cost = '';
  if (
    model?.speechDetectorInUse === 'model' &&
    energy &&
    model.gateway.usPerFrame !== null &&
    energy.gateway.usPerFrame !== null
  ) {
    const perCall = model.gateway.cpuMsPerCall - energy.gateway.cpuMsPerCall;
    const perFrame = model.gateway.usPerFrame - energy.gateway.usPerFrame;
    cost = `\nThe model costs ${fmt(perCall)} ms of gateway CPU per call more than the energy VAD here, ${fmt(perFrame, 1)} µs per
inbound 20 ms frame: about ${fmt((perFrame * 3000) / 1000)} ms of CPU per minute of call audio, ${fmt((perFrame / 20_000) * 100, 2)} % of one core per call.\n`;
  }
  return `## Speech detector: CPU per call

The ladder's calls with \`SPEECH_DETECTOR=auto\` (the Silero model judges every inbound frame) and
\`SPEECH_DETECTOR=energy\` (frame RMS against \`VAD_RMS\`), everything else equal. µs/frame is the gateway's
handling of one inbound frame (parse, decode, detector, STT write). Both runs share the machine with
whatever else ran at the time: compare "other cores" before reading a difference.

${rows.length ? table(head, rows) : '(no run)'}
${notes}${cost}`;
}

/** The three sections in Markdown; a skipped section says so. */
export function sectionsMarkdown(s: BenchSections, c: BenchConfig): string {
  const skipped = (title: string, section: Section) => `## ${title}\n\n${section.skipped}.\n`;
  return [
    s.ttsPaths.skipped ? skipped('Synthesis paths: first audio', s.ttsPaths) : ttsSection(s.ttsPaths, c),
    s.interruptions.skipped
      ? skipped('Interruptions: acknowledgements vs real interruptions', s.interruptions)
      : interruptionsSection(s.interruptions, c),
    s.speechDetector.skipped
      ? skipped('Speech detector: CPU per call', s.speechDetector)
      : detectorSection(s.speechDetector),
  ].join('\n');
}
