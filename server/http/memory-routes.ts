import { Hono, type Context } from 'hono';
import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { DEFAULT_ALLOC_LIMIT, MAX_ALLOC_LIMIT, memoryQuerySliced, type MemoryAnswerCore, type MemoryQueryOptions } from '../query/memory-query.js';
import { QueryGate } from '../query/query-gate.js';
import type { SliceOptions } from '../query/query-slicer.js';
import { memoryPlotName } from '../query/series-query.js';
import { findPool, poolName } from '../query/pools.js';
import { StackFrames, stackFilterByFunction, stackTopName } from '../query/stack-query.js';
import type { MemoryPool, SessionStore } from '../store/session-store.js';
import { HttpError, numberParam, streamedResponse } from './encode.js';
import { limitParam, runHeavyQuery } from './query-params.js';

/**
 * The memory window's API, beside the session routes under /api/sessions:
 *   GET /:id/memory?pool&t            allocations alive at t (default: the session's last event)
 *   GET /:id/memory?pool&t0&t1        allocations made in [t0, t1] and alive at t1
 *   GET /:id/memory/leaks?pool        allocations never freed
 * each with `limit` (default 1,000, most 10,000) and `cursor` for the list (docs/server.md,
 * "Memory window").
 */
export interface MemoryRoutesOptions {
  slice?: SliceOptions;
  /** memory queries computed at once / queued (default 2 / 32, like the other heavy queries) */
  gate?: QueryGate;
}

function sessionOf(registry: SessionRegistry, c: Context): Session {
  const id = c.req.param('id') ?? '';
  const s = registry.get(id);
  if (!s) throw new HttpError(404, 'ZS_HTTP_NO_SESSION', `no session ${id}`);
  return s;
}

/**
 * The pool named by `?pool` (findPool: 'default', a pool's name or its plot's name; absent: the
 * default pool, or the only one).
 * @throws HttpError 404 ZS_HTTP_NO_POOL naming the pools there are
 */
export function poolOf(c: Context, store: SessionStore): MemoryPool {
  const found = findPool(store, c.req.query('pool'));
  if (typeof found === 'string') throw new HttpError(404, 'ZS_HTTP_NO_POOL', found.replace(/^a pool is needed/, 'pool= is needed'));
  return found;
}

function cursorParam(c: Context): number | undefined {
  const raw = c.req.query('cursor');
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new HttpError(400, 'ZS_QUERY_BAD_CURSOR', `cursor=${raw.slice(0, 60)} is not a cursor from a previous /memory answer (a row number)`);
  return Number(raw);
}

/** The answer with names resolved: pool counters, zone and thread names. */
function answer(store: SessionStore, pool: MemoryPool, o: MemoryQueryOptions, core: MemoryAnswerCore): unknown {
  const strings = store.names.strings;
  const zoneName = (srcloc: number) => (srcloc >= 0 ? store.srclocs.displayName(srcloc, strings) : null);
  const threadName = (id: number) => store.names.threads.get(id) ?? null;
  const frames = new StackFrames(store.callstacks);
  const log = pool.records;
  return {
    pool: {
      name: poolName(store, pool),
      namePtr: pool.namePtr,
      plot: memoryPlotName(store, pool.namePtr),
      allocs: pool.allocs,
      frees: pool.frees,
      allocatedBytes: pool.allocatedBytes,
      unknownFrees: pool.unknownFrees,
      usedBytes: pool.usedBytes,
      live: pool.live.size,
      peakBytes: pool.usage.total > 0 ? pool.usage.max : 0,
      records: log.count,
      storedRecords: log.count - log.firstRow,
      evictedBeforeNs: log.evictedBeforeNs,
      liveEvicted: { count: log.liveEvictedCount, bytes: log.liveEvictedBytes },
    },
    mode: o.mode,
    t: o.mode === 'leaks' ? null : o.t,
    t0: o.mode === 'range' || o.mode === 'made' ? o.t0 : null,
    lastNs: store.lastNs,
    active: core.active,
    window: core.window,
    peak: Number.isNaN(core.peak.bytes) ? { bytes: null, timeNs: null } : core.peak,
    histogram: core.histogram,
    bySize: core.bySize,
    bySizeOther: core.bySizeOther,
    byZone: core.byZone.map((g) => ({ ...g, zone: zoneName(g.srcloc) })),
    byZoneOther: core.byZoneOther,
    byStack: core.byStack.map((g) => ({ ...g, top: g.callstack === 0 ? null : stackTopName(frames.of(g.callstack) ?? []) })),
    byStackOther: core.byStackOther,
    allocations: core.allocations.map((a) => ({ ...a, threadName: threadName(a.thread), zone: zoneName(a.srcloc) })),
    cursor: core.cursor === null ? null : String(core.cursor),
  };
}

export function memoryRoutes(registry: SessionRegistry, options: MemoryRoutesOptions = {}): Hono {
  const api = new Hono();
  const gate = options.gate ?? new QueryGate();
  const slice = options.slice ?? {};

  // a stored capture (--data) loads on first use, as for the session routes
  const loadStored = async (c: Context, next: () => Promise<void>) => {
    await registry.ready(c.req.param('id') ?? '');
    await next();
  };
  api.use('/:id/memory', loadStored);
  api.use('/:id/memory/*', loadStored);

  const run = async (c: Context, o: (s: Session) => MemoryQueryOptions) => {
    const s = sessionOf(registry, c);
    const pool = poolOf(c, s.store);
    const limit = limitParam(c, 'limit', DEFAULT_ALLOC_LIMIT, MAX_ALLOC_LIMIT, 1);
    const cursor = cursorParam(c);
    const frame = c.req.query('frame');
    const options: MemoryQueryOptions = {
      ...o(s),
      limit,
      ...(cursor !== undefined && { cursor }),
      // the stack flame graph's click: only allocations whose stack has this function
      ...(frame !== undefined && frame !== '' && { stackFilter: stackFilterByFunction(s.store.callstacks, frame.slice(0, 4096)) }),
    };
    const core = await runHeavyQuery(c, registry, s, gate, slice, (sl) => memoryQuerySliced(s.store, pool, options, sl));
    return streamedResponse(c, answer(s.store, pool, options, core));
  };

  api.get('/:id/memory', (c) =>
    run(c, (s) => {
      const hasT = c.req.query('t') !== undefined;
      const hasRange = c.req.query('t0') !== undefined || c.req.query('t1') !== undefined;
      if (hasT && hasRange) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', 'give either t (alive at t) or t0 and t1 (made in [t0, t1] and alive at t1), not both');
      if (!hasRange) return { mode: 'at', t: numberParam(c, 't', s.store.lastNs) };
      const t0 = numberParam(c, 't0', 0);
      const t1 = numberParam(c, 't1', Math.max(s.store.lastNs, t0));
      if (t1 < t0) throw new HttpError(400, 'ZS_HTTP_BAD_RANGE', `t1 (${t1}) is before t0 (${t0})`);
      // made=1: every allocation made in the range, freed or not (the allocated flame graph's set)
      return { mode: c.req.query('made') === '1' ? 'made' : 'range', t0, t: t1 };
    }),
  );

  api.get('/:id/memory/leaks', (c) => run(c, () => ({ mode: 'leaks', t: Infinity })));

  return api;
}
