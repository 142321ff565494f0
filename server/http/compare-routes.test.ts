/**
 * GET /api/compare and its histogram and flame variants on the medium recording (202,201 zones,
 * imported in process): against itself every change is zero, against a range of itself B's
 * figures are the statistics query's, the histograms share their buckets and count every zone,
 * the merged flame graph holds both sides' trees; bad parameters get coded 400/404s, the
 * computation is sliced (the session list is answered while it runs) and deleting a side ends
 * it with 410. A stored capture (serve --data) is compared after being loaded on first use.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_PRESENT, fixture } from '../../test/support/inspect-fixtures.js';
import { captureOfRecording } from '../../test/support/recording-capture.js';
import { getJson, type Json } from '../../test/support/server-api.js';
import { MAX_COMPARE_LIMIT } from '../query/compare-table.js';
import { yieldToEventLoop } from '../query/query-slicer.js';
import { startServer } from '../serve.js';
import { SessionRegistry } from '../session/session-registry.js';
import { sortCompareRows } from '../../protocol/view/compare-sort.js';
import { createApp } from './app.js';

if (!FIXTURES_PRESENT) console.warn('compare-routes.test: ../shared/fixtures/tracy is absent; these tests are skipped');

async function importMedium(app: Hono): Promise<string> {
  const res = await app.request('/api/sessions/import?name=medium.client.bin', { method: 'POST', body: readFileSync(fixture('medium.client.bin')) });
  expect(res.status).toBe(201);
  return ((await res.json()) as Json).id;
}

async function get(app: Hono, path: string): Promise<{ status: number; body: Json }> {
  const res = await app.request(path);
  return { status: res.status, body: await res.json() };
}

describe.skipIf(!FIXTURES_PRESENT)('GET /api/compare on a 202,201-zone session', () => {
  let app: Hono;
  let registry: SessionRegistry;
  let a: string;
  let b: string;
  let lastNs: number;

  beforeAll(async () => {
    registry = new SessionRegistry();
    app = createApp({ registry });
    a = await importMedium(app);
    b = await importMedium(app);
    lastNs = registry.get(a)!.store.lastNs;
  });
  afterAll(() => registry.stopAll());

  it('compares a capture with another copy of itself as all zeros, every name on both sides', async () => {
    const r = await get(app, `/api/compare?a=${a}&b=${b}&limit=${MAX_COMPARE_LIMIT}`);
    expect(r.status).toBe(200);
    expect(r.body.a).toMatchObject({ id: a, zones: 202_201, droppedZones: 0, t0: 0, t1: lastNs });
    expect(r.body.b).toMatchObject({ id: b, zones: 202_201 });
    expect(r.body).toMatchObject({ sort: 'total-change', order: 'desc', onlyA: 0, onlyB: 0 });
    expect(r.body.rows.length).toBe(r.body.total);
    for (const row of r.body.rows) {
      expect(row.a, row.name).toEqual(row.b);
      for (const c of Object.values(row.change)) expect(c, row.name).toEqual({ abs: 0, pct: 0 });
    }
  });

  it("gives B's figures over a range equal to /stats over that range, sorted and cut as asked", async () => {
    const t0 = Math.round(lastNs / 4);
    const t1 = Math.round(lastNs / 2);
    const r = await get(app, `/api/compare?a=${a}&b=${a}&t0b=${t0}&t1b=${t1}&sort=count-pct&order=asc&limit=${MAX_COMPARE_LIMIT}`);
    expect(r.status).toBe(200);
    expect(r.body.b).toMatchObject({ t0, t1 });
    expect(r.body.rows.map((x: Json) => x.name)).toEqual(sortCompareRows(r.body.rows, 'count-pct', 'asc').map((x) => x.name));
    const stats = (await get(app, `/api/sessions/${a}/stats?t0=${t0}&t1=${t1}`)).body;
    expect(r.body.b.zones).toBe(stats.reduce((n: number, s: Json) => n + s.count, 0));
    const names = new Map<string, number>();
    for (const s of stats) names.set(s.name, (names.get(s.name) ?? 0) + 1);
    let checked = 0;
    for (const s of stats) {
      const row = r.body.rows.find((x: Json) => x.name === s.name);
      if (names.get(s.name) !== 1 || row?.b?.count !== s.count) continue; // one name, several locations or overrides
      expect(row.b).toEqual({ count: s.count, totalNs: s.totalNs, meanNs: s.meanNs, medianNs: s.medianNs, p99Ns: s.p99Ns });
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
    const cut = await get(app, `/api/compare?a=${a}&b=${a}&t0b=${t0}&t1b=${t1}&sort=count-pct&order=asc&limit=3&filter=WORK`);
    expect(cut.body.rows.map((x: Json) => x.name)).toEqual(r.body.rows.filter((x: Json) => x.name.toLowerCase().includes('work')).slice(0, 3).map((x: Json) => x.name));
  });

  it('answers one name\'s histograms over the same buckets, counting every zone of it on each side', async () => {
    const t1 = Math.round(lastNs / 2);
    const r = await get(app, `/api/compare/histogram?a=${a}&b=${b}&t1b=${t1}&name=WorkerJob&buckets=30`);
    expect(r.status).toBe(200);
    const table = (await get(app, `/api/compare?a=${a}&b=${b}&t1b=${t1}&filter=WorkerJob`)).body.rows.find((x: Json) => x.name === 'WorkerJob');
    expect(r.body.edgesNs.length).toBe(31);
    expect(r.body.a.counts.length).toBe(30);
    expect(r.body.a.count).toBe(table.a.count);
    expect(r.body.b.count).toBe(table.b.count);
    expect(r.body.a.counts.reduce((s: number, c: number) => s + c, 0)).toBe(table.a.count);
    expect(r.body.b.counts.reduce((s: number, c: number) => s + c, 0)).toBe(table.b.count);
    const none = await get(app, `/api/compare/histogram?a=${a}&b=${b}&name=no-such-zone`);
    expect(none.body).toEqual({ name: 'no-such-zone', edgesNs: [], a: { count: 0, counts: [] }, b: { count: 0, counts: [] } });
  });

  it("merges both flame graphs by name path: a copy of itself has A's figures equal to B's, and the roots equal /flame's", async () => {
    const r = await get(app, `/api/compare/flame?a=${a}&b=${b}`);
    expect(r.status).toBe(200);
    expect(r.body.droppedNodes).toBe(0);
    const flame = (await get(app, `/api/sessions/${a}/flame`)).body;
    expect(r.body.nodes[0].a.totalNs).toBe(flame[0].totalNs);
    expect(r.body.nodes[0].a.count).toBe(flame[0].count);
    for (const n of r.body.nodes) expect(n.a, n.name).toEqual(n.b);
    const topNames = new Set(flame[0].children.map((c: number) => flame[c].name));
    expect(new Set(r.body.nodes[0].children.map((c: number) => r.body.nodes[c].name))).toEqual(topNames);
  });

  it('refuses missing or unknown sessions, bad sorts, ranges and limits with coded errors', async () => {
    const cases: [string, number, string][] = [
      [`/api/compare?b=${b}`, 400, 'ZS_HTTP_BAD_PARAM'],
      [`/api/compare?a=${a}&b=nope`, 404, 'ZS_HTTP_NO_SESSION'],
      [`/api/compare?a=${a}&b=${b}&sort=median`, 400, 'ZS_HTTP_BAD_PARAM'],
      [`/api/compare?a=${a}&b=${b}&order=up`, 400, 'ZS_HTTP_BAD_PARAM'],
      [`/api/compare?a=${a}&b=${b}&t0a=10&t1a=5`, 400, 'ZS_HTTP_BAD_RANGE'],
      [`/api/compare?a=${a}&b=${b}&t0b=x`, 400, 'ZS_HTTP_BAD_PARAM'],
      [`/api/compare?a=${a}&b=${b}&threadsb=1,x`, 400, 'ZS_HTTP_BAD_PARAM'],
      [`/api/compare?a=${a}&b=${b}&limit=${MAX_COMPARE_LIMIT + 1}`, 400, 'ZS_QUERY_LIMIT'],
      [`/api/compare/histogram?a=${a}&b=${b}`, 400, 'ZS_HTTP_BAD_PARAM'],
      [`/api/compare/histogram?a=${a}&b=${b}&name=x&buckets=1001`, 400, 'ZS_QUERY_LIMIT'],
      [`/api/compare/flame?a=${a}`, 400, 'ZS_HTTP_BAD_PARAM'],
    ];
    for (const [path, status, code] of cases) {
      const r = await get(app, path);
      expect(r.status, path).toBe(status);
      expect(r.body.code, path).toBe(code);
      expect(typeof r.body.error, path).toBe('string');
    }
    expect((await get(app, `/api/compare?a=${a}&b=nope`)).body.error).toBe('no session nope (b=)');
  });

  for (const path of ['', '/flame', '/histogram?name=WorkerJob']) {
    it(`answers GET /api/sessions while /api/compare${path} runs in slices`, async () => {
      let done = false;
      const heavy = Promise.resolve(app.request(`/api/compare${path}${path.includes('?') ? '&' : '?'}a=${a}&b=${b}`)).then((res) => ((done = true), res));
      await yieldToEventLoop();
      const list = await app.request('/api/sessions');
      expect(list.status).toBe(200);
      expect(done).toBe(false);
      expect((await heavy).status).toBe(200);
    });
  }

  it('ends a comparison whose baseline is deleted while it runs with 410 ZS_QUERY_SESSION_GONE', async () => {
    const doomed = await importMedium(app);
    const heavy = app.request(`/api/compare?a=${doomed}&b=${b}`);
    await yieldToEventLoop();
    expect((await app.request(`/api/sessions/${doomed}`, { method: 'DELETE' })).status).toBe(200);
    const res = await heavy;
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({ code: 'ZS_QUERY_SESSION_GONE', error: `session ${doomed} was deleted while the query ran` });
    expect((await get(app, `/api/compare?a=${a}&b=${b}&limit=1`)).status).toBe(200);
  });
});

describe.skipIf(!FIXTURES_PRESENT)('GET /api/compare with a stored capture (serve --data)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zonescope-compare-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the stored capture on first use and compares it with a loaded session', async () => {
    writeFileSync(join(dir, '7.zscap'), captureOfRecording(new Uint8Array(readFileSync(fixture('medium.client.bin')))));
    const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, dataDir: dir });
    try {
      const list: Json[] = await getJson(server, '/api/sessions');
      const stored = list.find((s) => s.stored === true);
      expect(stored).toBeDefined();
      const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/import?name=medium.client.bin`, { method: 'POST', body: readFileSync(fixture('medium.client.bin')) });
      const imported = ((await res.json()) as Json).id as string;
      const r = await getJson(server, `/api/compare?a=${stored.id}&b=${imported}&limit=1`);
      expect(r.a).toMatchObject({ id: stored.id, zones: 202_201 });
      expect(r.b).toMatchObject({ id: imported, zones: 202_201 });
      expect(r.rows[0].change.totalNs).toEqual({ abs: 0, pct: 0 });
    } finally {
      await server.close();
    }
  }, 60_000);
});
