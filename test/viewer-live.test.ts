/**
 * Follow-live in real Chromium: an app instrumented with our SDK streams into a real server
 * while the page is open; zones that end after the page loaded appear on the timeline, the view
 * keeps the newest data in it until the user pans, and plots update as samples arrive.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../client/node.js';
import type { TracyClient } from '../client/types.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { sleep, waitFor, type Json } from './support/server-api.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`viewer-live: skipped: ${skipReason}`);

/** Names of the source locations of the zone items the timeline drew last. */
const drawnNames = (page: Page) =>
  page.evaluate(() => {
    const zs = (window as unknown as { __zs: Json }).__zs;
    const names = new Set<string>();
    for (const item of zs.timeline.visibleItems()) if (item.srcloc >= 0) names.add(zs.app.srclocs[item.srcloc]?.name ?? `#${item.srcloc}`);
    return [...names];
  });

describe.skipIf(skipReason !== null)('follow live', () => {
  let server: ServerHandle;
  let tracy: TracyClient;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let running = true;
  let late = false;
  let loop: Promise<void>;

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    tracy = await connect({ port: server.ingestPort!, appName: 'live-e2e' });
    tracy.setThreadName('main');
    // ~100 zones a second, a plot sample with each; 'late zone' only once the page is up
    loop = (async () => {
      let i = 0;
      while (running) {
        const z = tracy.zoneBegin(late ? 'late zone' : 'early zone');
        await sleep(8);
        tracy.plot('queue depth', i % 50);
        tracy.zoneEnd(z);
        if (++i % 20 === 0) tracy.frameMark();
        await sleep(2);
      }
    })();
    await waitFor('the session', () => server.registry.list()[0]?.store.zonesEnded);
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser));
  }, 60_000);

  afterAll(async () => {
    running = false;
    await loop;
    await tracy?.close();
    await browser?.close();
    await server?.close();
  });

  it('opens the newest live session following it, and draws zones that end after the page loaded', async () => {
    await page.goto(`http://127.0.0.1:${server.httpPort}/?span=2000000000`);
    await page.waitForFunction(() => (window as unknown as { __zs: Json }).__zs?.timeline?.visibleItems().length > 0, undefined, { timeout: 20_000 });
    expect(await page.locator('#follow-live').isChecked()).toBe(true);
    expect(await drawnNames(page)).not.toContain('late zone');
    late = true;
    await expect.poll(() => drawnNames(page), { timeout: 10_000 }).toContain('late zone');
    // the view ends at the session's newest time and keeps moving with it
    const a = await page.evaluate(() => ({ ...(window as unknown as { __zs: Json }).__zs.app.viewport }));
    const following = () =>
      page.evaluate(() => {
        const app = (window as unknown as { __zs: Json }).__zs.app;
        return { ...app.viewport, lastNs: app.data.lastNs };
      });
    await expect.poll(async () => (await following()).t1, { timeout: 10_000 }).toBeGreaterThan(a.t1);
    const b = await following();
    expect(b.t1).toBe(b.lastNs);
    // the span asked for in the URL, or the whole session while it is younger than that
    expect(b.t0).toBe(Math.max(0, b.lastNs - 2e9));
    await screenshot(page, 'follow-live');
    expect(errors).toEqual([]);
  });

  it('stops following when the user pans, and the view then stays where the user put it', async () => {
    const box = (await page.locator('#timeline-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 150, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    expect(await page.locator('#follow-live').isChecked()).toBe(false);
    const a = await page.evaluate(() => ({ ...(window as unknown as { __zs: Json }).__zs.app.viewport }));
    await sleep(500);
    const b = await page.evaluate(() => ({ ...(window as unknown as { __zs: Json }).__zs.app.viewport }));
    expect(b).toEqual(a);
    // ticking follow-live again jumps back to the newest data
    await page.locator('#follow-live').check();
    await expect.poll(() => page.evaluate(() => {
      const app = (window as unknown as { __zs: Json }).__zs.app;
      return app.viewport.t1 === app.data.lastNs && app.follow;
    })).toBe(true);
  });

  it('updates the plot as samples arrive', async () => {
    const count = () => page.evaluate(() => (window as unknown as { __zs: Json }).__zs.plots.charts.get('queue depth')?.data?.[0]?.length ?? 0);
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(10);
    const lastX = () => page.evaluate(() => {
      const d = (window as unknown as { __zs: Json }).__zs.plots.charts.get('queue depth').data[0];
      return d[d.length - 1] as number;
    });
    const first = await lastX();
    await expect.poll(lastX, { timeout: 5_000 }).toBeGreaterThan(first);
  });
});
