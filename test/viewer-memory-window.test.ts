/**
 * The Memory panel in real Chromium against a real server fed over TCP by a synthetic app whose
 * every allocation is known (test/support/memory-workload.ts: allocations made in known zones on
 * two threads, a named pool, leaks). A click on a memory-usage plot lists the allocations alive
 * at the clicked time: what the page shows is what GET /memory answers for that time, and what
 * the workload says is alive then. Alt+click on the timeline picks a time too; the grouping by
 * zone, the leaks and the named pool are checked the same way. Saves
 * test-artifacts/viewer/memory-window*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { aliveAt, ARENA, declareMemoryNames, memoryModel, writeMemoryWorkload } from './support/memory-workload.js';
import { getJson, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`viewer-memory-window: skipped: ${skipReason}`);

const DEFAULT_PLOT = 'Memory usage';
const ARENA_PLOT = `Memory usage: ${ARENA}`;

/** What the Memory panel shows: its pick, summary and table rows. */
const panelState = (page: Page) =>
  page.evaluate(() => {
    const el = document.getElementById('panel-memory')!;
    const summary = el.querySelector<HTMLElement>('.memory-summary')!;
    return {
      state: el.dataset.state,
      pool: el.dataset.pool,
      mode: el.dataset.mode,
      t: el.dataset.t === undefined ? null : Number(el.dataset.t),
      count: Number(summary.dataset.count),
      bytes: Number(summary.dataset.bytes),
      rows: [...el.querySelectorAll<HTMLElement>('.memory-table tbody tr')].map((tr) => ({ address: Number(tr.dataset.address), size: Number(tr.dataset.size), thread: Number(tr.dataset.thread), allocNs: Number(tr.dataset.allocNs), ageNs: Number(tr.dataset.ageNs), zone: tr.lastElementChild!.textContent })),
      groups: [...el.querySelectorAll<HTMLElement>('.memory-groups tbody tr')].map((tr) => ({ key: tr.dataset.key, count: Number(tr.dataset.count), bytes: Number(tr.dataset.bytes) })),
    };
  });

describe.skipIf(skipReason !== null)('the Memory panel', () => {
  const model = memoryModel();
  let server: ServerHandle;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let id: string;
  let lastNs: number;

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    const names = new SyntheticNames();
    declareMemoryNames(names);
    const before = server.registry.list().length;
    await runSyntheticClient({ port: server.ingestPort!, welcome: syntheticWelcome('memory-window-e2e'), names, produce: (q) => (writeMemoryWorkload(q, names), false) });
    id = await waitNewSession(server, before);
    lastNs = (await waitSessionEnded(server, id)).lastNs;
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser, { width: 1600, height: 1000, dpr: 1 }));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('answers the named pool over a real connection with its name, zones and leaks', async () => {
    const leaks = await getJson(server, `/api/sessions/${id}/memory/leaks?pool=${encodeURIComponent(ARENA)}`);
    const want = model.filter((m) => m.pool === ARENA && m.end === 'leak');
    expect(leaks.pool).toMatchObject({ name: ARENA, plot: ARENA_PLOT, allocs: model.filter((m) => m.pool === ARENA).length });
    expect(leaks.allocations.map((a: Json) => [a.address, a.zone, a.threadName])).toEqual(want.map((m) => [m.address, 'Job', 'worker']));
    const pools = (await getJson(server, `/api/sessions/${id}`)).memory.map((p: Json) => p.name).sort();
    expect(pools).toEqual(['', ARENA]);
  });

  it('lists the allocations alive at the time clicked on the memory-usage plot, as the API and the workload say', async () => {
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${id}&t0=0&t1=${lastNs}`);
    await page.waitForFunction((name) => (window as unknown as { __zs: Json }).__zs?.plots?.charts?.get(name)?.data?.[0]?.length > 0, DEFAULT_PLOT, { timeout: 20_000 });
    const over = page.locator(`.plot-row:has(.plot-header[data-plot="${DEFAULT_PLOT}"]) .u-over`);
    const box = (await over.boundingBox())!;
    await over.click({ position: { x: Math.round(box.width * 0.4), y: Math.round(box.height / 2) } });
    await page.waitForFunction(() => document.getElementById('panel-memory')?.dataset.state === 'ready' && document.getElementById('panel-memory')?.dataset.t !== undefined, undefined, { timeout: 20_000 });
    expect(await page.locator('#tab-memory').getAttribute('aria-selected')).toBe('true');
    const shown = await panelState(page);
    expect(shown.pool).toBe(DEFAULT_PLOT);
    const t = shown.t!;
    // the clicked x is 40% into the view
    expect(Math.abs(t - 0.4 * lastNs)).toBeLessThan(lastNs / box.width + 1);
    const api = await getJson(server, `/api/sessions/${id}/memory?pool=${encodeURIComponent(DEFAULT_PLOT)}&t=${t}`);
    const want = aliveAt(model, '', t);
    expect(want.length).toBeGreaterThan(10);
    expect(api.active.count).toBe(want.length);
    expect(shown.count).toBe(api.active.count);
    expect(shown.bytes).toBe(api.active.bytes);
    expect(shown.rows).toEqual(api.allocations.map((a: Json) => ({ address: a.address, size: a.size, thread: a.thread, allocNs: a.allocNs, ageNs: a.ageNs, zone: a.zone ?? '' })));
    expect(shown.rows.map((r) => [r.address, r.size, r.thread, r.allocNs, r.zone || null])).toEqual(want.map((m) => [m.address, m.size, m.thread, m.allocNs, m.zone]));
    await screenshot(page, 'memory-window');

    // grouped by the zone they were made in
    await page.locator('#panel-memory .memory-views button[data-view="zone"]').click();
    const groups = (await panelState(page)).groups;
    expect(groups).toEqual(api.byZone.map((g: Json) => ({ key: String(g.srcloc), count: g.count, bytes: g.bytes })));
    expect(groups.length).toBeGreaterThan(0);
    await screenshot(page, 'memory-window-by-zone');
    await page.locator('#panel-memory .memory-views button[data-view="list"]').click();
    expect(errors).toEqual([]);
  });

  it('picks the named pool when its plot is clicked, and lists its leaks', async () => {
    const over = page.locator(`.plot-row:has(.plot-header[data-plot="${ARENA_PLOT}"]) .u-over`);
    const box = (await over.boundingBox())!;
    await over.click({ position: { x: Math.round(box.width * 0.7), y: Math.round(box.height / 2) } });
    await page.waitForFunction((pool) => document.getElementById('panel-memory')?.dataset.pool === pool && document.getElementById('panel-memory')?.dataset.state === 'ready', ARENA_PLOT);
    const at = await panelState(page);
    const api = await getJson(server, `/api/sessions/${id}/memory?pool=${encodeURIComponent(ARENA)}&t=${at.t}`);
    expect(at.count).toBe(api.active.count);
    expect(at.rows.map((r) => r.address)).toEqual(api.allocations.map((a: Json) => a.address));
    await page.locator('#panel-memory .memory-modes button[data-mode="leaks"]').click();
    await page.waitForFunction(() => document.getElementById('panel-memory')?.dataset.mode === 'leaks' && document.getElementById('panel-memory')?.dataset.state === 'ready');
    const leaks = await panelState(page);
    expect(leaks.rows.map((r) => r.address)).toEqual(model.filter((m) => m.pool === ARENA && m.end === 'leak').map((m) => m.address));
    await screenshot(page, 'memory-window-leaks');
    expect(errors).toEqual([]);
  });

  it('picks a time with Alt+click on the timeline without selecting a zone', async () => {
    await page.locator('#panel-memory .memory-modes button[data-mode="at"]').click();
    await page.waitForFunction(() => document.getElementById('panel-memory')?.dataset.state === 'ready');
    const before = (await panelState(page)).t;
    const canvas = page.locator('#timeline canvas').first();
    const box = (await canvas.boundingBox())!;
    await canvas.click({ position: { x: Math.round(box.width * 0.25), y: 60 }, modifiers: ['Alt'] });
    await page.waitForFunction((prev) => {
      const el = document.getElementById('panel-memory');
      return el?.dataset.state === 'ready' && el.dataset.t !== undefined && Number(el.dataset.t) !== prev;
    }, before);
    const shown = await panelState(page);
    expect(Math.abs(shown.t! - 0.25 * lastNs)).toBeLessThan(lastNs / box.width + 1);
    expect(await page.evaluate(() => (window as unknown as { __zs: Json }).__zs.app.selectedZone)).toBeNull();
    const api = await getJson(server, `/api/sessions/${id}/memory?pool=${encodeURIComponent(shown.pool!)}&t=${shown.t}`);
    expect(shown.rows.map((r) => r.address)).toEqual(api.allocations.map((a: Json) => a.address));
    expect(errors).toEqual([]);
  });
});
