/**
 * What the demo call says: who calls whom, the caller's two recordings and what the emulated
 * recognizer "hears" in them, what the emulated CRM knows and answers, and what the emulated model
 * answers at each step. The recognizer emulator does not recognise anything (it detects speech by
 * level and returns the text it is given), so each transcript is its recording's script.
 *
 *   greeting with the caller's name (CRM context) ─▶ turn 1 "book" ─▶ book_appointment (CRM, slow: filler)
 *     ─▶ confirmation ─▶ turn 2 "a person" ─▶ transfer_call ─▶ the gateway ends the stream ─▶ <Dial>
 */
import path from 'node:path';
import type { TranscriptContext } from '../emulators/google-stt-types.ts';
import type { CrmRequest } from '../emulators/crm-types.ts';
import type { FakeReply } from '../emulators/openai-types.ts';
import { REPO_ROOT } from '../gateway-child.ts';

/**
 * The caller's first recording, read from the test fixtures rather than copied:
 * `tests/fixtures/README.md` documents how it was made (espeak-ng + sox), its hash and its frame
 * profile, and one file cannot drift. Raw 8 kHz μ-law, 2.16 s, no header.
 */
export const CALLER_AUDIO_PATH = 'tests/fixtures/caller-hebrew.ulaw';
/** The same, as an absolute path (the benchmark's and the attack suite's callers say it too). */
export const CALLER_AUDIO_FILE = path.join(REPO_ROOT, CALLER_AUDIO_PATH);

/** What the first recording says ("I want to book an appointment for tomorrow morning"). */
export const CALLER_TRANSCRIPT = 'אני רוצה לקבוע תור למחר בבוקר';

/**
 * A plain answer to {@link CALLER_TRANSCRIPT}, for a gateway without an agents file (the attack
 * suite's calls). Numbers are written as words so espeak-ng reads them naturally.
 */
export const AGENT_REPLY = 'בשמחה, יש תור פנוי מחר בשמונה וחצי בבוקר. זה מתאים לכם?';

/** Said when the caller's text is not something the script expects. */
export const AGENT_FALLBACK_REPLY = 'סליחה, לא הבנתי. אפשר לחזור על זה?';

/**
 * {@link AGENT_REPLY} when the last user message asks about a תור (appointment), else
 * {@link AGENT_FALLBACK_REPLY}: the text-only answer of a call without tools (the attack suite).
 */
export function scriptedReply(body: { messages?: Array<{ role?: string; content?: unknown }> }): string {
  const lastUser = (body.messages ?? []).findLast((m) => m.role === 'user');
  return typeof lastUser?.content === 'string' && lastUser.content.includes('תור') ? AGENT_REPLY : AGENT_FALLBACK_REPLY;
}

/** One thing the demo caller says: a committed recording and the text the emulated recognizer returns for it. */
export interface CallerTurn {
  /** Repository-relative path of raw 8 kHz μ-law (see tests/fixtures/README.md). */
  audioPath: string;
  transcript: string;
}

/** The caller's turns, in order: book an appointment, then ask for a person. */
export const CALLER_TURNS: readonly CallerTurn[] = [
  { audioPath: CALLER_AUDIO_PATH, transcript: CALLER_TRANSCRIPT },
  { audioPath: 'tests/fixtures/caller-person.ulaw', transcript: 'אני רוצה לדבר עם נציג' },
];

/** The caller's number (`From`): the CRM knows it. */
export const CALLER_NUMBER = '+972521234567';
/** The clinic's number (`To`): the number of the agent in `tools/demo/agents.yaml`. */
export const CLINIC_NUMBER = '+97237654321';
/** What the CRM calls the owner of {@link CALLER_NUMBER}. */
export const CALLER_NAME = 'דנה';

/**
 * How long the CRM takes to book: longer than FILLER_AFTER_MS (default 1000, which the demo leaves
 * as it is), so the agent says its filler while the caller waits.
 */
export const BOOKING_DELAY_MS = 2000;

/** The agent's own tool (tools/demo/agents.yaml), served by the CRM emulator. */
export const BOOKING_TOOL = 'book_appointment';
/** The gateway's built-in tool that hands the caller to a person. */
export const TRANSFER_TOOL = 'transfer_call';

/** The summary the model gives `transfer_call`: Twilio says it to the person who answers. */
export const TRANSFER_SUMMARY = 'דנה קבעה תור למחר בשמונה וחצי, ורוצה לדבר עם נציג.';

/** The CRM's context answer: the caller's name for their number, nothing for anyone else. */
export function contextAnswer(req: CrmRequest): unknown {
  const from = (req.json as { from?: unknown } | undefined)?.from;
  if (from !== CALLER_NUMBER) return { variables: {}, instructions: '' };
  return {
    variables: { name: CALLER_NAME },
    instructions: `המתקשרת היא ${CALLER_NAME} כהן, מטופלת קבועה של המרפאה.`,
  };
}

/** The CRM's answer to `book_appointment`: booked, with the slot as words for the agent to read out. */
export function bookingAnswer(req: CrmRequest): unknown {
  const args = (req.json as { arguments?: { date?: unknown; time?: unknown } } | undefined)?.arguments;
  const slot = args?.date === 'מחר' && args.time === '08:30' ? 'מחר בשמונה וחצי' : undefined;
  return slot ? { booked: true, spoken: slot } : { booked: false, reason: 'no such slot' };
}

/**
 * The emulated recognizer's text for each utterance: the turns' transcripts in the order the
 * utterances arrive (counted across recognition streams, so a new stream does not start over).
 */
export function scriptedTranscripts(): (ctx: TranscriptContext) => string {
  const order = new Map<string, number>();
  return (ctx) => {
    const key = `${ctx.streamIndex}:${ctx.utteranceIndex}`;
    if (!order.has(key)) order.set(key, order.size);
    return (CALLER_TURNS[order.get(key)!] ?? CALLER_TURNS.at(-1)!).transcript;
  };
}

/** The emulated model sends its answers a few characters at a time, this far apart, like a real one streams tokens. */
export const TOKEN_GAP_MS = 20;

type Message = { role?: string; content?: unknown; tool_call_id?: string; tool_calls?: unknown };

/**
 * The emulated model's answer to a Chat Completions request, from what the gateway sent it (so the
 * recognizer's text and the CRM's answer really travelled through the pipeline):
 * - the caller asks for a תור: call `book_appointment` (no words first, so the filler is needed);
 * - the booking's result comes back: read out the slot the CRM answered;
 * - the caller asks for a נציג (a person): say so and call `transfer_call` with a summary;
 * - anything else: {@link AGENT_FALLBACK_REPLY}.
 */
export function scriptedTurn(body: { messages?: Message[] }): FakeReply {
  const messages = body.messages ?? [];
  const last = messages.at(-1);
  const paced = { chunkDelayMs: TOKEN_GAP_MS };
  if (last?.role === 'tool') {
    const result = parseJson(typeof last.content === 'string' ? last.content : '') as { spoken?: unknown } | undefined;
    if (toolNameOf(messages, last.tool_call_id) === BOOKING_TOOL && typeof result?.spoken === 'string')
      return { text: `קבעתי לך תור ${result.spoken}.`, ...paced };
    return { text: 'מצטערת, לא הצלחתי לקבוע את התור.', ...paced };
  }
  const said = last?.role === 'user' && typeof last.content === 'string' ? last.content : '';
  if (said.includes('נציג'))
    return {
      text: 'מעבירה אותך לנציג.',
      toolCalls: [
        { id: 'call_transfer', name: TRANSFER_TOOL, arguments: { target: 'reception', summary: TRANSFER_SUMMARY } },
      ],
      ...paced,
    };
  if (said.includes('תור'))
    return { toolCalls: [{ id: 'call_book', name: BOOKING_TOOL, arguments: { date: 'מחר', time: '08:30' } }] };
  return { text: AGENT_FALLBACK_REPLY, ...paced };
}

/** The name of the tool call `id` answers, from the assistant message that asked for it. */
function toolNameOf(messages: readonly Message[], id: string | undefined): string | undefined {
  for (const m of messages) {
    if (m.role !== 'assistant' || !Array.isArray(m.tool_calls)) continue;
    for (const c of m.tool_calls as Array<{ id?: string; function?: { name?: string } }>)
      if (c.id === id) return c.function?.name;
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
