import type { ClickHouseSettings } from '@clickhouse/client';
import { sqlInt, sqlString as quote, type ClickHouseTarget } from './clickhouse-connection.js';
import { SRCLOC_KEY_SQL, type SqlSrclocs } from './clickhouse-srclocs.js';
import { MAX_FLAME_NODES, type FlameGraph } from '../query/flame-graph.js';
import { DEFAULT_SEARCH_BUCKETS, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_BUCKETS, type SearchOptions } from '../query/zone-search.js';
import { yieldToEventLoop } from '../query/query-slicer.js';
import type { RangeOptions } from '../query/zone-stats.js';
import type { FlameNode, SrclocStats, ZoneMatch, ZoneSearchResult } from '../../protocol/view/types.js';

/**
 * Statistics, flame graph and zone search of a session stored in ClickHouse, answered from SQL
 * (issue 15 item 2) with the semantics, ordering, limits and
 * result types of the ring store's zoneStatisticsSliced, flameGraphSliced and searchZonesSliced:
 *
 * - a range [t0, t1] holds the zones that start in it (of the `threads` asked, when asked);
 * - a zone's self time is its duration minus those of the zones one depth below, same thread,
 *   that start in [start, end) (the ring store's walk, zone-walk.ts);
 * - quantiles are exact: the median the mean of the two middle values when the count is even,
 *   p90 / p99 the nearest rank (ceil(p * n)), computed in SQL over the sorted durations;
 * - the flame graph holds the whole trees of the top-level zones starting in the range (their
 *   descendants count even when they start after t1, a zone whose top-level zone started before t0
 *   does not), merged by source-location path, at most MAX_FLAME_NODES nodes.
 *
 * ClickHouse is 18.16 (Debian's): no query parameters (values inlined by sqlInt, source locations
 * named by SRCLOC_KEY_SQL), no window functions, no ASOF JOIN: parent/child relations (self time,
 * flame paths) are found by streaming the range's rows in (thread, start, depth) order
 * (TabSeparated, parsed per row) and walking them with one entry per depth and thread, in
 * Node; count, total, min, max and quantiles are aggregated in SQL. Every statement runs under
 * max_execution_time (QUERY_SECONDS); the non-streamed ones under max_result_rows too. Errors
 * from ClickHouse are thrown as they come (the caller maps them to HTTP errors).
 */

/** max_execution_time of every statement (whole seconds: 18.16 reads fractions as 0, no limit). */
export const QUERY_SECONDS = 30;
/** Milliseconds of row walking before the event loop gets a turn. */
const WALK_SLICE_MS = 3;
/** Rows between clock reads while walking. */
const WALK_CHECK_ROWS = 256;
/** Source locations one answer can hold at most (a GROUP BY by location returns no more rows). */
const MAX_SRCLOC_ROWS = 1_000_000;

type Range = RangeOptions & { t0: number; t1: number };

/** Integer bounds of a real range: zones start in [lo, hi]; a zone ends after t0 when its end > t0Floor. */
interface Bounds {
  lo: string;
  hi: string;
  t0Floor: string;
  /** as numbers, for the walk */
  loN: number;
  hiN: number;
  t0N: number;
  t1N: number;
  empty: boolean;
}

const clampNs = (x: number) => Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, x));

function boundsOf(range: { t0: number; t1: number }): Bounds {
  const t0 = Number.isNaN(range.t0) ? -Infinity : range.t0;
  const t1 = Number.isNaN(range.t1) ? Infinity : range.t1;
  const lo = clampNs(Math.ceil(t0));
  const hi = clampNs(Math.floor(t1));
  const t0Floor = clampNs(Math.floor(t0));
  return { lo: sqlInt(lo), hi: sqlInt(hi), t0Floor: sqlInt(t0Floor), loN: lo, hiN: hi, t0N: t0, t1N: t1, empty: lo > hi };
}

/** The WHERE clause of a session and its `threads` (every thread when absent). */
function sessionWhere(target: ClickHouseTarget, key: string, threads: number[] | undefined): string {
  let where = `session = ${quote(key)}`;
  if (threads) where += threads.length === 0 ? ' AND 0' : ` AND thread IN (${threads.map((t) => sqlInt(t)).join(', ')})`;
  return where;
}

/** What every call takes besides its range. */
export interface SqlQueryOptions {
  /** aborts the statements (the client went away, the session was closed) */
  signal?: AbortSignal;
}

/** Bytes of rows ClickHouse sorts in memory before it sorts on disk (a stream's ORDER BY). */
const SORT_IN_MEMORY_BYTES = 1 << 30;

function settings(sqlLength: number, maxRows?: number): ClickHouseSettings {
  const s: ClickHouseSettings = { max_execution_time: QUERY_SECONDS, timeout_overflow_mode: 'throw' };
  if (maxRows !== undefined) {
    s.max_result_rows = String(maxRows);
    s.result_overflow_mode = 'throw';
  } else {
    s.max_bytes_before_external_sort = String(SORT_IN_MEMORY_BYTES);
  }
  // a search's list of source-location keys can be longer than the default 256 KiB
  if (sqlLength > 200_000) s.max_query_size = String(sqlLength + 65_536);
  return s;
}

async function jsonRows<T>(target: ClickHouseTarget, sql: string, maxRows: number, options: SqlQueryOptions): Promise<T[]> {
  // the client only listens for an abort to come: one that came already ends here
  options.signal?.throwIfAborted();
  const rs = await target.client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: settings(sql.length, maxRows), ...(options.signal && { abort_signal: options.signal }) });
  return (await rs.json()) as T[];
}

/** One streamed zone row: thread, depth, start, duration, source-location key (reused between rows). */
interface ZoneRow {
  thread: number;
  depth: number;
  start: number;
  dur: number;
  key: string;
}

/** The SELECT list of the rows streamRows reads. */
const ZONE_ROW_SQL = `thread, depth, start_ns, duration_ns, toString(${SRCLOC_KEY_SQL})`;

/**
 * Streams the TabSeparated rows of `sql` (ZONE_ROW_SQL) to `each`, parsed into one reused object,
 * giving the event loop a turn every few ms. `each` may return a promise (awaited before the
 * next row).
 */
async function streamRows(target: ClickHouseTarget, sql: string, options: SqlQueryOptions, each: (z: ZoneRow) => void | Promise<void>): Promise<void> {
  options.signal?.throwIfAborted();
  const rs = await target.client.query({ query: sql, format: 'TabSeparated', clickhouse_settings: settings(sql.length), ...(options.signal && { abort_signal: options.signal }) });
  const stream = rs.stream();
  const z: ZoneRow = { thread: 0, depth: 0, start: 0, dur: 0, key: '' };
  let started = performance.now();
  let n = 0;
  try {
    for await (const rows of stream as AsyncIterable<{ text: string }[]>) {
      for (const row of rows) {
        const t = row.text;
        const a = t.indexOf('\t');
        const b = t.indexOf('\t', a + 1);
        const c = t.indexOf('\t', b + 1);
        const d = t.indexOf('\t', c + 1);
        z.thread = +t.slice(0, a);
        z.depth = +t.slice(a + 1, b);
        z.start = +t.slice(b + 1, c);
        z.dur = +t.slice(c + 1, d);
        z.key = t.slice(d + 1);
        const r = each(z);
        if (r) await r;
        if (++n % WALK_CHECK_ROWS === 0 && performance.now() - started >= WALK_SLICE_MS) {
          await yieldToEventLoop();
          options.signal?.throwIfAborted();
          started = performance.now();
        }
      }
    }
  } finally {
    stream.destroy();
  }
}

/** Source-location keys to API indices, loading the session's table once when a key is unknown. */
class KeyMap {
  private readonly cache = new Map<string, number>();
  private loaded = false;
  constructor(private readonly srclocs: SqlSrclocs) {}

  /** The index of `key`, or undefined until `load()` when unknown (then call again). */
  known(key: string): number | undefined {
    let i = this.cache.get(key);
    if (i !== undefined) return i;
    i = this.srclocs.indexOf(key);
    if (i >= 0 || this.loaded) {
      this.cache.set(key, i);
      return i;
    }
    return undefined;
  }

  async index(key: string): Promise<number> {
    const i = this.known(key);
    if (i !== undefined) return i;
    await this.srclocs.load();
    this.loaded = true;
    return this.known(key)!;
  }

  /** Indices of `keys` (loading once when one is unknown). */
  async all(keys: string[]): Promise<number[]> {
    if (!this.loaded && !this.srclocs.knows(keys)) {
      await this.srclocs.load();
      this.loaded = true;
    }
    return keys.map((k) => this.known(k)!);
  }
}

interface StatsRow {
  key: string;
  n: string;
  total: string;
  mn: string;
  mx: string;
  median: number | string;
  p90: string;
  p99: string;
}

/**
 * Every source location's statistics over the zones starting in [t0, t1] (of `threads`), as
 * zoneStatisticsSliced: sorted by total time, descending (equal totals: the location first met
 * by thread, depth, start, as the ring store walks them).
 *
 * Cost: two statements over the range's rows, run together. One GROUP BY location in SQL
 * (count, sum, min, max and the exact quantiles over the durations sorted per location:
 * ClickHouse holds 8 bytes per zone of the range while it runs) returns one row per location;
 * one stream of the range's rows plus the zones around t0 and the children past t1 (thread,
 * depth, start, duration, key: ~40 bytes a row) sorted by ClickHouse, walked in Node for the
 * self times with one entry per depth: Node memory is the locations, whatever the zones.
 */
export async function sqlZoneStatistics(target: ClickHouseTarget, key: string, srclocs: SqlSrclocs, range: Range, options: SqlQueryOptions = {}): Promise<SrclocStats[]> {
  const b = boundsOf(range);
  if (b.empty) return [];
  const { database } = target;
  const where = sessionWhere(target, key, range.threads);
  const inRange = `${where} AND start_ns >= ${b.lo} AND start_ns <= ${b.hi}`;
  const aggregate = jsonRows<StatsRow>(
    target,
    `SELECT key, n, total, mn, mx,
       if(n % 2 = 1, toFloat64(s[intDiv(n, 2) + 1]), (s[intDiv(n, 2)] + s[intDiv(n, 2) + 1]) / 2) AS median,
       s[toUInt64(greatest(1, ceil(0.9 * n)))] AS p90,
       s[toUInt64(greatest(1, ceil(0.99 * n)))] AS p99
     FROM (
       SELECT toString(${SRCLOC_KEY_SQL}) AS key, count() AS n, sum(duration_ns) AS total,
         min(duration_ns) AS mn, max(duration_ns) AS mx, arraySort(groupArray(duration_ns)) AS s
       FROM ${database}.zones WHERE ${inRange} GROUP BY key
     )`,
    MAX_SRCLOC_ROWS,
    options,
  );
  // the walk: children of every zone in range, and where each location is first met
  const childNs = new Map<string, number>();
  const first = new Map<string, [number, number, number]>();
  const walk = (async () => {
    const sql = `SELECT ${ZONE_ROW_SQL}
      FROM ${database}.zones
      WHERE ${where} AND start_ns >= ${b.lo}
        AND start_ns <= (SELECT greatest(${b.hi}, max(start_ns + duration_ns)) FROM ${database}.zones WHERE ${inRange})
      ORDER BY thread, start_ns, depth, duration_ns`;
    let thread = -1;
    // per depth: the last zone met (start, end, key, in range)
    let starts: number[] = [];
    let ends: number[] = [];
    let keys: string[] = [];
    let counted: boolean[] = [];
    await streamRows(target, sql, options, (z) => {
      const { thread: th, depth: d, start: s, dur, key: k } = z;
      if (th !== thread) {
        thread = th;
        starts = [];
        ends = [];
        keys = [];
        counted = [];
      }
      if (d > 0 && counted[d - 1] && starts[d - 1]! <= s && s < ends[d - 1]!) {
        const pk = keys[d - 1]!;
        childNs.set(pk, (childNs.get(pk) ?? 0) + dur);
      }
      const isIn = s <= b.hiN;
      if (isIn) {
        const f = first.get(k);
        if (f === undefined || th < f[0] || (th === f[0] && (d < f[1] || (d === f[1] && s < f[2])))) first.set(k, [th, d, s]);
      }
      starts[d] = s;
      ends[d] = s + dur;
      keys[d] = k;
      counted[d] = isIn;
    });
  })();
  const [rows] = await Promise.all([aggregate, walk]);
  const index = new KeyMap(srclocs);
  const indices = await index.all(rows.map((r) => r.key));
  const out = rows.map((r, i): SrclocStats & { first: [number, number, number] } => {
    const srcloc = indices[i]!;
    const loc = srclocs.list[srcloc];
    const n = Number(r.n);
    const total = Number(r.total);
    return {
      srcloc,
      name: srclocs.displayName(srcloc),
      function: loc?.function ?? '',
      file: loc?.file ?? '',
      line: loc?.line ?? 0,
      color: loc?.color ?? 0,
      count: n,
      totalNs: total,
      selfNs: total - (childNs.get(r.key) ?? 0),
      minNs: Number(r.mn),
      meanNs: total / n,
      medianNs: Number(r.median),
      p90Ns: Number(r.p90),
      p99Ns: Number(r.p99),
      maxNs: Number(r.mx),
      first: first.get(r.key) ?? [Infinity, Infinity, Infinity],
    };
  });
  out.sort((a, b) => b.totalNs - a.totalNs || a.first[0] - b.first[0] || a.first[1] - b.first[1] || a.first[2] - b.first[2]);
  return out.map(({ first: _first, ...s }) => s);
}

/**
 * The flame graph of [t0, t1] (of `threads`), as flameGraphSliced: node 0 the root, nodes
 * numbered in the order the ring store makes them (by thread, depth, start of the first zone on
 * the path), at most `maxNodes` (MAX_FLAME_NODES), the zones that would need one more counted in
 * droppedZones (their subtrees left out, uncounted).
 *
 * Past the cap the two differ in which paths are kept: the ring store walks each thread depth by
 * depth (shallow paths first), this walk goes in time order (the first paths in time first).
 *
 * Cost: a GROUP BY thread over the top-level zones up to t1 (where each thread's walk ends), then
 * one stream of the zones that start in [t0, that end] plus those around t0 (thread, depth, start,
 * duration, key: ~40 bytes a row, sorted by ClickHouse), walked in Node with one entry per depth:
 * Node memory is the nodes (bounded by the cap), whatever the zones.
 */
export async function sqlFlameGraph(target: ClickHouseTarget, key: string, srclocs: SqlSrclocs, range: Range, options: SqlQueryOptions & { maxNodes?: number } = {}): Promise<FlameGraph> {
  const maxNodes = options.maxNodes ?? MAX_FLAME_NODES;
  type Node = FlameNode & { order: [number, number, number, number] };
  const nodes: Node[] = [{ id: 0, parent: -1, srcloc: -1, name: 'all', count: 0, totalNs: 0, selfNs: 0, children: [], order: [-1, -1, -1, -1] }];
  const b = boundsOf(range);
  let droppedZones = 0;
  if (!b.empty) {
    const { database } = target;
    const where = sessionWhere(target, key, range.threads);
    // each thread's walk ends where its last top-level zone starting by t1 ends (flame-graph.ts untilOf)
    const tops = await jsonRows<{ thread: number | string; end: string }>(
      target,
      `SELECT thread, argMax(start_ns + duration_ns, start_ns) AS end FROM ${database}.zones
       WHERE ${where} AND depth = 0 AND start_ns <= ${b.hi} GROUP BY thread`,
      1_000_000,
      options,
    );
    const until = new Map<number, number>();
    let streamEnd = b.hiN;
    for (const t of tops) {
      const u = b.t1N === Infinity ? Infinity : Math.max(b.t1N, Number(t.end));
      until.set(Number(t.thread), u);
      streamEnd = Math.max(streamEnd, clampNs(u));
    }
    const childIndex = new Map<number, Map<number, number>>();
    const index = new KeyMap(srclocs);
    let threadOrdinal = -1;
    const nodeFor = (parent: number, srcloc: number, order: [number, number, number, number]): number => {
      let children = childIndex.get(parent);
      if (!children) childIndex.set(parent, (children = new Map()));
      let node = children.get(srcloc);
      if (node === undefined) {
        if (nodes.length >= maxNodes) return -1;
        node = nodes.length;
        nodes.push({ id: node, parent, srcloc, name: srclocs.displayName(srcloc), count: 0, totalNs: 0, selfNs: 0, children: [], order });
        nodes[parent]!.children.push(node);
        children.set(srcloc, node);
      }
      return node;
    };
    const sql = `SELECT ${ZONE_ROW_SQL}
      FROM ${database}.zones
      WHERE ${where} AND start_ns <= ${sqlInt(streamEnd)} AND (start_ns >= ${b.lo} OR start_ns + duration_ns > ${b.t0Floor})
      ORDER BY thread, start_ns, depth, duration_ns`;
    let thread = -1;
    let threadUntil = b.t1N;
    // per depth: the last zone met (start, end, its node: -1 when not counted)
    let starts: number[] = [];
    let ends: number[] = [];
    let nodeOf: number[] = [];
    await streamRows(target, sql, options, (z) => {
      const { thread: th, depth: d, start: s, dur, key: k } = z;
      const e = s + dur;
      if (th !== thread) {
        thread = th;
        threadOrdinal++;
        threadUntil = until.get(th) ?? b.t1N;
        starts = [];
        ends = [];
        nodeOf = [];
      }
      // a child of a counted zone (starting in its [start, end)) is not its self time
      if (d > 0 && (nodeOf[d - 1] ?? -1) >= 0 && starts[d - 1]! <= s && s < ends[d - 1]!) nodes[nodeOf[d - 1]!]!.selfNs -= dur;
      const srcloc = index.known(k);
      if (srcloc === undefined) return index.index(k).then((i) => place(i));
      place(srcloc);
      return undefined;

      /** Counts the zone (unless the ring store's walk would not) and makes it its depth's last. */
      function place(srcloc: number): void {
        starts[d] = s;
        ends[d] = e;
        nodeOf[d] = -1;
        if (s < b.loN || s > threadUntil) return; // not walked (around t0, or past the thread's end)
        let parentNode = 0;
        if (d > 0 && ends[d - 1] !== undefined && ends[d - 1]! >= e && starts[d - 1]! <= s) {
          parentNode = nodeOf[d - 1]!;
          if (parentNode < 0) return; // its tree's top-level zone started before t0 (or was left out)
        } else if (s > b.t1N) {
          return; // a top-level zone (or an orphan) after the range
        }
        const node = nodeFor(parentNode, srcloc, [threadOrdinal, d, s, nodes.length]);
        if (node < 0) {
          droppedZones++;
          return;
        }
        const n = nodes[node]!;
        n.count++;
        n.totalNs += dur;
        n.selfNs += dur;
        if (parentNode === 0) nodes[0]!.totalNs += dur;
        nodeOf[d] = node;
      }
    });
  }
  // number the nodes as the ring store makes them: by thread, then depth, then start
  const sorted = nodes.slice(1).sort((x, y) => x.order[0] - y.order[0] || x.order[1] - y.order[1] || x.order[2] - y.order[2] || x.order[3] - y.order[3]);
  const newId = new Int32Array(nodes.length);
  sorted.forEach((n, i) => (newId[n.id] = i + 1));
  const out: FlameNode[] = [{ id: 0, parent: -1, srcloc: -1, name: 'all', count: 0, totalNs: nodes[0]!.totalNs, selfNs: 0, children: [] }];
  for (const n of sorted) out.push({ id: newId[n.id]!, parent: n.parent === 0 ? 0 : newId[n.parent]!, srcloc: n.srcloc, name: n.name, count: n.count, totalNs: n.totalNs, selfNs: n.selfNs, children: [] });
  for (let i = 1; i < out.length; i++) out[out[i]!.parent]!.children.push(i);
  out[0]!.count = out[0]!.children.reduce((a, c) => a + out[c]!.count, 0);
  return { nodes: out, droppedZones };
}

interface KeyCountRow {
  key: string;
  n: string;
  mn: string;
  mx: string;
}

/**
 * Zones of [t0, t1] (of `threads`) whose source location's displayed name contains `query`,
 * case-insensitive (matched in Node over the session's locations, as the ring store does), as
 * searchZonesSliced: the locations (in index order) with their counts, the total, the first
 * `limit` matches by start time (row -1: the viewer finds a match by thread, depth and start),
 * and the log-scale histogram of the durations. `stackFilter` does not apply (callstacks are not
 * in ClickHouse): it is ignored.
 *
 * Cost: up to three statements over the range's rows: a GROUP BY location (count, min, max; one
 * row per location), then, over the matching locations only (an IN list of their keys, or NOT IN
 * of the others when shorter), the first `limit` by start (ClickHouse keeps `limit` rows while it
 * sorts) and one count per histogram bucket (the bucket edges computed in Node so that counts are
 * those of the ring store's formula, exactly). Node memory: the locations and `limit` matches.
 */
export async function sqlSearchZones(target: ClickHouseTarget, key: string, srclocs: SqlSrclocs, query: string, options: SearchOptions & SqlQueryOptions & { t0: number; t1: number }): Promise<ZoneSearchResult> {
  const q = query.toLowerCase();
  const limit = Math.max(0, Math.floor(options.limit ?? DEFAULT_SEARCH_LIMIT));
  const buckets = Math.max(1, Math.min(MAX_SEARCH_BUCKETS, Math.floor(options.buckets ?? DEFAULT_SEARCH_BUCKETS)));
  const b = boundsOf(options);
  const { database } = target;
  const inRange = `${sessionWhere(target, key, options.threads)} AND start_ns >= ${b.lo} AND start_ns <= ${b.hi}`;
  const perKey = b.empty
    ? []
    : await jsonRows<KeyCountRow>(
        target,
        `SELECT toString(${SRCLOC_KEY_SQL}) AS key, count() AS n, min(duration_ns) AS mn, max(duration_ns) AS mx
         FROM ${database}.zones WHERE ${inRange} GROUP BY key`,
        MAX_SRCLOC_ROWS,
        options,
      );
  const index = new KeyMap(srclocs);
  const indices = await index.all(perKey.map((r) => r.key));
  const wanted: number[] = [];
  for (let i = 0; i < srclocs.list.length; i++) if (srclocs.displayName(i).toLowerCase().includes(q)) wanted.push(i);
  const isWanted = new Set(wanted);
  const counts = new Map<number, number>();
  const inKeys: string[] = [];
  const outKeys: string[] = [];
  let total = 0;
  let min = Infinity;
  let max = -Infinity;
  perKey.forEach((r, i) => {
    const srcloc = indices[i]!;
    if (!isWanted.has(srcloc)) {
      outKeys.push(r.key);
      return;
    }
    inKeys.push(r.key);
    const n = Number(r.n);
    counts.set(srcloc, (counts.get(srcloc) ?? 0) + n);
    total += n;
    min = Math.min(min, Number(r.mn));
    max = Math.max(max, Number(r.mx));
  });
  const result: ZoneSearchResult = {
    query,
    srclocs: wanted.map((srcloc) => ({ srcloc, name: srclocs.displayName(srcloc), count: counts.get(srcloc) ?? 0 })),
    total,
    matches: [],
    histogram: { edgesNs: [], counts: [] },
  };
  if (total === 0) return result;
  const filter =
    outKeys.length === 0 ? '' : inKeys.length <= outKeys.length ? ` AND ${SRCLOC_KEY_SQL} IN (${inKeys.map(sqlInt).join(', ')})` : ` AND ${SRCLOC_KEY_SQL} NOT IN (${outKeys.map(sqlInt).join(', ')})`;
  // the histogram's edges as in zone-search.ts; a duration's bucket by the same formula
  const lo = Math.log(Math.max(1, min));
  const hi = Math.log(Math.max(2, max + 1));
  const stepLog = (hi - lo) / buckets || 1;
  const edgesNs: number[] = [];
  for (let i = 0; i <= buckets; i++) edgesNs.push(Math.exp(lo + i * stepLog));
  const bucketOf = (v: number) => Math.min(buckets - 1, Math.max(0, Math.floor((Math.log(Math.max(1, v)) - lo) / stepLog)));
  // the bucket is non-decreasing in the duration: bucket i >= 1 starts at the least whole ns in it
  const thresholds: number[] = [];
  for (let i = 1; i < buckets; i++) {
    let a = min;
    let z = max + 1; // bucketOf(z) may be < i: then no duration reaches bucket i
    if (bucketOf(max) < i) {
      thresholds.push(max + 1);
      continue;
    }
    z = max;
    while (a < z) {
      const m = a + Math.floor((z - a) / 2);
      if (bucketOf(m) >= i) z = m;
      else a = m + 1;
    }
    thresholds.push(a);
  }
  const [matchRows, histRows] = await Promise.all([
    limit === 0
      ? Promise.resolve([] as { thread: number | string; depth: number | string; start: string; dur: string; key: string }[])
      : jsonRows<{ thread: number | string; depth: number | string; start: string; dur: string; key: string }>(
          target,
          `SELECT thread, depth, start_ns AS start, duration_ns AS dur, toString(${SRCLOC_KEY_SQL}) AS key
           FROM ${database}.zones WHERE ${inRange}${filter}
           ORDER BY start_ns, thread, depth, duration_ns LIMIT ${sqlInt(limit)}`,
          limit,
          options,
        ),
    thresholds.length === 0
      ? Promise.resolve([] as Record<string, string>[])
      : jsonRows<Record<string, string>>(
          target,
          `SELECT ${thresholds.map((t, i) => `countIf(duration_ns >= ${sqlInt(t)}) AS c${i}`).join(', ')}
           FROM ${database}.zones WHERE ${inRange}${filter}`,
          1,
          options,
        ),
  ]);
  const atLeast = [total, ...thresholds.map((_t, i) => Number(histRows[0]?.[`c${i}`] ?? 0)), 0];
  result.histogram = { edgesNs, counts: Array.from({ length: buckets }, (_x, i) => atLeast[i]! - atLeast[i + 1]!) };
  const matches: ZoneMatch[] = [];
  for (const r of matchRows) {
    matches.push({ thread: Number(r.thread), depth: Number(r.depth), row: -1, srcloc: await index.index(r.key), startNs: Number(r.start), durNs: Number(r.dur) });
  }
  result.matches = matches;
  return result;
}
