/**
 * zonescope/client in a real page: test/browser-sdk/page.js, a module script that imports the
 * SDK's browser entry bundled by vite (as a user's build would), runs in Chromium and streams to
 * a real Zonescope over ws://127.0.0.1:PORT/ingest. The page is served by a static server on
 * another port, so, as for a user's dev server, Zonescope runs with --allow-origin for it. The
 * server's REST API must show exactly what the page emitted, its Web Worker as a thread of the
 * same session, and the last batch of a page that navigates away (the 'pagehide' flush).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage } from './support/browser.js';
import { getJson, waitFor, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`sdk-browser: skipped: ${skipReason}`);

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE_SOURCES = join(ROOT, 'test', 'browser-sdk');
const SITE = join(ROOT, 'test-artifacts', 'browser-sdk');

/** What the page emits (page.js reads these from its query string). */
const FRAMES = 24;
const REQUESTS = 4;
const SLEEP_MS = 12;
const WORKER_STEPS = 50;
const FINAL_ZONES = 500;

/** Chromium coarsens performance.now() to 100 us in a page that is not cross-origin isolated. */
const COARSENING_NS = 100_000;

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json', '.map': 'application/json' };

let server: ServerHandle;
let site: Server;
let siteOrigin: string;
let browser: Browser;

/** Bundles client/browser.ts into SITE/zonescope-client.js and copies the page beside it. */
async function buildSite(): Promise<void> {
  mkdirSync(SITE, { recursive: true });
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    build: { lib: { entry: join(ROOT, 'client', 'browser.ts'), formats: ['es'], fileName: () => 'zonescope-client.js' }, outDir: SITE, emptyOutDir: true, target: 'es2022', minify: false, sourcemap: true },
  });
  for (const f of readdirSync(PAGE_SOURCES)) copyFileSync(join(PAGE_SOURCES, f), join(SITE, f));
}

/** The static file server of the page: files of SITE by base name, nothing else. */
function serveSite(): Promise<Server> {
  const s = createServer((req, res) => {
    const name = basename(new URL(req.url ?? '/', 'http://x').pathname) || 'index.html';
    if (name === 'favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const type = TYPES[extname(name)];
    let body: Buffer;
    try {
      body = readFileSync(join(SITE, name));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': type ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

async function pageUrl(query: Record<string, string | number>): Promise<string> {
  const q = new URLSearchParams({ ingest: `ws://127.0.0.1:${server.httpPort}/ingest`, ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
  return `${siteOrigin}/index.html?${q}`;
}

/** name -> count of /stats. */
async function countsByName(id: string): Promise<Record<string, number>> {
  const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
  return Object.fromEntries(stats.map((s) => [s.name, s.count]));
}

/** Every zone of `thread` (all depths): name, depth, start, duration. */
async function zonesOf(id: string, thread: number): Promise<Array<{ name: string; depth: number; startNs: number; durNs: number }>> {
  const page: Json = await getJson(server, `/api/sessions/${id}/zones?nsPerPx=0&threads=${thread}`);
  expect(page.cursor).toBeNull();
  const out = [];
  for (const t of page.threads) {
    for (const d of t.depths) {
      for (let i = 0; i < d.row.length; i++) {
        const z: Json = await getJson(server, `/api/sessions/${id}/zone?thread=${thread}&depth=${d.depth}&row=${d.row[i]}`);
        out.push({ name: z.name, depth: d.depth, startNs: z.startNs, durNs: z.durNs, text: z.text });
      }
    }
  }
  return out;
}

describe.skipIf(skipReason !== null)('zonescope/client in Chromium', () => {
  beforeAll(async () => {
    await buildSite();
    site = await serveSite();
    siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    // what a user does for a page served by another origin (docs/client.md "In the browser")
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, security: { allowOrigins: [siteOrigin] } });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (site ? site.close(r) : r(undefined)));
    await server?.close();
  });

  it('streams zones across await, plots, messages, frames and a Web Worker thread, and the server has exactly them', async () => {
    const before = server.registry.list().length;
    const { page, errors } = await newPage(browser);
    await page.goto(await pageUrl({ scenario: 'full', frames: FRAMES, requests: REQUESTS, sleepMs: SLEEP_MS, workerSteps: WORKER_STEPS }));
    await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, null, { timeout: 30_000 });
    const result: Json = await page.evaluate(() => (window as { __result?: unknown }).__result);
    expect(result.error).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();

    expect(result.config).toEqual({ items: 3 });
    expect(result.worker).toMatchObject({ state: 'connected', workers: 0, dropped: 0 });
    expect(result.stats).toMatchObject({ dropped: 0, droppedNonFinite: 0, zonesEndedAtClose: 0, zonesEndedEarly: 0, unknownZoneIds: 0, bufferedBytes: 0, workers: 1 });

    // one session: the worker joined the page's, it did not dial one of its own
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(server.registry.list().length).toBe(before + 1);
    expect(d).toMatchObject({ app: 'browser-sdk-page', source: 'ws', pid: 0, endReason: 'terminated', error: null, truncation: null, appInfo: ['browser-sdk test page'] });
    expect(d.host).toContain('SDK: zonescope/client (browser)');
    expect(d.host).toContain('HeadlessChrome');

    expect(await countsByName(id)).toEqual({
      render: FRAMES,
      layout: FRAMES,
      'fetch data': REQUESTS,
      prepare: REQUESTS,
      parse: REQUESTS,
      'load config': 1,
      'wait for worker': 1,
      'physics step': WORKER_STEPS,
      'worker async': 1,
    });

    // threads: the page's own track, one async track per concurrent request, the worker and its async track
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    expect(threads.every((t) => t.open === 0 && t.unmatchedEnds === 0)).toBe(true);
    const byName = Object.fromEntries(threads.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['page main', ...Array.from({ length: REQUESTS }, (_, k) => `page main async ${k + 1}`), 'physics worker', 'physics worker async 1'].sort());
    // 'parse' begins after an await: without AsyncLocalStorage it lands on the page's own track
    expect(byName['page main']).toMatchObject({ id: 1, zones: 2 * FRAMES + REQUESTS + 1, depth: 2 });
    expect(byName['physics worker']).toMatchObject({ id: 2, zones: WORKER_STEPS, depth: 1 });
    expect(byName['physics worker async 1']).toMatchObject({ id: 2 * 65536 + 1, zones: 1 });
    const laneZones = threads.filter((t) => /^page main async \d$/.test(t.name)).reduce((n, t) => n + t.zones, 0);
    expect(laneZones).toBe(2 * REQUESTS + 1);

    // the async zones: 'prepare' nested under each, and each at least as long as what it awaited
    const fetches = [];
    for (const t of threads.filter((x) => /^page main async \d$/.test(x.name))) {
      const zones = await zonesOf(id, t.id);
      for (const z of zones) {
        if (z.name === 'fetch data') fetches.push(z);
        if (z.name === 'prepare') expect(z.depth).toBe(1);
        if (z.name === 'fetch data' || z.name === 'load config') expect(z.depth).toBe(0);
      }
    }
    expect(fetches.map((z: Json) => z.text).sort()).toEqual(Array.from({ length: REQUESTS }, (_, k) => `request ${k}`));
    for (const z of fetches as Json[]) {
      const k = Number(z.text.split(' ')[1]);
      expect(result.awaitedMs[k]).toBeGreaterThanOrEqual(SLEEP_MS + k - COARSENING_NS / 1e6);
      expect(z.durNs).toBeGreaterThanOrEqual(Math.round(result.awaitedMs[k] * 1e6));
    }

    // the worker is on the page's time line: its zones lie inside the page's 'wait for worker'
    const main = await zonesOf(id, 1);
    const wait = main.find((z) => z.name === 'wait for worker')!;
    const workerZones = [...(await zonesOf(id, 2)), ...(await zonesOf(id, 2 * 65536 + 1))];
    expect(workerZones.length).toBe(WORKER_STEPS + 1);
    for (const z of workerZones) {
      expect(z.startNs).toBeGreaterThanOrEqual(wait.startNs - 2 * COARSENING_NS);
      expect(z.startNs + z.durNs).toBeLessThanOrEqual(wait.startNs + wait.durNs + 2 * COARSENING_NS);
    }
    const workerAsync = workerZones.find((z) => z.name === 'worker async')!;
    expect(workerAsync.durNs).toBeGreaterThanOrEqual(Math.round(result.worker.awaitedMs * 1e6));
    expect(result.worker.awaitedMs).toBeGreaterThanOrEqual(SLEEP_MS - COARSENING_NS / 1e6);

    // plots: every sample, with its value
    const plots: Json[] = await getJson(server, `/api/sessions/${id}/plots?nsPerPx=0`);
    const plot = (name: string) => plots.find((p) => p.name === name)!;
    expect(plots.map((p) => p.name).sort()).toEqual(['frame index', 'items', 'worker step']);
    expect(plot('frame index')).toMatchObject({ count: FRAMES, min: 0, max: FRAMES - 1 });
    expect(plot('items')).toMatchObject({ count: FRAMES, min: 0, max: 3 * (FRAMES - 1), step: true });
    expect(plot('worker step')).toMatchObject({ count: WORKER_STEPS, min: 0, max: WORKER_STEPS - 1 });
    expect(plotValues(plot('frame index'))).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    expect(plotValues(plot('items'))).toEqual(Array.from({ length: FRAMES }, (_, i) => 3 * i));
    expect(plotValues(plot('worker step'))).toEqual(Array.from({ length: WORKER_STEPS }, (_, i) => i));

    // messages: texts, colours (-1: none) and threads
    const messages: Json = await getJson(server, `/api/sessions/${id}/messages`);
    const pageMessages = Array.from({ length: Math.ceil(FRAMES / 5) }, (_, k) => [`frame ${5 * k}`, (5 * k) % 10 === 0 ? 0xff0000 : -1, 1]);
    expect(messages.total).toBe(pageMessages.length + 1);
    expect(messages.messages.map((m: Json) => [m.text, m.color, m.thread])).toEqual([...pageMessages, ['worker done', 0x00ff00, 2]]);

    // frames: one continuous set, every mark
    const frames: Json[] = await getJson(server, `/api/sessions/${id}/frames`);
    expect(frames.map((f) => [f.name || 'Frame', f.count, f.continuous])).toEqual([['Frame', FRAMES, true]]);
  });

  it("sends the last batch of a page that navigates away right after it, on 'pagehide' (and without the handler, nothing)", async () => {
    for (const exitHandlers of [1, 0]) {
      const before = server.registry.list().length;
      const { page, errors } = await newPage(browser);
      await page.goto(await pageUrl({ scenario: 'pagehide', zones: FINAL_ZONES, exitHandlers, next: 'about:blank' }));
      await page.waitForURL('about:blank');
      expect(errors).toEqual([]);
      const id = await waitNewSession(server, before);
      const d = await waitSessionEnded(server, id);
      await page.close();
      const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
      if (exitHandlers === 1) {
        // every zone, the one left open ended by the SDK, the message, then Terminate. Their
        // names were never asked for while the page lived: see the next test.
        expect(d).toMatchObject({ app: 'browser-sdk-pagehide', endReason: 'terminated', error: null, messages: 1 });
        expect(threads.map((t) => [t.id, t.zones, t.open])).toEqual([[1, FINAL_ZONES + 1, 0]]);
      } else {
        // the control: the flush timer is a minute away, so without the handler the batch never leaves
        expect(d).toMatchObject({ app: 'browser-sdk-pagehide', messages: 0 });
        expect(d.endReason).not.toBe('terminated');
        expect(threads.map((t) => [t.id, t.zones])).toEqual([]);
      }
    }
  });

  it('is refused by a server without --allow-origin for the page, and connect() rejects with ZS_CLIENT_CONNECT', async () => {
    const strict = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
    try {
      const { page } = await newPage(browser);
      const q = new URLSearchParams({ ingest: `ws://127.0.0.1:${strict.httpPort}/ingest`, scenario: 'refused' });
      await page.goto(`${siteOrigin}/index.html?${q}`);
      await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined);
      const result: Json = await page.evaluate(() => (window as { __result?: unknown }).__result);
      expect(result).toMatchObject({ name: 'ClientError', code: 'ZS_CLIENT_CONNECT' });
      expect(result.message).toContain(`ws://127.0.0.1:${strict.httpPort}/ingest`);
      expect(strict.security.refusals.count('origin')).toBe(1);
      expect(strict.registry.list()).toEqual([]);
      await page.close();
    } finally {
      await strict.close();
    }
  });

  it('sends what it holds when the page turns hidden, and the session goes on', async () => {
    const before = server.registry.list().length;
    const { page, errors } = await newPage(browser);
    await page.goto(await pageUrl({ scenario: 'hidden', zones: FINAL_ZONES }));
    await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined);
    expect(await page.evaluate(() => (window as unknown as { __result: { state: string } }).__result.state)).toBe('connected');
    const id = await waitNewSession(server, before);
    // the flush timer is a minute away: only the visibilitychange flush sent them
    await waitFor(`${FINAL_ZONES} zones`, async () => (await getJson(server, `/api/sessions/${id}/threads`))[0]?.zones === FINAL_ZONES);
    expect((await getJson(server, `/api/sessions/${id}`)).state).toBe('live');
    expect(errors).toEqual([]);
    await page.close();
    await waitSessionEnded(server, id);
  });

  it("sends the last batch of a frame removed right after it, names and all, on 'pagehide' (and without the handler, nothing)", async () => {
    for (const exitHandlers of [1, 0]) {
      const before = server.registry.list().length;
      const { page, errors } = await newPage(browser);
      await page.goto(await pageUrl({ scenario: 'host', zones: FINAL_ZONES, exitHandlers }));
      const frame = await waitFor('the frame', () => page.frames().find((f) => f.url().includes('scenario=frame')));
      await frame.waitForFunction(() => (window as { __result?: { ready?: boolean } }).__result?.ready === true);
      const id = await waitNewSession(server, before);
      // the server has asked for the thread's and the source locations' names and has them
      await waitFor('the names', async () => {
        const names = new Set((await getJson(server, `/api/sessions/${id}/srclocs`)).map((s: Json) => s.name));
        const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
        return names.has('final batch') && names.has('left open') && threads[0]?.name === 'frame main';
      });
      // the batch and the removal in one task: the frame's 'pagehide' runs inside remove()
      await page.evaluate(() => {
        const f = document.querySelector('iframe')!;
        (f.contentWindow as unknown as { finalBatch: () => void }).finalBatch();
        f.remove();
      });
      const d = await waitSessionEnded(server, id);
      expect(errors).toEqual([]);
      await page.close();
      const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
      if (exitHandlers === 1) {
        expect(d).toMatchObject({ app: 'browser-sdk-frame', endReason: 'terminated', error: null, messages: 1 });
        expect(await countsByName(id)).toEqual({ 'final batch': FINAL_ZONES + 1, 'left open': 2 });
        expect(threads.map((t) => [t.name, t.zones, t.open])).toEqual([['frame main', FINAL_ZONES + 3, 0]]);
        const messages: Json = await getJson(server, `/api/sessions/${id}/messages`);
        expect(messages.messages.map((m: Json) => m.text)).toEqual(['leaving']);
      } else {
        expect(d).toMatchObject({ app: 'browser-sdk-frame', messages: 0 });
        expect(d.endReason).not.toBe('terminated');
        expect(await countsByName(id)).toEqual({ 'final batch': 1, 'left open': 1 });
      }
    }
  });
});

/** The sample values of a /plots entry (undecimated: nsPerPx=0 over a few samples). */
function plotValues(p: Json): number[] {
  expect(p.decimated).toBe(false);
  return p.value;
}
