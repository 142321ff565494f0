/**
 * GET /api/sessions/:id/memory and /memory/leaks in process (hono's app.request) on the medium
 * recording: the app's own counters, the coded errors, msgpack, and the computation in slices
 * (a session list asked for meanwhile is answered first; counted in event-loop turns, no clocks).
 */
import { readFileSync } from 'node:fs';
import { decode } from '@msgpack/msgpack';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_PRESENT, fixture, readTruth } from '../../test/support/inspect-fixtures.js';
import { MAX_ALLOC_LIMIT } from '../query/memory-query.js';
import { yieldToEventLoop } from '../query/query-slicer.js';
import { SessionRegistry } from '../session/session-registry.js';
import { createApp } from './app.js';
import { memoryRoutes } from './memory-routes.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function get(app: Hono, path: string): Promise<{ status: number; body: Json }> {
  const res = await app.request(path);
  return { status: res.status, body: await res.json() };
}

describe.skipIf(!FIXTURES_PRESENT)('the memory routes on the medium recording', () => {
  const truth = FIXTURES_PRESENT ? readTruth('medium') : null;
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

  it("answers the default pool with the app's counters: allocations, frees, bytes, nothing alive at the end", async () => {
    const r = await get(app, `/api/sessions/${id}/memory`);
    expect(r.status).toBe(200);
    const m = truth!.memory;
    expect(r.body.pool).toMatchObject({ name: 'default', plot: 'Memory usage', allocs: m.alloc_unnamed, frees: m.free_unnamed, allocatedBytes: m.bytes_allocated_total, unknownFrees: 0, usedBytes: 0, live: 0, records: m.alloc_unnamed, storedRecords: m.alloc_unnamed });
    expect(r.body.mode).toBe('at');
    expect(r.body.t).toBe(r.body.lastNs);
    expect(r.body.window).toEqual({ allocs: m.alloc_unnamed, allocatedBytes: m.bytes_allocated_total, frees: m.free_unnamed });
    expect(r.body.active).toEqual({ count: 0, bytes: 0 });
    expect(r.body.allocations).toEqual([]);
    expect((await get(app, `/api/sessions/${id}/memory?pool=default`)).body.pool.name).toBe('default');
    expect((await get(app, `/api/sessions/${id}/memory?pool=Memory%20usage`)).body.pool.name).toBe('default');
    const leaks = await get(app, `/api/sessions/${id}/memory/leaks`);
    expect(leaks.status).toBe(200);
    expect(leaks.body.active.count).toBe(m.alloc_unnamed - m.free_unnamed);
  });

  it('lists the allocations alive at the peak, with their thread and zone names, in JSON and msgpack', async () => {
    const whole = (await get(app, `/api/sessions/${id}/memory?t0=0&t1=${2 ** 40}&limit=1`)).body;
    expect(whole.mode).toBe('range');
    expect((await get(app, `/api/sessions/${id}/memory?t=0`)).body.window.allocs).toBe(0);
    // at the time of the usage peak, the allocations alive add up to it
    const peakAt = whole.peak.timeNs as number;
    const r = await get(app, `/api/sessions/${id}/memory?t=${peakAt}`);
    expect(r.body.active.count).toBeGreaterThan(0);
    expect(r.body.active.bytes).toBe(whole.peak.bytes);
    const a = r.body.allocations[0];
    expect(a.threadName).toBe('Main thread');
    expect(typeof a.zone).toBe('string');
    expect(a.ageNs).toBe(peakAt - a.allocNs);
    const res = await app.request(`/api/sessions/${id}/memory?t=${peakAt}&format=msgpack`);
    expect(res.headers.get('content-type')).toBe('application/msgpack');
    const packed = decode(new Uint8Array(await res.arrayBuffer())) as Json;
    expect(packed.allocations).toEqual(r.body.allocations);
  });

  it('refuses bad parameters with coded errors', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['?pool=nope', 404, 'ZS_HTTP_NO_POOL', /^no memory pool "nope"; this session's pools: "default"$/],
      ['?cursor=12x', 400, 'ZS_QUERY_BAD_CURSOR', /is not a cursor/],
      [`?limit=${MAX_ALLOC_LIMIT + 1}`, 400, 'ZS_QUERY_LIMIT', new RegExp(`above the maximum ${MAX_ALLOC_LIMIT}$`)],
      ['?limit=0', 400, 'ZS_HTTP_BAD_PARAM', /must be an integer >= 1/],
      ['?t=5&t0=1', 400, 'ZS_HTTP_BAD_PARAM', /not both/],
      ['?t0=10&t1=5', 400, 'ZS_HTTP_BAD_RANGE', /before t0/],
      ['?t=abc', 400, 'ZS_HTTP_BAD_PARAM', /not a number/],
    ];
    for (const [q, status, code, message] of cases) {
      const r = await get(app, `/api/sessions/${id}/memory${q}`);
      expect(r.status, q).toBe(status);
      expect(r.body.code, q).toBe(code);
      expect(r.body.error, q).toMatch(message);
    }
    const none = await get(app, '/api/sessions/nope/memory/leaks');
    expect(none).toEqual({ status: 404, body: { code: 'ZS_HTTP_NO_SESSION', error: 'no session nope' } });
  });

  it('computes in slices: a session list asked for while it runs is answered first', async () => {
    const sliced = new Hono();
    sliced.route('/api/sessions', memoryRoutes(registry, { slice: { sliceUnits: 512 } }));
    let heavyDone = false;
    const heavy = Promise.resolve(sliced.request(`/api/sessions/${id}/memory/leaks`)).then((r) => {
      heavyDone = true;
      return r;
    });
    await yieldToEventLoop();
    const list = await app.request('/api/sessions');
    expect(list.status).toBe(200);
    expect(heavyDone).toBe(false);
    expect((await heavy).status).toBe(200);
  });

  it('ends a query whose session is deleted meanwhile with 410 ZS_QUERY_SESSION_GONE', async () => {
    const own = new SessionRegistry();
    const ownApp = createApp({ registry: own });
    const res = await ownApp.request('/api/sessions/import?name=medium.client.bin', { method: 'POST', body: readFileSync(fixture('medium.client.bin')) });
    const ownId = ((await res.json()) as Json).id;
    const sliced = new Hono();
    sliced.onError((err, c) => c.json({ error: err.message, code: (err as Json).code }, (err as Json).status ?? 500));
    sliced.route('/api/sessions', memoryRoutes(own, { slice: { sliceUnits: 256 } }));
    const heavy = Promise.resolve(sliced.request(`/api/sessions/${ownId}/memory`));
    await yieldToEventLoop();
    expect(own.delete(ownId)).toBe(true);
    const r = await heavy;
    expect(r.status).toBe(410);
    expect(((await r.json()) as Json).code).toBe('ZS_QUERY_SESSION_GONE');
    own.stopAll();
  });
});
