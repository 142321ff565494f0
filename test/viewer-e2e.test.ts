/**
 * The viewer in real Chromium (Debian's, driven by playwright-core) against a real server that
 * dialed a real Tracy recording (medium: 202,201 zones on 4 threads, frames, plots, 9602
 * messages) through --connect. What the page shows is checked against the REST API: thread
 * names, a known long zone's pixels and details, zoom/pan/keys, statistics, flame graph root,
 * find zone, a uPlot plot's data. Screenshots land in test-artifacts/viewer/.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { srclocRgb } from '../viewer/colors.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { FIXTURES_PRESENT, fixture, readTruth } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitSessionEnded, type Json } from './support/server-api.js';
import { listenRecordedClient, type RecordedClient } from './support/tracy-replay.js';
import { getAllZones } from './support/zone-pages.js';

const skipReason = !FIXTURES_PRESENT ? '../shared/fixtures/tracy is absent' : browserSkipReason();
if (skipReason) console.warn(`viewer-e2e: skipped: ${skipReason}`);

interface LongZone {
  thread: number;
  depth: number;
  row: number;
  srcloc: number;
  startNs: number;
  endNs: number;
}

/** The longest zone at depth 0 of any thread, from GET /zones with every zone listed. */
async function longestTopZone(server: ServerHandle, id: string): Promise<LongZone> {
  const z = await getAllZones(server, id);
  let best: LongZone | null = null;
  for (const t of z.threads) {
    const d = t.depths.find((x: Json) => x.depth === 0);
    if (!d) continue;
    for (let i = 0; i < d.startNs.length; i++) {
      const dur = d.endNs[i] - d.startNs[i];
      if (!best || dur > best.endNs - best.startNs) best = { thread: t.thread, depth: 0, row: d.row[i], srcloc: d.srcloc[i], startNs: d.startNs[i], endNs: d.endNs[i] };
    }
  }
  if (!best) throw new Error('no zone at depth 0');
  return best;
}

/** Page-side state through the handle main.ts exposes (window.__zs). */
const view = (page: Page) =>
  page.evaluate(() => {
    const zs = (window as unknown as { __zs: Json }).__zs;
    return { t0: zs.app.viewport.t0 as number, t1: zs.app.viewport.t1 as number, follow: zs.app.follow as boolean, labels: zs.timeline.rulerLabels() as string[] };
  });

/** Waits until the timeline drew data that covers the view (app.data loaded, draw after it). */
async function waitDrawn(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const zs = (window as unknown as { __zs: Json }).__zs;
      const d = zs?.app?.data;
      if (!d || zs.app.srclocs.length === 0) return false;
      const { t0, t1 } = zs.app.viewport;
      return d.t0 <= t0 + 1 && d.t1 >= Math.min(t1, d.lastNs) - 1 && zs.timeline.visibleItems().length > 0 && zs.timeline.draws > 0;
    },
    undefined,
    { timeout: 20_000 },
  );
  // one more animation frame so the draw of the newest data happened
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

describe.skipIf(skipReason !== null)('the viewer on a recorded Tracy session', () => {
  let server: ServerHandle;
  let app: RecordedClient;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let id: string;
  let lastNs: number;
  let long: LongZone;
  let srclocs: Json[];

  beforeAll(async () => {
    app = await listenRecordedClient(readFileSync(fixture('medium.client.bin')));
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port: app.port }] });
    await app.done;
    id = await waitFor('the session', () => server.registry.list()[0]?.id);
    lastNs = (await waitSessionEnded(server, id)).lastNs;
    long = await longestTopZone(server, id);
    srclocs = await getJson(server, `/api/sessions/${id}/srclocs`);
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser, { width: 1600, height: 900, dpr: 1 }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  const base = () => `http://127.0.0.1:${server.httpPort}/`;

  it('shows the session, its app and its thread names as track headers', async () => {
    await page.goto(`${base()}?session=${id}`);
    await waitDrawn(page);
    const picker = await page.locator('#session-picker').inputValue();
    expect(picker).toBe(id);
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    const headers = await page.locator('.track-header[data-thread]').evaluateAll((els) => els.map((e) => ({ id: Number((e as HTMLElement).dataset.thread), text: e.textContent ?? '' })));
    expect(headers.map((h) => h.id).sort()).toEqual(threads.map((t) => t.id).sort());
    for (const t of threads) expect(headers.find((h) => h.id === t.id)!.text).toContain(t.name ?? `thread ${t.id}`);
    await screenshot(page, 'timeline-fit');
    expect(errors).toEqual([]);
  });

  it('draws a known long zone at its place in its colour, and shows its details to the nanosecond on click', async () => {
    const dur = long.endNs - long.startNs;
    // the zone fills the middle half of the view
    await page.goto(`${base()}?session=${id}&t0=${Math.round(long.startNs - dur / 2)}&t1=${Math.round(long.endNs + dur / 2)}`);
    await waitDrawn(page);
    const geometry = await page.evaluate(
      ({ z }) => {
        const tl = (window as unknown as { __zs: Json }).__zs.timeline;
        return { x0: tl.timeToX(z.startNs), x1: tl.timeToX(z.endNs), y: tl.zoneY(z.thread, z.depth), dpr: window.devicePixelRatio };
      },
      { z: long },
    );
    expect(geometry.y).not.toBeNull();
    expect(geometry.x1 - geometry.x0).toBeGreaterThan(400);
    const rgb = srclocRgb(srclocs[long.srcloc]);
    // sample a row of pixels 5 px above the row's centre (labels sit in the middle)
    const samples: number[][] = await page.evaluate(
      ({ g }) => {
        const canvas = document.getElementById('timeline-canvas') as HTMLCanvasElement;
        const ctx = canvas.getContext('2d')!;
        const out: number[][] = [];
        for (let i = 1; i < 20; i++) {
          const x = g.x0 + ((g.x1 - g.x0) * i) / 20;
          const p = ctx.getImageData(Math.round(x * g.dpr), Math.round((g.y - 5) * g.dpr), 1, 1).data;
          out.push([p[0]!, p[1]!, p[2]!]);
        }
        return out;
      },
      { g: geometry },
    );
    const close = (p: number[]) => Math.abs(p[0]! - ((rgb >> 16) & 255)) <= 40 && Math.abs(p[1]! - ((rgb >> 8) & 255)) <= 40 && Math.abs(p[2]! - (rgb & 255)) <= 40;
    expect(samples.filter(close).length, `pixels ${JSON.stringify(samples)} vs #${rgb.toString(16)}`).toBeGreaterThanOrEqual(17);
    await screenshot(page, 'timeline-long-zone');

    const box = (await page.locator('#timeline-canvas').boundingBox())!;
    await page.mouse.click(box.x + (geometry.x0 + geometry.x1) / 2, box.y + geometry.y!);
    const details = await getJson(server, `/api/sessions/${id}/zone?thread=${long.thread}&depth=${long.depth}&row=${long.row}`);
    await page.locator('#panel-details [data-field="duration"]').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('#panel-details [data-field="name"]').textContent()).toContain(details.name);
    expect(Number(await page.locator('#panel-details [data-field="duration"]').getAttribute('data-ns'))).toBe(details.durNs);
    expect(await page.locator('#panel-details [data-field="duration"]').textContent()).toContain(details.durNs.toLocaleString('en-US'));
    expect(Number(await page.locator('#panel-details [data-field="start"]').getAttribute('data-ns'))).toBe(details.startNs);
    expect(Number(await page.locator('#panel-details [data-field="self"]').getAttribute('data-ns'))).toBe(details.selfNs);
    expect(await page.locator('#panel-details [data-field="thread"]').textContent()).toContain(details.threadName);
    await screenshot(page, 'details-panel');
    expect(errors).toEqual([]);
  });

  it('zooms at the cursor with the wheel, pans by dragging, and follows W/S/A/D/F', async () => {
    await page.goto(`${base()}?session=${id}&t0=0&t1=${lastNs}`);
    await waitDrawn(page);
    const box = (await page.locator('#timeline-canvas').boundingBox())!;
    const before = await view(page);
    const visibleBefore = await page.evaluate(() => (window as unknown as { __zs: Json }).__zs.timeline.visibleItems().length);

    // wheel zoom in at 3/4 of the width: the time under the cursor stays under the cursor
    const cx = box.x + box.width * 0.75;
    const cy = box.y + box.height / 2;
    const tUnder = before.t0 + (before.t1 - before.t0) * ((cx - box.x) / box.width);
    await page.mouse.move(cx, cy);
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -120);
    await expect.poll(async () => (await view(page)).t1 - (await view(page)).t0).toBeLessThan((before.t1 - before.t0) / 4);
    const zoomed = await view(page);
    const tUnderAfter = zoomed.t0 + (zoomed.t1 - zoomed.t0) * ((cx - box.x) / box.width);
    expect(Math.abs(tUnderAfter - tUnder)).toBeLessThan((zoomed.t1 - zoomed.t0) * 0.02);
    expect(zoomed.labels).not.toEqual(before.labels);
    expect(zoomed.follow).toBe(false);
    await waitDrawn(page);
    const visibleZoomed: Json[] = await page.evaluate(() => (window as unknown as { __zs: Json }).__zs.timeline.visibleItems());
    for (const item of visibleZoomed) {
      expect(item.endNs).toBeGreaterThanOrEqual(zoomed.t0);
      expect(item.startNs).toBeLessThanOrEqual(zoomed.t1);
    }
    expect(visibleZoomed.length).not.toBe(visibleBefore);
    await screenshot(page, 'timeline-zoomed');

    // drag right by 200 px: the view moves 200 px worth of time earlier
    const nsPerPx = (zoomed.t1 - zoomed.t0) / box.width;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx - 100, cy, { steps: 5 });
    await page.mouse.move(cx - 200, cy, { steps: 5 });
    await page.mouse.up();
    const panned = await view(page);
    expect(panned.t1 - panned.t0).toBeCloseTo(zoomed.t1 - zoomed.t0, -1);
    expect(Math.abs(panned.t0 - (zoomed.t0 + 200 * nsPerPx))).toBeLessThan(4 * nsPerPx);

    // keys: F fits the session, W zooms in, S out, D pans right, A left
    await page.locator('body').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
    await page.keyboard.press('f');
    await expect.poll(async () => (await view(page)).t1 - (await view(page)).t0).toBeGreaterThan(lastNs * 0.9);
    const fit = await view(page);
    await page.keyboard.press('w');
    await expect.poll(async () => (await view(page)).t1 - (await view(page)).t0).toBeLessThan(fit.t1 - fit.t0);
    const w = await view(page);
    await page.keyboard.press('s');
    await expect.poll(async () => (await view(page)).t1 - (await view(page)).t0).toBeGreaterThan(w.t1 - w.t0);
    const s = await view(page);
    await page.keyboard.press('d');
    await expect.poll(async () => (await view(page)).t0).toBeGreaterThan(s.t0);
    const d = await view(page);
    await page.keyboard.press('a');
    await expect.poll(async () => (await view(page)).t0).toBeLessThan(d.t0);
    expect(errors).toEqual([]);
  });

  it('keeps session and viewport in the URL, so the same view opens from it', async () => {
    const t0 = Math.round(long.startNs);
    const t1 = Math.round(long.endNs);
    await page.goto(`${base()}?session=${id}&t0=${t0}&t1=${t1}`);
    await waitDrawn(page);
    const v = await view(page);
    expect(v.t0).toBe(t0);
    expect(v.t1).toBe(t1);
    const box = (await page.locator('#timeline-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 240);
    await expect.poll(async () => (await view(page)).t1 - (await view(page)).t0).toBeGreaterThan(t1 - t0);
    // the URL follows the view (written at most every 200 ms)
    const moved = await view(page);
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('t0'))).toBe(String(Math.round(moved.t0)));
    const search = new URLSearchParams(await page.evaluate(() => location.search));
    expect(search.get('session')).toBe(id);
    expect(Number(search.get('t0'))).toBe(Math.round(moved.t0));
    expect(Number(search.get('t1'))).toBe(Math.round(moved.t1));
    // and opening that URL shows the same view
    const { page: other } = await newPage(browser);
    await other.goto(`${base()}${await page.evaluate(() => location.search)}`);
    await waitDrawn(other);
    const same = await view(other);
    expect([same.t0, same.t1]).toEqual([Math.round(moved.t0), Math.round(moved.t1)]);
    await other.context().close();
  });

  it("shows statistics per source location equal to the API's, sortable, and highlights a row's zones", async () => {
    await page.goto(`${base()}?session=${id}&t0=0&t1=${lastNs}`);
    await waitDrawn(page);
    await page.locator('#tab-stats').click();
    const api: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
    await page.locator('#panel-stats tr[data-srcloc]').first().waitFor({ timeout: 15_000 });
    const rows = await page.locator('#panel-stats tr[data-srcloc]').evaluateAll((trs) =>
      trs.map((tr) => ({
        srcloc: Number((tr as HTMLElement).dataset.srcloc),
        count: Number(tr.querySelector('[data-count]')?.getAttribute('data-count')),
        ns: [...tr.querySelectorAll('[data-ns]')].map((c) => Number(c.getAttribute('data-ns'))),
      })),
    );
    // the table shows the first 500 rows of its order and says how many there are
    expect(rows.length).toBe(Math.min(api.length, 500));
    if (api.length > 500) expect(Number(await page.locator('#panel-stats .table-note').getAttribute('data-total'))).toBe(api.length);
    for (const row of rows) {
      const s = api.find((x) => x.srcloc === row.srcloc)!;
      expect(row.count).toBe(s.count);
      // total, self, mean, median, p99, max, in the table's column order
      expect(row.ns).toEqual([s.totalNs, s.selfNs, s.meanNs, s.medianNs, s.p99Ns, s.maxNs]);
    }
    // default order: total time, descending: the rows shown are the API's top ones
    const totals = rows.map((r) => r.ns[0]!);
    expect(totals).toEqual([...totals].sort((a, b) => b - a));
    expect(totals).toEqual(api.map((s) => s.totalNs as number).sort((a, b) => b - a).slice(0, rows.length));
    // sort by count
    await page.locator('#panel-stats th[data-sort-key="count"]').click();
    const counts = await page.locator('#panel-stats tr[data-srcloc] [data-count]').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('data-count'))));
    const sortedDesc = [...counts].sort((a, b) => b - a);
    const sortedAsc = [...counts].sort((a, b) => a - b);
    expect([sortedDesc, sortedAsc]).toContainEqual(counts);
    // click a row: its source location is highlighted in the timeline
    const first = page.locator('#panel-stats tr[data-srcloc]').first();
    const srcloc = Number(await first.getAttribute('data-srcloc'));
    await first.click();
    await expect.poll(() => page.evaluate(() => (window as unknown as { __zs: Json }).__zs.app.highlight)).toBe(srcloc);
    await screenshot(page, 'statistics-panel');
    expect(errors).toEqual([]);
  });

  it("draws the flame graph of the range with a root equal to the range's total", async () => {
    await page.locator('#tab-flame').click();
    const nodes: Json[] = await getJson(server, `/api/sessions/${id}/flame`);
    // the range's total, independently: every depth-0 zone's duration
    const z = await getAllZones(server, id);
    let total = 0;
    for (const t of z.threads) for (const d of t.depths) if (d.depth === 0) for (let i = 0; i < d.startNs.length; i++) total += d.endNs[i] - d.startNs[i];
    expect(nodes[0].totalNs).toBe(total);
    const root = page.locator('#panel-flame [data-node="0"]');
    await root.waitFor({ timeout: 15_000 });
    expect(Number(await root.getAttribute('data-total-ns'))).toBe(total);
    // a child is narrower than the root and as wide as its share
    const child = nodes[0].children[0];
    const rootBox = (await root.boundingBox())!;
    const childBox = (await page.locator(`#panel-flame [data-node="${child}"]`).boundingBox())!;
    expect(Math.abs(childBox.width - (rootBox.width * nodes[child].totalNs) / total)).toBeLessThan(2);
    await screenshot(page, 'flame-graph');
  });

  it('finds every zone of a name the API finds, with its histogram, and jumps to a match', async () => {
    const q = 'physics';
    const api = await getJson(server, `/api/sessions/${id}/search?q=${q}&limit=1000`);
    expect(api.total).toBeGreaterThan(0);
    await page.locator('#tab-find').click();
    const input = page.locator('#find-input');
    await input.fill(q);
    await input.press('Enter');
    await page.locator('#panel-find [data-match]').first().waitFor({ timeout: 15_000 });
    const matches = await page.locator('#panel-find [data-match]').evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-start-ns')), Number(e.getAttribute('data-dur-ns'))]));
    expect(matches).toEqual(api.matches.map((m: Json) => [m.startNs, m.durNs]));
    expect(Number(await page.locator('#panel-find .find-summary').getAttribute('data-total'))).toBe(api.total);
    // the histogram holds every match: its bars add up to the total
    const bars = await page.locator('#panel-find .hist-bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    expect(bars.reduce((a, b) => a + b, 0)).toBe(api.histogram.counts.reduce((a: number, b: number) => a + b, 0));
    await screenshot(page, 'find-zone');
    // jump to the 10th match: the view holds it
    const m = api.matches[Math.min(9, api.matches.length - 1)];
    await page.locator('#panel-find [data-match]').nth(Math.min(9, api.matches.length - 1)).click();
    await expect.poll(async () => {
      const v = await view(page);
      return v.t0 <= m.startNs && v.t1 >= m.startNs + m.durNs;
    }).toBe(true);
  });

  it("plots a Tracy plot with uPlot with the plot's values", async () => {
    await page.goto(`${base()}?session=${id}&t0=0&t1=${lastNs}`);
    await waitDrawn(page);
    const plots: Json[] = await getJson(server, `/api/sessions/${id}/plots?px=100`);
    const name = plots.find((p) => !p.memory)!.name as string;
    await page.waitForFunction((n) => (window as unknown as { __zs: Json }).__zs.plots.charts.get(n)?.data?.[0]?.length > 0, name, { timeout: 15_000 });
    const chart = await page.evaluate((n) => {
      const zs = (window as unknown as { __zs: Json }).__zs;
      const c = zs.plots.charts.get(n);
      const d = zs.app.data;
      return { x: Array.from(c.data[0] as ArrayLike<number>), y: Array.from(c.data[1] as ArrayLike<number>), t0: d.t0, t1: d.t1, nsPerPx: d.nsPerPx };
    }, name);
    const rest = (await getJson(server, `/api/sessions/${id}/plots?t0=${chart.t0}&t1=${chart.t1}&nsPerPx=${chart.nsPerPx}&edges=1&name=${encodeURIComponent(name)}`))[0];
    // a step plot (PlotConfig) holds its last value to the session's end: one more point there
    const held = rest.step && rest.timeNs[rest.timeNs.length - 1] < lastNs;
    expect(chart.x).toEqual(held ? [...rest.timeNs, lastNs] : rest.timeNs);
    expect(chart.y).toEqual(held ? [...rest.value, rest.value[rest.value.length - 1]] : rest.value);
    await expect.poll(() => page.locator(`.plot-header[data-plot="${name}"]`).count()).toBe(1);
    await screenshot(page, 'plots');
    expect(errors).toEqual([]);
  });

  it('lists the messages with a filter', async () => {
    await page.locator('#tab-messages').click();
    await page.locator('#panel-messages [data-message]').first().waitFor({ timeout: 15_000 });
    const input = page.locator('#messages-filter');
    const api = await getJson(server, `/api/sessions/${id}/messages?q=${encodeURIComponent('message 12')}&limit=2000`);
    expect(api.messages.length).toBeGreaterThan(0);
    await input.fill('message 12');
    await input.press('Enter');
    await expect.poll(() => page.locator('#panel-messages [data-message]').count(), { timeout: 15_000 }).toBe(api.messages.length);
    await screenshot(page, 'messages-panel');
  });

  it('exports the session and the selected range as Chrome JSON from the Export menu', async () => {
    await page.goto(`${base()}?session=${id}&t0=0&t1=${lastNs}`);
    await waitDrawn(page);
    await page.locator('#export-button').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-menu a', { hasText: /^Session: Chrome trace JSON \(Perfetto/ }).first().click()]);
    expect(download.suggestedFilename()).toMatch(/^fixture_app-.*\.json$/);
    const doc = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    const truth = readTruth('medium');
    expect(doc.traceEvents.filter((e: Json) => e.ph === 'B' && e.cat === 'zone').length).toBe(truth.zones_total);
    await screenshot(page, 'export-menu');
    // a range selection: the range entry becomes available and exports only that range
    await page.evaluate((r) => (window as unknown as { __zs: Json }).__zs.app.setSelection(r), { t0: Math.round(lastNs * 0.5), t1: Math.round(lastNs * 0.52) });
    await page.locator('#export-button').click();
    const rangeItem = page.locator('#export-menu a', { hasText: /^Selected range: Chrome/ });
    expect(await rangeItem.getAttribute('aria-disabled')).toBe('false');
    const [rangeDownload] = await Promise.all([page.waitForEvent('download'), rangeItem.click()]);
    expect(rangeDownload.suggestedFilename()).toMatch(/-range\.json$/);
    const part = JSON.parse(readFileSync((await rangeDownload.path())!, 'utf8'));
    const zones = part.traceEvents.filter((e: Json) => e.ph === 'B' && e.cat === 'zone');
    expect(zones.length).toBeGreaterThan(0);
    expect(zones.length).toBeLessThan(truth.zones_total / 10);
    expect(errors).toEqual([]);
  });

  it('draws a sharp timeline on a high-density screen (canvas backing store x devicePixelRatio)', async () => {
    const { page: hi } = await newPage(browser, { width: 1200, height: 700, dpr: 2 });
    await hi.goto(`${base()}?session=${id}&t0=0&t1=${lastNs}`);
    await waitDrawn(hi);
    const size = await hi.evaluate(() => {
      const c = document.getElementById('timeline-canvas') as HTMLCanvasElement;
      return { w: c.width, h: c.height, cw: c.clientWidth, ch: c.clientHeight };
    });
    expect(size.w).toBe(size.cw * 2);
    expect(size.h).toBe(size.ch * 2);
    await screenshot(hi, 'timeline-dpr2');
    await hi.context().close();
  });
});
