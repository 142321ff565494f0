/**
 * A session kept in ClickHouse, drawn in real Chromium by a server that never saw it live:
 * server A streams the medium Tracy recording into a real clickhouse-server (serve --clickhouse)
 * and stops; server B, started with the same --clickhouse and no --data, lists the session
 * (source clickhouse) and the viewer draws it. Screenshot in
 * test-artifacts/viewer/clickhouse-session.png.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { CLICKHOUSE_MISSING, startClickHouse, type ClickHouseServer } from './support/db-servers.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitSessionEnded, type Json } from './support/server-api.js';
import { listenRecordedClient } from './support/tracy-replay.js';

const skipReason = !FIXTURES_PRESENT ? '../shared/fixtures/tracy is absent' : (CLICKHOUSE_MISSING ?? browserSkipReason());
if (skipReason) console.warn(`viewer-clickhouse: skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('a session from ClickHouse in the viewer', () => {
  let ch: ClickHouseServer;
  let server: ServerHandle;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let key: string;
  let threads: Json[];

  beforeAll(async () => {
    ch = (await startClickHouse())!;
    const url = `${ch.url}/?database=zs_viewer`;
    const app = await listenRecordedClient(readFileSync(fixture('medium.client.bin')));
    const a = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port: app.port }], clickhouse: url, fleet: { feedIntervalMs: 20 } });
    await app.done;
    const id = await waitFor('the session', () => a.registry.list()[0]?.id);
    await waitSessionEnded(a, id);
    threads = await getJson(a, `/api/sessions/${id}/threads`);
    expect(await a.fleet.flush()).toBe(true);
    key = `${a.fleet.serverId}-${id}`;
    await a.close();
    await app.close();
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: url });
    browser = await launchChromium();
    ({ page, errors } = await newPage(browser, { width: 1600, height: 900, dpr: 1 }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await ch?.stop();
  });

  it('lists the session and draws its threads and zones', async () => {
    const list: Json[] = await getJson(server, '/api/sessions');
    expect(list.map((s) => [s.id, s.source])).toEqual([[key, 'clickhouse']]);
    await page.goto(`http://127.0.0.1:${server.httpPort}/?session=${encodeURIComponent(key)}`);
    await page.waitForFunction(
      () => {
        const zs = (window as unknown as { __zs: Json }).__zs;
        const d = zs?.app?.data;
        return !!d && zs.app.srclocs.length > 0 && zs.timeline.visibleItems().length > 0 && zs.timeline.draws > 0;
      },
      undefined,
      { timeout: 30_000 },
    ).catch(async (e) => {
      await screenshot(page, 'clickhouse-session-fail');
      console.log(errors, await page.evaluate(() => { const zs = (window as any).__zs; return JSON.stringify({ data: !!zs?.app?.data, srclocs: zs?.app?.srclocs?.length, session: zs?.app?.sessionId, status: document.body.innerText.slice(0, 600) }); }));
      throw e;
    });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    expect(await page.locator('#session-picker').inputValue()).toBe(key);
    const headers = await page.locator('.track-header[data-thread]').evaluateAll((els) => els.map((e) => ({ id: Number((e as HTMLElement).dataset.thread), text: e.textContent ?? '' })));
    const withZones = threads.filter((t) => t.zones > 0);
    for (const t of withZones) expect(headers.find((h) => h.id === t.id)?.text, `thread ${t.id}`).toContain(t.name);
    const visible = await page.evaluate(() => (window as unknown as { __zs: Json }).__zs.timeline.visibleItems().length as number);
    expect(visible).toBeGreaterThan(10);
    await screenshot(page, 'clickhouse-session');
    expect(errors).toEqual([]);
  });

  it('finds zones by name from SQL, jumps to a match and selects it, its details from SQL', async () => {
    const api = await getJson(server, `/api/sessions/${encodeURIComponent(key)}/search?q=Update&limit=1000`);
    expect(api.total).toBeGreaterThan(10);
    await page.locator('#tab-find').click();
    const input = page.locator('#find-input');
    await input.fill('Update');
    await input.press('Enter');
    await page.locator('#panel-find [data-match]').first().waitFor({ timeout: 15_000 });
    const matches = await page.locator('#panel-find [data-match]').evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-start-ns')), Number(e.getAttribute('data-dur-ns'))]));
    expect(matches).toEqual(api.matches.map((m: Json) => [m.startNs, m.durNs]));
    // a match from SQL has no row: the viewer selects it once an update shows it, by its start
    const m = api.matches[9];
    expect(m.row).toBe(-1);
    await page.locator('#panel-find [data-match]').nth(9).click();
    const selected = await page.waitForFunction(() => (window as unknown as { __zs: Json }).__zs.app.selectedZone, undefined, { timeout: 15_000 }).then((h) => h.jsonValue() as Promise<Json>);
    expect([selected.thread, selected.depth]).toEqual([m.thread, m.depth]);
    expect(selected.row).toBeGreaterThanOrEqual(0);
    const zone = await getJson(server, `/api/sessions/${encodeURIComponent(key)}/zone?thread=${selected.thread}&depth=${selected.depth}&row=${selected.row}`);
    expect([zone.startNs, zone.durNs]).toEqual([m.startNs, m.durNs]);
    await screenshot(page, 'clickhouse-find-zone');
    expect(errors).toEqual([]);
  });
});
