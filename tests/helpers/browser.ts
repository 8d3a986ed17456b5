/**
 * A real headless browser for tests: Debian's Chromium driven by playwright-core (whose own browser
 * download cannot work here), each launch with a fresh profile directory that is removed on close.
 *
 * When Chromium is missing, {@link describeWithBrowser} skips its tests with a plain message, or
 * fails them with that message when `REQUIRE_BROWSER=1` (CI sets it, so a runner without the
 * browser cannot pass by skipping).
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The browser used: `CHROMIUM_PATH` or Debian's /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a quiet, sandbox-less, network-silent headless run in a container. */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    return (
      `Chromium is missing: no executable at ${CHROMIUM_PATH}. ` +
      'Install it with `apt-get install chromium` (Debian/Ubuntu), or point CHROMIUM_PATH at a Chromium binary.'
    );
  }
}

/**
 * `describe` for tests that need the browser. Without one: skipped with the reason printed, or,
 * with REQUIRE_BROWSER=1, a failing test whose error is that reason.
 */
export function describeWithBrowser(name: string, body: () => void): void {
  const missing = browserMissing();
  if (!missing) return describe(name, body);
  if (process.env.REQUIRE_BROWSER === '1') {
    describe(name, () => {
      it('needs Chromium (REQUIRE_BROWSER=1)', () => {
        throw new Error(missing);
      });
    });
    return;
  }
  console.log(`${name}: skipped. ${missing}`);
  describe.skip(name, body);
}

/** A launched browser with its own profile. */
export interface TestBrowser {
  context: BrowserContext;
  /** A new tab that records page errors and console errors (CSP violations show up there). */
  newPage(): Promise<Page & { errors: string[] }>;
  close(): Promise<void>;
}

/** Launches Chromium headless with {@link CHROMIUM_FLAGS} and a fresh user-data directory. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'console-browser-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_FLAGS],
      timeout: 60_000,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    async newPage() {
      const page = (await context.newPage()) as Page & { errors: string[] };
      page.errors = [];
      page.on('pageerror', (err) => page.errors.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') page.errors.push(`console: ${msg.text()}`);
      });
      return page;
    },
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
