import { Hono, type Context } from 'hono';
import type { ZoneDetails } from '../../protocol/view/types.js';
import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { flameGraphSliced } from '../query/flame-graph.js';
import { DEFAULT_MESSAGES_LIMIT, MAX_MESSAGES_LIMIT, queryMessagesSliced } from '../query/message-query.js';
import { QueryGate } from '../query/query-gate.js';
import type { SliceOptions } from '../query/query-slicer.js';
import { frameSetName, memoryPlotName, plotsByName, queryFrames, queryNamedPlot, querySeries } from '../query/series-query.js';
import { MAX_ZONE_PAGE_ITEMS, parseZoneCursor, queryZonePageSliced } from '../query/zone-pages.js';
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, searchZonesSliced } from '../query/zone-search.js';
import { zoneStatisticsSliced, type RangeOptions } from '../query/zone-stats.js';
import { SEGMENT_MASK } from '../store/zone-columns.js';
import { HttpError, numberParam, respond, streamedResponse } from './encode.js';
import { exportResponse } from './export-route.js';
import { importResponse } from './import-route.js';
import { mountLockRoutes } from './lock-routes.js';
import { mountStackRoutes } from './stack-routes.js';
import { stackFilterByFunction } from '../query/stack-query.js';
import { limitParam, nsPerPxParam, runHeavyQuery, threadsParam } from './query-params.js';
import { sessionDetails, sessionList, threadSummaries } from './session-view.js';
import { sqlFlameGraph, sqlSearchZones, sqlZoneStatistics } from '../fleet/clickhouse-aggregates.js';

/** The finest level of detail /plots answers: the range over this many pixels (4 samples a pixel before decimation). */
export const MAX_PLOT_PIXELS = 16_384;

/** How heavy queries run (all optional; the defaults are the documented limits). */
export interface SessionRoutesOptions {
  /** slice length of statistics, flame graph, search and messages (query-slicer.ts defaults) */
  slice?: SliceOptions;
  /** heavy queries computed at once / queued (query-gate.ts defaults: 2 / 32) */
  gate?: QueryGate;
  /** /zones pages computed at once / queued (default 4 / 64) */
  pageGate?: QueryGate;
}


export function sessionOf(registry: SessionRegistry, c: Context): Session {
  const id = c.req.param('id') ?? '';
  const s = registry.get(id);
  if (!s) throw new HttpError(404, 'ZS_HTTP_NO_SESSION', `no session ${id}`);
  return s;
}

/** t0/t1 (ns), default the whole session; `threads` = comma-separated app thread ids. */
export function rangeOf(c: Context, s: Session): RangeOptions & { t0: number; t1: number } {
  const t0 = numberParam(c, 't0', 0);
  const t1 = numberParam(c, 't1', Math.max(s.store.lastNs, t0));
  if (t1 < t0) throw new HttpError(400, 'ZS_HTTP_BAD_RANGE', `t1 (${t1}) is before t0 (${t0})`);
  const threads = threadsParam(c);
  const out: RangeOptions & { t0: number; t1: number } = { t0, t1 };
  if (threads) out.threads = threads;
  return out;
}

/**
 * A query of a ClickHouse session (session.sqlViews) through the same gate as the store's
 * heavy queries; a failure of ClickHouse is a 503 ZS_CLICKHOUSE_QUERY with its message.
 */
export async function sqlQuery<T>(c: Context, registry: SessionRegistry, s: Session, gate: QueryGate, work: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  try {
    return await runHeavyQuery(c, registry, s, gate, {}, (sl) => work(sl.signal));
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(503, 'ZS_CLICKHOUSE_QUERY', `ClickHouse could not answer: ${(err as Error).message.slice(0, 300)}`);
  }
}

/** REST endpoints under /api/sessions. */
export function sessionRoutes(registry: SessionRegistry, options: SessionRoutesOptions = {}): Hono {
  const api = new Hono();
  const gate = options.gate ?? new QueryGate();
  // /zones pages are bounded (100,000 items, a few MiB) and short: a gate of their own, wider
  const pageGate = options.pageGate ?? new QueryGate(4, 64);
  const slice = options.slice ?? {};

  api.get('/', (c) => respond(c, sessionList(registry)));

  api.post('/import', (c) => importResponse(c, registry));

  // A stored capture (--data) loads on first use: wait until it is read to the end.
  const loadStored = async (c: Context, next: () => Promise<void>) => {
    if (c.req.method === 'GET') await registry.ready(c.req.param('id') ?? '');
    await next();
  };
  api.use('/:id', loadStored);
  api.use('/:id/*', loadStored);

  api.get('/:id', (c) => respond(c, sessionDetails(sessionOf(registry, c))));

  api.delete('/:id', (c) => {
    const id = c.req.param('id');
    if (!registry.delete(id)) throw new HttpError(404, 'ZS_HTTP_NO_SESSION', `no session ${id}`);
    return respond(c, { deleted: id });
  });

  api.get('/:id/threads', (c) => streamedResponse(c, threadSummaries(sessionOf(registry, c))));

  api.get('/:id/srclocs', (c) => {
    const s = sessionOf(registry, c);
    const sql = s.sqlViews?.srclocs;
    if (sql) return streamedResponse(c, sql.list.map((l, i) => ({ srcloc: i, name: sql.displayName(i), function: l.function, file: l.file, line: l.line, color: l.color })));
    const store = s.store;
    const out = [];
    for (let i = 0; i < store.srclocs.count; i++) {
      out.push({
        srcloc: i,
        name: store.srclocs.displayName(i, store.names.strings),
        function: store.srclocs.functionName(i, store.names.strings),
        file: store.srclocs.fileName(i, store.names.strings),
        line: store.srclocs.line[i] ?? 0,
        color: store.srclocs.color[i] ?? 0,
      });
    }
    return streamedResponse(c, out);
  });

  /**
   * Zones of a viewport at a level of detail: nsPerPx (or px = viewport width in pixels);
   * nsPerPx=0 lists every zone individually. At most `limit` items (default and most
   * MAX_ZONE_PAGE_ITEMS); `cursor` in the answer continues (zone-pages.ts).
   */
  api.get('/:id/zones', async (c) => {
    const s = sessionOf(registry, c);
    const { t0, t1, threads } = rangeOf(c, s);
    const nsPerPx = nsPerPxParam(c, t0, t1);
    const limit = limitParam(c, 'limit', MAX_ZONE_PAGE_ITEMS, MAX_ZONE_PAGE_ITEMS, 1);
    const rawCursor = c.req.query('cursor');
    const cursor = rawCursor ? parseZoneCursor(rawCursor) : null;
    if (rawCursor && !cursor) throw new HttpError(400, 'ZS_QUERY_BAD_CURSOR', `cursor=${rawCursor.slice(0, 60)} is not a cursor from a previous /zones answer (thread.depth.row)`);
    const options = { t0, t1, nsPerPx, limit, cursor, ...(threads ? { threads } : {}) };
    const sql = s.sqlViews;
    if (sql) {
      const page = await sqlQuery(c, registry, s, pageGate, () => sql.zonePage(options));
      return streamedResponse(c, { t0, t1, nsPerPx, threads: page.threads, cursor: page.cursor });
    }
    const page = await runHeavyQuery(c, registry, s, pageGate, slice, (sl) => queryZonePageSliced(s.store, options, sl));
    return streamedResponse(c, { t0, t1, nsPerPx, threads: page.threads, cursor: page.cursor });
  });

  /** One zone's details: thread, depth, row (as returned by /zones). */
  api.get('/:id/zone', async (c) => {
    const s = sessionOf(registry, c);
    const sql = s.sqlViews;
    if (sql) {
      const z = await sqlQuery(c, registry, s, pageGate, () => sql.zone(numberParam(c, 'thread', -1), numberParam(c, 'depth', -1), numberParam(c, 'row', -1)));
      if (!z) throw new HttpError(404, 'ZS_HTTP_NO_ZONE', 'no such zone (wrong thread/depth/row)');
      return respond(c, z);
    }
    const thread = s.store.threads.get(numberParam(c, 'thread', -1));
    const depth = numberParam(c, 'depth', -1);
    const row = numberParam(c, 'row', -1);
    const cols = thread?.depths[depth];
    const seg = cols?.segmentOf(row);
    if (!thread || !cols || !seg) throw new HttpError(404, 'ZS_HTTP_NO_ZONE', 'no such zone (evicted, or wrong thread/depth/row)');
    const slot = row & SEGMENT_MASK;
    const srcloc = seg.srcloc[slot]!;
    const startNs = seg.startAt(slot);
    const durNs = seg.durationAt(slot);
    const extra = seg.extraAt(slot);
    const children = thread.depths[depth + 1];
    let childNs = 0;
    let childCount = 0;
    if (children) {
      for (let k = children.firstStartingAtOrAfter(startNs); k < children.count && children.startAt(k) < startNs + durNs; k++) {
        childNs += children.endAt(k) - children.startAt(k);
        childCount++;
      }
    }
    const strings = s.store.names.strings;
    return respond(c, {
      thread: thread.id,
      threadName: thread.name,
      depth,
      row,
      srcloc,
      name: extra?.name ?? s.store.srclocs.displayName(srcloc, strings),
      srclocName: s.store.srclocs.displayName(srcloc, strings),
      function: s.store.srclocs.functionName(srcloc, strings),
      file: s.store.srclocs.fileName(srcloc, strings),
      line: s.store.srclocs.line[srcloc] ?? 0,
      startNs,
      durNs,
      selfNs: durNs - childNs,
      children: childCount,
      text: extra?.text ?? null,
      value: extra && extra.valueHi >= 0 ? (BigInt(extra.valueHi) * 2n ** 32n + BigInt(extra.valueLo)).toString() : null,
      color: extra && extra.color >= 0 ? extra.color : s.store.srclocs.color[srcloc] ?? 0,
      callstack: extra?.callstack ?? 0,
    } satisfies ZoneDetails);
  });

  api.get('/:id/frames', (c) => {
    const s = sessionOf(registry, c);
    const { t0, t1 } = rangeOf(c, s);
    const out = [];
    for (const set of s.store.frames.values()) {
      out.push({ namePtr: set.namePtr, name: frameSetName(s.store, set), continuous: set.continuous, count: set.count, ...queryFrames(set, t0, t1) });
    }
    return streamedResponse(c, out);
  });

  /** Plots decimated to the viewport; never finer than MAX_PLOT_PIXELS across the range (at most ~4 samples a pixel). */
  api.get('/:id/plots', (c) => {
    const s = sessionOf(registry, c);
    const { t0, t1 } = rangeOf(c, s);
    const nsPerPx = Math.max(nsPerPxParam(c, t0, t1), (t1 - t0) / MAX_PLOT_PIXELS);
    const only = c.req.query('name');
    // edges=1: also the last sample before t0 and the first after t1 (what the viewer draws)
    const edges = c.req.query('edges') === '1';
    const out = [];
    for (const p of plotsByName(s.store)) {
      if (only !== undefined && p.name !== only) continue;
      out.push({ name: p.name, format: p.format, step: p.step, fill: p.fill, color: p.color, count: p.count, min: p.min, max: p.max, ...queryNamedPlot(p, t0, t1, nsPerPx, edges) });
    }
    for (const m of s.store.memory.values()) {
      const name = memoryPlotName(s.store, m.namePtr);
      if (only !== undefined && name !== only) continue;
      out.push({ name, format: 1, step: true, fill: true, color: 0, count: m.usage.total, min: m.usage.min, max: m.usage.max, memory: true, ...querySeries(m.usage, t0, t1, nsPerPx, edges) });
    }
    return streamedResponse(c, out);
  });

  /** Messages in time order: the first `limit` (default and most 10,000), text matching `q`. */
  api.get('/:id/messages', async (c) => {
    const s = sessionOf(registry, c);
    const { t0, t1 } = rangeOf(c, s);
    const q = c.req.query('q') ?? '';
    const limit = limitParam(c, 'limit', DEFAULT_MESSAGES_LIMIT, MAX_MESSAGES_LIMIT);
    const sql = s.sqlViews;
    if (sql) {
      const found = await sqlQuery(c, registry, s, gate, () => sql.messages({ t0, t1, q, limit }));
      return streamedResponse(c, { total: found.total, evictedBeforeNs: 0, messages: found.messages, truncated: found.truncated });
    }
    const strings = s.store.names.strings;
    const log = s.store.messages;
    const found = await runHeavyQuery(c, registry, s, gate, slice, (sl) => queryMessagesSliced(log, (ptr) => strings.get(ptr), { t0, t1, q, limit }, sl));
    return streamedResponse(c, { total: log.total, evictedBeforeNs: log.evictedBeforeNs, messages: found.messages, truncated: found.truncated });
  });

  api.get('/:id/stats', async (c) => {
    const s = sessionOf(registry, c);
    const range = rangeOf(c, s);
    const sql = s.sqlViews;
    if (sql) return streamedResponse(c, await sqlQuery(c, registry, s, gate, (signal) => sqlZoneStatistics(sql.target, sql.key, sql.srclocs, range, { ...(signal && { signal }) })));
    return streamedResponse(c, await runHeavyQuery(c, registry, s, gate, slice, (sl) => zoneStatisticsSliced(s.store, range, sl)));
  });

  /** The flame graph; `x-zonescope-dropped-zones` counts zones left out by the node cap (MAX_FLAME_NODES). */
  api.get('/:id/flame', async (c) => {
    const s = sessionOf(registry, c);
    const range = rangeOf(c, s);
    const sql = s.sqlViews;
    const flame = sql
      ? await sqlQuery(c, registry, s, gate, (signal) => sqlFlameGraph(sql.target, sql.key, sql.srclocs, range, { ...(signal && { signal }) }))
      : await runHeavyQuery(c, registry, s, gate, slice, (sl) => flameGraphSliced(s.store, range, sl));
    return streamedResponse(c, flame.nodes, 200, flame.droppedZones > 0 ? { 'x-zonescope-dropped-zones': String(flame.droppedZones) } : {});
  });

  /** Zones by source-location name: the first `limit` matches (default 1,000, most 10,000). */
  api.get('/:id/search', async (c) => {
    const s = sessionOf(registry, c);
    const q = c.req.query('q') ?? '';
    const frame = c.req.query('frame') ?? '';
    if (q === '' && frame === '') throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', 'search needs q=NAME (or frame=FUNCTION)');
    const range = rangeOf(c, s);
    const limit = limitParam(c, 'limit', DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
    const sql = s.sqlViews;
    if (sql && frame !== '') throw new HttpError(409, 'ZS_SEARCH_CLICKHOUSE', 'frame= searches zones by their callstacks, which ClickHouse does not keep');
    if (sql) return streamedResponse(c, await sqlQuery(c, registry, s, gate, (signal) => sqlSearchZones(sql.target, sql.key, sql.srclocs, q, { ...range, limit, ...(signal && { signal }) })));
    // frame=: only zones whose callstack has a frame of that function (the stack flame graph's click)
    const stackFilter = frame === '' ? undefined : stackFilterByFunction(s.store.callstacks, frame.slice(0, 4096));
    return streamedResponse(c, await runHeavyQuery(c, registry, s, gate, slice, (sl) => searchZonesSliced(s.store, q, { ...range, limit, ...(stackFilter && { stackFilter }) }, sl)));
  });

  mountLockRoutes(api, registry, { gate, slice });
  mountStackRoutes(api, registry, { gate, slice });

  api.get('/:id/export', (c) => exportResponse(c, sessionOf(registry, c)));

  return api;
}
