/**
 * GET /api/sessions/:id/locks and /locks/intervals, and the live update's `locks`, on the medium
 * recording imported in process: figures against the app's truth, the level of detail, the
 * limits and coded errors, and the slicing (no clocks: "before" is counted in event-loop turns;
 * the 24,000 acquisitions need two slices of SLICE_UNITS on any machine).
 */
import { readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_PRESENT, fixture, readTruth } from '../../test/support/inspect-fixtures.js';
import { MAX_LOCK_ITEMS } from '../query/lock-tracks.js';
import { SLICE_UNITS, yieldToEventLoop } from '../query/query-slicer.js';
import { SessionRegistry } from '../session/session-registry.js';
import { createApp } from './app.js';
import { buildLiveUpdate } from './live-update.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function get(app: Hono, path: string): Promise<{ status: number; body: Json }> {
  const res = await app.request(path);
  return { status: res.status, body: JSON.parse(await res.text()) };
}

describe.skipIf(!FIXTURES_PRESENT)('lock routes on the medium recording', () => {
  const truth = FIXTURES_PRESENT ? (readTruth('medium') as unknown as { lock_acquisitions: Record<string, number> }) : { lock_acquisitions: {} };
  let app: Hono;
  let registry: SessionRegistry;
  let id: string;

  beforeAll(async () => {
    registry = new SessionRegistry();
    app = createApp({ registry });
    const res = await app.request('/api/sessions/import?name=medium.client.bin', { method: 'POST', body: readFileSync(fixture('medium.client.bin')) });
    expect(res.status).toBe(201);
    id = ((await res.json()) as Json).id;
  });
  afterAll(() => registry.stopAll());

  it('lists every lock with its acquisitions, waits, holds, contention and worst wait', async () => {
    const r = await get(app, `/api/sessions/${id}/locks`);
    expect(r.status).toBe(200);
    expect(r.body.unknownLockEvents).toBe(0);
    const locks: Json[] = r.body.locks;
    expect(Object.fromEntries(locks.map((l) => [l.name, l.acquisitions]))).toEqual(truth.lock_acquisitions);
    const l = locks[0];
    expect(l.shared).toBe(false);
    expect(l.threads.map((t: Json) => t.name).sort()).toEqual(['Worker-A', 'Worker-B']);
    expect(l.threads.reduce((n: number, t: Json) => n + t.acquisitions, 0)).toBe(l.acquisitions);
    expect(l.contended).toBeGreaterThan(0);
    expect(l.contended).toBeLessThan(l.acquisitions);
    expect(l.waitMaxNs).toBe(Math.max(...l.threads.map((t: Json) => t.waitMaxNs)));
    expect(l.holdMaxNs).toBe(Math.max(...l.threads.map((t: Json) => t.holdMaxNs)));
    expect(l.worstWait.waitNs).toBe(l.waitMaxNs);
    expect(l.worstWait.obtainNs - l.worstWait.startNs).toBe(l.waitMaxNs);
    expect(['Worker-A', 'Worker-B']).toContain(l.worstWait.threadName);
    expect(l.terminatedNs).toBeGreaterThan(l.announcedNs);
  });

  it('counts only the acquisitions that start in t0..t1, and refuses t1 before t0 with 400 ZS_HTTP_BAD_RANGE', async () => {
    const all = (await get(app, `/api/sessions/${id}/locks`)).body.locks[0];
    const w = all.worstWait;
    const around = (await get(app, `/api/sessions/${id}/locks?t0=${w.startNs}&t1=${w.startNs}`)).body.locks[0];
    expect(around.acquisitions).toBeGreaterThanOrEqual(1);
    expect(around.waitMaxNs).toBe(all.waitMaxNs);
    const none = (await get(app, `/api/sessions/${id}/locks?t0=0&t1=1000`)).body.locks[0];
    expect(none.acquisitions).toBe(0);
    expect(none.worstWait).toBeNull();
    const bad = await get(app, `/api/sessions/${id}/locks?t0=5&t1=1`);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 'ZS_HTTP_BAD_RANGE', error: 't1 (1) is before t0 (5)' });
    const missing = await get(app, '/api/sessions/nope/locks');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('ZS_HTTP_NO_SESSION');
  });

  it('answers GET /api/sessions before a /locks over the whole session, which is computed in slices', async () => {
    expect(Object.values(truth.lock_acquisitions)[0]).toBeGreaterThan(SLICE_UNITS);
    let heavyDone = false;
    const heavy = Promise.resolve(app.request(`/api/sessions/${id}/locks`)).then((r) => {
      heavyDone = true;
      return r;
    });
    await yieldToEventLoop();
    const list = await app.request('/api/sessions');
    expect(list.status).toBe(200);
    expect(heavyDone).toBe(false);
    expect((await heavy).status).toBe(200);
  });

  it('gives the lock zones of a viewport at the level of detail of zones: runs merged with their counts', async () => {
    const r = await get(app, `/api/sessions/${id}/locks/intervals?px=1000`);
    expect(r.status).toBe(200);
    expect(r.body.cut).toBe(false);
    const set = r.body.locks[0];
    expect(set.name).toBe('SharedLock');
    let acquisitions = 0;
    let merged = 0;
    for (const t of set.threads) {
      acquisitions += t.count.reduce((a: number, b: number) => a + b, 0);
      merged += t.row.filter((x: number) => x === -1).length;
      expect(t.startNs.length).toBeLessThanOrEqual(2 * 1000);
      expect(t.open).toBeNull();
    }
    expect(acquisitions).toBe(Object.values(truth.lock_acquisitions)[0]);
    expect(merged).toBeGreaterThan(0);
    const every = await get(app, `/api/sessions/${id}/locks/intervals?nsPerPx=0`);
    expect(every.body.items).toBe(acquisitions);
  });

  it('caps /locks/intervals at `limit` items with cut set, and refuses a limit above the maximum or bad pixels', async () => {
    const r = await get(app, `/api/sessions/${id}/locks/intervals?nsPerPx=0&limit=10`);
    expect(r.body.items).toBe(10);
    expect(r.body.cut).toBe(true);
    const over = await get(app, `/api/sessions/${id}/locks/intervals?limit=${MAX_LOCK_ITEMS + 1}`);
    expect(over.status).toBe(400);
    expect(over.body).toEqual({ code: 'ZS_QUERY_LIMIT', error: `query parameter limit=${MAX_LOCK_ITEMS + 1} is above the maximum ${MAX_LOCK_ITEMS}` });
    const px = await get(app, `/api/sessions/${id}/locks/intervals?px=0`);
    expect(px.status).toBe(400);
    expect(px.body.code).toBe('ZS_HTTP_BAD_PARAM');
  });

  it('puts the same lock zones in the live update, and leaves them out with cut=1 when the byte cap is reached', async () => {
    const s = registry.get(id)!;
    const rest = (await get(app, `/api/sessions/${id}/locks/intervals?t0=0&t1=${s.store.lastNs}&px=1000`)).body.locks[0];
    const live = await buildLiveUpdate(s, { t0: 0, t1: s.store.lastNs, px: 1000, follow: false, span: 0 }, 2 * 1024 * 1024);
    const locks = live.message.locks as Json[];
    expect(locks[0].name).toBe('SharedLock');
    expect(locks[0].threads.map((t: Json) => [t.thread, Array.from(t.count)])).toEqual(rest.threads.map((t: Json) => [t.thread, t.count]));
    const tiny = await buildLiveUpdate(s, { t0: 0, t1: s.store.lastNs, px: 16384, follow: false, span: 0 }, 16 * 1024);
    expect(tiny.message.cut).toBe(1);
    expect(tiny.boundBytes).toBeLessThanOrEqual(16 * 1024);
  });
});
