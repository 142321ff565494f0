/**
 * The panel area in real Chromium (issue 16, "panels with room"), on the medium Tracy recording
 * played through --connect: the flame graph maximized over the page draws every call path its
 * width allows (checked against the API's tree) and says how many stay under 1 px; every
 * statistics column is in view when maximized (and a narrow side panel says which ones it cuts
 * off); Esc restores;
 * docking at the bottom, a drag of the edge and a column choice survive a reload; `?` lists
 * the shortcuts. Screenshots land in test-artifacts/viewer/panels-*.png.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerHandle } from '../server/serve.js';
import { MIN_PANEL_PX } from '../viewer/layout-state.js';
import { STATS_COLUMN_KEYS } from '../viewer/panels/stats.js';
import { browserSkipReason, screenshot } from './support/browser.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { startRecordedViewer, type RecordedViewer } from './support/recorded-viewer.js';
import { getJson, type Json } from './support/server-api.js';

const skipReason = !FIXTURES_PRESENT ? '../shared/fixtures/tracy is absent' : browserSkipReason();
if (skipReason) console.warn(`viewer-panels: skipped: ${skipReason}`);

const W = 1600;
const H = 1000;

/** The flame graph's own count of what it drew at what width (data-* on .flame-info). */
async function flameInfo(page: Page): Promise<{ drawn: number; hidden: number; width: number; text: string }> {
  return page.locator('#panel-flame .flame-info').evaluate((el) => {
    const d = (el as HTMLElement).dataset;
    return { drawn: Number(d.drawn), hidden: Number(d.hidden), width: Number(d.width), text: el.textContent ?? '' };
  });
}

/** Waits for the flame graph drawn at a width that satisfies `ok`, and for its boxes to match its count. */
async function waitFlame(page: Page, ok: (width: number) => boolean): Promise<{ drawn: number; hidden: number; width: number; text: string }> {
  await expect.poll(async () => ok((await flameInfo(page)).width), { timeout: 15_000 }).toBe(true);
  const info = await flameInfo(page);
  expect(await page.locator('#panel-flame .flame-node').count()).toBe(info.drawn);
  return info;
}

/** What a flame graph of `widthPx` can draw: paths whose box and every caller's box are >= 1 px. */
function wideEnough(nodes: Json[], widthPx: number): { drawn: number; hidden: number } {
  const rootNs = nodes[0].totalNs;
  let drawn = 0;
  const stack = [0];
  while (stack.length) {
    const n = nodes[stack.pop()!];
    if (n.id !== 0 && (n.totalNs / rootNs) * widthPx < 1) continue;
    drawn++;
    stack.push(...n.children);
  }
  return { drawn, hidden: nodes.length - drawn };
}

const layoutState = (page: Page) =>
  page.evaluate(() => {
    const l = document.getElementById('layout')!;
    const side = document.getElementById('side')!.getBoundingClientRect();
    return { dock: l.dataset.dock, maximized: l.dataset.maximized === 'true', side: { x: side.x, y: side.y, w: side.width, h: side.height } };
  });

describe.skipIf(skipReason !== null)('the panel area on a recorded Tracy session', () => {
  let viewer: RecordedViewer;
  let server: ServerHandle;
  let page: Page;
  let errors: string[];
  let id: string;

  beforeAll(async () => {
    viewer = await startRecordedViewer(readFileSync(fixture('medium.client.bin')), { width: W, height: H, dpr: 1 });
    ({ server, page, errors, id } = viewer);
  }, 120_000);

  afterAll(async () => {
    await viewer?.close();
  });

  const base = () => `http://127.0.0.1:${server.httpPort}/`;

  it('maximized, the flame graph draws every call path the full width allows, and says how many stay under 1 px', async () => {
    await page.goto(`${base()}?session=${id}`);
    expect(await layoutState(page)).toMatchObject({ dock: 'side', maximized: false });
    await page.locator('#tab-flame').click();
    const side = await waitFlame(page, (w) => w > 0 && w < 450);
    const nodes: Json[] = await getJson(server, `/api/sessions/${id}/flame`);
    // independently of the layout code: a call path is drawn when it and its callers are >= 1 px
    expect(side).toMatchObject(wideEnough(nodes, side.width));
    expect(side.hidden).toBeGreaterThan(0);
    expect(side.text).toContain(`${side.hidden.toLocaleString('en-US')} under 1 px not drawn at ${side.width} px`);
    await screenshot(page, 'panels-flame-side');

    await page.locator('#panel-maximize').click();
    expect((await layoutState(page)).maximized).toBe(true);
    const max = await waitFlame(page, (w) => w > W - 100);
    await screenshot(page, 'panels-flame-maximized');
    expect(max.width).toBeGreaterThanOrEqual(3.5 * side.width);
    expect(max).toMatchObject(wideEnough(nodes, max.width));
    expect(max.drawn).toBeGreaterThanOrEqual(side.drawn);
    expect(max.drawn + max.hidden).toBe(nodes.length);
    expect(max.text).toContain(`${max.hidden.toLocaleString('en-US')} under 1 px not drawn at ${max.width.toLocaleString('en-US')} px`);
    // the maximized panel covers the page below the top bar
    const s = (await layoutState(page)).side;
    expect(s.w).toBe(W);
    expect(s.h).toBeGreaterThan(H - 50);

    // Esc restores, and the graph goes back to the side panel's width
    await page.keyboard.press('Escape');
    expect((await layoutState(page)).maximized).toBe(false);
    const back = await waitFlame(page, (w) => w > 0 && w < 450);
    expect(back.drawn).toBe(side.drawn);
    expect(errors).toEqual([]);
  });

  it('shows every statistics column when maximized, and says which ones the side panel cuts off', async () => {
    await page.locator('#tab-stats').click();
    await page.locator('#panel-stats tr[data-srcloc]').first().waitFor({ timeout: 15_000 });
    const note = page.locator('#panel-stats .stats-columns-note');
    const inView = () =>
      page.evaluate(() => {
        const body = document.getElementById('panel-body')!;
        const r = body.getBoundingClientRect();
        const right = r.left + body.clientLeft + body.clientWidth;
        return [...document.querySelectorAll<HTMLElement>('#panel-stats th[data-sort-key]')].map((th) => ({ key: th.dataset.sortKey!, visible: th.getBoundingClientRect().right <= right + 0.5 }));
      });
    // dragged to its narrowest, the side panel cannot fit every column: the note says which
    const edge = (await page.locator('#panel-resizer').boundingBox())!;
    await page.mouse.move(edge.x + edge.width / 2, edge.y + 200);
    await page.mouse.down();
    await page.mouse.move(W - 100, edge.y + 200);
    await page.mouse.move(W - 1, edge.y + 200);
    await page.mouse.up();
    expect((await layoutState(page)).side.w).toBe(MIN_PANEL_PX);
    const sideCols = await inView();
    expect(sideCols.map((c) => c.key)).toEqual(STATS_COLUMN_KEYS);
    const cut = sideCols.filter((c) => !c.visible).map((c) => c.key);
    expect(cut.length).toBeGreaterThan(0);
    await expect.poll(() => note.getAttribute('data-clipped')).not.toBe('');
    const clipped = (await note.getAttribute('data-clipped'))!.split(',');
    // a column reported as out of view is (at least half) past the edge, so it is among the cut ones
    for (const k of clipped) expect(cut).toContain(k);
    expect(await note.isVisible()).toBe(true);
    expect(await note.textContent()).toContain('out of view');
    await screenshot(page, 'panels-stats-side');

    await page.locator('#panel-maximize').click();
    await expect.poll(async () => (await inView()).every((c) => c.visible), { timeout: 10_000 }).toBe(true);
    expect((await inView()).length).toBe(STATS_COLUMN_KEYS.length);
    await expect.poll(() => note.getAttribute('data-clipped')).toBe('');
    expect(await note.isVisible()).toBe(false);
    // every row has all its cells
    expect(await page.locator('#panel-stats tr[data-srcloc]').first().locator('td').count()).toBe(STATS_COLUMN_KEYS.length);
    await screenshot(page, 'panels-stats-maximized');

    // the column picker hides a column, and the note says so
    await page.locator('#stats-columns summary').click();
    await page.locator('#stats-columns input[data-col="p99"]').uncheck();
    expect(await page.locator('#panel-stats th[data-sort-key]').evaluateAll((ths) => ths.map((t) => (t as HTMLElement).dataset.sortKey))).toEqual(STATS_COLUMN_KEYS.filter((k) => k !== 'p99'));
    expect(await page.locator('#panel-stats tr[data-srcloc]').first().locator('td').count()).toBe(STATS_COLUMN_KEYS.length - 1);
    expect(await note.getAttribute('data-hidden')).toBe('p99');
    expect(await note.textContent()).toContain('hidden by the Columns choice (p99)');
    expect(await page.locator('#stats-columns input[data-col="name"]').isDisabled()).toBe(true);
    await page.locator('#stats-columns summary').click();
    // the maximize button restores as well as Esc
    await page.locator('#panel-maximize').click();
    expect((await layoutState(page)).maximized).toBe(false);
    expect(errors).toEqual([]);
  });

  it('docks at the bottom, resizes by dragging the edge, and keeps the layout and columns across a reload', async () => {
    await page.locator('#panel-dock').click();
    let st = await layoutState(page);
    expect(st.dock).toBe('bottom');
    // the panels span the page's width below the timeline
    expect(st.side.w).toBe(W);
    const box = (await page.locator('#panel-resizer').boundingBox())!;
    expect(box.width).toBe(W);
    const layoutBox = (await page.locator('#layout').boundingBox())!;
    const targetY = 420;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, (box.y + targetY) / 2);
    await page.mouse.move(box.x + box.width / 2, targetY);
    await page.mouse.up();
    const want = Math.round(layoutBox.y + layoutBox.height - targetY);
    st = await layoutState(page);
    expect(Math.abs(st.side.h - want)).toBeLessThanOrEqual(1);
    expect(Math.abs(st.side.y - (targetY + box.height / 2))).toBeLessThanOrEqual(4);
    // the stats table, now as wide as the page, has all its chosen columns in view
    await page.locator('#tab-stats').click();
    await expect.poll(() => page.locator('#panel-stats .stats-columns-note').getAttribute('data-clipped')).toBe('');
    await screenshot(page, 'panels-dock-bottom');

    await page.reload();
    await page.locator('#panel-dock').waitFor();
    const after = await layoutState(page);
    expect(after.dock).toBe('bottom');
    expect(after.maximized).toBe(false);
    expect(Math.abs(after.side.h - st.side.h)).toBeLessThanOrEqual(1);
    expect(await page.locator('#panel-dock').textContent()).toBe('Dock side');
    // the timeline still draws above the panels
    await page.waitForFunction(() => ((window as unknown as { __zs: Json }).__zs?.timeline?.draws ?? 0) > 0, undefined, { timeout: 20_000 });
    const tl = (await page.locator('#timeline').boundingBox())!;
    expect(tl.y + tl.height).toBeLessThanOrEqual(after.side.y + 1);
    expect(tl.height).toBeGreaterThan(100);
    // the column choice came back too
    await page.locator('#tab-stats').click();
    await page.locator('#panel-stats tr[data-srcloc]').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('#panel-stats th[data-sort-key="p99"]').count()).toBe(0);
    expect(await page.locator('#stats-columns summary').textContent()).toBe(`Columns (${STATS_COLUMN_KEYS.length - 1}/${STATS_COLUMN_KEYS.length})`);
    await screenshot(page, 'panels-dock-bottom-reloaded');

    // and back to the side: the side width was kept apart from the bottom height
    await page.locator('#panel-dock').click();
    const sideAgain = await layoutState(page);
    expect(sideAgain.dock).toBe('side');
    expect(sideAgain.side.w).toBe(MIN_PANEL_PX);
    expect(errors).toEqual([]);
  });

  it('lists every shortcut and gesture on ?, and closes on Esc or ? again', async () => {
    const overlay = page.locator('#help-overlay');
    expect(await overlay.isVisible()).toBe(false);
    await page.locator('#timeline-canvas').hover();
    await page.keyboard.press('?');
    await overlay.waitFor({ state: 'visible' });
    const keys = await overlay.locator('tr[data-shortcut]').evaluateAll((trs) => trs.map((t) => (t as HTMLElement).dataset.shortcut!));
    for (const k of ['W / S', 'A / D', 'F', 'Esc', 'Shift + wheel', 'Shift + drag, or drag on the ruler', 'Drag', 'Alt + click on the timeline', '?']) expect(keys).toContain(k);
    expect(await overlay.textContent()).toContain('Maximize');
    await screenshot(page, 'panels-shortcuts');
    // keys do not reach the timeline while the list is open
    const before = await page.evaluate(() => ({ ...(window as unknown as { __zs: Json }).__zs.app.viewport }));
    await page.keyboard.press('w');
    expect(await page.evaluate(() => ({ ...(window as unknown as { __zs: Json }).__zs.app.viewport }))).toEqual(before);
    await page.keyboard.press('Escape');
    await overlay.waitFor({ state: 'hidden' });
    await page.keyboard.press('?');
    await overlay.waitFor({ state: 'visible' });
    await page.keyboard.press('?');
    await overlay.waitFor({ state: 'hidden' });
    // the ? button opens it too
    await page.locator('#help-button').click();
    await overlay.waitFor({ state: 'visible' });
    await page.locator('#help-close').click();
    await overlay.waitFor({ state: 'hidden' });
    // Esc with the list open over maximized panels closes only the list
    await page.locator('#panel-maximize').click();
    await page.keyboard.press('?');
    await overlay.waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await overlay.waitFor({ state: 'hidden' });
    expect((await layoutState(page)).maximized).toBe(true);
    await page.keyboard.press('Escape');
    expect((await layoutState(page)).maximized).toBe(false);
    expect(errors).toEqual([]);
  });
});
