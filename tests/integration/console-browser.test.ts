/**
 * The console in a real headless Chromium, served with a stub of the call API: the list, live
 * updates over SSE, opening a call (its transcript in order and right to left; the rest of the call
 * page is in console-browser-call.test.ts), keyboard use, and the login flow with CONSOLE_TOKEN.
 */
import type { Page } from 'playwright-core';
import { describeWithBrowser, launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { FIXTURE_CALLS, FIXTURE_DOCS, startConsoleStub, type ConsoleStub } from '../helpers/console-stub.ts';
import type { CallSummary } from '../../server/call-feed.ts';

jest.setTimeout(90_000);

// The callbacks given to page.evaluate run in the browser; this project's types are Node's (no DOM lib).
declare const window: any;
declare const document: any;
declare const HTMLElement: any;
declare function getComputedStyle(el: any): any;

const MAIN = FIXTURE_CALLS[0]!; // the detailed call: Hebrew transcript, interrupted turn, tool call, recording
const OLDER = FIXTURE_CALLS[1]!;
const LIVE_SID = 'CA5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e';
const TOKEN = 'console-test-token-0123456789abcdef';

/** Visible text of each row's CallSid cell, top to bottom. */
const listedSids = (page: Page) => page.locator('table.calls tbody tr a.sid').allTextContents();

describeWithBrowser('console in a real browser (no token, loopback)', () => {
  let browser: TestBrowser;
  let stub: ConsoleStub;
  beforeAll(async () => {
    [browser, stub] = await Promise.all([launchBrowser(), startConsoleStub({ live: { keepAliveMs: 1000 } })]);
  });
  afterAll(async () => {
    await browser?.close();
    await stub?.close();
  });

  it('lists the calls newest first with their CallSids, numbers, agent, end reason and turns', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console`);
    await page.locator('table.calls tbody tr').nth(1).waitFor();
    expect(await listedSids(page)).toEqual([MAIN.callSid, OLDER.callSid]);
    const row = page.locator(`tr[data-call-sid="${MAIN.callSid}"]`);
    const cells = await row.locator('td').allTextContents();
    expect(cells).toEqual([
      'Ended',
      MAIN.callSid,
      '+972501234567',
      '+97237654321',
      'dental-clinic',
      expect.stringMatching(/2026/),
      '0:33',
      'caller-hangup',
      '3',
    ]);
    expect(await row.locator('a.sid').getAttribute('href')).toBe(`/console/calls/${MAIN.callSid}`);
    expect(await page.locator('h1').textContent()).toBe('Calls');
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('shows a live call arriving, changing and ending over SSE, without a reload', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console`);
    await page.locator('.live-status[data-state="connected"]').waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    const live: CallSummary = {
      callSid: LIVE_SID,
      agentId: 'dental-clinic',
      from: '+972529876543',
      to: '+97237654321',
      startedAt: new Date().toISOString(),
      endedAt: null,
      durationMs: null,
      endReason: null,
      turnCount: 0,
      live: true,
    };
    stub.feed.publish(live);
    const row = page.locator(`tr[data-call-sid="${LIVE_SID}"]`);
    await row.waitFor();
    expect(await listedSids(page)).toEqual([LIVE_SID, MAIN.callSid, OLDER.callSid]);
    expect(await row.getAttribute('class')).toBe('live');
    expect(await row.locator('.badge').textContent()).toBe('Live');

    stub.feed.publish({ ...live, turnCount: 2 });
    await page.locator(`tr[data-call-sid="${LIVE_SID}"] td[data-field="turns"]`, { hasText: '2' }).waitFor();

    stub.feed.publish({
      ...live,
      turnCount: 3,
      live: false,
      endedAt: new Date().toISOString(),
      durationMs: 61_000,
      endReason: 'agent-hangup',
    });
    await page.locator(`tr[data-call-sid="${LIVE_SID}"] .badge`, { hasText: 'Ended' }).waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(6)).toEqual(['1:01', 'agent-hangup', '3']);
    // The same document all along: the list changed in place.
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    expect(stub.apiRequests.filter((p) => p === '/calls').length).toBeGreaterThan(0);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('opens a call from the list; its transcript is in order, right to left, with caller and agent lines', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console`);
    await page.locator(`a.sid`, { hasText: MAIN.callSid }).click();
    await page.waitForURL(`**/console/calls/${MAIN.callSid}`);
    await page.locator('.turn[data-turn="2"]').waitFor();
    expect(await page.locator('h1 code.sid').textContent()).toBe(MAIN.callSid);

    const doc = FIXTURE_DOCS.get(MAIN.callSid)!;
    const callerLines = await page.locator('.line-caller .utt').allTextContents();
    expect(callerLines).toEqual(doc.turns.map((t: { callerText: string }) => t.callerText));
    const agentLines = await page.locator('.line-agent .utt').evaluateAll((els) =>
      els.map((el) =>
        [...el.childNodes]
          .filter((n) => !(n instanceof HTMLElement && n.matches('.cut')))
          .map((n) => n.textContent)
          .join(''),
      ),
    );
    expect(agentLines[0]).toBe(doc.turns[0].agentText);
    expect(agentLines[2]).toBe(doc.turns[2].agentText);

    // Every Hebrew line is laid out right to left, including the one that starts with a Latin word.
    const directions = await page
      .locator('.line-caller .utt, .line-agent .utt')
      .evaluateAll((els) => els.map((el) => getComputedStyle(el).direction));
    expect(directions).toEqual(['rtl', 'rtl', 'rtl', 'rtl', 'rtl', 'rtl']);
    expect(await page.locator('.line-caller .utt').nth(2).getAttribute('lang')).toBe('he');
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('refreshes the page of a live call when the live stream says it changed', async () => {
    const sid = 'CA6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f';
    const base = structuredClone(FIXTURE_DOCS.get(MAIN.callSid)!);
    const doc = (turns: number, live: boolean) => ({
      ...base,
      call: { ...base.call, callSid: sid, live, recording: false, endedAt: live ? null : base.call.endedAt },
      turns: base.turns.slice(0, turns),
      toolCalls: [],
      events: [],
    });
    const summary = (turnCount: number, live: boolean): CallSummary => ({ ...MAIN, callSid: sid, turnCount, live });
    stub.docs.set(sid, doc(1, true));
    stub.feed.publish(summary(1, true));
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console/calls/${sid}`);
    await page.locator('.turn[data-turn="0"]').waitFor();
    expect(await page.locator('h1 .badge-live').count()).toBe(1);
    expect(await page.locator('.turn').count()).toBe(1);

    stub.docs.set(sid, doc(2, true));
    stub.feed.publish(summary(2, true));
    await page.locator('.turn[data-turn="1"]').waitFor();
    stub.docs.set(sid, doc(2, false));
    stub.feed.publish(summary(2, false));
    await page.locator('h1 .badge-live').waitFor({ state: 'detached' });
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('pages back through older calls, 50 at a time, with the API’s before cursor', async () => {
    const many = await startConsoleStub();
    try {
      const t0 = Date.parse('2026-03-02T08:00:00.000Z');
      for (let i = 0; i < 55; i++) {
        const startedAt = new Date(t0 + i * 60_000).toISOString();
        many.calls.push({ ...MAIN, callSid: `CA${i.toString(16).padStart(32, 'b')}`, startedAt });
      }
      const page = await browser.newPage();
      await page.goto(`${many.base}/console`);
      await page.locator('table.calls tbody tr').nth(49).waitFor();
      expect(await page.locator('table.calls tbody tr').count()).toBe(50);
      await page.getByRole('button', { name: 'Older calls' }).click();
      await page.locator('table.calls tbody tr').nth(56).waitFor();
      const sids = await listedSids(page);
      expect(sids).toHaveLength(57);
      expect(new Set(sids).size).toBe(57);
      expect(sids.slice(-2)).toEqual([MAIN.callSid, OLDER.callSid]);
      expect(await page.getByRole('button', { name: 'Older calls' }).isHidden()).toBe(true);
      await page.close();
    } finally {
      await many.close();
    }
  });

  it('says so for an unknown call, and is usable by keyboard', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console/calls/CAffffffffffffffffffffffffffffffff`);
    await page.locator('h1', { hasText: 'Call not found' }).waitFor();
    await page.goto(`${stub.base}/console`);
    await page.locator(`a.sid`, { hasText: OLDER.callSid }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/console/calls/${OLDER.callSid}`);
    await page.locator('.mark-transfer').waitFor();
    await page.close();
  });
});

describeWithBrowser('console login in a real browser (CONSOLE_TOKEN set)', () => {
  let browser: TestBrowser;
  let stub: ConsoleStub;
  let clock = Date.now();
  beforeAll(async () => {
    [browser, stub] = await Promise.all([
      launchBrowser(),
      startConsoleStub({ token: TOKEN, auth: { now: () => clock } }),
    ]);
  });
  beforeEach(async () => {
    clock = Date.now();
    // One persistent profile serves every test here and CI shuffles them: each starts logged out.
    await browser.context.clearCookies();
  });
  afterAll(async () => {
    await browser?.close();
    await stub?.close();
  });

  it('refuses the API without credentials, logs in with the token into an HttpOnly cookie, and logs out', async () => {
    const page = await browser.newPage();
    const anonymous = await page.request.get(`${stub.base}/api/calls`);
    expect(anonymous.status()).toBe(401);

    await page.goto(`${stub.base}/console/calls/${MAIN.callSid}`);
    await page.waitForURL(`**/console/login?next=*`);
    await page.fill('#token', 'not-the-token-at-all-0000');
    await page.click('button[type=submit]');
    await page.locator('[role=alert]', { hasText: 'not right' }).waitFor();
    expect(await browser.context.cookies()).toEqual([]);

    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`**/console/calls/${MAIN.callSid}`);
    await page.locator('.turn[data-turn="2"]').waitFor();
    const cookies = await browser.context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'gw_console_session', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookies[0]!.value).not.toContain(TOKEN);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(page.errors.filter((e) => !/401/.test(e))).toEqual([]);

    await page.click('text=Log out');
    await page.waitForURL('**/console/login');
    expect(await browser.context.cookies()).toEqual([]);
    expect((await browser.context.request.get(`${stub.base}/api/calls`)).status()).toBe(401);
    await page.goto(`${stub.base}/console`);
    await page.waitForURL('**/console/login?next=%2Fconsole');
    await page.close();
  });

  it('goes to the login form, and back afterwards, when the session ends while a page is open', async () => {
    const sid = 'CA7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a';
    const base = FIXTURE_DOCS.get(MAIN.callSid)!;
    stub.docs.set(sid, { ...base, call: { ...base.call, callSid: sid, live: true, recording: false } });
    stub.feed.publish({ ...MAIN, callSid: sid, live: true });
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console/login?next=/console/calls/${sid}`);
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.locator('.turn[data-turn="2"]').waitFor();

    clock += 13 * 60 * 60 * 1000; // past the 12-hour session
    stub.feed.publish({ ...MAIN, callSid: sid, live: true, turnCount: 4 });
    await page.waitForURL(`**/console/login?next=${encodeURIComponent(`/console/calls/${sid}`)}`);
    clock = Date.now();
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`**/console/calls/${sid}`);
    await page.close();
  });
});
