/**
 * The Fleet panel in real Chromium against a real server whose /api/fleet reads a real
 * clickhouse-server (its own, on free loopback ports) filled with INSERT ... SELECT: 30,000
 * zones `handle request` of three (app, host) pairs 40 to 10 minutes ago, and their sessions.
 * The panel draws p50/p90/p99 of each pair and their counts (uPlot), lists the apps, filters by
 * app; a server without --clickhouse makes the panel say so. Screenshot:
 * test-artifacts/viewer/fleet-panel.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClickHouse, migrate, type ClickHouseTarget } from '../server/fleet/clickhouse-connection.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { CLICKHOUSE_MISSING, startClickHouse, type ClickHouseServer } from './support/db-servers.js';

const skipReason = browserSkipReason() ?? CLICKHOUSE_MISSING ?? null;
if (skipReason) console.warn(`viewer-fleet: skipped: ${skipReason}`);

type FleetState = { zones: { series: { app: string; host: string; total: number }[] } | null; apps: unknown; charts: string[][] };
const state = (page: Page) => page.evaluate(() => (document.querySelector('#panel-fleet') as unknown as { fleetState(): FleetState }).fleetState());

describe.skipIf(skipReason !== null)('the Fleet panel', () => {
  let ch: ClickHouseServer;
  let target: ClickHouseTarget;
  let server: ServerHandle;
  let bare: ServerHandle;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ch = (await startClickHouse())!;
    target = connectClickHouse(`${ch.url}/?database=fleetv`);
    await migrate(target);
    const start = (BigInt(Date.now()) - 40n * 60_000n) * 1_000_000n;
    // zone i: pair i % 3, one every 60 ms over 30 min, durations 1..1000 us (x2, x4 by pair)
    await target.client.command({
      query: `INSERT INTO fleetv.zones (session, app, host, name, abs_start_ns, duration_ns)
        SELECT concat('abcd0123-', toString(number % 3)), ['api', 'api', 'worker'][number % 3 + 1], ['h1', 'h2', 'h1'][number % 3 + 1], 'handle request',
          toInt64(${start}) + number * 60000000, (number % 1000 + 1) * 1000 * [1, 2, 4][number % 3 + 1]
        FROM numbers(30000)`,
    });
    await target.client.insert({
      table: 'fleetv.sessions',
      format: 'JSONEachRow',
      values: [0, 1, 2].map((i) => ({ session: `abcd0123-${i}`, server: 'abcd0123', app: ['api', 'api', 'worker'][i], host: ['h1', 'h2', 'h1'][i], pid: 100 + i, start_abs_ns: String(start), first_ns: '0', last_ns: '1800000000000', zones: 10_000, ended: 1, end_reason: 'closed', version: 1 })),
    });
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: `${ch.url}/?database=fleetv` });
    bare = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser, { width: 1600, height: 1000, dpr: 1 }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await bare?.close();
    await target?.client.close();
    await ch?.stop();
  });

  it('draws p50/p90/p99 and counts per app and host, and lists the apps', async () => {
    await page.goto(`http://127.0.0.1:${server.httpPort}/`);
    await page.click('#tab-fleet');
    await page.waitForSelector('#fleet-apps tr[data-app]');
    await page.fill('#fleet-name', 'handle request');
    await page.click('#fleet-go');
    await page.waitForSelector('#panel-fleet[data-state="ready"] #fleet-chart canvas');
    const s = await state(page);
    expect(s.zones!.series.map((x) => [x.app, x.host, x.total])).toEqual([
      ['api', 'h1', 10_000],
      ['api', 'h2', 10_000],
      ['worker', 'h1', 10_000],
    ]);
    const pairs = ['api/h1', 'api/h2', 'worker/h1'];
    expect(s.charts[0]!.slice(1)).toEqual(pairs.flatMap((p) => [`${p} p99`, `${p} p90`, `${p} p50`]));
    expect(s.charts[1]!.slice(1)).toEqual(pairs);
    // the legend shows the series to a person too
    const legend = await page.locator('#fleet-chart .u-legend .u-series .u-label').allTextContents();
    expect(legend).toEqual(expect.arrayContaining(['api/h1 p99', 'worker/h1 p50']));
    const apps = await page.locator('#fleet-apps tr[data-app]').evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.app}/${(e as HTMLElement).dataset.host}`));
    expect(apps).toEqual(pairs);
    expect(await page.locator('#fleet-summary').textContent()).toContain('30,000 zones');
    await screenshot(page, 'fleet-panel');
    expect(errors).toEqual([]);
  });

  it('filters by app', async () => {
    await page.locator('#fleet-app').selectOption('worker');
    await page.waitForFunction(() => {
      const s = (document.querySelector('#panel-fleet') as unknown as { fleetState(): FleetState }).fleetState();
      return s.zones !== null && s.zones.series.length === 1 && document.querySelector('#panel-fleet')!.getAttribute('data-state') === 'ready';
    });
    const s = await state(page);
    expect(s.charts[1]!.slice(1)).toEqual(['worker/h1']);
    expect(errors).toEqual([]);
  });

  it('says --clickhouse is needed when the server has none', async () => {
    const { page: p, errors: errs } = await newPage(browser);
    await p.goto(`http://127.0.0.1:${bare.httpPort}/`);
    await p.click('#tab-fleet');
    await p.waitForSelector('#panel-fleet[data-code="ZS_FLEET_NO_CLICKHOUSE"][data-state="empty"]');
    expect(await p.locator('#panel-fleet .panel-status').textContent()).toContain('--clickhouse');
    // the 409 is an answer the panel expected, not a page error (the browser logs failed fetches as console errors)
    expect(errs.filter((e) => !e.includes('409'))).toEqual([]);
    await p.close();
  });
});
