/**
 * The four things the demo shows, each checked against what was recorded by someone other than the
 * gateway's log: the CRM emulator (what it was asked and answered), the TTS emulator (what was
 * synthesized), the simulated Twilio call (what was heard, what `<Connect action>` said next), the
 * whisper Twilio would say, and the call's record read back from the gateway's API.
 *
 *   1. name      the CRM's context answer for the caller's number, and a greeting with that name
 *   2. booking   the book_appointment call (CRM answered, slowly), the filler heard before the answer
 *   3. transfer  the transfer_call, the stream ended by the gateway, the <Dial> and its whisper
 *   4. where     the console page and the API record, both 200 while the gateway ran
 *
 * Pure functions over that evidence; no I/O.
 */
import type { Agent } from '../../config/agents.ts';
import type { CrmRequest } from '../emulators/crm-types.ts';
import type { CallReport } from '../call/run-call.ts';
import type { CallDocument, CallLookup } from './call-record.ts';
import { BOOKING_TOOL, bookingAnswer, contextAnswer, TRANSFER_TOOL } from './conversation.ts';
import type { Whisper } from './whisper.ts';

/** What the checks look at. */
export interface DemoEvidence {
  /** The demo's agent, as the gateway's loader read it. */
  agent: Agent;
  call: CallReport;
  /** The number the caller dialled (`To`): a transfer's caller ID. */
  to: string;
  /** Every request the CRM emulator got, in order. */
  crmRequests: readonly CrmRequest[];
  /** The texts the TTS emulator was asked to synthesize, in order. */
  ttsTexts: readonly string[];
  /** Undefined when the call's record was never looked up. */
  lookup: CallLookup | undefined;
  /** Undefined when there was no whisper to follow. */
  whisper: Whisper | undefined;
}

/** One point: passed, or why not (one sentence each). */
export interface PointCheck {
  ok: boolean;
  problems: string[];
}

/** 1: the caller recognised by name. */
export interface NameCheck extends PointCheck {
  /** The name in the CRM's context answer. */
  name: string | undefined;
  contextStatus: number | undefined;
  /** The first text synthesized for the call: its greeting. */
  greeting: string | undefined;
  /** Greeting audio heard, ms. */
  greetingMs: number | undefined;
}

/** A tool call as the call record has it. */
export type RecordedTool = CallDocument['toolCalls'][number];

/** 2: the booking made with a tool call, with a filler while the CRM was slow. */
export interface BookingCheck extends PointCheck {
  tool: RecordedTool | undefined;
  /** The filler heard during the booking's turn. */
  filler: string | undefined;
  /** What the caller heard of that turn (filler, then the answer). */
  heard: string | undefined;
}

/** 3: the transfer to a person. */
export interface TransferCheck extends PointCheck {
  tool: RecordedTool | undefined;
  /** What the caller heard in the transfer's turn. */
  heard: string | undefined;
  next: CallReport['next'];
  whisper: Whisper | undefined;
}

/** 4: where to see the call. */
export interface WhereCheck extends PointCheck {
  lookup: CallLookup | undefined;
}

/** All four. */
export interface DemoPoints {
  name: NameCheck;
  booking: BookingCheck;
  transfer: TransferCheck;
  where: WhereCheck;
}

/** Runs the four checks. */
export function checkPoints(e: DemoEvidence): DemoPoints {
  return { name: checkName(e), booking: checkBooking(e), transfer: checkTransfer(e), where: checkWhere(e) };
}

/** Whether all four passed. */
export function allPassed(p: DemoPoints): boolean {
  return p.name.ok && p.booking.ok && p.transfer.ok && p.where.ok;
}

/** The CRM's context answer named the caller, and the greeting the caller heard has that name. */
export function checkName(e: DemoEvidence): NameCheck {
  const problems: string[] = [];
  const ctx = e.crmRequests.find((r) => r.route === 'context' && bodyOf(r)['callSid'] === e.call.callSid);
  const answer = ctx ? (contextAnswer(ctx) as { variables?: Record<string, unknown> }) : undefined;
  const name = typeof answer?.variables?.['name'] === 'string' ? answer.variables['name'] : undefined;
  if (!ctx) problems.push("the gateway never asked the CRM for the caller's context");
  else if (ctx.status !== 200) problems.push(`the CRM answered the context request with ${describeStatus(ctx)}`);
  else if (!name) problems.push(`the CRM does not know the caller's number ${String(bodyOf(ctx)['from'])}`);
  const greeting = e.ttsTexts[0];
  const greetingMs = e.call.greeting ? Math.round(e.call.greeting.receivedBytes / 8) : undefined;
  if (greeting === undefined) problems.push('nothing was synthesized: there was no greeting');
  else if (name && !greeting.includes(name))
    problems.push(`the greeting "${greeting}" does not have the caller's name "${name}"`);
  else if (/\{\{|\}\}/.test(greeting)) problems.push(`the greeting "${greeting}" still has a {{placeholder}}`);
  if (!e.call.greeting) problems.push('the caller heard no greeting');
  return { ok: problems.length === 0, problems, name, contextStatus: ctx?.status, greeting, greetingMs };
}

/**
 * The model's book_appointment call reached the CRM and came back `ok`; the caller heard one of the
 * agent's fillers and then the answer, which reads out the slot the CRM booked.
 */
export function checkBooking(e: DemoEvidence): BookingCheck {
  const problems: string[] = [];
  const doc = e.lookup?.api.doc;
  const tool = doc?.toolCalls.find((t) => t.name === BOOKING_TOOL);
  const crm = e.crmRequests.find((r) => r.route === 'tool' && r.tool === BOOKING_TOOL);
  if (!doc) problems.push('the call record could not be read, so the tool call cannot be shown (see 4)');
  else if (!tool) problems.push(`the call record has no ${BOOKING_TOOL} call`);
  else if (tool.outcome !== 'ok') problems.push(`${BOOKING_TOOL} ended "${tool.outcome}", not "ok"`);
  if (!crm) problems.push(`the CRM never got a ${BOOKING_TOOL} request`);
  else if (crm.status !== 200) problems.push(`the CRM answered ${BOOKING_TOOL} with ${describeStatus(crm)}`);
  const heard = doc && tool ? (doc.turns.find((t) => t.index === tool.turnIndex)?.heardText ?? '') : undefined;
  const filler = heard === undefined ? undefined : e.agent.fillers.find((f) => heard.includes(f));
  const slot = crm ? (bookingAnswer(crm) as { spoken?: string }).spoken : undefined;
  if (heard !== undefined) {
    if (!filler) problems.push(`the caller heard no filler while the CRM was slow (heard: "${heard}")`);
    if (slot && !heard.includes(slot))
      problems.push(`the caller did not hear the booked slot "${slot}" (heard: "${heard}")`);
    else if (filler && slot && heard.indexOf(filler) > heard.indexOf(slot))
      problems.push('the filler came after the answer, not while the CRM was working');
  }
  return { ok: problems.length === 0, problems, tool, filler, heard };
}

/**
 * The model's transfer_call named one of the agent's targets; the gateway ended the stream; the
 * `<Connect action>` answer dials that target's number (its digits, the dialled number as caller
 * ID) with a whisper that says the model's summary.
 */
export function checkTransfer(e: DemoEvidence): TransferCheck {
  const problems: string[] = [];
  const doc = e.lookup?.api.doc;
  const tool = doc?.toolCalls.find((t) => t.name === TRANSFER_TOOL);
  const args = (tool?.arguments ?? {}) as { target?: unknown; summary?: unknown };
  const heard = doc && tool ? (doc.turns.find((t) => t.index === tool.turnIndex)?.heardText ?? '') : undefined;
  const { next, close } = e.call;
  const whisper = e.whisper;
  if (!doc) problems.push('the call record could not be read, so the transfer cannot be shown (see 4)');
  else if (!tool) problems.push(`the call record has no ${TRANSFER_TOOL} call`);
  else if (tool.outcome !== 'ok') problems.push(`${TRANSFER_TOOL} ended "${tool.outcome}", not "ok"`);
  if (close?.code !== 1000 || next === undefined)
    problems.push(
      `the gateway did not end the stream for Twilio to follow <Connect action> (socket closed with ${close?.code ?? 'nothing'})`,
    );
  else if (next.action !== 'dial' || !next.dial)
    problems.push(`<Connect action> answered "${next.action}", not a <Dial>`);
  else {
    const [number, digits] = (e.agent.transfer[String(args.target)] ?? '').split(',');
    if (next.dial.number !== number) problems.push(`Twilio would dial ${next.dial.number}, not ${number ?? '?'}`);
    if (next.dial.sendDigits !== digits) problems.push(`the digits are ${next.dial.sendDigits}, not ${digits}`);
    if (next.dial.callerId !== e.to) problems.push(`the caller ID is ${next.dial.callerId}, not ${e.to}`);
    const said = whisper?.say.map((s) => s.text).join(' ');
    if (typeof args.summary === 'string' && !whisper) problems.push('no whisper URL, though the model gave a summary');
    else if (whisper && whisper.status !== 200)
      problems.push(`the whisper URL answered ${whisper.status ?? whisper.error}`);
    else if (typeof args.summary === 'string' && said !== args.summary)
      problems.push(`the whisper says "${said}", not the summary "${args.summary}"`);
  }
  return { ok: problems.length === 0, problems, tool, heard, next, whisper };
}

/** The console page and the API record answered 200 while the gateway ran; the record is the whole call. */
export function checkWhere(e: DemoEvidence): WhereCheck {
  const problems: string[] = [];
  const l = e.lookup;
  if (!l) return { ok: false, problems: ['the call was never looked up'], lookup: l };
  if (l.api.status !== 200) problems.push(`${l.apiUrl} answered ${l.api.status ?? l.api.error}`);
  else if (!l.api.doc) problems.push(`${l.apiUrl} did not answer with a call record`);
  else if (l.api.doc.call.callSid !== e.call.callSid)
    problems.push(`${l.apiUrl} answered the record of ${l.api.doc.call.callSid}`);
  else if (!l.api.complete) problems.push('the call record did not show the call as ended in time');
  else if (l.api.doc.turns.length < e.call.turns.length)
    problems.push(`the record has ${l.api.doc.turns.length} turns; the caller spoke ${e.call.turns.length} times`);
  if (l.console.status !== 200) problems.push(`${l.consoleUrl} answered ${l.console.status ?? l.console.error}`);
  else if (!l.console.contentType?.startsWith('text/html')) problems.push(`${l.consoleUrl} is not an HTML page`);
  return { ok: problems.length === 0, problems, lookup: l };
}

function bodyOf(r: CrmRequest): Record<string, unknown> {
  return typeof r.json === 'object' && r.json !== null ? (r.json as Record<string, unknown>) : {};
}

function describeStatus(r: CrmRequest): string {
  if (r.status === undefined) return r.abortedByClient ? 'nothing (the gateway gave up waiting)' : 'nothing';
  return r.status === 401 ? `401 (signature ${r.signature})` : String(r.status);
}
