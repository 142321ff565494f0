/**
 * The Compare panel in real Chromium against a real server holding two synthetic captures
 * (imported through POST /api/sessions/import) where one zone got slower, one faster, one is
 * gone and one is new: the table sorted by a change (header clicks) lists the names in the API's
 * order for that sort, changes are red (slower) and green (faster), a row click overlays both
 * duration histograms with every zone counted, and the flame graph is coloured by change. The
 * panel keeps the side dock at the width the user dragged it to (its table scrolls inside its own
 * box) and uses the whole page when maximized. Screenshots: test-artifacts/viewer/compare.png,
 * compare-dock.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { syntheticCapture } from './support/compare-captures.js';
import { getJson, type Json } from './support/server-api.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`viewer-compare: skipped: ${skipReason}`);

const A = syntheticCapture([
  { name: 'Steady', count: 200, durNs: (i) => 1000 + i },
  { name: 'Hot', count: 200, durNs: (i) => 1000 + i },
  { name: 'Cooling', count: 200, durNs: (i) => 3000 + i },
  { name: 'More', count: 100, durNs: () => 800 },
  { name: 'Gone', count: 50, durNs: () => 500 },
]);
const B = syntheticCapture([
  { name: 'Steady', count: 200, durNs: (i) => 1000 + i },
  { name: 'Hot', count: 200, durNs: (i) => 1500 + i },
  { name: 'Cooling', count: 200, durNs: (i) => 2000 + i },
  { name: 'More', count: 150, durNs: () => 800 },
  { name: 'New', count: 30, durNs: () => 700 },
]);

async function upload(server: ServerHandle, name: string, body: Uint8Array): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/import?name=${name}`, { method: 'POST', body: Buffer.from(body) });
  expect(res.status).toBe(201);
  return ((await res.json()) as Json).id;
}

const names = (page: Page) => page.locator('#panel-compare tbody tr[data-name]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.name!));

describe.skipIf(skipReason !== null)('the Compare panel', () => {
  let server: ServerHandle;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let a: string;
  let b: string;

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
    a = await upload(server, 'before.zscap', A);
    b = await upload(server, 'after.zscap', B);
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser, { width: 1600, height: 1000, dpr: 1 }));
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${b}`);
    await page.waitForFunction((id) => (window as unknown as { __zs: Json }).__zs?.app?.sessionId === id && (window as unknown as { __zs: Json }).__zs.app.sessions.length >= 2, b);
    await page.click('#tab-compare');
    await page.locator('#compare-baseline').selectOption(a);
    await page.waitForSelector('#panel-compare[data-state="ready"] tbody tr[data-name]');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const api = (q: string) => getJson(server, `/api/compare?a=${a}&b=${b}&limit=10000${q}`);

  it("lists the names in the API's order, by default and after sorting by a change either way", async () => {
    expect(await names(page)).toEqual((await api('')).rows.map((r: Json) => r.name));
    await page.click('#panel-compare th[data-sort-key="total-pct"]');
    const desc = (await api('&sort=total-pct&order=desc')).rows.map((r: Json) => r.name);
    expect(desc.slice(0, 2)).toEqual(['More', 'Hot']); // +50 %, +45 %
    expect(await names(page)).toEqual(desc);
    await page.click('#panel-compare th[data-sort-key="total-pct"]');
    expect(await names(page)).toEqual((await api('&sort=total-pct&order=asc')).rows.map((r: Json) => r.name));
    await page.click('#panel-compare th[data-sort-key="median-change"]');
    expect(await names(page)).toEqual((await api('&sort=median-change&order=desc')).rows.map((r: Json) => r.name));
    expect(await page.locator('#panel-compare th[data-sort-key="median-change"]').getAttribute('aria-sort')).toBe('descending');
    expect(errors).toEqual([]);
  });

  it('shows slower in red and faster in green, and the names on one side only', async () => {
    const cell = (name: string, col: string) => page.locator(`#panel-compare tr[data-name="${name}"] td[data-col="${col}"]`);
    expect(await cell('Hot', 'median-pct').textContent()).toBe('+45.5%');
    expect(await cell('Hot', 'median-pct').getAttribute('class')).toContain('worse');
    expect(await cell('Hot', 'median-pct').evaluate((e) => getComputedStyle(e).color)).toBe('rgb(255, 123, 114)');
    expect(await cell('Cooling', 'median-pct').getAttribute('class')).toContain('better');
    expect(await cell('Cooling', 'median-pct').evaluate((e) => getComputedStyle(e).color)).toBe('rgb(86, 211, 100)');
    expect(await cell('Steady', 'median-pct').textContent()).toBe('0.0%');
    expect(await cell('Gone', 'count-a').textContent()).toBe('50');
    expect(await cell('Gone', 'count-b').textContent()).toBe('—');
    expect(await cell('New', 'count-b').textContent()).toBe('30');
    expect(await page.locator('#panel-compare .compare-summary').textContent()).toContain('1 only in A, 1 only in B');
  });

  it('overlays both duration histograms of a clicked name, every zone counted, and colours the flame graph by change', async () => {
    await page.click('#panel-compare tr[data-name="Hot"]');
    await page.waitForSelector('#compare-histogram[data-state="ready"] .cmp-hist-bucket');
    const buckets = await page.locator('#compare-histogram .cmp-hist-bucket').evaluateAll((els) => els.map((e) => [Number((e as HTMLElement).dataset.a), Number((e as HTMLElement).dataset.b)]));
    const hist = await getJson(server, `/api/compare/histogram?a=${a}&b=${b}&name=Hot`);
    expect(buckets).toEqual(hist.a.counts.map((c: number, i: number) => [c, hist.b.counts[i]]));
    expect(buckets.reduce((s, [x]) => s + x!, 0)).toBe(200);
    expect(buckets.reduce((s, [, y]) => s + y!, 0)).toBe(200);
    // A's zones (1000-1199 ns) sit in lower buckets than B's (1500-1699 ns)
    const lastA = buckets.map(([x]) => x! > 0).lastIndexOf(true);
    const firstB = buckets.findIndex(([, y]) => y! > 0);
    expect(lastA).toBeLessThan(firstB);

    await page.waitForSelector('#compare-flame .cmp-flame-node[data-name="Hot"]');
    const rgb = (name: string) => page.locator(`#compare-flame .cmp-flame-node[data-name="${name}"]`).first().evaluate((e) => Number((e as HTMLElement).dataset.rgb));
    const hot = await rgb('Hot');
    const cooling = await rgb('Cooling');
    expect(hot >> 16).toBeGreaterThan((hot >> 8) & 0xff); // red
    expect((cooling >> 8) & 0xff).toBeGreaterThan(cooling >> 16); // green
    expect(await rgb('Steady')).toBe(0x6b707a); // unchanged: grey
    await screenshot(page, 'compare');
    expect(errors).toEqual([]);
  });

  it("keeps the side dock at the user's width to the pixel: nothing overflows the panel outside the table's own scroll", async () => {
    await page.click('#tab-details');
    // drag the resizer so the dock is about 520 px wide
    const r = (await page.locator('#panel-resizer').boundingBox())!;
    await page.mouse.move(r.x + 2, r.y + 200);
    await page.mouse.down();
    await page.mouse.move(1600 - 520, r.y + 200, { steps: 4 });
    await page.mouse.up();
    const side = () => page.locator('#side').evaluate((e) => e.getBoundingClientRect().width);
    const chosen = await side();
    expect(Math.abs(chosen - 520)).toBeLessThan(12);
    await page.click('#tab-compare');
    await page.waitForSelector('#panel-compare[data-state="ready"] tbody tr[data-name]');
    await page.waitForSelector('#compare-flame .cmp-flame-node');
    expect(await side()).toBe(chosen);
    const boxes = () =>
      page.evaluate(() => {
        const body = document.getElementById('panel-body')!;
        const wrap = document.getElementById('compare-table-wrap')!;
        const panel = document.getElementById('panel-compare')!;
        const pr = panel.getBoundingClientRect();
        // every element of the panel outside the table's scroll box lies within the panel horizontally
        const outside = [...panel.querySelectorAll<HTMLElement>('*')].filter((e) => !wrap.contains(e) && e.getClientRects().length > 0).map((e) => e.getBoundingClientRect()).filter((b) => b.width > 0 && (b.left < pr.left - 0.5 || b.right > pr.right + 0.5)).length;
        return { bodyScroll: body.scrollWidth, bodyClient: body.clientWidth, wrapScroll: wrap.scrollWidth, wrapClient: wrap.clientWidth, outside, overflowX: getComputedStyle(wrap).overflowX };
      });
    const docked = await boxes();
    expect(docked.bodyScroll).toBeLessThanOrEqual(docked.bodyClient);
    expect(docked.outside).toBe(0);
    expect(docked.overflowX).toBe('auto');
    // the table is wider than 520 px: it scrolls in its own box
    expect(docked.wrapScroll).toBeGreaterThan(docked.wrapClient);
    await screenshot(page, 'compare-dock');
    // maximized: the same panel uses the whole width
    await page.click('#panel-maximize');
    await expect.poll(async () => (await boxes()).wrapClient).toBeGreaterThan(docked.wrapClient + 500);
    const max = await boxes();
    expect(max.bodyScroll).toBeLessThanOrEqual(max.bodyClient);
    expect(max.outside).toBe(0);
    await page.keyboard.press('Escape');
    await expect.poll(side).toBe(chosen);
    expect(errors).toEqual([]);
  });
});
