import { Hono, type Context } from 'hono';
import type { ClickHouseTarget } from '../fleet/clickhouse-connection.js';
import { DEFAULT_FLEET_BUCKETS, fleetApps, FleetQueryError, fleetZones, MAX_FLEET_BUCKETS, nsParam, type FleetLimits } from '../fleet/fleet-queries.js';
import { QueryBusyError, QueryGate } from '../query/query-gate.js';
import { HttpError, respond } from './encode.js';

/**
 * GET /api/fleet/zones and /api/fleet/apps (docs/server.md, "Fleet"): questions over every
 * session stored in ClickHouse (`serve --clickhouse URL`), answered by fleet-queries.ts.
 *
 * Without --clickhouse both answer 409 ZS_FLEET_NO_CLICKHOUSE. Parameters:
 *   from, to   the window [from, to): ns since the Unix epoch (decimal integer) or an ISO 8601
 *              time with a date (2026-12-07T14:00:00Z); default the last hour up to now
 *   name       (zones) the zone name, required
 *   app        (zones) one app only; default every app
 *   buckets    (zones) 1..1000 (MAX_FLEET_BUCKETS), default 100
 * Errors: 400 ZS_FLEET_BAD_PARAM / ZS_FLEET_BAD_RANGE / ZS_FLEET_LIMIT; 503 ZS_FLEET_BUSY when
 * MAX_RUNNING_FLEET run and MAX_WAITING_FLEET wait; 503 ZS_FLEET_TIMEOUT, ZS_FLEET_TOO_MANY_ROWS,
 * ZS_FLEET_UNAVAILABLE, ZS_FLEET_NO_TABLES; 502 ZS_FLEET_QUERY_FAILED.
 */

/** Fleet statements sent to ClickHouse at once, and waiting behind them at most (then 503). */
export const MAX_RUNNING_FLEET = 2;
export const MAX_WAITING_FLEET = 16;
const HOUR_NS = 3_600_000_000_000n;

export interface FleetRoutesOptions {
  gate?: QueryGate;
  limits?: Omit<FleetLimits, 'signal'>;
  /** the clock, ms since the epoch (tests) */
  nowMs?: () => number;
}

/**
 * A time parameter: decimal ns since the epoch, or ISO 8601 with a date; absent: `fallback`.
 * @throws HttpError 400 ZS_FLEET_BAD_PARAM
 */
export function timeParam(c: Context, name: string, fallback: bigint): bigint {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return fallback;
  if (/^\d+$/.test(raw)) return asHttp(() => nsParam(name, raw));
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new HttpError(400, 'ZS_FLEET_BAD_PARAM', `query parameter ${name}=${raw.slice(0, 60)} must be ns since the epoch or an ISO 8601 time (2026-12-07T14:00:00Z)`);
  return BigInt(ms) * 1_000_000n;
}

function asHttp<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FleetQueryError) throw new HttpError(err.status, err.code, err.message);
    throw err;
  }
}

export function fleetRoutes(target: ClickHouseTarget | undefined, options: FleetRoutesOptions = {}): Hono {
  const api = new Hono();
  const gate = options.gate ?? new QueryGate(MAX_RUNNING_FLEET, MAX_WAITING_FLEET);
  const nowMs = options.nowMs ?? Date.now;

  const windowOf = (c: Context): { from: bigint; to: bigint } => {
    const to = timeParam(c, 'to', BigInt(nowMs()) * 1_000_000n);
    const from = timeParam(c, 'from', to - HOUR_NS);
    if (to <= from) throw new HttpError(400, 'ZS_FLEET_BAD_RANGE', `to (${to}) must be after from (${from})`);
    return { from, to };
  };

  /** Runs `work` through the gate with a signal that aborts when the client leaves. */
  const run = async <T>(c: Context, work: (limits: FleetLimits) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    const client = c.req.raw.signal;
    const onGone = () => controller.abort();
    client.addEventListener('abort', onGone);
    try {
      return await gate.run(() => work({ ...options.limits, signal: controller.signal }));
    } catch (err) {
      if (err instanceof QueryBusyError) throw new HttpError(503, 'ZS_FLEET_BUSY', `too many fleet queries: ${err.message}`);
      if (err instanceof FleetQueryError) throw new HttpError(err.status, err.code, err.message);
      throw err;
    } finally {
      client.removeEventListener('abort', onGone);
    }
  };

  api.use('*', async (c, next) => {
    if (!target) throw new HttpError(409, 'ZS_FLEET_NO_CLICKHOUSE', 'fleet queries need ClickHouse: start the server with --clickhouse URL (e.g. http://127.0.0.1:8123/?database=zonescope)');
    await next();
  });

  api.get('/zones', async (c) => {
    const name = c.req.query('name');
    if (name === undefined || name === '') throw new HttpError(400, 'ZS_FLEET_BAD_PARAM', 'fleet zones need name=ZONE_NAME');
    if (name.length > 1024) throw new HttpError(400, 'ZS_FLEET_BAD_PARAM', `name is ${name.length} characters; 1024 at most`);
    const app = c.req.query('app');
    if (app !== undefined && app.length > 1024) throw new HttpError(400, 'ZS_FLEET_BAD_PARAM', `app is ${app.length} characters; 1024 at most`);
    const rawBuckets = c.req.query('buckets');
    const buckets = rawBuckets === undefined || rawBuckets === '' ? DEFAULT_FLEET_BUCKETS : Number(rawBuckets);
    if (!Number.isInteger(buckets) || buckets < 1) throw new HttpError(400, 'ZS_FLEET_BAD_PARAM', `query parameter buckets=${String(rawBuckets).slice(0, 40)} must be an integer in 1..${MAX_FLEET_BUCKETS}`);
    if (buckets > MAX_FLEET_BUCKETS) throw new HttpError(400, 'ZS_FLEET_LIMIT', `query parameter buckets=${buckets} is above the maximum ${MAX_FLEET_BUCKETS}`);
    const { from, to } = windowOf(c);
    const body = await run(c, (limits) => fleetZones(target!, { name, ...(app !== undefined && app !== '' && { app }), from, to, buckets }, limits));
    return respond(c, body);
  });

  api.get('/apps', async (c) => {
    const { from, to } = windowOf(c);
    return respond(c, await run(c, (limits) => fleetApps(target!, { from, to }, limits)));
  });

  return api;
}
