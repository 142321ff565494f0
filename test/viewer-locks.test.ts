/**
 * Lock lanes and the Locks panel in real Chromium against a server that dialed the medium
 * recording (two workers taking the SharedLock mutex 24,000 times): the longest contended
 * hold is drawn in the contended colour at its x on its thread's lock lane, hovering it names
 * the lock, thread, wait and hold, and the Locks panel shows what GET /locks says and jumps to
 * the worst wait. Screenshots land in test-artifacts/viewer/.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { LOCK_CSS } from '../viewer/timeline/lock-painter.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitSessionEnded, type Json } from './support/server-api.js';
import { listenRecordedClient, type RecordedClient } from './support/tracy-replay.js';

const skipReason = !FIXTURES_PRESENT ? '../shared/fixtures/tracy is absent' : browserSkipReason();
if (skipReason) console.warn(`viewer-locks: skipped: ${skipReason}`);

const rgbOf = (css: string) => [1, 3, 5].map((i) => parseInt(css.slice(i, i + 2), 16));

/** Waits until the page drew an update whose lock lanes cover the view. */
async function waitLocksDrawn(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const zs = (window as unknown as { __zs: Json }).__zs;
      const d = zs?.app?.data;
      if (!d || !d.locks?.length) return false;
      const { t0, t1 } = zs.app.viewport;
      return d.t0 <= t0 + 1 && d.t1 >= Math.min(t1, d.lastNs) - 1 && zs.timeline.draws > 0;
    },
    undefined,
    { timeout: 20_000 },
  );
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

describe.skipIf(skipReason !== null)('lock lanes and the Locks panel on a recorded Tracy session', () => {
  let server: ServerHandle;
  let app: RecordedClient;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let id: string;

  beforeAll(async () => {
    app = await listenRecordedClient(readFileSync(fixture('medium.client.bin')));
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port: app.port }] });
    await app.done;
    id = await waitFor('the session', () => server.registry.list()[0]?.id);
    await waitSessionEnded(server, id);
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser, { width: 1600, height: 900, dpr: 1 }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  const base = () => `http://127.0.0.1:${server.httpPort}/`;

  it('draws the longest contended hold in the contended colour at its x on its lock lane, and names it on hover', async () => {
    // every acquisition, from the API: the one with the longest contended part
    const all = await getJson(server, `/api/sessions/${id}/locks/intervals?nsPerPx=0`);
    const lock = all.locks[0];
    let best = { thread: 0, start: 0, end: 0, wait: 0, contended: -1 };
    for (const t of lock.threads) {
      for (let i = 0; i < t.startNs.length; i++) {
        if (t.contendedNs[i] > best.contended) best = { thread: t.thread, start: t.startNs[i], end: t.endNs[i], wait: t.waitNs[i], contended: t.contendedNs[i] };
      }
    }
    expect(best.contended).toBeGreaterThan(0);
    const c0 = best.end - best.contended;
    // the acquisition fills the middle half of the view
    const span = best.end - best.start;
    await page.goto(`${base()}?session=${id}&t0=${Math.floor(best.start - span / 2)}&t1=${Math.ceil(best.end + span / 2)}`);
    await waitLocksDrawn(page);
    const g = await page.evaluate(
      ({ b, c0, lockId }) => {
        const tl = (window as unknown as { __zs: Json }).__zs.timeline;
        return { xc0: tl.timeToX(c0), xc1: tl.timeToX(b.end), xs: tl.timeToX(b.start), y: tl.lockY(b.thread, lockId) };
      },
      { b: best, c0, lockId: lock.id },
    );
    expect(g.y).not.toBeNull();
    expect(g.xc1 - g.xc0).toBeGreaterThan(4);
    const pixelAt = (x: number, y: number) =>
      page.evaluate(
        ({ x, y }) => {
          const ctx = (document.getElementById('timeline-canvas') as HTMLCanvasElement).getContext('2d')!;
          return Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3));
        },
        { x, y },
      );
    expect(await pixelAt((g.xc0 + g.xc1) / 2, g.y!)).toEqual(rgbOf(LOCK_CSS.contended));
    // its wait, from start to obtain, in the waiting colour when it is wide enough to see
    const xObtain = g.xs + ((g.xc1 - g.xs) * best.wait) / span;
    if (xObtain - g.xs >= 4) expect(await pixelAt((g.xs + xObtain) / 2, g.y!)).toEqual(rgbOf(LOCK_CSS.wait));
    await screenshot(page, 'lock-contended');

    const box = (await page.locator('#timeline-canvas').boundingBox())!;
    await page.mouse.move(box.x + (g.xc0 + g.xc1) / 2, box.y + g.y!);
    const tip = page.locator('#tooltip');
    await expect.poll(() => tip.textContent()).toContain('SharedLock');
    const text = (await tip.textContent()) ?? '';
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    expect(text).toContain(threads.find((t) => t.id === best.thread)!.name);
    expect(text).toContain('wait');
    expect(text).toContain('hold');
    expect(text).toContain('contended');
    expect(errors).toEqual([]);
  });

  it('lists every lock in the Locks panel with the API\'s figures, and jumps to the worst wait on click', async () => {
    await page.goto(`${base()}?session=${id}`);
    await waitLocksDrawn(page);
    const api = (await getJson(server, `/api/sessions/${id}/locks`)).locks[0];
    await page.locator('#tab-locks').click();
    const row = page.locator('#panel-locks tr[data-lock]');
    await row.first().waitFor({ timeout: 10_000 });
    expect(await row.count()).toBe(1);
    const cells = await row.first().locator('td[data-col]').evaluateAll((tds) => Object.fromEntries(tds.map((td) => [(td as HTMLElement).dataset.col, Number((td as HTMLElement).dataset.value ?? (td as HTMLElement).dataset.ns)])));
    expect(cells).toEqual({ acquisitions: api.acquisitions, contended: api.contended, waitTotal: api.waitTotalNs, waitMax: api.waitMaxNs, holdTotal: api.holdTotalNs, holdMax: api.holdMaxNs });
    expect(await row.first().locator('td').first().textContent()).toBe('SharedLock');
    await screenshot(page, 'locks-panel');
    await row.first().click();
    const w = api.worstWait;
    await page.waitForFunction((ns) => {
      const v = (window as unknown as { __zs: Json }).__zs.app.viewport;
      return v.t0 < ns && v.t1 > ns && v.t1 - v.t0 < 1e7;
    }, w.startNs);
    await waitLocksDrawn(page);
    await screenshot(page, 'locks-worst-wait');
    expect(errors).toEqual([]);
  });
});
