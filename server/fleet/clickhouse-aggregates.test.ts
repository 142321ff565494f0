/**
 * Statistics, flame graph and zone search answered from ClickHouse (clickhouse-aggregates.ts)
 * against the ring store's answers for the same session: the real medium Tracy recording streamed
 * through `serve --clickhouse` on a real clickhouse-server (Debian's 18.16), then the server's own
 * /stats, /flame and /search compared with the SQL answers, location by name/function/file/line.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../serve.js';
import { CLICKHOUSE_MISSING, startClickHouse, type ClickHouseServer } from '../../test/support/db-servers.js';
import { fixture } from '../../test/support/inspect-fixtures.js';
import { streamToServer } from '../../test/support/tracy-replay.js';
import { connectClickHouse, type ClickHouseTarget } from './clickhouse-connection.js';
import { SqlSrclocs } from './clickhouse-srclocs.js';
import { sqlFlameGraph, sqlSearchZones, sqlZoneStatistics } from './clickhouse-aggregates.js';
import type { FlameNode, SrclocStats, ZoneSearchResult } from '../../protocol/view/types.js';

if (CLICKHOUSE_MISSING) console.warn(`clickhouse-aggregates: skipped: ${CLICKHOUSE_MISSING}`);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let ch: ClickHouseServer;
let server: ServerHandle;
let target: ClickHouseTarget;
let srclocs: SqlSrclocs;
let id: string;
let key: string;
let lastNs: number;
let threads: number[];
/** the middle of a long top-level zone with children on both sides: a range starting there cuts a tree */
let midTree: number;

async function api(path: string): Promise<{ body: Json; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`);
  expect(res.status, path).toBe(200);
  return { body: await res.json(), headers: res.headers };
}

const query = (r: { t0: number; t1: number; threads?: number[] }) => `t0=${r.t0}&t1=${r.t1}${r.threads ? `&threads=${r.threads.join(',')}` : ''}`;

/** A location as both sides name it (indices differ). */
function locOf(s: { name: string; function: string; file: string; line: number }): string {
  return `${s.name}|${s.function}|${s.file}|${s.line}`;
}

/**
 * Statistics by location. The ring store may hold one location several times (a zone with an
 * allocated source location, e.g. GoStyleZone, gets its own each time) where ClickHouse has one
 * key: such entries are merged (count, total, self summed, min and max of both; the quantiles,
 * which cannot be merged, left out of the comparison for those only).
 */
function statsByLoc(stats: SrclocStats[]): Record<string, Partial<SrclocStats>> {
  const out: Record<string, Partial<SrclocStats> & { n: number }> = {};
  // the colour is left out: ClickHouse rows carry the zone's own colour (ZoneColor) where set
  for (const { srcloc: _s, color: _c, ...rest } of stats) {
    const k = locOf(rest);
    const e = out[k];
    if (e === undefined) {
      out[k] = { ...rest, n: 1 };
      continue;
    }
    e.n++;
    e.count! += rest.count;
    e.totalNs! += rest.totalNs;
    e.selfNs! += rest.selfNs;
    e.minNs = Math.min(e.minNs!, rest.minNs);
    e.maxNs = Math.max(e.maxNs!, rest.maxNs);
    e.meanNs = e.totalNs! / e.count!;
  }
  const merged: Record<string, Partial<SrclocStats>> = {};
  for (const [k, { n, ...e }] of Object.entries(out)) {
    if (n > 1) {
      delete e.medianNs;
      delete e.p90Ns;
      delete e.p99Ns;
    }
    merged[k] = e;
  }
  return merged;
}

/** Keeps only the fields `ring` has for each location (its merged ones have no quantiles). */
function sameFields(sql: Record<string, Partial<SrclocStats>>, ring: Record<string, Partial<SrclocStats>>): Record<string, Partial<SrclocStats>> {
  const out: Record<string, Partial<SrclocStats>> = {};
  for (const [k, v] of Object.entries(sql)) out[k] = ring[k] ? Object.fromEntries(Object.entries(v).filter(([f]) => f in ring[k]!)) : v;
  return out;
}

/** Every node by its path of names ("all/Frame/Update"): count, total, self. */
function flameByPath(nodes: FlameNode[]): Record<string, [number, number, number]> {
  const out: Record<string, [number, number, number]> = {};
  const pathOf = (i: number): string => (i <= 0 ? 'all' : `${pathOf(nodes[i]!.parent)}/${nodes[i]!.name}#${nodes[i]!.srcloc >= 0 ? '' : '?'}`);
  nodes.forEach((n, i) => {
    expect(n.id).toBe(i);
    for (const c of n.children) expect(nodes[c]!.parent).toBe(i);
    const p = pathOf(i);
    const e = (out[p] ??= [0, 0, 0]);
    e[0] += n.count;
    e[1] += n.totalNs;
    e[2] += n.selfNs;
  });
  return out;
}

function searchShape(r: ZoneSearchResult, names: (srcloc: number) => string): Json {
  return {
    query: r.query,
    total: r.total,
    // summed by name: the ring store may list one location several times (see statsByLoc); it
    // also lists locations no zone has (a lock's), which ClickHouse, holding zones only, cannot
    srclocs: Object.entries(r.srclocs.reduce<Record<string, number>>((m, s) => ((m[s.name] = (m[s.name] ?? 0) + s.count), m), {}))
      .filter(([, n]) => n > 0)
      .sort(),
    matches: r.matches.map((m) => `${m.thread}|${m.depth}|${m.startNs}|${m.durNs}|${names(m.srcloc)}`),
    histogram: r.histogram,
  };
}

describe.skipIf(CLICKHOUSE_MISSING !== null)('statistics, flame graph and search from ClickHouse equal the ring store', () => {
  beforeAll(async () => {
    ch = (await startClickHouse())!;
    const url = `${ch.url}/?database=zs_agg_${process.pid}`;
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: url, fleet: { feedIntervalMs: 20 } });
    id = await streamToServer(server, readFileSync(fixture('medium.client.bin')));
    // every row written before anything is compared
    expect(await server.fleet.flush()).toBe(true);
    key = `${server.fleet.serverId}-${id}`;
    const details = (await api(`/api/sessions/${id}`)).body;
    expect(details.zones).toBe(202_201);
    lastNs = details.lastNs;
    threads = ((await api(`/api/sessions/${id}/threads`)).body as Json[]).map((t) => t.id).sort((a: number, b: number) => a - b);
    expect(threads.length).toBeGreaterThan(1);
    target = connectClickHouse(url);
    srclocs = new SqlSrclocs(target, key);
    await srclocs.load();
    const rs = await target.client.query({
      query: `SELECT thread, start_ns + intDiv(duration_ns, 2) AS mid, start_ns + duration_ns AS end FROM ${target.database}.zones
              WHERE session = '${key}' AND depth = 0 AND start_ns > ${Math.floor(lastNs / 3)} ORDER BY duration_ns DESC, start_ns LIMIT 1`,
      format: 'JSONEachRow',
    });
    const [top] = (await rs.json()) as { thread: number; mid: string; end: string }[];
    midTree = Number(top!.mid);
    const rs2 = await target.client.query({
      query: `SELECT count() AS n FROM ${target.database}.zones WHERE session = '${key}' AND thread = ${top!.thread} AND depth > 0 AND start_ns >= ${midTree} AND start_ns < ${top!.end}`,
      format: 'JSONEachRow',
    });
    expect(Number(((await rs2.json()) as { n: string }[])[0]!.n)).toBeGreaterThan(0);
  }, 120_000);
  afterAll(async () => {
    await target?.client.close();
    await server?.close();
    await ch?.stop();
  });

  const ranges = () => {
    const third = Math.floor(lastNs / 3);
    return [
      { what: 'the whole session', t0: 0, t1: lastNs },
      { what: 'a sub-range', t0: third + 0.5, t1: 2 * third },
      { what: 'a sub-range of two threads', t0: third, t1: 2 * third, threads: [threads[0]!, threads[threads.length - 1]!] },
      { what: 'a sub-range starting inside a tree', t0: midTree, t1: Math.floor((midTree + lastNs) / 2) },
      { what: 'a sub-range ending inside a tree', t0: third, t1: midTree },
    ];
  };

  it('statistics: every location with equal count, total, self, min, max, mean and exact quantiles, in the same order of totals', async () => {
    for (const r of ranges()) {
      const ring: SrclocStats[] = (await api(`/api/sessions/${id}/stats?${query(r)}`)).body;
      const sql = await sqlZoneStatistics(target, key, srclocs, r);
      expect(ring.length, r.what).toBeGreaterThan(3);
      const ringByLoc = statsByLoc(ring);
      const sqlByLoc = statsByLoc(sql);
      expect(sameFields(sqlByLoc, ringByLoc), r.what).toEqual(ringByLoc);
      // in the ring store's order where it has one entry per location
      const merged = new Set(ring.filter((s, i) => ring.findIndex((o) => locOf(o) === locOf(s)) !== i).map(locOf));
      expect(sql.filter((s) => !merged.has(locOf(s))).map(locOf), r.what).toEqual(ring.filter((s) => !merged.has(locOf(s))).map(locOf));
      for (let i = 1; i < sql.length; i++) expect(sql[i - 1]!.totalNs).toBeGreaterThanOrEqual(sql[i]!.totalNs);
      for (const s of sql) expect(srclocs.displayName(s.srcloc)).toBe(s.name);
    }
  });

  it('flame graph: the same paths with equal count, total and self time, and the same root', async () => {
    for (const r of ranges()) {
      const { body: ring, headers } = await api(`/api/sessions/${id}/flame?${query(r)}`);
      const sql = await sqlFlameGraph(target, key, srclocs, r);
      expect(ring.length, r.what).toBeGreaterThan(10);
      expect(sql.droppedZones).toBe(Number(headers.get('x-zonescope-dropped-zones') ?? 0));
      expect(flameByPath(sql.nodes), r.what).toEqual(flameByPath(ring));
      expect(sql.nodes[0], r.what).toMatchObject({ count: ring[0].count, totalNs: ring[0].totalNs });
    }
  });

  it('search: the same total, locations and counts, first matches (row -1) and histogram', async () => {
    for (const r of ranges()) {
      for (const q of ['o', 'WORK', 'e', 'zz-no-such-zone-zz']) {
        for (const limit of [1000, 7]) {
          const ring: ZoneSearchResult = (await api(`/api/sessions/${id}/search?q=${encodeURIComponent(q)}&limit=${limit}&${query(r)}`)).body;
          const sql = await sqlSearchZones(target, key, srclocs, q, { ...r, limit });
          const ringNames: Json[] = (await api(`/api/sessions/${id}/srclocs`)).body;
          expect(searchShape(sql, (i) => srclocs.displayName(i)), `${r.what} q=${q}`).toEqual(searchShape(ring, (i) => ringNames[i].name));
          for (const m of sql.matches) expect(m.row).toBe(-1);
          const ringListed = new Set(ring.srclocs.map((l) => l.name));
          for (const l of sql.srclocs) expect(ringListed.has(l.name), l.name).toBe(true);
        }
      }
    }
  });

  it('search: a q with quotes, backslashes, LIKE wildcards or non-ASCII letters matches as in the ring store (never as SQL)', async () => {
    const r = { t0: 0, t1: lastNs };
    for (const q of ["'; DROP TABLE zones; --", '\\', '%', '_', 'İ', 'ZONE\'', 'Alloc\tZone']) {
      const ring: ZoneSearchResult = (await api(`/api/sessions/${id}/search?q=${encodeURIComponent(q)}&${query(r)}`)).body;
      const sql = await sqlSearchZones(target, key, srclocs, q, r);
      const ringNames: Json[] = (await api(`/api/sessions/${id}/srclocs`)).body;
      expect(searchShape(sql, (i) => srclocs.displayName(i)), `q=${q}`).toEqual(searchShape(ring, (i) => ringNames[i].name));
    }
    // the table is still there
    expect((await sqlZoneStatistics(target, key, srclocs, r)).length).toBeGreaterThan(3);
  });

  it('flame graph: past a node cap, zones needing a new node are counted as dropped and their subtrees left out', async () => {
    const r = { t0: 0, t1: lastNs };
    const full = await sqlFlameGraph(target, key, srclocs, r);
    expect(full.droppedZones).toBe(0);
    const cap = Math.min(6, full.nodes.length - 1);
    const cut = await sqlFlameGraph(target, key, srclocs, r, { maxNodes: cap });
    expect(cut.nodes.length).toBe(cap);
    expect(cut.droppedZones).toBeGreaterThan(0);
    // a kept node counts no more than the same path in the full graph, and the root what its children count
    const fullPaths = flameByPath(full.nodes);
    for (const [path, [count, total]] of Object.entries(flameByPath(cut.nodes))) {
      expect(fullPaths[path], path).toBeDefined();
      expect(count).toBeLessThanOrEqual(fullPaths[path]![0]);
      expect(total).toBeLessThanOrEqual(fullPaths[path]![1]);
    }
    expect(cut.nodes[0]!.count).toBe(cut.nodes[0]!.children.reduce((a, c) => a + cut.nodes[c]!.count, 0));
  });

  it('a ClickHouse error (an unknown database) is thrown as an Error', async () => {
    const bad = { ...target, database: 'zs_no_such_database' };
    await expect(sqlZoneStatistics(bad, key, srclocs, { t0: 0, t1: lastNs })).rejects.toThrow(/zs_no_such_database/);
    await expect(sqlFlameGraph(bad, key, srclocs, { t0: 0, t1: lastNs })).rejects.toThrow(/zs_no_such_database/);
    await expect(sqlSearchZones(bad, key, srclocs, 'o', { t0: 0, t1: lastNs })).rejects.toThrow(/zs_no_such_database/);
  });

  it('an aborted signal ends each query with an error', async () => {
    const signal = AbortSignal.abort(new Error('client gone'));
    const r = { t0: 0, t1: lastNs };
    await expect(sqlZoneStatistics(target, key, srclocs, r, { signal })).rejects.toThrow();
    await expect(sqlFlameGraph(target, key, srclocs, r, { signal })).rejects.toThrow();
    await expect(sqlSearchZones(target, key, srclocs, 'o', { ...r, signal })).rejects.toThrow();
  });
});
