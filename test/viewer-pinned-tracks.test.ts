/**
 * Sticky pinned tracks and the hidden-track list in real Chromium on the medium Tracy recording
 * (4 threads, through --connect), in a window short enough for the tracks to scroll vertically:
 * - a pinned track stays under the ruler while the others scroll beneath it: its header's box and
 *   its zone's pixels are at the top after scrolling, and hover, click and double click on it act
 *   on its zone (the details panel shows it); a second pin that would make the pinned band taller
 *   than half the view sticks while the older pin scrolls; screenshot
 *   test-artifacts/viewer/pinned-scrolled.png
 * - three hidden tracks are listed by the frames header's button (opened with the keyboard); one
 *   is shown again on its own, the other two stay hidden, also after a reload through the URL;
 *   screenshot test-artifacts/viewer/hidden-menu.png
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerHandle } from '../server/serve.js';
import { srclocRgb } from '../viewer/colors.js';
import { browserSkipReason, screenshot } from './support/browser.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { startRecordedViewer, type RecordedViewer } from './support/recorded-viewer.js';
import { getJson, type Json } from './support/server-api.js';
import { getAllZones } from './support/zone-pages.js';

const skipReason = !FIXTURES_PRESENT ? '../shared/fixtures/tracy is absent' : browserSkipReason();
if (skipReason) console.warn(`viewer-pinned-tracks: skipped: ${skipReason}`);

const RULER_H = 24;
const MSG_LANE_H = 6;
const ROW_H = 18;

interface Zone {
  thread: number;
  row: number;
  srcloc: number;
  startNs: number;
  endNs: number;
}

async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const zs = (window as unknown as { __zs: Json }).__zs;
      const d = zs?.app?.data;
      if (!d || zs.app.srclocs.length === 0 || zs.timeline.tracks.knownDepths.size === 0) return false;
      const { t0, t1 } = zs.app.viewport;
      return d.t0 <= t0 + 1 && d.t1 >= Math.min(t1, d.lastNs) - 1 && zs.timeline.draws > 0 && document.querySelectorAll('.track-header[data-thread]').length > 0;
    },
    undefined,
    { timeout: 20_000 },
  );
  await frames(page);
}

/** Two animation frames: the draw after the last change happened. */
const frames = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

const layoutOf = (page: Page) =>
  page.evaluate(() => {
    const tl = (window as unknown as { __zs: Json }).__zs.timeline;
    return {
      tracks: (tl.tracks.layout.tracks as Json[]).filter((t) => t.kind === 'thread').map((t) => ({ thread: t.thread as number, top: t.top as number, height: t.height as number, sticky: t.sticky as boolean })),
      scrollTop: tl.scroller.scrollTop as number,
      band: tl.pinnedBand() as { top: number; bottom: number },
    };
  });

describe.skipIf(skipReason !== null)('pinned tracks and the hidden-track list on the medium recording', () => {
  let viewer: RecordedViewer;
  let server: ServerHandle;
  let page: Page;
  let errors: string[];
  let id: string;
  let lastNs: number;
  let threads: Json[];
  let srclocs: Json[];
  let base: string;

  beforeAll(async () => {
    viewer = await startRecordedViewer(readFileSync(fixture('medium.client.bin')), { width: 1400, height: 560, dpr: 1 });
    ({ server, page, errors, id, lastNs } = viewer);
    threads = await getJson(server, `/api/sessions/${id}/threads`);
    srclocs = await getJson(server, `/api/sessions/${id}/srclocs`);
    base = `http://127.0.0.1:${server.httpPort}/?session=${id}`;
  }, 120_000);

  afterAll(async () => {
    await viewer?.close();
  });

  it('keeps a pinned track under the ruler while the others scroll, and hover, click and double click act on its zone', async () => {
    // the pinned thread: a shallow one (it fits in half the view), with its longest top-level zone in the view
    const z = await getAllZones(server, id);
    const shallow = threads.filter((t) => t.depth <= 5).map((t) => t.id as number);
    let zone: Zone | null = null;
    for (const t of z.threads) {
      if (!shallow.includes(t.thread)) continue;
      const d = t.depths.find((x: Json) => x.depth === 0);
      for (let i = 0; d && i < d.startNs.length; i++) {
        if (d.count && d.count[i] > 1) continue;
        if (!zone || d.endNs[i] - d.startNs[i] > zone.endNs - zone.startNs) zone = { thread: t.thread, row: d.row[i], srcloc: d.srcloc[i], startNs: d.startNs[i], endNs: d.endNs[i] };
      }
    }
    expect(zone).not.toBeNull();
    const zn = zone!;
    const dur = zn.endNs - zn.startNs;
    await page.goto(`${base}&t0=${Math.round(zn.startNs - dur / 2)}&t1=${Math.round(zn.endNs + dur / 2)}`);
    await waitReady(page);
    // the four tracks are shallow (about 290 px): a window where the tracks get 190 px, so they scroll
    // well past the frames track while the pinned one fits in half of it
    // (the plots below the timeline take a share of the height: a few steps to get there)
    const timelineH = () => page.locator('#timeline .tl-scroll').evaluate((e) => e.clientHeight);
    let height = 560;
    for (let i = 0; i < 8 && Math.abs((await timelineH()) - 190) > 2; i++) {
      height -= (await timelineH()) - 190;
      await page.setViewportSize({ width: 1400, height });
      await frames(page);
    }
    expect(Math.abs((await timelineH()) - 190)).toBeLessThanOrEqual(2);
    const before = await layoutOf(page);
    // pinned last of all, so pinning moves it
    expect(before.tracks.every((t) => !t.sticky)).toBe(true);

    await page.locator(`.track-header[data-thread="${zn.thread}"] .th-pin`).click();
    await expect.poll(async () => (await layoutOf(page)).tracks[0]).toMatchObject({ thread: zn.thread, sticky: true });
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('pin'))).toBe(String(zn.thread));

    // scroll the tracks to the bottom (the scrollbar's way)
    const maxScroll = await page.locator('#timeline .tl-scroll').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
      return el.scrollTop;
    });
    await frames(page);
    const framesH = await page.locator('#timeline .frames-header').evaluate((e) => e.getBoundingClientRect().height);
    expect(maxScroll).toBeGreaterThan(framesH + 50);
    const after = await layoutOf(page);
    expect(after.scrollTop).toBe(maxScroll);
    const pinned = after.tracks[0]!;
    // the band sits right under the ruler
    expect(after.band).toEqual({ top: RULER_H, bottom: RULER_H + pinned.height });

    // its header: at the top of the timeline, as tall as its track
    const canvas = (await page.locator('#timeline-canvas').boundingBox())!;
    const header = (await page.locator(`.track-header[data-thread="${zn.thread}"]`).boundingBox())!;
    expect(Math.abs(header.y - (canvas.y + RULER_H))).toBeLessThanOrEqual(0.5);
    expect(Math.abs(header.height - pinned.height)).toBeLessThanOrEqual(0.5);
    // an ordinary header scrolled up: the one of the next track is no longer where it was
    const other = after.tracks[after.tracks.length - 1]!;
    const otherBox = (await page.locator(`.track-header[data-thread="${other.thread}"]`).boundingBox())!;
    expect(otherBox.y - canvas.y).toBeCloseTo(RULER_H + other.top - maxScroll, 0);

    // its zone's pixels: row 0 of the band, in the zone's colour, across the zone
    const rowMid = RULER_H + MSG_LANE_H + (ROW_H - 1) / 2;
    const geo = await page.evaluate(({ zn }) => {
      const tl = (window as unknown as { __zs: Json }).__zs.timeline;
      return { x0: tl.timeToX(zn.startNs) as number, x1: tl.timeToX(zn.endNs) as number, y: tl.zoneY(zn.thread, 0) as number | null };
    }, { zn });
    expect(geo.y).toBeCloseTo(rowMid, 5);
    expect(geo.x1 - geo.x0).toBeGreaterThan(300);
    const rgb = srclocRgb(srclocs[zn.srcloc]);
    const samples: number[][] = await page.evaluate(({ g, y }) => {
      const ctx = (document.getElementById('timeline-canvas') as HTMLCanvasElement).getContext('2d')!;
      const out: number[][] = [];
      for (let i = 1; i < 20; i++) {
        const p = ctx.getImageData(Math.round(g.x0 + ((g.x1 - g.x0) * i) / 20), Math.round(y - 5), 1, 1).data;
        out.push([p[0]!, p[1]!, p[2]!]);
      }
      return out;
    }, { g: geo, y: rowMid });
    const close = (p: number[]) => Math.abs(p[0]! - ((rgb >> 16) & 255)) <= 40 && Math.abs(p[1]! - ((rgb >> 8) & 255)) <= 40 && Math.abs(p[2]! - (rgb & 255)) <= 40;
    expect(samples.filter(close).length, `pixels ${JSON.stringify(samples)} vs #${rgb.toString(16)}`).toBeGreaterThanOrEqual(17);
    await screenshot(page, 'pinned-scrolled');

    // hover: the tooltip names its zone
    const mid = { x: canvas.x + (geo.x0 + geo.x1) / 2, y: canvas.y + rowMid };
    const name = String(srclocs[zn.srcloc].name ?? srclocs[zn.srcloc].function);
    await page.mouse.move(mid.x, mid.y);
    await page.mouse.move(mid.x + 2, mid.y);
    await expect.poll(() => page.locator('#tooltip').textContent()).toContain(name);
    // click: selects it, the details panel shows it
    await page.mouse.click(mid.x, mid.y);
    await expect.poll(() => page.evaluate(() => (window as unknown as { __zs: Json }).__zs.app.selectedZone)).toEqual({ thread: zn.thread, depth: 0, row: zn.row });
    const details = await getJson(server, `/api/sessions/${id}/zone?thread=${zn.thread}&depth=0&row=${zn.row}`);
    await page.locator('#panel-details [data-field="duration"]').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('#panel-details [data-field="name"]').textContent()).toContain(details.name);
    expect(Number(await page.locator('#panel-details [data-field="start"]').getAttribute('data-ns'))).toBe(zn.startNs);
    // double click: zooms to it (5% margins)
    await page.mouse.dblclick(mid.x, mid.y);
    await expect.poll(() => page.evaluate(() => (window as unknown as { __zs: Json }).__zs.app.viewport.t0)).toBeCloseTo(zn.startNs - dur * 0.05, -1);
    // still scrolled: the band did not move
    expect((await layoutOf(page)).scrollTop).toBe(maxScroll);
    // a drag-selection over the band selects a range (the band is no obstacle)
    await page.keyboard.down('Shift');
    await page.mouse.move(canvas.x + 100, mid.y);
    await page.mouse.down();
    await page.mouse.move(canvas.x + 400, mid.y, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await expect.poll(() => page.evaluate(() => (window as unknown as { __zs: Json }).__zs.app.selection)).not.toBeNull();

    // a second pin that would make the band taller than half the view: the newest pin stays, the oldest scrolls
    const budget = Math.floor(((await timelineH()) - RULER_H) / 2);
    const second = after.tracks.find((t) => t.thread !== zn.thread && t.height <= budget && t.height + pinned.height > budget)!;
    expect(second).toBeDefined();
    await page.locator(`.track-header[data-thread="${second.thread}"] .th-pin`).click();
    await expect.poll(async () => (await layoutOf(page)).tracks.slice(0, 2).map((t) => [t.thread, t.sticky])).toEqual([
      [second.thread, true],
      [zn.thread, false],
    ]);
    expect(await page.locator(`.track-header[data-thread="${zn.thread}"] .th-pin`).getAttribute('class')).toContain('unstuck');
    expect(await page.locator(`.track-header[data-thread="${second.thread}"] .th-pin`).getAttribute('class')).not.toContain('unstuck');
    const band = (await layoutOf(page)).band;
    expect(band.bottom - band.top).toBe(second.height);
    expect(band.bottom - band.top).toBeLessThanOrEqual(budget);
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('pin'))).toBe(`${zn.thread},${second.thread}`);
    expect(errors).toEqual([]);
  });

  it('lists the hidden tracks, shows one of them again from the keyboard, and keeps the other two hidden through a reload', async () => {
    await page.setViewportSize({ width: 1400, height: 560 });
    await page.goto(`${base}&t0=0&t1=${lastNs}`);
    await waitReady(page);
    const ids = (await layoutOf(page)).tracks.map((t) => t.thread);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    const hide = ids.slice(0, 3);
    for (const t of hide) {
      await page.locator(`.track-header[data-thread="${t}"] .th-hide`).click();
      await expect.poll(async () => (await layoutOf(page)).tracks.map((x) => x.thread)).not.toContain(t);
    }
    const button = page.locator('.tl-hidden-tracks');
    expect(await button.textContent()).toBe('show 3 hidden \u25be');
    // the keyboard: focus the button, Enter opens the list on its first entry, ArrowDown to the second
    await button.focus();
    await page.keyboard.press('Enter');
    const menu = page.locator('.tl-hidden-menu[role="menu"]');
    await menu.waitFor();
    const entries = await menu.locator('[role="menuitem"]').evaluateAll((els) => els.map((e) => ({ thread: (e as HTMLElement).dataset.thread ?? null, text: e.textContent })));
    expect(entries.length).toBe(4);
    expect(entries.slice(0, 3).map((e) => Number(e.thread)).sort()).toEqual([...hide].sort());
    expect(entries[3]).toEqual({ thread: null, text: 'Show all 3' });
    for (const e of entries.slice(0, 3)) expect(e.text).toBe(threads.find((t) => t.id === Number(e.thread))!.name ?? `thread ${e.thread}`);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.thread)).toBe(entries[0]!.thread);
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.thread)).toBe(entries[1]!.thread);
    await screenshot(page, 'hidden-menu');
    const shown = Number(entries[1]!.thread);
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await layoutOf(page)).tracks.map((x) => x.thread)).toContain(shown);
    expect(await menu.count()).toBe(0);
    const stillHidden = hide.filter((t) => t !== shown);
    const drawn = (await layoutOf(page)).tracks.map((x) => x.thread);
    for (const t of stillHidden) expect(drawn).not.toContain(t);
    expect(await button.textContent()).toBe('show 2 hidden \u25be');
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('hide'))).toBe(stillHidden.join(','));

    // Escape closes the list, the focus back on the button
    await button.click();
    await menu.waitFor();
    await page.keyboard.press('Escape');
    expect(await menu.count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.classList.contains('tl-hidden-tracks'))).toBe(true);
    // a click elsewhere closes it, and so does a resize (the list is fixed under the button)
    await button.click();
    await menu.waitFor();
    await page.locator('#timeline-canvas').click({ position: { x: 300, y: 5 } });
    expect(await menu.count()).toBe(0);
    await button.click();
    await menu.waitFor();
    await page.setViewportSize({ width: 1400, height: 540 });
    await expect.poll(() => menu.count()).toBe(0);
    await page.setViewportSize({ width: 1400, height: 560 });

    await page.reload();
    await waitReady(page);
    const reloaded = (await layoutOf(page)).tracks.map((x) => x.thread);
    expect(reloaded).toContain(shown);
    for (const t of stillHidden) expect(reloaded).not.toContain(t);
    expect(await button.textContent()).toBe('show 2 hidden \u25be');
    // Space opens it too; "Show all 2" brings the rest back
    await button.focus();
    await page.keyboard.press(' ');
    await menu.waitFor();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await layoutOf(page)).tracks.length).toBe(ids.length);
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('hide'))).toBeNull();
    expect(errors).toEqual([]);
  });
});
