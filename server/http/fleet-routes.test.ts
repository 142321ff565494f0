import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetAppsResult, FleetZonesResult } from '../../protocol/view/fleet-types.js';
import { CLICKHOUSE_MISSING, startClickHouse, type ClickHouseServer } from '../../test/support/db-servers.js';
import { connectClickHouse, migrate, type ClickHouseTarget } from '../fleet/clickhouse-connection.js';
import type { FleetHandle } from '../fleet/fleet.js';
import { QueryGate } from '../query/query-gate.js';
import { SessionRegistry } from '../session/session-registry.js';
import { createApp } from './app.js';
import { HttpError } from './encode.js';
import { fleetRoutes } from './fleet-routes.js';

/** GET /api/fleet/zones and /apps through createApp (the routes as served), on a real clickhouse-server. */

const skip = CLICKHOUSE_MISSING ?? undefined;
if (skip) console.warn(`fleet-routes: the real-ClickHouse tests are skipped: ${skip}`);

describe('fleet routes without ClickHouse', () => {
  it('answer 409 ZS_FLEET_NO_CLICKHOUSE, saying --clickhouse is needed', async () => {
    const app = createApp({ registry: new SessionRegistry() });
    for (const path of ['/api/fleet/zones?name=x', '/api/fleet/apps']) {
      const res = await app.request(path);
      expect(res.status).toBe(409);
      const body = (await res.json()) as { code: string; error: string };
      expect(body.code).toBe('ZS_FLEET_NO_CLICKHOUSE');
      expect(body.error).toContain('--clickhouse');
    }
  });
});

describe.skipIf(skip !== undefined)('fleet routes on a real ClickHouse', () => {
  let ch: ClickHouseServer;
  let target: ClickHouseTarget;
  let app: Hono;
  // 10 zones `tick` 30 min ago (in the default window, the last hour), durations 1..10 ns
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const at = nowNs - 1_800_000_000_000n;

  beforeAll(async () => {
    ch = (await startClickHouse())!;
    target = connectClickHouse(`${ch.url}/?database=fleetr`);
    await migrate(target);
    await target.client.command({ query: `INSERT INTO fleetr.zones (app, host, name, abs_start_ns, duration_ns) SELECT 'api', 'h1', 'tick', toInt64(${at}) + number, number + 1 FROM numbers(10)` });
    await target.client.insert({
      table: 'fleetr.sessions',
      format: 'JSONEachRow',
      values: [{ session: 'abcd0123-1', server: 'abcd0123', app: 'api', host: 'h1', pid: 1, start_abs_ns: String(at), first_ns: '0', last_ns: '9', zones: 10, ended: 1, end_reason: 'closed', version: 1 }],
    });
    // only its ClickHouse target is read by the fleet routes
    app = createApp({ registry: new SessionRegistry(), fleet: { clickhouse: { target } } as unknown as FleetHandle });
  }, 120_000);

  afterAll(async () => {
    await target?.client.close();
    await ch?.stop();
  });

  const get = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers /zones over the last hour by default, 100 buckets', async () => {
    const { status, body } = await get('/api/fleet/zones?name=tick');
    expect(status).toBe(200);
    const r = body as unknown as FleetZonesResult;
    expect(r.buckets).toBe(100);
    expect(BigInt(r.to) - BigInt(r.from)).toBe(3_600_000_000_000n);
    expect(r.series).toHaveLength(1);
    expect(r.series[0]).toMatchObject({ app: 'api', host: 'h1', total: 10 });
    const b = r.series[0]!.count.findIndex((n) => n > 0);
    expect(r.series[0]!.count[b]).toBe(10);
    expect(r.series[0]!.maxNs[b]).toBe(10);
    expect(r.series[0]!.meanNs[b]).toBe(5.5);
  });

  it('takes from/to as ns or ISO 8601, and app', async () => {
    const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
    const from = at - 1_000_000n; // ms-aligned ISO times around the zones
    const r = (await get(`/api/fleet/zones?name=tick&app=api&from=${encodeURIComponent(iso(from))}&to=${encodeURIComponent(iso(at + 2_000_000n))}&buckets=1`)).body as unknown as FleetZonesResult;
    expect(r.from).toBe(String((from / 1_000_000n) * 1_000_000n));
    expect(r.series[0]!.count).toEqual([10]);
    const byNs = (await get(`/api/fleet/zones?name=tick&from=${at + 5n}&to=${at + 10n}&buckets=5`)).body as unknown as FleetZonesResult;
    expect(byNs.series[0]!.count).toEqual([1, 1, 1, 1, 1]);
    const other = (await get(`/api/fleet/zones?name=tick&app=worker&from=${at}&to=${at + 10n}`)).body as unknown as FleetZonesResult;
    expect(other.series).toEqual([]);
  });

  it('answers /apps with the sessions of the window', async () => {
    const { status, body } = await get('/api/fleet/apps');
    expect(status).toBe(200);
    const r = body as unknown as FleetAppsResult;
    expect(r.apps).toEqual([{ app: 'api', hosts: [{ host: 'h1', sessions: [expect.objectContaining({ session: 'abcd0123-1', zones: 10, startNs: String(at) })] }] }]);
  });

  it('refuses bad parameters with 400 and a code', async () => {
    const cases: [string, string][] = [
      ['/api/fleet/zones', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/zones?name=', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/zones?name=tick&buckets=0', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/zones?name=tick&buckets=1.5', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/zones?name=tick&buckets=abc', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/zones?name=tick&buckets=1001', 'ZS_FLEET_LIMIT'],
      ['/api/fleet/zones?name=tick&from=yesterday', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/zones?name=tick&from=-1h', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/zones?name=tick&to=99999999999999999999', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/zones?name=tick&from=2000&to=1000', 'ZS_FLEET_BAD_RANGE'],
      [`/api/fleet/zones?name=${'x'.repeat(1025)}`, 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/apps?from=2026-13-45T00:00:00Z', 'ZS_FLEET_BAD_PARAM'],
      ['/api/fleet/apps?from=5&to=5', 'ZS_FLEET_BAD_RANGE'],
    ];
    for (const [path, code] of cases) {
      const { status, body } = await get(path);
      expect([path, status, body.code]).toEqual([path, 400, code]);
    }
  });

  it('answers 503 ZS_FLEET_BUSY past the gate and ZS_FLEET_UNAVAILABLE when ClickHouse is down', async () => {
    const gate = new QueryGate(1, 0);
    const routes = (t: ClickHouseTarget) => {
      const a = new Hono();
      a.onError((err, c) => c.json({ code: err instanceof HttpError ? err.code : 'other' }, err instanceof HttpError ? (err.status as 503) : 500));
      return a.route('/api/fleet', fleetRoutes(t, { gate }));
    };
    let release!: () => void;
    const held = gate.run(() => new Promise<void>((r) => (release = r)));
    const busy = await routes(target).request('/api/fleet/apps');
    expect([busy.status, ((await busy.json()) as { code: string }).code]).toEqual([503, 'ZS_FLEET_BUSY']);
    release();
    await held;
    const down = connectClickHouse('http://127.0.0.1:1/?database=x');
    const res = await routes(down).request('/api/fleet/zones?name=tick');
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([503, 'ZS_FLEET_UNAVAILABLE']);
    await down.client.close();
  });
});
