/**
 * A call's page in a real headless Chromium, served with a stub of the call API: Hebrew text with
 * numbers and Latin words in reading order, latency bars by component, the marks and the cut of an
 * interrupted reply, usage and the recording, and caller-controlled text kept as text.
 */
import { describeWithBrowser, launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import {
  FIXTURE_CALLS,
  FIXTURE_DOCS,
  RECORDING_SECONDS,
  startConsoleStub,
  type ConsoleStub,
} from '../helpers/console-stub.ts';

jest.setTimeout(90_000);

// The callbacks given to page.evaluate run in the browser; this project's types are Node's (no DOM lib).
declare const window: any;
declare const document: any;
declare function getComputedStyle(el: any): any;

const MAIN = FIXTURE_CALLS[0]!; // the detailed call: Hebrew transcript, interrupted turn, tool call, recording
const OLDER = FIXTURE_CALLS[1]!;

describeWithBrowser("a call's page in a real browser", () => {
  let browser: TestBrowser;
  let stub: ConsoleStub;
  beforeAll(async () => {
    [browser, stub] = await Promise.all([launchBrowser(), startConsoleStub()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stub?.close();
  });

  it('keeps a phone number, an e-mail address and Latin words in reading order inside Hebrew', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console/calls/${MAIN.callSid}`);
    const caller = page.locator('.turn[data-turn="1"] .line-caller .utt');
    await caller.waitFor();
    const isolates = await caller
      .locator('bdi')
      .evaluateAll((els) =>
        els.map((el) => [el.textContent, el.getAttribute('dir'), getComputedStyle(el).unicodeBidi]),
      );
    expect(isolates).toEqual([
      ['+972 50 123 4567', 'ltr', 'isolate'],
      ['dana@example.com', 'ltr', 'isolate'],
    ]);
    // Where the glyphs land on screen: the number reads left to right, "+972" first, and the
    // Hebrew before it in the sentence ("ל") sits to its right.
    const x = await caller.evaluate((p) => {
      const bdi = p.querySelector('bdi')!;
      const text = bdi.firstChild!;
      const at = (node: any, from: number, to: number) => {
        const r = document.createRange();
        r.setStart(node, from);
        r.setEnd(node, to);
        return r.getBoundingClientRect().left;
      };
      const before = bdi.previousSibling!; // "... ל "
      const lamed = before.textContent!.lastIndexOf('ל');
      return { plus: at(text, 0, 1), last: at(text, 12, 16), lamed: at(before, lamed, lamed + 1) };
    });
    expect(x.plus).toBeLessThan(x.last);
    expect(x.lamed).toBeGreaterThan(x.last);
    await page.close();
  });

  it('draws each turn’s latency as segments by component, scaled across turns, with numbers on hover and in text', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console/calls/${MAIN.callSid}`);
    await page.locator('.turn[data-turn="2"] .latency').waitFor();
    const bars = await page.locator('.latency .bar').evaluateAll((bars) =>
      bars.map((bar) => ({
        width: [...bar.children].reduce((sum, s) => sum + s.getBoundingClientRect().width, 0),
        keys: [...bar.children].map((s) => (s as any).dataset.key),
        titles: [...bar.children].map((s) => s.getAttribute('title')),
      })),
    );
    expect(bars).toHaveLength(3);
    expect(bars[0]!.keys).toEqual([
      'sttFinalMs',
      'committedMs',
      'llmRequestMs',
      'firstTokenMs',
      'firstSentenceMs',
      'ttsStartMs',
      'ttsDoneMs',
      'firstMediaMs',
      'firstMarkMs',
    ]);
    expect(bars[2]!.keys).toEqual([
      'sttFinalMs',
      'committedMs',
      'llmRequestMs',
      'firstTokenMs',
      'firstSentenceMs',
      'ttsStartMs',
    ]);
    // Turn 1 took 750 ms to first playback, turn 0 1500 ms: its bar is half as long.
    expect(bars[1]!.width / bars[0]!.width).toBeCloseTo(0.5, 1);
    expect(bars[0]!.titles[3]).toBe('First model token: 820 ms after end of speech (+368 ms)');
    const summary = await page.locator('.turn[data-turn="0"] .latency summary').textContent();
    expect(summary).toBe('Latency 1.50 s · gateway overhead 4.6 ms');
    await page.locator('.turn[data-turn="0"] .latency summary').click();
    const listed = await page.locator('.turn[data-turn="0"] .latency-list li').allTextContents();
    expect(listed).toContain('First audio played (mark): 1.50 s');
    expect(await page.locator('.turn[data-turn="0"] .latency-list').isVisible()).toBe(true);
    await page.close();
  });

  it('marks the interrupted reply’s cut, the barge-in, the backchannel, the tool call and the other events', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console/calls/${MAIN.callSid}`);
    await page.locator('.turn[data-turn="1"]').waitFor();
    const doc = FIXTURE_DOCS.get(MAIN.callSid)!;
    const turn1 = page.locator('.turn[data-turn="1"]');
    expect(await turn1.getAttribute('class')).toBe('turn interrupted');
    expect(await turn1.locator('.cut').count()).toBe(1);
    const unheard = (await turn1.locator('.unheard').textContent())!.replace('[not heard:] ', '');
    expect(doc.turns[1].heardText + unheard).toBe(doc.turns[1].agentText);

    // Order inside the turn: caller, tool call, agent, then the marks.
    const order = await turn1.evaluate((li) =>
      [...li.children].map((c) => c.className.split(' ').find((k: string) => /^(line-|marks|latency|turn-h)/.test(k))),
    );
    expect(order).toEqual(['turn-h', 'line-caller', 'line-tool', 'line-agent', 'marks', 'latency']);
    expect(await turn1.locator('.tool-name').textContent()).toBe('book_appointment');
    expect(await turn1.locator('.tool').textContent()).toContain('→ ok (HTTP 200) in 231 ms');

    const marks = await page
      .locator('.mark')
      .evaluateAll((els) =>
        els.map((el) => [el.closest('.turn')?.getAttribute('data-turn') ?? null, el.getAttribute('data-type')]),
      );
    // The tool-call event is not repeated: the tool call line shows it.
    expect(marks).toEqual([
      [null, 'dtmf'],
      ['0', 'backchannel'],
      ['1', 'barge-in'],
      ['2', 'hangup'],
    ]);
    expect(await page.locator('.mark-barge-in').textContent()).toContain('Barge-in +14.4 s');
    await page.close();
  });

  it('shows usage and cost, and plays the recording from the API', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console/calls/${MAIN.callSid}`);
    const audio = page.locator('audio');
    await audio.waitFor({ state: 'attached' });
    expect(await audio.getAttribute('src')).toBe(`/api/calls/${MAIN.callSid}/recording`);
    const duration = await audio.evaluate(
      (el: any) =>
        new Promise<number>((resolve, reject) => {
          if (el.readyState >= 1) return resolve(el.duration);
          el.addEventListener('loadedmetadata', () => resolve(el.duration), { once: true });
          el.addEventListener('error', () => reject(new Error(`audio error ${el.error?.code}`)), { once: true });
        }),
    );
    expect(duration).toBeCloseTo(RECORDING_SECONDS, 1);
    const usage = await page.locator('.usage dd').allTextContents();
    expect(usage).toEqual(['21.6 s', '212', '1,840', '96', '$0.0123']);

    await page.goto(`${stub.base}/console/calls/${OLDER.callSid}`);
    await page.locator('.recording p').waitFor();
    expect(await page.locator('audio').count()).toBe(0);
    expect(await page.locator('.recording').textContent()).toContain('not recorded');
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it('renders caller-controlled text as text, never as markup', async () => {
    const page = await browser.newPage();
    await page.goto(`${stub.base}/console/calls/${MAIN.callSid}`);
    await page.locator('.turn[data-turn="2"]').waitFor();
    expect(await page.locator('.transcript img, .transcript script, .transcript b').count()).toBe(0);
    expect(await page.locator('.turn[data-turn="2"] .line-caller .utt').textContent()).toContain('<img src=x');
    expect(await page.locator('.tool-args').textContent()).toContain('<script>');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
  });
});
