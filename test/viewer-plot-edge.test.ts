/**
 * Plots true to the edge, in real Chromium on the medium Tracy recording (through --connect):
 * its memory usage stops changing long before the session ends, and the memory-usage plot holds
 * its last value to the end of the session (the right edge of a fitted view) instead of stopping
 * at the last sample. Checked by pixels: near the right edge, the chart's column is the plot's
 * colour at the last value's height. Screenshot in test-artifacts/viewer/plot-edge.png.
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
if (skipReason) console.warn(`viewer-plot-edge: skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('a memory plot on the medium recording', () => {
  let viewer: RecordedViewer;
  let server: ServerHandle;
  let page: Page;
  let errors: string[];
  let id: string;
  let lastNs: number;

  beforeAll(async () => {
    viewer = await startRecordedViewer(readFileSync(fixture('medium.client.bin')), { width: 1600, height: 900, dpr: 1 });
    ({ server, page, errors, id, lastNs } = viewer);
  }, 120_000);

  afterAll(async () => {
    await viewer?.close();
  });

  /** Pixels of a uPlot chart (by a page-side expression) around `value`'s height at `t` and at the right edge. */
  const probeChart = (getChart: string, sampleNs: number) =>
    page.evaluate(
      ({ getChart, sampleNs }) => {
        const zs = (window as unknown as { __zs: Json }).__zs;
        // eslint-disable-next-line no-new-func
        const c = new Function('zs', `return ${getChart}`)(zs);
        const ys = c.data[1] as ArrayLike<number>;
        const last = ys[ys.length - 1]!;
        const ctx = c.ctx as CanvasRenderingContext2D;
        const left = c.bbox.left as number;
        const right = left + (c.bbox.width as number);
        const yLine = Math.round(c.valToPos(last, 'y', true) as number);
        const alpha = (x: number) => {
          let a = 0;
          for (let dy = -2; dy <= 2; dy++) a = Math.max(a, ctx.getImageData(Math.round(x), yLine + dy, 1, 1).data[3]!);
          return a;
        };
        const xSample = c.valToPos(sampleNs, 'x', true) as number;
        return { left, right, xSample, nearEdge: alpha(right - 2), between: alpha((xSample + right) / 2), xs: Array.from(c.data[0] as ArrayLike<number>).slice(-2), ys: Array.from(ys).slice(-2) };
      },
      { getChart, sampleNs },
    );

  it("draws a memory plot's last value to the session's end, at the right edge", async () => {
    const plots: Json[] = await getJson(server, `/api/sessions/${id}/plots?px=100000`);
    // plot_mem: a plot in bytes, so in the Memory lane; the session ends a few hundred ns after its last sample
    const mem = plots.find((p) => p.name === 'plot_mem');
    expect(mem, 'plot_mem').toBeDefined();
    const lastSampleNs = mem.timeNs[mem.timeNs.length - 1] as number;
    const lastValue = mem.value[mem.value.length - 1] as number;
    expect(lastSampleNs).toBeLessThan(lastNs - 200);
    // the last 2 us of the session: the last sample at about 80 % of the width
    const t0 = lastNs - 2000;
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${id}&t0=${t0}&t1=${lastNs}`);
    await page.waitForFunction(
      ({ end }) => {
        const zs = (window as unknown as { __zs: Json }).__zs;
        const x = zs?.plots?.memory?.chart?.data?.[0];
        return zs.app.data?.lastNs === end && x?.length > 0 && x[x.length - 1] === end;
      },
      { end: lastNs },
      { timeout: 20_000 },
    );
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const lane = await probeChart('zs.plots.memory.chart', lastSampleNs);
    await screenshot(page, 'plot-edge');
    expect(lane.xs).toEqual([lastSampleNs, lastNs]);
    expect(lane.ys).toEqual([lastValue, lastValue]);
    expect(lane.xSample - lane.left).toBeLessThan((lane.right - lane.left) * 0.9);
    // the line's stroke (opaque) at the last value's height, between the last sample and the right edge and at the edge
    expect(lane.between).toBeGreaterThan(200);
    expect(lane.nearEdge).toBeGreaterThan(200);
    // the legend shows that value at the view's right edge
    expect(await page.locator('.memory-lane .mem-series[data-series="plot_mem"] .plot-value').textContent()).not.toBe('-');
    expect(errors).toEqual([]);
  });

  it("holds a PlotConfig step plot's last value to the session's end", async () => {
    const plots: Json[] = await getJson(server, `/api/sessions/${id}/plots?px=100000`);
    const step = plots.find((p) => p.name === 'plot_step');
    expect(step?.step).toBe(true);
    const lastSampleNs = step.timeNs[step.timeNs.length - 1] as number;
    expect(lastSampleNs).toBeLessThan(lastNs - 100_000);
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${id}&t0=${lastSampleNs - 100_000}&t1=${lastNs}`);
    await page.waitForFunction(
      ({ end }) => {
        const zs = (window as unknown as { __zs: Json }).__zs;
        const x = zs?.plots?.charts.get('plot_step')?.data?.[0];
        return zs.app.data?.lastNs === end && x?.length > 0 && x[x.length - 1] === end;
      },
      { end: lastNs },
      { timeout: 20_000 },
    );
    const chart = await probeChart("zs.plots.charts.get('plot_step')", lastSampleNs);
    expect(chart.xs).toEqual([lastSampleNs, lastNs]);
    expect(chart.ys[1]).toBe(chart.ys[0]);
    expect(errors).toEqual([]);
  });

  it('says "no samples in view" only before the first sample, not where the value holds', async () => {
    const plots: Json[] = await getJson(server, `/api/sessions/${id}/plots?px=100`);
    const mem = plots.find((p) => p.memory === true);
    const name = mem.name as string;
    const last = mem.timeNs[mem.timeNs.length - 1] as number;
    const emptyShown = () => page.evaluate((n) => !(document.querySelector(`.plot-header[data-plot="${n}"]`)?.parentElement?.querySelector('.plot-empty') as HTMLElement).hidden, name);
    // a view after the last change: the held value, not "no samples"
    const t0 = Math.round(last + (lastNs - last) / 2);
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${id}&t0=${t0}&t1=${lastNs}`);
    await page.waitForFunction((n) => (window as unknown as { __zs: Json }).__zs?.plots?.charts.get(n)?.data?.[0]?.length > 0, name, { timeout: 20_000 });
    await expect.poll(emptyShown).toBe(false);
    // a view before the first sample: nothing holds there
    const first = mem.timeNs[0] as number;
    if (first > 1000) {
      await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${id}&t0=0&t1=${Math.floor(first / 2)}`);
      await page.waitForFunction((n) => (window as unknown as { __zs: Json }).__zs?.plots?.charts.get(n) !== undefined, name, { timeout: 20_000 });
      await expect.poll(emptyShown).toBe(true);
    }
    expect(errors).toEqual([]);
  });
});
