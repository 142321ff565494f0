/**
 * The messages cut, in real Chromium on the medium recording (9,602 messages; a live update
 * carries the view's first 5,000): the timeline marks where the drawn messages stop, at the
 * last message the server sent, in the marker's colour; the Messages panel says more follow and
 * "Load more" appends the next page exactly as GET /messages orders them.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerHandle } from '../server/serve.js';
import { MESSAGES_LIMIT } from '../viewer/panels/messages.js';
import { browserSkipReason, screenshot } from './support/browser.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { startRecordedViewer, type RecordedViewer } from './support/recorded-viewer.js';
import { getJson, type Json } from './support/server-api.js';

const skipReason = !FIXTURES_PRESENT ? '../shared/fixtures/tracy is absent' : browserSkipReason();
if (skipReason) console.warn(`viewer-messages-cut: skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('the messages cut on a recorded Tracy session', () => {
  let viewer: RecordedViewer;
  let server: ServerHandle;
  let page: Page;
  let errors: string[];
  let id: string;

  beforeAll(async () => {
    viewer = await startRecordedViewer(readFileSync(fixture('medium.client.bin')), { width: 1600, height: 900, dpr: 1 });
    ({ server, page, errors, id } = viewer);
  }, 120_000);

  afterAll(async () => {
    await viewer?.close();
  });

  it('marks on the timeline where the update\'s messages stop', async () => {
    const d: Json = await getJson(server, `/api/sessions/${id}`);
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${id}&t0=0&t1=${d.lastNs}`);
    const cutNs = Number(await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('#timeline-canvas')?.dataset.messagesCutNs, undefined, { timeout: 20_000 }).then((h) => h.jsonValue()));
    const update: Json = await page.evaluate(() => {
      const data = (window as unknown as { __zs: Json }).__zs.app.data;
      return { count: data.messages.length, cut: data.messagesCut, t0: data.t0, t1: data.t1 };
    });
    expect(update.cut).toBe(1);
    // the server's first `count` messages of the update's range: the marker sits at the last one
    const rest: Json = await getJson(server, `/api/sessions/${id}/messages?t0=${update.t0}&t1=${update.t1}&limit=${update.count}`);
    expect(rest.messages.length).toBe(update.count);
    expect(cutNs).toBe(rest.messages[update.count - 1].timeNs);
    expect(cutNs).toBeLessThan(d.lastNs);
    // the marker's amber at its x, just under the ruler
    const { x, y } = await page.evaluate((ns) => {
      const zs = (window as unknown as { __zs: Json }).__zs;
      const { t0, t1 } = zs.app.viewport;
      const canvas = document.querySelector<HTMLCanvasElement>('#timeline-canvas')!;
      const r = canvas.getBoundingClientRect();
      return { x: Math.round(((ns - t0) / (t1 - t0)) * r.width), y: Math.round(r.height * 0.6) };
    }, cutNs);
    const rgb = await page.evaluate(
      ([px, py]) => {
        const c = document.querySelector<HTMLCanvasElement>('#timeline-canvas')!;
        const ctx = c.getContext('2d')!;
        for (let dy = 0; dy < 8; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const p = ctx.getImageData(px! + dx, py! + dy, 1, 1).data;
            if (p[0]! > 200 && p[1]! > 110 && p[1]! < 150 && p[2]! < 70) return [p[0], p[1], p[2]];
          }
        }
        return null;
      },
      [x, y],
    );
    expect(rgb, `no marker pixel near x=${x}`).not.toBeNull();
    await screenshot(page, 'messages-cut-marker');
    expect(errors).toEqual([]);
  });

  it('says more messages follow in the panel, and Load more appends the next page in the server\'s order', async () => {
    await page.locator('#tab-messages').click();
    await page.locator('#panel-messages [data-message]').first().waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('#panel-messages .messages-summary').getAttribute('data-more')).toBe('1');
    expect(await page.locator('#panel-messages [data-message]').count()).toBe(MESSAGES_LIMIT);
    await page.locator('#messages-more').click();
    await expect.poll(() => page.locator('#panel-messages [data-message]').count(), { timeout: 15_000 }).toBe(2 * MESSAGES_LIMIT);
    const shown = await page.locator('#panel-messages [data-message]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.timeNs)));
    const rest: Json = await getJson(server, `/api/sessions/${id}/messages?limit=${2 * MESSAGES_LIMIT}`);
    expect(shown).toEqual(rest.messages.map((m: Json) => m.timeNs));
    const texts = await page.locator('#panel-messages .message-text').evaluateAll((els) => els.map((e) => e.firstChild?.textContent ?? ''));
    expect(texts).toEqual(rest.messages.map((m: Json) => m.text));
    await screenshot(page, 'messages-load-more');
    expect(errors).toEqual([]);
  });
});
