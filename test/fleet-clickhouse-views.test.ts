/**
 * A session stored in ClickHouse is answered from SQL (server/fleet/clickhouse-views.ts), not
 * read into the ring store: on a real clickhouse-server (Debian's 18.16, random loopback ports),
 * the real medium recording is streamed through server A (`--clickhouse`), and server B, which
 * never saw it, answers the same API for it from ClickHouse. Every answer is checked against A's
 * ring store: the zones a viewport covers at several levels of detail, rows and zone details,
 * messages, and a live viewer's updates. Statistics, flame graph and search:
 * server/fleet/clickhouse-aggregates.test.ts.
 */
import { decode, encode } from '@msgpack/msgpack';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectClickHouse } from '../server/fleet/clickhouse-connection.js';
import { ClickHouseViews } from '../server/fleet/clickhouse-views.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { CLICKHOUSE_MISSING, startClickHouse, type ClickHouseServer } from './support/db-servers.js';
import { fixture } from './support/inspect-fixtures.js';
import { getJson, type Json } from './support/server-api.js';
import { streamToServer } from './support/tracy-replay.js';
import { getAllZones } from './support/zone-pages.js';

if (CLICKHOUSE_MISSING) console.warn(`fleet-clickhouse-views: skipped: ${CLICKHOUSE_MISSING}`);

let ch: ClickHouseServer;
let a: ServerHandle;
let b: ServerHandle;
/** the session's id on A (in memory) and its key in ClickHouse (its id on B) */
let id: string;
let key: string;
let lastNs: number;
let namesA: string[];
let namesB: string[];

/** "thread/depth" -> zones covered (sum of item counts) of a /zones answer */
function coverage(answer: Json): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of answer.threads) for (const d of t.depths) m.set(`${t.thread}/${d.depth}`, (m.get(`${t.thread}/${d.depth}`) ?? 0) + d.count.reduce((n: number, c: number) => n + c, 0));
  return m;
}

/** the single items of an answer at least `minNs` long: "thread/depth/row/start/end/name" */
function singles(answer: Json, names: string[], minNs: number): string[] {
  const out: string[] = [];
  for (const t of answer.threads) {
    for (const d of t.depths) {
      for (let i = 0; i < d.startNs.length; i++) {
        if (d.count[i] === 1 && d.endNs[i] - d.startNs[i] >= minNs) out.push(`${t.thread}/${d.depth}/${d.row[i]}/${d.startNs[i]}/${d.endNs[i]}/${names[d.srcloc[i]]}`);
      }
    }
  }
  return out.sort();
}

const zones = (server: ServerHandle, sid: string, q: string) => getJson(server, `/api/sessions/${sid}/zones?${q}`);

describe.skipIf(CLICKHOUSE_MISSING !== null)('a ClickHouse session answered from SQL, against the ring store', () => {
  beforeAll(async () => {
    ch = (await startClickHouse())!;
    const url = `${ch.url}/?database=zs_views_${process.pid}`;
    a = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: url, fleet: { feedIntervalMs: 20 } });
    id = await streamToServer(a, readFileSync(fixture('medium.client.bin')));
    expect(await a.fleet.flush()).toBe(true);
    key = `${a.fleet.serverId}-${id}`;
    lastNs = (await getJson(a, `/api/sessions/${id}`)).lastNs;
    b = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: url });
    namesA = (await getJson(a, `/api/sessions/${id}/srclocs`)).map((s: Json) => s.name);
    namesB = (await getJson(b, `/api/sessions/${key}/srclocs`)).map((s: Json) => s.name);
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await ch?.stop();
  });

  it('opens the session without reading its zones into memory, with the live session’s counts', async () => {
    const details = await getJson(b, `/api/sessions/${key}`);
    const detailsA = await getJson(a, `/api/sessions/${id}`);
    expect(details).toMatchObject({ source: 'clickhouse', zones: 202_201, messages: detailsA.messages, threads: detailsA.threads, error: null });
    expect(details.lastNs).toBe(detailsA.lastNs);
    const session = b.registry.get(key)!;
    expect(session.sqlViews).not.toBeNull();
    expect(session.store.zonesEnded).toBe(0); // nothing of the zones is in the ring store
    const threadsB: Json[] = await getJson(b, `/api/sessions/${key}/threads`);
    const threadsA: Json[] = await getJson(a, `/api/sessions/${id}/threads`);
    expect(threadsB.map((t) => [t.id, t.name, t.zones, t.depth, t.firstNs])).toEqual(threadsA.map((t) => [t.id, t.name, t.zones, t.depth, t.firstNs]));
    // every location a zone uses (A's store also holds a lock's, which no zone uses)
    const used = new Set((await getJson(a, `/api/sessions/${id}/stats`)).map((s: Json) => s.name));
    expect([...namesB].sort()).toEqual([...used].sort());
  });

  it('covers the same zones as the ring store at every level of detail, about a few items a pixel', async () => {
    const views = [
      { t0: 0, t1: lastNs, px: 2000 },
      { t0: Math.round(lastNs * 0.4), t1: Math.round(lastNs * 0.45), px: 1500 },
      { t0: Math.round(lastNs * 0.5), t1: Math.round(lastNs * 0.5005), px: 800 },
    ];
    for (const v of views) {
      const q = `t0=${v.t0}&t1=${v.t1}&px=${v.px}`;
      const [sa, sb] = [await zones(a, id, q), await zones(b, key, q)];
      expect(sb.nsPerPx).toBe(sa.nsPerPx);
      expect(sb.cursor).toBeNull();
      const [ca, cb] = [coverage(sa), coverage(sb)];
      expect(Object.fromEntries(cb), q).toEqual(Object.fromEntries(ca));
      expect([...cb.values()].reduce((n, c) => n + c, 0)).toBeGreaterThan(0);
      // zones a pixel wide or more come on their own, on both, with the same row
      expect(singles(sb, namesB, sa.nsPerPx), q).toEqual(singles(sa, namesA, sa.nsPerPx));
      // grouped by pixel: per track at most two items a pixel (a run and a wide zone) and one more
      for (const t of sb.threads) for (const d of t.depths) expect(d.startNs.length).toBeLessThanOrEqual(2 * v.px + 2);
      const items = sb.threads.reduce((n: number, t: Json) => n + t.depths.reduce((m: number, d: Json) => m + d.startNs.length, 0), 0);
      expect(items).toBeLessThan([...cb.values()].reduce((n, c) => n + c, 0));
    }
  });

  it('pages a level of detail with the same cursor and the same zones in any page size', async () => {
    const q = `t0=0&t1=${lastNs}&px=3000`;
    const whole = await zones(b, key, q);
    const paged = await getAllZones(b, key, `${q}&limit=997`);
    expect(Object.fromEntries(coverage(paged))).toEqual(Object.fromEntries(coverage(whole)));
    expect(singles(paged, namesB, 0)).toEqual(singles(whole, namesB, 0));
    const first = await zones(b, key, `${q}&limit=10`);
    expect(first.cursor).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await getJson(b, `/api/sessions/${key}/zones?${q}&cursor=abc`, 400)).code).toBe('ZS_QUERY_BAD_CURSOR');
  });

  it('gives each zone’s details by row as the ring store does', async () => {
    // the first zones, some in the middle and the last ones (the row index's first, middle and last buckets)
    const picked: Json[] = [];
    for (const [f0, f1] of [[0, 0.002], [0.3, 0.31], [0.998, 1]] as const) {
      const sb = await zones(b, key, `t0=${Math.round(lastNs * f0)}&t1=${Math.round(lastNs * f1)}&nsPerPx=0`);
      for (const t of sb.threads) for (const d of t.depths) for (const i of [0, Math.floor(d.row.length / 2), d.row.length - 1]) picked.push({ thread: t.thread, depth: d.depth, row: d.row[i] });
    }
    expect(picked.length).toBeGreaterThan(5);
    for (const z of picked) {
      const path = `zone?thread=${z.thread}&depth=${z.depth}&row=${z.row}`;
      const [da, db] = [await getJson(a, `/api/sessions/${id}/${path}`), await getJson(b, `/api/sessions/${key}/${path}`)];
      const { srcloc: _a, ...restA } = da;
      const { srcloc: _b, ...restB } = db;
      expect(restB, path).toEqual(restA);
      expect(namesB[db.srcloc]).toBe(namesA[da.srcloc]);
    }
    expect((await getJson(b, `/api/sessions/${key}/zone?thread=${picked[0].thread}&depth=0&row=99999999`, 404)).code).toBe('ZS_HTTP_NO_ZONE');
  });

  it('lists messages, filtered and limited, as the ring store does', async () => {
    for (const q of ['', 't0=0&t1=' + Math.round(lastNs / 2), 'q=MESSAGE', 'q=e&limit=7']) {
      const [ma, mb] = [await getJson(a, `/api/sessions/${id}/messages?${q}`), await getJson(b, `/api/sessions/${key}/messages?${q}`)];
      // ClickHouse stores "no colour" (-1) as 0 (clickhouse-sink.ts)
      const strip = (m: Json) => ({ total: m.total, truncated: m.truncated, messages: m.messages.map((x: Json) => [x.timeNs, x.thread, x.text, Math.max(0, x.color)]) });
      expect(strip(mb), q).toEqual(strip(ma));
    }
    expect((await getJson(b, `/api/sessions/${key}/messages`)).messages.length).toBeGreaterThan(0);
  });

  it('sends a live viewer updates built from SQL, and a new viewport gets its own', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.httpPort}/api/live`);
    const updates: Json[] = [];
    let wake: (() => void) | null = null;
    ws.on('message', (data: Buffer) => {
      const m = decode(data) as Json;
      // typed arrays travel as msgpack bin (their bytes): the counts are int32
      for (const t of m.threads ?? []) for (const d of t.depths) d.count = new Int32Array(new Uint8Array(d.count).buffer);
      if (m.type === 'update') updates.push(m);
      wake?.();
    });
    const next = async (n: number) => {
      while (updates.length < n) await new Promise<void>((r) => (wake = r));
    };
    await new Promise((r) => ws.once('open', r));
    try {
      ws.send(encode({ type: 'subscribe', session: key, t0: 0, t1: lastNs, px: 1200, follow: false }));
      await next(1);
      const u = updates[0];
      expect(u).toMatchObject({ session: key, lastNs, t0: 0, t1: lastNs });
      const whole = await zones(a, id, `t0=0&t1=${lastNs}&nsPerPx=${u.nsPerPx}`);
      expect(Object.fromEntries(coverage(u))).toEqual(Object.fromEntries(coverage(whole)));
      expect(u.messages.length).toBe(Math.min(5000, (await getJson(a, `/api/sessions/${id}`)).messages));
      expect(u.frames.length).toBeGreaterThan(0);
      const t0 = Math.round(lastNs * 0.6);
      const t1 = Math.round(lastNs * 0.61);
      ws.send(encode({ type: 'viewport', t0, t1, px: 900, follow: false }));
      await next(2);
      const v = updates[1];
      expect([v.t0, v.t1]).toEqual([t0, t1]);
      const part = await zones(a, id, `t0=${t0}&t1=${t1}&nsPerPx=${v.nsPerPx}`);
      expect(Object.fromEntries(coverage(v))).toEqual(Object.fromEntries(coverage(part)));
    } finally {
      ws.close();
    }
  });

  it('answers statistics, the flame graph and search through the routes from SQL, as the ring store does', async () => {
    const q = `t0=${Math.round(lastNs * 0.2)}&t1=${Math.round(lastNs * 0.7)}`;
    // by name: the ring store may keep several locations with the same five values (one in SQL)
    const byName = (rows: Json[]) => {
      const m: Record<string, [number, number, number]> = {};
      for (const r of rows) {
        const e = (m[r.name] ??= [0, 0, 0]);
        e[0] += r.count;
        e[1] += r.totalNs;
        e[2] += r.selfNs;
      }
      return m;
    };
    expect(byName(await getJson(b, `/api/sessions/${key}/stats?${q}`))).toEqual(byName(await getJson(a, `/api/sessions/${id}/stats?${q}`)));
    const paths = (nodes: Json[]) => {
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const path = (n: Json): string => (n.parent >= 0 ? `${path(byId.get(n.parent))}/${n.name}` : n.name);
      const m: Record<string, [number, number, number]> = {};
      for (const n of nodes) {
        const e = (m[path(n)] ??= [0, 0, 0]);
        e[0] += n.count;
        e[1] += n.totalNs;
        e[2] += n.selfNs;
      }
      return m;
    };
    expect(paths(await getJson(b, `/api/sessions/${key}/flame?${q}`))).toEqual(paths(await getJson(a, `/api/sessions/${id}/flame?${q}`)));
    const [sa, sb] = [await getJson(a, `/api/sessions/${id}/search?q=Work&limit=50&${q}`), await getJson(b, `/api/sessions/${key}/search?q=Work&limit=50&${q}`)];
    expect(sb.total).toBe(sa.total);
    expect(sb.matches.map((m: Json) => [m.thread, m.depth, m.startNs, m.durNs, m.row])).toEqual(sa.matches.map((m: Json) => [m.thread, m.depth, m.startNs, m.durNs, -1]));
    expect((await getJson(b, `/api/sessions/${key}/search?frame=main`, 409)).code).toBe('ZS_SEARCH_CLICKHOUSE');
  });

  it('refuses a level of detail that would need more groups than its cap, rather than build them in ClickHouse', async () => {
    const views = new ClickHouseViews(connectClickHouse(`${ch.url}/?database=zs_views_${process.pid}`), key, 1000);
    await views.open();
    // at 1 ns a pixel every zone is a group of its own: 202,201 groups
    await expect(views.zonePage({ t0: 0, t1: lastNs, nsPerPx: 1 })).rejects.toThrow(/GROUP BY/i);
    const coarse = await views.zonePage({ t0: 0, t1: lastNs, nsPerPx: lastNs / 100 });
    expect(coarse.items).toBeGreaterThan(0);
    await views.target.client.close();
  });

  it('says with a code what a ClickHouse session cannot do here (export, compare)', async () => {
    expect((await getJson(b, `/api/sessions/${key}/export`, 409)).code).toBe('ZS_EXPORT_CLICKHOUSE');
    expect((await getJson(a, `/api/compare?a=${id}&b=${id}`)).a).toBeDefined();
    expect((await getJson(b, `/api/compare?a=${key}&b=${key}`, 409)).code).toBe('ZS_COMPARE_CLICKHOUSE');
  });

  it('answers 503 ZS_CLICKHOUSE_QUERY while ClickHouse is down, and again once it is back', async () => {
    const before = await zones(b, key, `t0=0&t1=${lastNs}&px=100`);
    await ch.down();
    const res = await getJson(b, `/api/sessions/${key}/zones?t0=0&t1=${lastNs}&px=100`, 503);
    expect(res.code).toBe('ZS_CLICKHOUSE_QUERY');
    expect((await getJson(b, `/api/sessions/${key}/messages`, 503)).code).toBe('ZS_CLICKHOUSE_QUERY');
    expect((await getJson(b, '/api/sessions')).length).toBeGreaterThan(0);
    await ch.up();
    expect(await zones(b, key, `t0=0&t1=${lastNs}&px=100`)).toEqual(before);
  }, 60_000);
});
