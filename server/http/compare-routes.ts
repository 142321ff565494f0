import { Hono, type Context } from 'hono';
import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { compareFlameSliced } from '../query/compare-flame.js';
import { compareHistogramSliced, DEFAULT_COMPARE_BUCKETS, MAX_COMPARE_BUCKETS } from '../query/compare-histogram.js';
import { compareSidesSliced, DEFAULT_COMPARE_LIMIT, MAX_COMPARE_LIMIT, selectCompareRows, type CompareSide } from '../query/compare-table.js';
import { QueryGate } from '../query/query-gate.js';
import type { SliceOptions } from '../query/query-slicer.js';
import { DEFAULT_COMPARE_SORT, isCompareSortKey } from '../../protocol/view/compare-sort.js';
import type { CompareResult, CompareSideInfo } from '../../protocol/view/compare-types.js';
import { HttpError, numberParam, streamedResponse } from './encode.js';
import { limitParam, runHeavyQuery } from './query-params.js';

/**
 * Comparisons run one at a time (each reads two sessions), 16 more wait in arrival order; past
 * that 503 ZS_QUERY_BUSY. A gate of their own, beside the one of /stats, /flame, /search and
 * /messages, so a comparison never waits behind (or holds up) those.
 */
export const MAX_RUNNING_COMPARES = 1;
export const MAX_WAITING_COMPARES = 16;

export interface CompareRoutesOptions {
  /** slice length (query-slicer.ts defaults) */
  slice?: SliceOptions;
  /** comparisons computed at once / queued (default MAX_RUNNING_COMPARES / MAX_WAITING_COMPARES) */
  gate?: QueryGate;
}

/** A side's session (a stored capture is loaded to its end first). @throws HttpError 400 without the id, 404 for an unknown one */
async function sessionParam(c: Context, registry: SessionRegistry, name: 'a' | 'b'): Promise<Session> {
  const id = c.req.query(name);
  if (id === undefined || id === '') throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `compare needs ${name}=SESSION_ID (a is the baseline, b the session compared with it)`);
  const s = await registry.ready(id);
  if (!s) throw new HttpError(404, 'ZS_HTTP_NO_SESSION', `no session ${id} (${name}=)`);
  if (s.sqlViews) throw new HttpError(409, 'ZS_COMPARE_CLICKHOUSE', `session ${id} (${name}=) is answered from ClickHouse; compare reads sessions in memory (live, captures, imports)`);
  return s;
}

/** The range of side `name` from t0NAME/t1NAME (default the whole session), and `threadsNAME`. */
function sideOf(c: Context, s: Session, name: 'a' | 'b'): CompareSide & { range: { t0: number; t1: number } } {
  const t0 = numberParam(c, `t0${name}`, 0);
  const t1 = numberParam(c, `t1${name}`, Math.max(s.store.lastNs, t0));
  if (t1 < t0) throw new HttpError(400, 'ZS_HTTP_BAD_RANGE', `t1${name} (${t1}) is before t0${name} (${t0})`);
  const raw = c.req.query(`threads${name}`);
  let threads: number[] | undefined;
  if (raw) {
    threads = raw.split(',').map(Number);
    if (!threads.every((id) => Number.isInteger(id) && id >= 0)) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `query parameter threads${name}=${raw.slice(0, 100)} must be comma-separated thread ids`);
  }
  return { store: s.store, range: { t0, t1, ...(threads ? { threads } : {}) } };
}

async function sides(c: Context, registry: SessionRegistry): Promise<{ sa: Session; sb: Session; a: ReturnType<typeof sideOf>; b: ReturnType<typeof sideOf> }> {
  const sa = await sessionParam(c, registry, 'a');
  const sb = await sessionParam(c, registry, 'b');
  return { sa, sb, a: sideOf(c, sa, 'a'), b: sideOf(c, sb, 'b') };
}

function info(s: Session, side: ReturnType<typeof sideOf>, stats: { zones: number; byName: Map<string, unknown>; droppedZones: number }): CompareSideInfo {
  return { id: s.id, app: s.welcome?.programName ?? null, t0: side.range.t0, t1: side.range.t1, zones: stats.zones, names: stats.byName.size, droppedZones: stats.droppedZones };
}

/** GET /api/compare, /api/compare/histogram, /api/compare/flame (docs/server.md, "Comparing two captures"). */
export function compareRoutes(registry: SessionRegistry, options: CompareRoutesOptions = {}): Hono {
  const api = new Hono();
  const gate = options.gate ?? new QueryGate(MAX_RUNNING_COMPARES, MAX_WAITING_COMPARES);
  const slice = options.slice ?? {};

  api.get('/', async (c) => {
    const { sa, sb, a, b } = await sides(c, registry);
    const sort = c.req.query('sort') || DEFAULT_COMPARE_SORT;
    if (!isCompareSortKey(sort)) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `query parameter sort=${sort.slice(0, 60)} must be name or FIGURE-SIDE (FIGURE count, total, mean, median or p99; SIDE a, b, change or pct)`);
    const rawOrder = c.req.query('order');
    if (rawOrder !== undefined && rawOrder !== 'asc' && rawOrder !== 'desc') throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `query parameter order=${rawOrder.slice(0, 20)} must be asc or desc`);
    const order = rawOrder ?? (sort === 'name' ? 'asc' : 'desc');
    const filter = c.req.query('filter') ?? '';
    const limit = limitParam(c, 'limit', DEFAULT_COMPARE_LIMIT, MAX_COMPARE_LIMIT);
    const table = await runHeavyQuery(c, registry, [sa, sb], gate, slice, (sl) => compareSidesSliced(a, b, sl));
    const picked = selectCompareRows(table.rows, { sort, order, filter, limit });
    const body: CompareResult = { a: info(sa, a, table.a), b: info(sb, b, table.b), sort, order, filter, ...picked };
    return streamedResponse(c, body);
  });

  api.get('/histogram', async (c) => {
    const { sa, sb, a, b } = await sides(c, registry);
    const name = c.req.query('name');
    if (name === undefined || name === '') throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', 'the compare histogram needs name=ZONE_NAME');
    const buckets = limitParam(c, 'buckets', DEFAULT_COMPARE_BUCKETS, MAX_COMPARE_BUCKETS, 1);
    return streamedResponse(c, await runHeavyQuery(c, registry, [sa, sb], gate, slice, (sl) => compareHistogramSliced(a, b, name, buckets, sl)));
  });

  api.get('/flame', async (c) => {
    const { sa, sb, a, b } = await sides(c, registry);
    return streamedResponse(c, await runHeavyQuery(c, registry, [sa, sb], gate, slice, (sl) => compareFlameSliced(a, b, sl)));
  });

  return api;
}
