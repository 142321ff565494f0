/**
 * The track list in real Chromium on the medium Tracy recording (4 threads, through --connect):
 * hide a track with its header's button, drag a header above another, give a track a maximum
 * height and scroll its rows with the wheel over its header; all of it is kept in the URL and
 * survives a reload. Screenshot in test-artifacts/viewer/tracks.png.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerHandle } from '../server/serve.js';
import { browserSkipReason, screenshot } from './support/browser.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { startRecordedViewer, type RecordedViewer } from './support/recorded-viewer.js';
import { getJson, type Json } from './support/server-api.js';

const skipReason = !FIXTURES_PRESENT ? '../shared/fixtures/tracy is absent' : browserSkipReason();
if (skipReason) console.warn(`viewer-tracks: skipped: ${skipReason}`);

/** The thread headers top to bottom: id, name, and the track's rows as laid out. */
const trackList = (page: Page) =>
  page.evaluate(() => {
    const zs = (window as unknown as { __zs: Json }).__zs;
    const tracks = (zs.timeline.tracks.layout.tracks as Json[]).filter((t) => t.kind === 'thread');
    const headers = [...document.querySelectorAll<HTMLElement>('.track-header[data-thread]')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return {
      ids: headers.map((h) => Number(h.dataset.thread)),
      layoutIds: tracks.map((t) => t.thread as number),
      rows: Object.fromEntries(tracks.map((t) => [t.thread, { rows: t.rows, firstRow: t.firstRow, totalRows: t.totalRows, height: t.height }])) as Record<number, { rows: number; firstRow: number; totalRows: number; height: number }>,
      hiddenButton: (document.querySelector('.tl-hidden-tracks') as HTMLElement | null)?.hidden === false ? document.querySelector('.tl-hidden-tracks')!.textContent : null,
    };
  });

async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const zs = (window as unknown as { __zs: Json }).__zs;
      return zs?.app?.data && zs.timeline.draws > 0 && document.querySelectorAll('.track-header[data-thread]').length > 0 && zs.timeline.tracks.knownDepths.size > 0;
    },
    undefined,
    { timeout: 20_000 },
  );
}

describe.skipIf(skipReason !== null)('the track list on the medium recording', () => {
  let viewer: RecordedViewer;
  let server: ServerHandle;
  let page: Page;
  let errors: string[];
  let id: string;
  let lastNs: number;
  let threads: Json[];

  beforeAll(async () => {
    viewer = await startRecordedViewer(readFileSync(fixture('medium.client.bin')), { width: 1600, height: 900, dpr: 1 });
    ({ server, page, errors, id, lastNs } = viewer);
    threads = await getJson(server, `/api/sessions/${id}/threads`);
  }, 120_000);

  afterAll(async () => {
    await viewer?.close();
  });

  it('hides, reorders and caps tracks, and keeps all of it through a reload via the URL', async () => {
    // an old URL (no track keys): every track, in the order received
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${id}&t0=0&t1=${lastNs}`);
    await waitReady(page);
    const before = await trackList(page);
    expect(before.ids.length).toBe(threads.length);
    expect(before.ids).toEqual(before.layoutIds);
    // the deepest thread gets the maximum height; the last one is dragged to the top; another is hidden
    const deep = [...threads].sort((a, b) => b.depth - a.depth)[0]!;
    expect(deep.depth).toBeGreaterThan(2);
    const last = before.ids[before.ids.length - 1]!;
    const first = before.ids[0]!;
    const hidden = before.ids.find((t) => t !== deep.id && t !== last && t !== first)!;
    expect(hidden).toBeDefined();

    await page.locator(`.track-header[data-thread="${hidden}"] .th-hide`).click();
    await expect.poll(async () => (await trackList(page)).ids).not.toContain(hidden);
    expect((await trackList(page)).hiddenButton).toBe('show 1 hidden \u25be');

    // drag the last header onto the top half of the first one
    const src = (await page.locator(`.track-header[data-thread="${last}"]`).boundingBox())!;
    const dst = (await page.locator(`.track-header[data-thread="${first}"]`).boundingBox())!;
    await page.mouse.move(src.x + 40, src.y + 8);
    await page.mouse.down();
    await page.mouse.move(src.x + 40, src.y + 30, { steps: 3 });
    await page.mouse.move(dst.x + 40, dst.y + 4, { steps: 5 });
    await page.mouse.up();
    await expect.poll(async () => (await trackList(page)).ids[0]).toBe(last);
    // the drag was no click: the dragged track did not collapse
    expect(await page.locator(`.track-header[data-thread="${last}"]`).getAttribute('aria-expanded')).toBe('true');

    await page.locator(`.track-header[data-thread="${deep.id}"] .th-max`).click();
    await expect.poll(async () => (await trackList(page)).rows[deep.id]?.rows).toBe(2);
    const capped = (await trackList(page)).rows[deep.id]!;
    expect(capped.totalRows).toBeGreaterThanOrEqual(deep.depth);
    // its own scroll: the wheel over its header moves its rows
    await page.locator(`.track-header[data-thread="${deep.id}"] .th-name`).hover();
    await page.mouse.wheel(0, 120);
    await expect.poll(async () => (await trackList(page)).rows[deep.id]?.firstRow).toBeGreaterThan(0);
    const scrolled = (await trackList(page)).rows[deep.id]!;
    expect(await page.locator(`.track-header[data-thread="${deep.id}"] .th-rows`).textContent()).toBe(`rows ${scrolled.firstRow + 1}-${scrolled.firstRow + 2} of ${scrolled.totalRows}`);

    const after = await trackList(page);
    // the URL has it all (written within 200 ms)
    await expect.poll(() => page.evaluate(() => location.search)).toContain('rows=');
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('rows'))).not.toBeNull();
    const search = new URLSearchParams(await page.evaluate(() => location.search));
    expect(search.get('hide')).toBe(String(hidden));
    expect(search.get('order')!.split(',')[0]).toBe(String(last));
    expect(search.get('maxrows')).toBe(`${deep.id}:2`);
    expect(search.get('rows')).toBe(`${deep.id}:${scrolled.firstRow}`);
    expect(search.get('t1')).toBe(String(lastNs));

    await page.reload();
    await waitReady(page);
    await expect.poll(async () => (await trackList(page)).rows[deep.id]?.firstRow).toBe(scrolled.firstRow);
    const reloaded = await trackList(page);
    expect(reloaded.ids).toEqual(after.ids);
    expect(reloaded.ids).not.toContain(hidden);
    expect(reloaded.rows[deep.id]).toEqual(after.rows[deep.id]);
    expect(reloaded.hiddenButton).toBe('show 1 hidden \u25be');
    expect(await page.locator(`.track-header[data-thread="${deep.id}"] .th-max`).textContent()).toBe('2');
    // the capped track's rows: drawn from its first row, depth 0 scrolled out of it
    const ys = await page.evaluate(({ t, d }) => {
      const tl = (window as unknown as { __zs: Json }).__zs.timeline;
      return { top: tl.zoneY(t, 0), first: tl.zoneY(t, d) };
    }, { t: deep.id, d: scrolled.firstRow });
    expect(ys.top).toBeNull();
    expect(ys.first).not.toBeNull();
    await screenshot(page, 'tracks');

    // show the hidden track again; pin the capped one to the top
    await page.locator('.tl-hidden-tracks').click();
    await page.locator('.tl-hidden-menu button.all').click();
    await expect.poll(async () => (await trackList(page)).ids).toContain(hidden);
    await page.locator(`.track-header[data-thread="${deep.id}"] .th-pin`).click();
    await expect.poll(async () => (await trackList(page)).ids[0]).toBe(deep.id);
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('pin'))).toBe(String(deep.id));
    expect(await page.evaluate(() => new URLSearchParams(location.search).get('hide'))).toBeNull();
    expect(errors).toEqual([]);
  });
});
