import type { FleetAppInfo, FleetAppsResult, FleetSessionInfo, FleetZoneSeries, FleetZonesResult } from '../../protocol/view/fleet-types.js';
import type { ClickHouseTarget } from './clickhouse-connection.js';
import { ZONE_ROLLUPS } from './clickhouse-schema.js';

/**
 * Fleet questions answered by ClickHouse over every server writing to one database
 * (GET /api/fleet/zones and /api/fleet/apps; docs/fleet.md): a zone name's count, mean, p50,
 * p90, p99 and max per (app, host) over equal time buckets, and the apps, hosts and sessions of
 * a time window.
 *
 * Values go into the SQL as literals, never as text pasted in: ClickHouse 18.16 (Debian's)
 * predates query parameters (`{name:String}` answers "Unknown setting param_name"), so strings are
 * quoted by sqlString() and times are validated decimal Int64 (nsParam()).
 *
 * Where the figures come from: zones_by_name (every zone, ordered by name and time) when buckets
 * are shorter than a minute, else a rollup (clickhouse-schema.ts ZONE_ROLLUPS: per name, app,
 * host and 1 min / 5 min / 1 h, the count, sum, max and t-digest of the durations), the
 * coarsest whose period divides a bucket at most 25% wider than asked. Rollup buckets are
 * whole periods: the window is widened to whole periods (from rounded down, to up) and the
 * bucket width rounded up to a multiple of the period, so one bucket more than asked may come
 * back; the answer's from/to/bucketNs/buckets say what was computed. Over a rollup the figures
 * are those of the raw zones in the same buckets (count, mean and max equal, quantiles merged
 * t-digests), read from tens of thousands of rows instead of tens of millions.
 *
 * Quantiles are quantilesTDigest: a t-digest per group, a few KB whatever the count, so 100 M
 * zones cost no more memory than 100; its error is about 1% of rank at p50 and less towards p99
 * (exact when a group has few distinct values). `quantiles` (reservoir of 8192 samples) was
 * coarser on the tails in the same measure; quantilesExact keeps every duration (8 bytes x
 * zones in memory). count, mean and max are exact.
 *
 * Limits (each a constant below, each refused or reported with a ZS_FLEET_ code):
 * - buckets in [1, MAX_FLEET_BUCKETS];
 * - at most maxSeries (app, host) series, the busiest (MAX_FLEET_SERIES by default); the pairs
 *   beyond are counted (up to MAX_FLEET_SERIES_COUNTED) and `cut` says so;
 * - each statement runs under max_execution_time (maxExecutionMs rounded up to whole seconds,
 *   as 18.16 reads it; default 10 s) and
 *   max_result_rows (the most rows it can legitimately return), which ClickHouse enforces;
 * - at most maxSessions sessions listed by fleetApps (the latest started), `cut` says so.
 */

export const MAX_FLEET_BUCKETS = 1000;
export const DEFAULT_FLEET_BUCKETS = 100;
export const MAX_FLEET_SERIES = 100;
/** (app, host) pairs counted for `seriesFound` at most (the series query's LIMIT) */
export const MAX_FLEET_SERIES_COUNTED = 10_000;
export const MAX_FLEET_SESSIONS = 1000;
export const DEFAULT_FLEET_EXECUTION_MS = 10_000;
/** how long after max_execution_time the server stops being waited for */
const CLIENT_MARGIN_MS = 2000;
export const FLEET_QUANTILES = 'quantilesTDigest(0.5, 0.9, 0.99)';

const INT64_MAX = (1n << 63n) - 1n;

/** A fleet query that cannot run or failed; `status` is the HTTP status the routes answer with. */
export class FleetQueryError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FleetLimits {
  /** max_execution_time of each statement, ms (default DEFAULT_FLEET_EXECUTION_MS) */
  maxExecutionMs?: number;
  /** (app, host) series answered at most (default MAX_FLEET_SERIES) */
  maxSeries?: number;
  /** sessions listed by fleetApps at most (default MAX_FLEET_SESSIONS) */
  maxSessions?: number;
  /** aborts the statements (the client went away) */
  signal?: AbortSignal;
  /** false: always read every zone (zones_by_name), never a rollup (tests, the bench's comparison) */
  rollups?: boolean;
}

export interface FleetZonesQuery {
  name: string;
  /** one app only (absent: every app) */
  app?: string;
  /** window [from, to), ns since the epoch: bigint or decimal string */
  from: bigint | string;
  to: bigint | string;
  buckets: number;
}

export interface FleetAppsQuery {
  from: bigint | string;
  to: bigint | string;
}

/** A ClickHouse string literal: backslash and quote escaped, as its lexer reads them. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * `value` as an Int64 of ns since the epoch (>= 0).
 * @throws FleetQueryError ZS_FLEET_BAD_PARAM when not a decimal integer in [0, 2^63)
 */
export function nsParam(what: string, value: bigint | string): bigint {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (/^\d{1,19}$/.test(value)) n = BigInt(value);
  else throw new FleetQueryError('ZS_FLEET_BAD_PARAM', 400, `${what}=${String(value).slice(0, 40)} is not a time in ns since the epoch (a decimal integer)`);
  if (n < 0n || n > INT64_MAX) throw new FleetQueryError('ZS_FLEET_BAD_PARAM', 400, `${what}=${n} is outside [0, 2^63) ns`);
  return n;
}

function windowOf(q: { from: bigint | string; to: bigint | string }): { from: bigint; to: bigint } {
  const from = nsParam('from', q.from);
  const to = nsParam('to', q.to);
  if (to <= from) throw new FleetQueryError('ZS_FLEET_BAD_RANGE', 400, `to (${to}) must be after from (${from})`);
  return { from, to };
}

/** The ClickHouse error code in a message of 18.16 ("Code: 159, e.displayText() = ...") or later ("Code: 159. DB::Exception"). */
function clickHouseCode(err: unknown): number | undefined {
  const m = /Code: (\d+)[,.]/.exec(err instanceof Error ? err.message : String(err));
  return m ? Number(m[1]) : undefined;
}

/** What a failed statement means to the caller (a FleetQueryError with a code). */
export function fleetErrorOf(err: unknown, target: ClickHouseTarget, limitMs: number): FleetQueryError {
  if (err instanceof FleetQueryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = clickHouseCode(err);
  // 159 TIMEOUT_EXCEEDED
  if (code === 159) return new FleetQueryError('ZS_FLEET_TIMEOUT', 503, `ClickHouse ${target.display} did not answer within the fleet query limit of ${limitMs} ms (max_execution_time): narrow the window or the name`);
  // 396 TOO_MANY_ROWS_OR_BYTES (158 TOO_MANY_ROWS in older servers)
  if (code === 396 || code === 158) return new FleetQueryError('ZS_FLEET_TOO_MANY_ROWS', 503, `ClickHouse ${target.display}: the answer has more rows than the fleet query allows (max_result_rows): ${message.slice(0, 200)}`);
  // 60 UNKNOWN_TABLE, 81 UNKNOWN_DATABASE
  if (code === 60 || code === 81) return new FleetQueryError('ZS_FLEET_NO_TABLES', 503, `ClickHouse ${target.display} has no Zonescope tables yet (a server started with --clickhouse creates them): ${message.slice(0, 200)}`);
  if (code !== undefined) return new FleetQueryError('ZS_FLEET_QUERY_FAILED', 502, `ClickHouse ${target.display} refused the fleet query (code ${code}): ${message.slice(0, 300)}`);
  if (err instanceof Error && (err.name === 'AbortError' || /abort/i.test(err.message))) return new FleetQueryError('ZS_FLEET_CANCELLED', 503, `the fleet query was cancelled: ${message.slice(0, 200)}`);
  return new FleetQueryError('ZS_FLEET_UNAVAILABLE', 503, `ClickHouse ${target.display} is unreachable: ${message.slice(0, 200)}`);
}

/** Runs `sql` (JSONEachRow) under the time and row limits; errors become FleetQueryError. */
export async function fleetRows<T>(target: ClickHouseTarget, sql: string, limits: { maxExecutionMs: number; maxResultRows: number; signal?: AbortSignal }): Promise<T[]> {
  // whole seconds: 18.16 reads 0.3 as 0, which is "no limit"
  const seconds = Math.max(1, Math.ceil(limits.maxExecutionMs / 1000));
  // the server's own limit ends the statement; this one ends the wait when the server does not
  // answer at all (a stalled connection), a margin after it
  const late = new AbortController();
  const timer = setTimeout(() => late.abort(), seconds * 1000 + CLIENT_MARGIN_MS);
  const signal = limits.signal ? AbortSignal.any([limits.signal, late.signal]) : late.signal;
  try {
    const rs = await target.client.query({
      query: sql,
      format: 'JSONEachRow',
      clickhouse_settings: {
        max_execution_time: seconds,
        timeout_overflow_mode: 'throw',
        max_result_rows: String(limits.maxResultRows),
        result_overflow_mode: 'throw',
      },
      abort_signal: signal,
    });
    return (await rs.json()) as T[];
  } catch (err) {
    if (late.signal.aborted && !limits.signal?.aborted) throw new FleetQueryError('ZS_FLEET_TIMEOUT', 503, `ClickHouse ${target.display} did not answer within ${seconds * 1000 + CLIENT_MARGIN_MS} ms`);
    throw fleetErrorOf(err, target, seconds * 1000);
  } finally {
    clearTimeout(timer);
  }
}

const num = (v: number | string | null | undefined): number => (v === null || v === undefined ? NaN : Number(v));

/** A rollup may make buckets at most this much wider than asked (5/4: at least 80% of the buckets asked). */
const ROLLUP_MAX_WIDENING = { num: 5n, den: 4n };

export interface BucketPlan {
  /** the window computed: [from, to) as asked over zones_by_name, widened to whole periods over a rollup */
  from: bigint;
  to: bigint;
  buckets: number;
  /** bucket width, ns */
  width: bigint;
  rollup: { table: string; periodNs: bigint } | null;
}

/**
 * The buckets of [from, to) asked in `asked` buckets: raw (width ceil(span / asked), fewer buckets
 * when the span has fewer ns), or over the coarsest rollup whose period, rounded up to, widens a
 * bucket by at most 25%.
 */
export function planBuckets(from: bigint, to: bigint, asked: number, useRollups = true): BucketPlan {
  const span = to - from;
  const n = span < BigInt(asked) ? Number(span) : asked;
  const rawWidth = (span + BigInt(n) - 1n) / BigInt(n);
  if (useRollups) {
    for (const r of ZONE_ROLLUPS) {
      const periodNs = BigInt(r.periodS) * 1_000_000_000n;
      if (periodNs > rawWidth) continue;
      const width = ((rawWidth + periodNs - 1n) / periodNs) * periodNs;
      if (width * ROLLUP_MAX_WIDENING.den > rawWidth * ROLLUP_MAX_WIDENING.num) continue;
      const pFrom = (from / periodNs) * periodNs;
      const pTo = ((to + periodNs - 1n) / periodNs) * periodNs;
      return { from: pFrom, to: pTo, buckets: Number((pTo - pFrom + width - 1n) / width), width, rollup: { table: r.table, periodNs } };
    }
  }
  return { from, to, buckets: n, width: rawWidth, rollup: null };
}

/**
 * Count, mean, p50, p90, p99 and max of zone `name` per (app, host) over `buckets` equal buckets
 * of [from, to): bucket i is [from + i x bucketNs, from + (i + 1) x bucketNs), bucketNs =
 * ceil((to - from) / buckets), so the last bucket may end past `to` (zones at or after `to` are
 * not counted). Reads zones_by_name (ordered by name, time: only the name's rows in the window),
 * or a rollup for buckets of a minute or more (planBuckets; the answer says which, in `source`).
 * @throws FleetQueryError (ZS_FLEET_BAD_PARAM, ZS_FLEET_LIMIT, ZS_FLEET_BAD_RANGE, ZS_FLEET_TIMEOUT, ...)
 */
export async function fleetZones(target: ClickHouseTarget, q: FleetZonesQuery, limits: FleetLimits = {}): Promise<FleetZonesResult> {
  if (typeof q.name !== 'string' || q.name === '') throw new FleetQueryError('ZS_FLEET_BAD_PARAM', 400, 'fleet zones need name=ZONE_NAME');
  if (!Number.isInteger(q.buckets) || q.buckets < 1) throw new FleetQueryError('ZS_FLEET_BAD_PARAM', 400, `buckets=${q.buckets} must be an integer >= 1`);
  if (q.buckets > MAX_FLEET_BUCKETS) throw new FleetQueryError('ZS_FLEET_LIMIT', 400, `buckets=${q.buckets} is above the maximum ${MAX_FLEET_BUCKETS}`);
  const { from, to } = windowOf(q);
  const maxSeries = limits.maxSeries ?? MAX_FLEET_SERIES;
  const maxExecutionMs = limits.maxExecutionMs ?? DEFAULT_FLEET_EXECUTION_MS;
  const plan = planBuckets(from, to, q.buckets, limits.rollups !== false);
  const { buckets, width } = plan;
  const db = target.database;
  const nameApp = `name = ${sqlString(q.name)}${q.app !== undefined ? ` AND app = ${sqlString(q.app)}` : ''}`;
  // over a rollup, times are period numbers: the window and the bucket width are whole periods
  const where = plan.rollup
    ? `${nameApp} AND period >= ${plan.from / plan.rollup.periodNs} AND period < ${plan.to / plan.rollup.periodNs}`
    : `${nameApp} AND abs_start_ns >= ${from} AND abs_start_ns < ${to}`;
  const table = `${db}.${plan.rollup ? plan.rollup.table : 'zones_by_name'}`;
  const started = performance.now();
  const left = () => Math.max(1, maxExecutionMs - (performance.now() - started));

  // 1. the (app, host) pairs, busiest first: which series are answered
  const pairs = await fleetRows<{ app: string; host: string; c: string }>(
    target,
    `SELECT app, host, ${plan.rollup ? 'countMerge(zones)' : 'count()'} AS c FROM ${table} WHERE ${where} GROUP BY app, host ORDER BY c DESC, app, host LIMIT ${MAX_FLEET_SERIES_COUNTED}`,
    { maxExecutionMs, maxResultRows: MAX_FLEET_SERIES_COUNTED, ...(limits.signal && { signal: limits.signal }) },
  );
  const kept = pairs.slice(0, maxSeries);
  const cut = pairs.length > maxSeries;
  const series: FleetZoneSeries[] = kept.map((p) => ({
    app: p.app,
    host: p.host,
    total: num(p.c),
    count: new Array<number>(buckets).fill(0),
    meanNs: new Array<number | null>(buckets).fill(null),
    p50Ns: new Array<number | null>(buckets).fill(null),
    p90Ns: new Array<number | null>(buckets).fill(null),
    p99Ns: new Array<number | null>(buckets).fill(null),
    maxNs: new Array<number | null>(buckets).fill(null),
  }));

  // 2. the figures per pair and bucket (only the kept pairs when some are cut)
  if (series.length > 0) {
    const only = cut ? ` AND (app, host) IN (${kept.map((p) => `(${sqlString(p.app)}, ${sqlString(p.host)})`).join(', ')})` : '';
    const figures = plan.rollup
      ? `toUInt32(intDiv(period - ${plan.from / plan.rollup.periodNs}, ${width / plan.rollup.periodNs})) AS b, countMerge(zones) AS c, sumMerge(total_ns) / c AS mean,
        quantilesTDigestMerge(0.5, 0.9, 0.99)(q) AS qs, maxMerge(max_ns) AS mx`
      : `toUInt32(intDiv(abs_start_ns - ${from}, ${width})) AS b, count() AS c, avg(duration_ns) AS mean,
        ${FLEET_QUANTILES}(duration_ns) AS qs, max(duration_ns) AS mx`;
    const rows = await fleetRows<{ app: string; host: string; b: number | string; c: string; mean: number; qs: (number | string)[]; mx: string }>(
      target,
      `SELECT app, host, ${figures} FROM ${table} WHERE ${where}${only} GROUP BY app, host, b`,
      { maxExecutionMs: left(), maxResultRows: Math.max(1, series.length * buckets), ...(limits.signal && { signal: limits.signal }) },
    );
    const index = new Map<string, FleetZoneSeries>();
    for (const s of series) index.set(`${s.app}\u0000${s.host}`, s);
    for (const r of rows) {
      const s = index.get(`${r.app}\u0000${r.host}`);
      const b = num(r.b);
      // a pair that got its first zones between the two statements is not in the answer
      if (!s || !(b >= 0 && b < buckets)) continue;
      s.count[b] = num(r.c);
      s.meanNs[b] = num(r.mean);
      s.p50Ns[b] = num(r.qs[0]);
      s.p90Ns[b] = num(r.qs[1]);
      s.p99Ns[b] = num(r.qs[2]);
      s.maxNs[b] = num(r.mx);
    }
  }
  return {
    name: q.name,
    app: q.app ?? null,
    from: String(plan.from),
    to: String(plan.to),
    buckets,
    bucketNs: String(width),
    source: plan.rollup ? plan.rollup.table : 'zones_by_name',
    series,
    seriesFound: pairs.length,
    cut,
    maxSeries,
    quantiles: FLEET_QUANTILES,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/**
 * The apps, their hosts and their sessions stored in ClickHouse whose time overlaps [from, to):
 * started before `to` and, by their latest row, with a zone at or after `from` or not ended
 * (a live session runs until now). The latest maxSessions by start are listed.
 * @throws FleetQueryError
 */
export async function fleetApps(target: ClickHouseTarget, q: FleetAppsQuery, limits: FleetLimits = {}): Promise<FleetAppsResult> {
  const { from, to } = windowOf(q);
  const maxSessions = limits.maxSessions ?? MAX_FLEET_SESSIONS;
  const maxExecutionMs = limits.maxExecutionMs ?? DEFAULT_FLEET_EXECUTION_MS;
  type Row = { session: string; server: string; app: string; host: string; pid: string; start: string; last: string; zones: string; ended: number | string; end_reason: string };
  const rows = await fleetRows<Row>(
    target,
    `SELECT session, argMax(server, version) AS server, argMax(app, version) AS app, argMax(host, version) AS host,
       argMax(pid, version) AS pid, argMax(start_abs_ns, version) AS start, argMax(start_abs_ns + last_ns, version) AS last,
       argMax(zones, version) AS zones, argMax(ended, version) AS ended, argMax(end_reason, version) AS end_reason
     FROM ${target.database}.sessions WHERE start_abs_ns < ${to}
     GROUP BY session HAVING start < ${to} AND (last >= ${from} OR ended = 0)
     ORDER BY start DESC, session LIMIT ${maxSessions + 1}`,
    { maxExecutionMs, maxResultRows: maxSessions + 1, ...(limits.signal && { signal: limits.signal }) },
  );
  const cut = rows.length > maxSessions;
  const apps = new Map<string, Map<string, FleetSessionInfo[]>>();
  for (const r of rows.slice(0, maxSessions)) {
    let hosts = apps.get(r.app);
    if (!hosts) apps.set(r.app, (hosts = new Map()));
    let list = hosts.get(r.host);
    if (!list) hosts.set(r.host, (list = []));
    list.push({ session: r.session, server: r.server, pid: num(r.pid), startNs: String(r.start), lastNs: String(r.last), zones: num(r.zones), ended: Number(r.ended) === 1, endReason: r.end_reason });
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const out: FleetAppInfo[] = [...apps.entries()]
    .sort((a, b) => byName(a[0], b[0]))
    .map(([app, hosts]) => ({
      app,
      hosts: [...hosts.entries()]
        .sort((a, b) => byName(a[0], b[0]))
        .map(([host, sessions]) => ({ host, sessions: sessions.sort((a, b) => (BigInt(a.startNs) < BigInt(b.startNs) ? -1 : BigInt(a.startNs) > BigInt(b.startNs) ? 1 : byName(a.session, b.session))) })),
    }));
  return { from: String(from), to: String(to), apps: out, sessions: Math.min(rows.length, maxSessions), cut, maxSessions };
}
