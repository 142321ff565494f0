/**
 * The Memory lane in real Chromium: an app using the SDK's runtime metrics leaks external
 * memory (Buffers kept) next to a flat JS heap into a real server; the viewer draws every memory
 * plot of the session in one chart (viewer/plots/memory-lane.ts), and what it holds is what the
 * REST API answers for the same view: the series, their samples, the heap spaces' used sizes
 * stacked. Other plots keep their own charts. Saves test-artifacts/viewer/memory-lane.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../client/node.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { getJson, sleep, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`viewer-memory: skipped: ${skipReason}`);

const LEAK_MIB = 40;

/** What the page's Memory lane holds, and the view its data was asked for. */
const laneState = (page: Page) =>
  page.evaluate(() => {
    const zs = (window as unknown as { __zs: Json }).__zs;
    const lane = zs.plots.memory;
    const d = zs.app.data;
    return {
      names: lane.series.map((s: Json) => s.name) as string[],
      // the stacked series drawn at first: those with a non-zero sample
      stacked: lane.series.filter((s: Json) => s.stacked && !s.empty).map((s: Json) => s.name) as string[],
      empty: lane.series.filter((s: Json) => s.empty).map((s: Json) => s.name) as string[],
      drawn: [...lane.drawn] as string[],
      x: Array.from(lane.aligned.x as ArrayLike<number>),
      values: lane.aligned.values as Array<Array<number | null>>,
      // the samples drawn (the chart holds each last value to the session's end with one more point)
      data: (lane.chart.data as Array<ArrayLike<number | null>>).map((a) => Array.from(a).slice(0, lane.aligned.x.length)),
      charts: [...zs.plots.charts.keys()] as string[],
      legend: [...document.querySelectorAll<HTMLElement>('.memory-lane .mem-series')].map((e) => e.dataset.series),
      t0: d.t0 as number,
      t1: d.t1 as number,
      nsPerPx: d.nsPerPx as number,
    };
  });

describe.skipIf(skipReason !== null)('the Memory lane', () => {
  let server: ServerHandle;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let id: string;
  let lastNs: number;

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    const before = server.registry.list().length;
    const tracy = await connect({ port: server.ingestPort!, appName: 'memory-lane-e2e', exitHandlers: false, runtimeMetrics: { intervalMs: 20, plotPrefix: '' } });
    tracy.setThreadName('main');
    tracy.plotConfig('queue depth', { format: 'number' });
    const kept: Buffer[] = [];
    for (let i = 0; i < LEAK_MIB; i++) {
      tracy.zone('handle request', () => kept.push(Buffer.alloc(2 ** 20, i)));
      tracy.plot('queue depth', i % 7);
      await sleep(40);
    }
    await tracy.close();
    expect(kept.length).toBe(LEAK_MIB);
    id = await waitNewSession(server, before);
    lastNs = (await waitSessionEnded(server, id)).lastNs;
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser, { width: 1400, height: 1000 }));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('draws every memory plot in one chart, with the samples the REST API gives and the heap spaces stacked', async () => {
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${id}&t0=0&t1=${lastNs}`);
    await page.waitForFunction(() => (window as unknown as { __zs: Json }).__zs?.plots?.memory?.chart?.data?.[0]?.length > 0, undefined, { timeout: 20_000 });
    const lane = await laneState(page);
    const rest: Json[] = await getJson(server, `/api/sessions/${id}/plots?t0=${lane.t0}&t1=${lane.t1}&nsPerPx=${lane.nsPerPx}&edges=1`);
    const memory = rest.filter((p) => p.format === 1 && !p.memory);
    expect(memory.length).toBeGreaterThanOrEqual(20);
    expect([...lane.names].sort()).toEqual(memory.map((p) => p.name).sort());
    expect([...lane.legend].sort()).toEqual([...lane.names].sort());
    // no memory plot has a chart of its own; the others do
    expect(lane.charts.sort()).toEqual(rest.filter((p) => p.format !== 1 || p.memory).map((p) => p.name).sort());
    expect(lane.charts).toContain('queue depth');
    expect(await page.locator('.plot-header[data-plot="rss"]').count()).toBe(0);

    // sampled together: one x for all, the REST samples' times; every value as REST has it
    const byName = new Map<string, Json>(memory.map((p) => [p.name, p]));
    expect(byName.get('rss').decimated).toBe(false);
    expect(lane.x).toEqual(byName.get('rss').timeNs);
    lane.names.forEach((name, k) => expect(lane.values[k], name).toEqual(byName.get(name).value));

    // the chart: the stack of the heap spaces used (bottom first: old space), then the lines shown
    expect(lane.stacked.length).toBeGreaterThanOrEqual(3);
    expect(lane.stacked.every((n) => /^v8 \S+ used$/.test(n))).toBe(true);
    expect(lane.stacked[0]).toBe('v8 old_space used');
    // plots that were 0 at every sample (spaces this app never used) are listed last, not drawn
    for (const name of lane.empty) expect(byName.get(name).max, name).toBe(0);
    expect(lane.names.slice(lane.names.length - lane.empty.length)).toEqual(lane.empty);
    for (const name of lane.empty) expect(lane.drawn).not.toContain(name);
    expect(lane.drawn.slice(0, lane.stacked.length)).toEqual(lane.stacked);
    expect(lane.drawn).toEqual(expect.arrayContaining(['rss', 'heapTotal', 'external', 'arrayBuffers', 'rss - heapTotal - external', 'v8 malloced']));
    expect(lane.drawn).not.toContain('v8 heap available');
    expect(lane.drawn).not.toContain('v8 old_space size');
    const sum = new Array<number>(lane.x.length).fill(0);
    lane.drawn.forEach((name, j) => {
      const values: number[] = byName.get(name).value;
      if (j < lane.stacked.length) {
        values.forEach((v, i) => (sum[i] = sum[i]! + v));
        expect(lane.data[j + 1], name).toEqual(sum);
      } else {
        expect(lane.data[j + 1], name).toEqual(values);
      }
    });
    // the leak: external and rss climb by the Buffers kept
    const ext: number[] = byName.get('external').value;
    expect(ext[ext.length - 1]! - ext[0]!).toBeGreaterThan((LEAK_MIB / 2) * 2 ** 20);
    await screenshot(page, 'memory-lane');
    expect(errors).toEqual([]);
  });

  it('shows a hidden series when its legend entry is clicked, and hides it again', async () => {
    const item = page.locator('.memory-lane .mem-series[data-series="v8 old_space size"]');
    expect(await item.getAttribute('data-shown')).toBe('0');
    await item.click();
    await expect.poll(async () => (await laneState(page)).drawn).toContain('v8 old_space size');
    const lane = await laneState(page);
    const rest = (await getJson(server, `/api/sessions/${id}/plots?t0=${lane.t0}&t1=${lane.t1}&nsPerPx=${lane.nsPerPx}&edges=1&name=${encodeURIComponent('v8 old_space size')}`))[0];
    expect(lane.data[lane.drawn.indexOf('v8 old_space size') + 1]).toEqual(rest.value);
    expect(await page.locator('.memory-lane .mem-series[data-series="v8 old_space size"]').getAttribute('data-shown')).toBe('1');
    await page.locator('.memory-lane .mem-series[data-series="v8 old_space size"]').click();
    await expect.poll(async () => (await laneState(page)).drawn).not.toContain('v8 old_space size');
    expect(errors).toEqual([]);
  });
});
