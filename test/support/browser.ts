/**
 * Real Chromium for the viewer's end-to-end tests: Debian's /usr/bin/chromium driven by
 * playwright-core (CI installs it in .ci/run). Screenshots go to test-artifacts/viewer/ so a
 * person can look at what the tests saw.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.ZONESCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_PRESENT = existsSync(CHROMIUM_PATH);
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

/** Where the tests' screenshots are written (git-ignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/viewer/', import.meta.url));

/** Whether the viewer bundle exists (npm test builds it before vitest runs). */
export const VIEWER_BUILT = existsSync(fileURLToPath(new URL('../../dist/viewer/index.html', import.meta.url)));

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
}

/** A page of `width` x `height` CSS px at device pixel ratio `dpr`, with page errors collected. */
export async function newPage(browser: Browser, o: { width?: number; height?: number; dpr?: number } = {}): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: o.width ?? 1600, height: o.height ?? 900 }, deviceScaleFactor: o.dpr ?? 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  return { page, errors };
}

/** Saves a full-page screenshot as test-artifacts/viewer/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}${name}.png`;
  await page.screenshot({ path });
  return path;
}

/** Why the browser tests are skipped here, or null when they run. */
export function browserSkipReason(): string | null {
  if (!CHROMIUM_PRESENT) return `Chromium is not at ${CHROMIUM_PATH} (.ci/run installs Debian's chromium)`;
  if (!VIEWER_BUILT) return 'dist/viewer is not built (npm test runs npm run build:viewer first)';
  return null;
}
