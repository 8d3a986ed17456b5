/**
 * The four things `npm run demo` shows, as its checks judge them: each passes on the evidence of a
 * good call and fails, saying why, when one piece of that evidence is missing or wrong (the greeting
 * without the name, no filler, a hang-up instead of a transfer, an address that does not answer…).
 * Pure functions over built evidence; the real runs are in demo.test.ts.
 */
import path from 'node:path';
import { loadAgents } from '../../config/agents.ts';
import type { CallReport } from '../../tools/call/run-call.ts';
import type { CrmRequest } from '../../tools/emulators/crm-types.ts';
import type { CallDocument, CallLookup } from '../../tools/demo/call-record.ts';
import { allPassed, checkPoints, type DemoEvidence } from '../../tools/demo/checks.ts';
import { CALLER_NUMBER, CLINIC_NUMBER, TRANSFER_SUMMARY } from '../../tools/demo/conversation.ts';
import { AGENTS_TEMPLATE_PATH } from '../../tools/demo/setup.ts';
import { REPO_ROOT } from '../../tools/gateway-child.ts';

const AGENT = loadAgents(path.join(REPO_ROOT, AGENTS_TEMPLATE_PATH), { greeting: '-', instructions: '-' }).forNumber(
  CLINIC_NUMBER,
);
const SID = 'CA' + '1'.repeat(32);
const FILLER = 'רגע, אני בודקת ביומן.';
const ANSWER = 'קבעתי לך תור מחר בשמונה וחצי.';

function crmRequest(fields: Partial<CrmRequest>): CrmRequest {
  return {
    index: 0,
    route: 'context',
    method: 'POST',
    path: '/',
    headers: {},
    rawBody: '',
    json: undefined,
    signature: 'valid',
    duplicate: false,
    problems: [],
    status: 200,
    receivedAt: 0,
    abortedByClient: false,
    ...fields,
  };
}

function doc(): CallDocument {
  return {
    call: {
      callSid: SID,
      streamSid: 'MZ1',
      agentId: 'clinic',
      from: CALLER_NUMBER,
      to: CLINIC_NUMBER,
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:20.000Z',
      durationMs: 20_000,
      endReason: 'transfer',
      live: false,
      recording: true,
    },
    turns: [
      { index: 1, callerText: 'x', agentText: 'x', heardText: `${FILLER} ${ANSWER}`, interrupted: false },
      { index: 2, callerText: 'y', agentText: 'y', heardText: 'מעבירה אותך לנציג.', interrupted: false },
    ],
    toolCalls: [
      {
        callId: 'call_book',
        turnIndex: 1,
        name: 'book_appointment',
        arguments: { date: 'מחר', time: '08:30' },
        outcome: 'ok',
        status: 200,
        ms: 2004,
        at: '',
      },
      {
        callId: 'call_transfer',
        turnIndex: 2,
        name: 'transfer_call',
        arguments: { target: 'reception', summary: TRANSFER_SUMMARY },
        outcome: 'ok',
        status: null,
        ms: 0,
        at: '',
      },
    ],
    events: [],
    usage: {},
  } as unknown as CallDocument;
}

/** The evidence a good demo call leaves. */
function good(): DemoEvidence {
  const lookup: CallLookup = {
    consoleUrl: `http://127.0.0.1:1/console/calls/${SID}`,
    apiUrl: `http://127.0.0.1:1/api/calls/${SID}`,
    console: { url: '', status: 200, contentType: 'text/html; charset=utf-8' },
    api: { url: '', status: 200, contentType: 'application/json', doc: doc(), complete: true },
  };
  const call = {
    callSid: SID,
    greeting: { startedAtMs: 1000, endedAtMs: 3000, endReason: 'drained', receivedBytes: 16_000, marksPlayed: 5 },
    turns: [{}, {}],
    close: { code: 1000, reason: 'transfer' },
    next: {
      action: 'dial',
      say: [],
      dial: { number: '+97231234567', callerId: CLINIC_NUMBER, sendDigits: 'ww12', url: 'http://x/w' },
    },
  } as unknown as CallReport;
  return {
    agent: AGENT,
    call,
    to: CLINIC_NUMBER,
    crmRequests: [
      crmRequest({
        route: 'context',
        json: { callSid: SID, from: CALLER_NUMBER, to: CLINIC_NUMBER, agentId: 'clinic' },
      }),
      crmRequest({ route: 'tool', tool: 'book_appointment', json: { arguments: { date: 'מחר', time: '08:30' } } }),
    ],
    ttsTexts: ['שלום דנה, כאן מרפאת השיניים.', FILLER, ANSWER],
    lookup,
    whisper: { url: 'http://x/w', status: 200, say: [{ text: TRANSFER_SUMMARY, voice: 'v', language: 'he-IL' }] },
  };
}

describe('the demo checks', () => {
  test('a good call passes all four', () => {
    const p = checkPoints(good());
    expect([p.name.problems, p.booking.problems, p.transfer.problems, p.where.problems]).toEqual([[], [], [], []]);
    expect(allPassed(p)).toBe(true);
    expect(p.name).toMatchObject({ name: 'דנה', greeting: 'שלום דנה, כאן מרפאת השיניים.', greetingMs: 2000 });
    expect(p.booking).toMatchObject({ filler: FILLER, tool: { name: 'book_appointment', ms: 2004 } });
  });

  test('1 fails when the greeting lacks the name, the CRM refused the context, or nothing was heard', () => {
    const e = good();
    e.ttsTexts = ['שלום, כאן מרפאת השיניים.'];
    expect(checkPoints(e).name.problems).toEqual([
      'the greeting "שלום, כאן מרפאת השיניים." does not have the caller\'s name "דנה"',
    ]);
    const refused = good();
    refused.crmRequests[0]!.status = 401;
    refused.crmRequests[0]!.signature = 'invalid';
    expect(checkPoints(refused).name.problems).toContain(
      'the CRM answered the context request with 401 (signature invalid)',
    );
    const unknown = good();
    (unknown.crmRequests[0]!.json as { from: string }).from = '+972500000000';
    expect(checkPoints(unknown).name.problems).toContain("the CRM does not know the caller's number +972500000000");
    const silent = good();
    (silent.call as { greeting: unknown }).greeting = undefined;
    expect(checkPoints(silent).name.ok).toBe(false);
  });

  test('2 fails without a filler, with the filler after the answer, or when the tool did not succeed', () => {
    const e = good();
    e.lookup!.api.doc!.turns[0]!.heardText = ANSWER;
    expect(checkPoints(e).booking.problems).toEqual([
      `the caller heard no filler while the CRM was slow (heard: "${ANSWER}")`,
    ]);
    const late = good();
    late.lookup!.api.doc!.turns[0]!.heardText = `${ANSWER} ${FILLER}`;
    expect(checkPoints(late).booking.problems).toEqual([
      'the filler came after the answer, not while the CRM was working',
    ]);
    const timeout = good();
    timeout.lookup!.api.doc!.toolCalls[0]!.outcome = 'timeout';
    expect(checkPoints(timeout).booking.problems).toEqual(['book_appointment ended "timeout", not "ok"']);
    const noCrm = good();
    noCrm.crmRequests = noCrm.crmRequests.slice(0, 1);
    expect(checkPoints(noCrm).booking.ok).toBe(false);
  });

  test('3 fails when the call was hung up, dials the wrong number, or the whisper does not say the summary', () => {
    const hung = good();
    hung.call.next = { action: 'hangup', say: [] };
    expect(checkPoints(hung).transfer.problems).toEqual(['<Connect action> answered "hangup", not a <Dial>']);
    const wrong = good();
    wrong.call.next!.dial!.number = '';
    expect(checkPoints(wrong).transfer.problems).toEqual(['Twilio would dial , not +97231234567']);
    const mute = good();
    mute.whisper = { url: 'http://x/w', status: 200, say: [] };
    expect(checkPoints(mute).transfer.problems).toEqual([`the whisper says "", not the summary "${TRANSFER_SUMMARY}"`]);
    const open = good();
    open.call.close = { code: 1005, reason: '' } as CallReport['close'];
    open.call.next = undefined;
    expect(checkPoints(open).transfer.ok).toBe(false);
  });

  test('4 fails when an address does not answer 200, or the record is not the whole call', () => {
    const api = good();
    api.lookup!.api.status = 404;
    api.lookup!.api.doc = undefined;
    expect(checkPoints(api).where.problems).toEqual([`http://127.0.0.1:1/api/calls/${SID} answered 404`]);
    const page = good();
    page.lookup!.console.status = 403;
    expect(checkPoints(page).where.problems).toEqual([`http://127.0.0.1:1/console/calls/${SID} answered 403`]);
    const live = good();
    live.lookup!.api.complete = false;
    expect(checkPoints(live).where.problems).toEqual(['the call record did not show the call as ended in time']);
    const none = good();
    none.lookup = undefined;
    const p = checkPoints(none);
    expect([p.where.ok, p.booking.ok, p.transfer.ok, p.name.ok]).toEqual([false, false, false, true]);
  });
});
