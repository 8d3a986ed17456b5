/**
 * Turns the media client's low-level timeline (every frame, chunk, mark echo) into the call as a
 * person would describe it: greeting, caller turns, replies, clears, mark summaries. Fed live, one
 * client event at a time, plus the two things only the call script knows (a caller turn was queued,
 * and when its speech ended).
 *
 * Agent audio is attributed to a phase: phase 0 is the greeting (before the caller's first speech
 * ends), phase n is the reply to caller turn n (after turn n's speech ends). Entries are emitted as
 * soon as they are known, so a live printout reads in order: a playback run's end is emitted when it
 * ends (a later run in the same phase is a "resume": the agent's audio ran dry mid-sentence), and mark
 * echoes are summarised once per run, right after its end (or, for a run cut by `clear`, before the
 * clear, whose own entry counts the marks it flushed).
 *
 * The entries and phase statistics are declared in timeline-entries.ts; mark echoes are gathered into
 * one line per run by mark-echoes.ts.
 */
import type { ClientEvent, ClientEventDetails, SpeechTiming } from '../twilio/media-client.ts';
import { MarkEchoes } from './mark-echoes.ts';
import { emptyPhase, phaseName, type CallEvent, type CallEventKind, type PhaseStats } from './timeline-entries.ts';

const END_REASON = { drained: 'played to the end', cleared: 'cut by clear', halted: 'cut off: stream ended' } as const;

/** Incremental builder of the call timeline. One per call; not reusable. */
export class CallTimeline {
  readonly #entries: CallEvent[] = [];
  readonly #phases: PhaseStats[] = [emptyPhase()];
  readonly #speechEnd: number[] = [0];
  readonly #onEntry: ((e: CallEvent) => void) | undefined;
  /** Received chunks of each phase that have not started playing yet (their detail is filled in later). */
  readonly #unplayed = new Map<number, Array<ClientEventDetails['recv-media']>>();
  /** Marks echoed as played since the last summary. */
  readonly #marks = new MarkEchoes();
  /** The end of a playback run cut by `clear`, emitted after the clear's own entry. */
  #afterClear: (() => void) | undefined;
  #queuedTurn: number | undefined;
  #lastReceivedAtMs = Number.NEGATIVE_INFINITY;
  #lastPlaybackEndAtMs = Number.NEGATIVE_INFINITY;
  #finished = false;

  /** @param onEntry called synchronously with each entry as soon as it is known. */
  constructor(onEntry?: (e: CallEvent) => void) {
    this.#onEntry = onEntry;
  }

  /** Entries so far, sorted by time. */
  get entries(): readonly CallEvent[] {
    return [...this.#entries].sort((a, b) => a.atMs - b.atMs);
  }

  /** Phase 0 is the greeting, phase n the reply to caller turn n. */
  get phases(): readonly PhaseStats[] {
    return this.#phases;
  }

  /** Stream time of the last agent audio received (-Infinity if none). */
  get lastReceivedAtMs(): number {
    return this.#lastReceivedAtMs;
  }

  /** Stream time agent audio last arrived or stopped playing: the start of the current quiet. */
  get lastAgentActivityMs(): number {
    return Math.max(this.#lastReceivedAtMs, this.#lastPlaybackEndAtMs);
  }

  /** The call script queued caller turn `turn`; its first speech frame marks the turn's start. */
  callerQueued(turn: number): void {
    this.#queuedTurn = turn;
  }

  /** Caller turn `turn` finished speaking; agent audio from now on is its reply. */
  callerEnded(turn: number, timing: SpeechTiming): void {
    this.#summariseMarks();
    this.#emit(
      timing.endedAtMs,
      'caller-end',
      turn,
      `caller turn ${turn} ends speaking (${Math.round(timing.endedAtMs - timing.startedAtMs)} ms of speech)`,
    );
    this.#phases.push(emptyPhase());
    this.#speechEnd.push(timing.endedAtMs);
  }

  /** Feeds one media-client event, in the order the client recorded them. */
  observe(e: ClientEvent): void {
    this.#notePlayStarts(); // before attributing a playback end to the phase whose audio was playing
    const phase = this.#phases.length - 1;
    const stats = this.#phases[phase]!;
    switch (e.kind) {
      case 'sent-start':
        this.#emit(e.atMs, 'connected', 0, `connected; start sent (subprotocol ${e.detail.protocol || 'none'})`);
        break;
      case 'sent-media':
        if (e.detail.speech && this.#queuedTurn !== undefined) {
          const turn = this.#queuedTurn;
          this.#queuedTurn = undefined;
          this.#summariseMarks(); // echoes so far belong before the caller's turn in a live printout
          this.#emit(e.detail.timestamp, 'caller-start', turn, `caller turn ${turn} starts speaking`);
        }
        break;
      case 'recv-media':
        this.#lastReceivedAtMs = e.atMs;
        stats.receivedBytes += e.detail.bytes;
        if (stats.firstReceivedAtMs === undefined) {
          stats.firstReceivedAtMs = e.atMs;
          if (phase > 0)
            this.#emit(
              e.atMs,
              'reply-received',
              phase,
              `reply ${phase}: first audio received (${this.#sinceSpeech(phase, e.atMs)})`,
            );
        }
        if (stats.firstPlayedAtMs === undefined) this.#unplayedOf(phase).push(e.detail);
        break;
      case 'playback-start': {
        // A phase's first run is announced by its first chunk's play start (see #notePlayStarts);
        // a later run means the agent's audio had run dry.
        if (stats.firstPlayedAtMs !== undefined && stats.endedAtMs !== undefined) {
          const gap = Math.round(e.atMs - stats.endedAtMs);
          this.#emit(
            e.atMs,
            phase === 0 ? 'greeting-start' : 'reply-start',
            phase,
            `${phaseName(phase)} resumes playing after a ${gap} ms gap`,
          );
        }
        break;
      }
      case 'playback-end': {
        this.#lastPlaybackEndAtMs = e.atMs;
        // Audio of an earlier phase can still be playing (the agent talked over the caller's next turn).
        let owner = phase;
        while (owner > 0 && this.#phases[owner]!.firstPlayedAtMs === undefined) owner--;
        const ownerStats = this.#phases[owner]!;
        ownerStats.endedAtMs = e.atMs;
        ownerStats.endReason = e.detail.reason;
        const endRun = () => {
          if (ownerStats.firstPlayedAtMs === undefined) return;
          this.#emit(
            e.atMs,
            owner === 0 ? 'greeting-end' : 'reply-end',
            owner,
            `${phaseName(owner)} stops playing (${END_REASON[e.detail.reason]})`,
          );
        };
        if (e.detail.reason === 'cleared') {
          // Marks played so far came before the clear; its own entry (recorded right after this
          // event, with the flushed marks) reads better before the end it caused.
          this.#summariseMarks();
          this.#afterClear = endRun;
        } else {
          endRun();
          this.#summariseMarks(); // the last echoes go out on the playout tick, just after the modelled end
        }
        break;
      }
      case 'cleared': {
        stats.clears++;
        stats.clearedBytes += e.detail.discardedBytes;
        const ms = Math.round(e.detail.discardedBytes / 8);
        this.#emit(
          e.atMs,
          'clear',
          phase,
          `clear received: ${ms} ms of queued audio discarded, ${e.detail.marks.length} marks echoed at once`,
        );
        this.#afterClear?.();
        this.#afterClear = undefined;
        break;
      }
      case 'mark-echoed':
        if (e.detail.cleared) {
          stats.marksFlushed++; // already told by the clear entry
          break;
        }
        stats.marksPlayed++;
        this.#marks.add(e.atMs, phase);
        break;
      case 'violation':
        this.#emit(
          e.atMs,
          'violation',
          phase,
          `VIOLATION ${e.detail.code}: ${e.detail.reason}${e.detail.dropped ? ' (refused)' : ''}`,
        );
        break;
      case 'frames-skipped':
        this.#emit(e.atMs, 'frames-skipped', phase, `${e.detail.count} caller frames skipped (the simulator stalled)`);
        break;
      case 'sent-stop':
        this.#emit(e.atMs, 'stop', 0, 'stop sent (caller hangs up)');
        break;
      case 'closed':
        this.#emit(
          e.atMs,
          'closed',
          0,
          `media socket closed ${e.detail.code}${e.detail.reason ? ` "${e.detail.reason}"` : ''} by ${e.detail.initiatedBy === 'client' ? 'the caller' : 'the gateway'}`,
        );
        break;
      case 'error':
        this.#emit(e.atMs, 'error', 0, `socket error: ${e.detail.message}`);
        break;
      default:
        break;
    }
    this.#notePlayStarts();
  }

  /** The call is over: summarises marks not yet summarised. Idempotent. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#afterClear?.();
    this.#notePlayStarts();
    this.#summariseMarks();
  }

  // A chunk's play-start time is filled into its recv-media detail by the playout model, without an
  // event of its own; so look for it whenever anything happens (frames go out every 20 ms).
  #notePlayStarts(): void {
    for (const [phase, chunks] of this.#unplayed) {
      const played = chunks.find((d) => d.playStartedAtMs !== undefined);
      if (played === undefined || played.playStartedAtMs === undefined) continue;
      this.#unplayed.delete(phase);
      const stats = this.#phases[phase]!;
      stats.firstPlayedAtMs = played.playStartedAtMs;
      if (phase === 0) this.#emit(played.playStartedAtMs, 'greeting-start', 0, 'greeting starts playing');
      else
        this.#emit(
          played.playStartedAtMs,
          'reply-start',
          phase,
          `reply ${phase} starts playing (${this.#sinceSpeech(phase, played.playStartedAtMs)})`,
        );
    }
  }

  #summariseMarks(): void {
    const summary = this.#marks.take();
    if (summary) this.#emit(summary.atMs, 'marks', summary.phase, summary.text);
  }

  #unplayedOf(phase: number): Array<ClientEventDetails['recv-media']> {
    let list = this.#unplayed.get(phase);
    if (list === undefined) this.#unplayed.set(phase, (list = []));
    return list;
  }

  #sinceSpeech(phase: number, atMs: number): string {
    return `+${Math.round(atMs - (this.#speechEnd[phase] ?? 0))} ms after end of speech`;
  }

  #emit(atMs: number, kind: CallEventKind, turn: number, text: string): void {
    const entry: CallEvent = { atMs, kind, turn, text };
    this.#entries.push(entry);
    this.#onEntry?.(entry);
  }
}
