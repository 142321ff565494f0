/**
 * Issue 10, rows 5-7: heavy and hostile queries on a session of 202,201 zones (the medium
 * recording, imported in process) are capped in rows and bytes, continue with a cursor, refuse
 * limits above their maximum and bad pixels with coded 400s, and are computed in slices: a
 * session list asked for while one runs is answered first, and deleting the session mid-way
 * ends the query with a coded error. No clocks: "before" is counted in event-loop turns, and
 * each heavy query here needs at least 202,201 / SLICE_UNITS (> 12) slices on any machine.
 */
import { readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_PRESENT, fixture, readTruth } from '../../test/support/inspect-fixtures.js';
import { MAX_MESSAGES_LIMIT } from '../query/message-query.js';
import { yieldToEventLoop } from '../query/query-slicer.js';
import { MAX_ZONE_PAGE_ITEMS } from '../query/zone-pages.js';
import { MAX_SEARCH_LIMIT } from '../query/zone-search.js';
import { SessionRegistry } from '../session/session-registry.js';
import { createApp } from './app.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

if (!FIXTURES_PRESENT) console.warn('query-routes.test: ../shared/fixtures/tracy is absent; these tests are skipped');

async function importMedium(app: Hono): Promise<string> {
  const res = await app.request('/api/sessions/import?name=medium.client.bin', { method: 'POST', body: readFileSync(fixture('medium.client.bin')) });
  expect(res.status).toBe(201);
  return ((await res.json()) as Json).id;
}

async function get(app: Hono, path: string): Promise<{ status: number; body: Json; bytes: number }> {
  const res = await app.request(path);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), bytes: text.length };
}

/** Starts `path`, lets it run one event-loop turn, then asks for the session list: which answered first? */
async function listWhileRunning(app: Hono, path: string): Promise<{ heavyDoneFirst: boolean; heavy: Response; list: Response }> {
  let heavyDone = false;
  const heavy = Promise.resolve(app.request(path)).then((r) => {
    heavyDone = true;
    return r;
  });
  await yieldToEventLoop();
  const list = await app.request('/api/sessions');
  const heavyDoneFirst = heavyDone;
  return { heavyDoneFirst, heavy: await heavy, list };
}

describe.skipIf(!FIXTURES_PRESENT)('queries on a 202,201-zone session', () => {
  const zonesTotal = FIXTURES_PRESENT ? readTruth('medium').zones_total : 0;
  let app: Hono;
  let registry: SessionRegistry;
  let id: string;

  beforeAll(async () => {
    registry = new SessionRegistry();
    app = createApp({ registry });
    id = await importMedium(app);
  });
  afterAll(() => registry.stopAll());

  it('refuses /search with a limit above its maximum (limit=1e9) with 400 ZS_QUERY_LIMIT', async () => {
    const r = await get(app, `/api/sessions/${id}/search?q=o&limit=1e9`);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('ZS_QUERY_LIMIT');
    expect(r.body.error).toBe(`query parameter limit=1e9 is above the maximum ${MAX_SEARCH_LIMIT}`);
    expect((await get(app, `/api/sessions/${id}/search?q=o&limit=-1`)).body.code).toBe('ZS_HTTP_BAD_PARAM');
    expect((await get(app, `/api/sessions/${id}/search?q=o&limit=1.5`)).body.code).toBe('ZS_HTTP_BAD_PARAM');
  });

  it('answers /search at its maximum limit with that many matches, the total of all, in a bounded body', async () => {
    const r = await get(app, `/api/sessions/${id}/search?q=o&limit=${MAX_SEARCH_LIMIT}`);
    expect(r.status).toBe(200);
    expect(r.body.total).toBeGreaterThan(MAX_SEARCH_LIMIT);
    expect(r.body.matches.length).toBe(MAX_SEARCH_LIMIT);
    expect(r.body.histogram.counts.reduce((a: number, c: number) => a + c, 0)).toBe(r.body.total);
    expect(r.bytes).toBeLessThan(MAX_SEARCH_LIMIT * 200);
  });

  it('refuses /messages with a limit above its maximum with 400 ZS_QUERY_LIMIT', async () => {
    const r = await get(app, `/api/sessions/${id}/messages?limit=${MAX_MESSAGES_LIMIT + 1}`);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('ZS_QUERY_LIMIT');
    const ok = await get(app, `/api/sessions/${id}/messages?limit=100`);
    expect(ok.body.messages.length).toBe(100);
    expect(ok.body.truncated).toBe(true);
  });

  it('answers /zones?nsPerPx=0 with at most MAX_ZONE_PAGE_ITEMS zones and a cursor', async () => {
    expect(zonesTotal).toBeGreaterThan(MAX_ZONE_PAGE_ITEMS);
    const r = await get(app, `/api/sessions/${id}/zones?nsPerPx=0`);
    expect(r.status).toBe(200);
    let items = 0;
    for (const t of r.body.threads) for (const d of t.depths) items += d.startNs.length;
    expect(items).toBe(MAX_ZONE_PAGE_ITEMS);
    expect(r.body.cursor).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.bytes).toBeLessThan(MAX_ZONE_PAGE_ITEMS * 100);
  });

  it('returns every zone exactly once when /zones pages of 20,000 are followed by their cursors', async () => {
    const seen = new Set<string>();
    let twice = 0;
    let pages = 0;
    let cursor: string | null = null;
    do {
      const r = await get(app, `/api/sessions/${id}/zones?nsPerPx=0&limit=20000${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      pages++;
      let items = 0;
      for (const t of r.body.threads) {
        for (const d of t.depths) {
          for (const row of d.row) {
            const key = `${t.thread}/${d.depth}/${row}`;
            if (seen.has(key)) twice++;
            seen.add(key);
            items++;
          }
        }
      }
      expect(items).toBeLessThanOrEqual(20_000);
      cursor = r.body.cursor;
    } while (cursor !== null && pages < 100);
    expect(twice).toBe(0);
    expect(seen.size).toBe(zonesTotal);
    expect(pages).toBe(Math.ceil(zonesTotal / 20_000));
  });

  it('refuses negative, zero or non-numeric pixels and bad cursors with coded 400s', async () => {
    for (const q of ['px=-1', 'px=0', 'px=NaN', 'nsPerPx=-5', 'nsPerPx=abc', 'px=Infinity']) {
      const r = await get(app, `/api/sessions/${id}/zones?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.code, q).toBe('ZS_HTTP_BAD_PARAM');
    }
    const bad = await get(app, `/api/sessions/${id}/zones?cursor=abc`);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('ZS_QUERY_BAD_CURSOR');
    expect((await get(app, `/api/sessions/${id}/zones?limit=${MAX_ZONE_PAGE_ITEMS + 1}`)).body.code).toBe('ZS_QUERY_LIMIT');
    expect((await get(app, `/api/sessions/${id}/stats?threads=1,x`)).body.code).toBe('ZS_HTTP_BAD_PARAM');
  });

  for (const path of ['flame', 'stats', 'search?q=o']) {
    it(`answers GET /api/sessions before a /${path} over the whole session, which is computed in slices`, async () => {
      const { heavyDoneFirst, heavy, list } = await listWhileRunning(app, `/api/sessions/${id}/${path}`);
      expect(list.status).toBe(200);
      expect(heavyDoneFirst).toBe(false);
      expect(heavy.status).toBe(200);
      const body: Json = await heavy.json();
      if (path === 'flame') expect(body[0].count).toBeGreaterThan(0);
      if (path === 'stats') expect(body.reduce((n: number, s: Json) => n + s.count, 0)).toBe(zonesTotal);
    });
  }

  it('ends a query whose session is deleted while it runs with 410 ZS_QUERY_SESSION_GONE, and carries on', async () => {
    const doomed = await importMedium(app);
    const heavy = app.request(`/api/sessions/${doomed}/flame`);
    await yieldToEventLoop();
    expect((await app.request(`/api/sessions/${doomed}`, { method: 'DELETE' })).status).toBe(200);
    const res = await heavy;
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({ code: 'ZS_QUERY_SESSION_GONE', error: `session ${doomed} was deleted while the query ran` });
    expect((await get(app, `/api/sessions/${id}/stats`)).status).toBe(200);
    expect((await get(app, `/api/sessions/${doomed}/stats`)).status).toBe(404);
  });
});
