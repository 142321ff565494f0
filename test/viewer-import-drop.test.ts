/**
 * Drag and drop onto the viewer (viewer/panels/import-drop.ts) in real Chromium: a Chrome trace
 * dropped on the page is uploaded to POST /api/sessions/import and the new session opens; a
 * malformed file shows the server's error with its line and column. The drop is a real
 * DragEvent carrying a File in its DataTransfer, dispatched on the page.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { tracyFixturePath } from './support/fixture-paths.js';

const BASIC = tracyFixturePath('chrome/basic.json');
const skipReason = !existsSync(BASIC) ? '../shared/fixtures/tracy/chrome is absent' : browserSkipReason();
if (skipReason) console.warn(`viewer-import-drop: skipped: ${skipReason}`);

/** Drops a file named `name` holding `text` on the page body, as a user's drag and drop does. */
async function dropFile(page: Page, name: string, text: string): Promise<void> {
  await page.evaluate(
    ({ name, text }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type: 'application/json' }));
      for (const type of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { name, text },
  );
}

describe.skipIf(skipReason !== null)('dropping a file on the viewer', () => {
  let server: ServerHandle;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser));
    await page.goto(`http://127.0.0.1:${server.httpPort}/`);
    await page.waitForFunction(() => (window as unknown as { __zs?: { app: { connected: boolean } } }).__zs?.app.connected === true);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('uploads a Chrome trace and opens the new session', async () => {
    await dropFile(page, 'basic.json', readFileSync(BASIC, 'utf8'));
    await page.waitForFunction(() => document.getElementById('import-status')?.textContent?.startsWith('Opened basic.json') === true, undefined, { timeout: 20_000 });
    const status = await page.textContent('#import-status');
    expect(status).toMatch(/Opened basic\.json: 6 zones/);
    const id = server.registry.list().find((s) => s.source === 'import')!.id;
    expect(await page.evaluate(() => (window as unknown as { __zs: { app: { sessionId: string } } }).__zs.app.sessionId)).toBe(id);
    expect(await page.isHidden('#import-overlay')).toBe(true);
    await screenshot(page, 'import-drop-opened');
    expect(errors).toEqual([]);
  });

  it('shows the server error, with the line and column of malformed JSON', async () => {
    await dropFile(page, 'broken.json', '[{"ph":"X","name":"A","tid":1,"ts":0,"dur":5},\n{"ph":"X" "name":"B"}]');
    await page.waitForFunction(() => document.getElementById('import-status')?.classList.contains('error') === true, undefined, { timeout: 20_000 });
    expect(await page.textContent('#import-status')).toMatch(/^Could not open broken\.json: malformed JSON at line 2, column 11 \(byte 57\): expected ',' or '}', found '"'/);
    await screenshot(page, 'import-drop-error');
  });
});
