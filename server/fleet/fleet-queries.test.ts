import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLICKHOUSE_MISSING, startClickHouse, type ClickHouseServer } from '../../test/support/db-servers.js';
import { connectClickHouse, migrate, type ClickHouseTarget } from './clickhouse-connection.js';
import { fleetApps, fleetRows, fleetZones, FleetQueryError, nsParam, planBuckets, sqlString } from './fleet-queries.js';

/**
 * fleetZones / fleetApps against a real clickhouse-server (its own, on free loopback ports),
 * filled with INSERT ... SELECT FROM numbers() so every figure follows from the data:
 *
 * 400,000 zones `handle request` over [T, T + 100 s): zone i belongs to app ['api', 'worker'][i % 2]
 * and host ['h1', 'h2'][(i / 2) % 2]; k = i / 4 (0..99,999) starts at T + k ms and lasts
 * (k % 1000 + 1) ns for api, twice that for worker. With 10 buckets of 10 s each pair has
 * 10,000 zones per bucket holding ten full cycles of 1..1000 (x2 for worker): count 10,000,
 * mean 500.5 (1001), max 1000 (2000), p50/p90/p99 ~ 500/900/990 (x2).
 */
const T = 1_700_000_000_000_000_000n;
const SPAN = 100_000_000_000n;
const NAME = 'handle request';
const skip = CLICKHOUSE_MISSING ?? undefined;
if (skip) console.warn(`fleet-queries: the real-ClickHouse tests are skipped: ${skip}`);

describe.skipIf(skip !== undefined)('fleet queries on a real ClickHouse', () => {
  let ch: ClickHouseServer;
  let target: ClickHouseTarget;

  beforeAll(async () => {
    ch = (await startClickHouse())!;
    target = connectClickHouse(`${ch.url}/?database=fleetq`);
    await migrate(target);
    const db = target.database;
    await target.client.command({
      query: `INSERT INTO ${db}.zones (session, app, host, name, abs_start_ns, duration_ns)
        SELECT concat('s-', toString(number % 4)), ['api', 'worker'][number % 2 + 1], ['h1', 'h2'][intDiv(number, 2) % 2 + 1], '${NAME}',
          toInt64(${T}) + intDiv(number, 4) * 1000000, (intDiv(number, 4) % 1000 + 1) * (number % 2 + 1)
        FROM numbers(400000)`,
    });
    // outside the window (before T, at T + SPAN) and another name: never counted for NAME
    await target.client.command({
      query: `INSERT INTO ${db}.zones (session, app, host, name, abs_start_ns, duration_ns) VALUES
        ('s-0', 'api', 'h1', '${NAME}', ${T - 1n}, 999999), ('s-0', 'api', 'h1', '${NAME}', ${T + SPAN}, 999999),
        ('s-0', 'api', 'h1', 'other', ${T + 5n}, 7), ('s-9', 'odd''s \\\\ app', 'h3', 'it''s \\\\ odd', ${T + 5n}, 42)`,
    });
  }, 120_000);

  afterAll(async () => {
    await target?.client.close();
    await ch?.stop();
  });

  it('answers count, mean and max exactly and the quantiles within 1% per (app, host) and bucket', async () => {
    const r = await fleetZones(target, { name: NAME, from: T, to: T + SPAN, buckets: 10 });
    expect(r.buckets).toBe(10);
    expect(r.bucketNs).toBe('10000000000');
    expect(r.cut).toBe(false);
    expect(r.seriesFound).toBe(4);
    expect(r.series.map((s) => `${s.app}/${s.host}`)).toEqual(['api/h1', 'api/h2', 'worker/h1', 'worker/h2']);
    for (const s of r.series) {
      const f = s.app === 'worker' ? 2 : 1;
      expect(s.total).toBe(100_000);
      expect(s.count).toEqual(new Array(10).fill(10_000));
      expect(s.meanNs).toEqual(new Array(10).fill(500.5 * f));
      expect(s.maxNs).toEqual(new Array(10).fill(1000 * f));
      // t-digest: rank error well under 1% on a uniform distribution -> within 1% of the range (1000 x f)
      for (let b = 0; b < 10; b++) {
        expect(Math.abs(s.p50Ns[b]! - 500 * f)).toBeLessThanOrEqual(10 * f);
        expect(Math.abs(s.p90Ns[b]! - 900 * f)).toBeLessThanOrEqual(10 * f);
        expect(Math.abs(s.p99Ns[b]! - 990 * f)).toBeLessThanOrEqual(10 * f);
      }
    }
  });

  it('takes ns as decimal strings, filters by app, and leaves empty buckets null', async () => {
    // [T + 50 s, T + 250 s) in 4 buckets of 50 s: zones only in the first
    const r = await fleetZones(target, { name: NAME, app: 'worker', from: String(T + SPAN / 2n), to: String(T + SPAN * 5n / 2n), buckets: 4 });
    expect(r.from).toBe(String(T + SPAN / 2n));
    expect(r.series.map((s) => s.app)).toEqual(['worker', 'worker']);
    for (const s of r.series) {
      expect(s.count).toEqual([50_000, 0, 0, 0]);
      expect(s.maxNs).toEqual([2000, null, null, null]);
      expect(s.p99Ns.slice(1)).toEqual([null, null, null]);
    }
  });

  it('counts the window [from, to): a zone at from is in, one at to or before from is out', async () => {
    const r = await fleetZones(target, { name: NAME, app: 'api', from: T - 1n, to: T + 1n, buckets: 5 });
    // a 2-ns window has 2 buckets of 1 ns at most
    expect(r.buckets).toBe(2);
    const h1 = r.series.find((s) => s.host === 'h1')!;
    expect(h1.count).toEqual([1, 1]);
    expect(h1.maxNs).toEqual([999999, 1]);
    const atEnd = await fleetZones(target, { name: NAME, from: T + SPAN, to: T + SPAN + 1n, buckets: 1 });
    expect(atEnd.series.map((s) => [s.app, s.host, s.count[0]])).toEqual([['api', 'h1', 1]]);
  });

  it('quotes names and apps with quotes and backslashes as data', async () => {
    const r = await fleetZones(target, { name: "it's \\ odd", app: "odd's \\ app", from: T, to: T + SPAN, buckets: 1 });
    expect(r.series).toEqual([expect.objectContaining({ app: "odd's \\ app", host: 'h3', count: [1], maxNs: [42] })]);
    const none = await fleetZones(target, { name: "x' OR 1=1 OR name='", from: T, to: T + SPAN, buckets: 1 });
    expect(none.series).toEqual([]);
    expect(sqlString("a'b\\c")).toBe("'a\\'b\\\\c'");
  });

  it('answers the busiest maxSeries pairs and says the rest was cut', async () => {
    // worker/h1 gets 10 more zones: the busiest, then the ties in (app, host) order
    await target.client.command({ query: `INSERT INTO ${target.database}.zones (app, host, name, abs_start_ns, duration_ns) SELECT 'worker', 'h1', 'cut test', toInt64(${T}) + number, 5 FROM numbers(20)` });
    await target.client.command({ query: `INSERT INTO ${target.database}.zones (app, host, name, abs_start_ns, duration_ns) SELECT ['api', 'zeta', 'beta'][number % 3 + 1], 'h1', 'cut test', toInt64(${T}) + number, 5 FROM numbers(30)` });
    const r = await fleetZones(target, { name: 'cut test', from: T, to: T + SPAN, buckets: 3 }, { maxSeries: 2 });
    expect(r.cut).toBe(true);
    expect(r.seriesFound).toBe(4);
    expect(r.series.map((s) => [s.app, s.total, s.count.reduce((a, b) => a + b, 0)])).toEqual([
      ['worker', 20, 20],
      ['api', 10, 10],
    ]);
  });

  it('refuses bad parameters with codes before asking ClickHouse', async () => {
    const bad = async (q: Parameters<typeof fleetZones>[1]) => fleetZones(target, q).then(() => 'answered', (e: FleetQueryError) => `${e.status} ${e.code}`);
    expect(await bad({ name: '', from: T, to: T + 1n, buckets: 1 })).toBe('400 ZS_FLEET_BAD_PARAM');
    expect(await bad({ name: NAME, from: T, to: T + 1n, buckets: 0 })).toBe('400 ZS_FLEET_BAD_PARAM');
    expect(await bad({ name: NAME, from: T, to: T + 1n, buckets: 1001 })).toBe('400 ZS_FLEET_LIMIT');
    expect(await bad({ name: NAME, from: T, to: T, buckets: 1 })).toBe('400 ZS_FLEET_BAD_RANGE');
    expect(await bad({ name: NAME, from: '1e18', to: T, buckets: 1 })).toBe('400 ZS_FLEET_BAD_PARAM');
    expect(() => nsParam('to', '9223372036854775808')).toThrow(/outside/);
    expect(nsParam('to', '9223372036854775807')).toBe((1n << 63n) - 1n);
  });

  it('maps the ClickHouse limits and failures to ZS_FLEET_ codes', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'answered', (e: FleetQueryError) => `${e.status} ${e.code}`);
    // max_execution_time: a statement that needs minutes, given 1 s (18.16 counts whole seconds)
    expect(await code(fleetRows(target, 'SELECT sum(sipHash64(number)) AS s FROM numbers(20000000000)', { maxExecutionMs: 1000, maxResultRows: 10 }))).toBe('503 ZS_FLEET_TIMEOUT');
    expect(await code(fleetRows(target, 'SELECT number FROM numbers(100000)', { maxExecutionMs: 10_000, maxResultRows: 10 }))).toBe('503 ZS_FLEET_TOO_MANY_ROWS');
    const fresh = connectClickHouse(`${ch.url}/?database=not_migrated`);
    expect(await code(fleetZones(fresh, { name: NAME, from: T, to: T + 1n, buckets: 1 }))).toBe('503 ZS_FLEET_NO_TABLES');
    await fresh.client.close();
    const closed = connectClickHouse('http://127.0.0.1:1/?database=x');
    expect(await code(fleetApps(closed, { from: T, to: T + 1n }))).toBe('503 ZS_FLEET_UNAVAILABLE');
    await closed.client.close();
  });

  it('lists apps, hosts and sessions overlapping the window, by their latest version', async () => {
    const s = (session: string, app: string, host: string, startNs: bigint, lastNs: bigint, zones: number, ended: number, version: number) => ({
      session, server: 'abcd0123', app, host, pid: 7, start_abs_ns: String(startNs), first_ns: '0', last_ns: String(lastNs), zones, ended, end_reason: ended ? 'closed' : '', version,
    });
    const S = 1_000_000_000n;
    await target.client.insert({
      table: `${target.database}.sessions`,
      format: 'JSONEachRow',
      values: [
        s('abcd0123-1', 'api', 'h1', T, 10n * S, 10, 0, 1),
        s('abcd0123-1', 'api', 'h1', T, 20n * S, 20, 1, 2), // the latest row of session 1
        s('abcd0123-2', 'api', 'h2', T + 5n * S, 1n * S, 3, 1, 1),
        s('abcd0123-3', 'worker', 'h1', T - 100n * S, 1n * S, 5, 1, 1), // ended before the window
        s('abcd0123-4', 'worker', 'h1', T - 100n * S, 1n * S, 5, 0, 1), // not ended: still running
        s('abcd0123-5', 'worker', 'h2', T + 200n * S, 1n * S, 5, 1, 1), // starts after the window
      ],
    });
    const r = await fleetApps(target, { from: T, to: T + 100n * S });
    expect(r.cut).toBe(false);
    expect(r.sessions).toBe(3);
    expect(r.apps.map((a) => [a.app, a.hosts.map((h) => [h.host, h.sessions.map((x) => x.session)])])).toEqual([
      ['api', [['h1', ['abcd0123-1']], ['h2', ['abcd0123-2']]]],
      ['worker', [['h1', ['abcd0123-4']]]],
    ]);
    expect(r.apps[0]!.hosts[0]!.sessions[0]).toEqual({ session: 'abcd0123-1', server: 'abcd0123', pid: 7, startNs: String(T), lastNs: String(T + 20n * S), zones: 20, ended: true, endReason: 'closed' });
    const cut = await fleetApps(target, { from: T, to: T + 100n * S }, { maxSessions: 2 });
    expect(cut.cut).toBe(true);
    // the latest started are kept
    expect(cut.apps.flatMap((a) => a.hosts.flatMap((h) => h.sessions.map((x) => x.session))).sort()).toEqual(['abcd0123-1', 'abcd0123-2']);
  });
});

describe('planBuckets', () => {
  const S = 1_000_000_000n;
  const H = 3600n * S;
  const T0 = 1_699_999_200n * S; // a whole hour
  it('reads every zone for buckets under a minute, as asked', () => {
    expect(planBuckets(T0, T0 + 100n * S, 10)).toEqual({ from: T0, to: T0 + 100n * S, buckets: 10, width: 10n * S, rollup: null });
    expect(planBuckets(T0, T0 + 3n, 10)).toMatchObject({ buckets: 3, width: 1n, rollup: null });
  });
  it('takes the coarsest rollup that widens buckets by 25% at most, on whole periods', () => {
    // 24 h / 100 = 864 s: 1 h too coarse, 5 min -> 900 s (4% wider)
    expect(planBuckets(T0, T0 + 24n * H, 100)).toMatchObject({ from: T0, to: T0 + 24n * H, buckets: 96, width: 900n * S, rollup: { table: 'zones_by_name_5m' } });
    // 6 h - 60 s / 100 = 215.4 s: 5 min would be 39% wider, 1 min -> 240 s; the window widens to whole minutes
    expect(planBuckets(T0 + 30n * S, T0 + 6n * H - 30n * S, 100)).toEqual({ from: T0, to: T0 + 6n * H, buckets: 90, width: 240n * S, rollup: { table: 'zones_by_name_1m', periodNs: 60n * S } });
    // the last hour, 60 buckets, not on a minute: one bucket more
    expect(planBuckets(T0 + 10n * S, T0 + H + 10n * S, 60)).toMatchObject({ from: T0, to: T0 + H + 60n * S, buckets: 61, width: 60n * S });
    expect(planBuckets(T0, T0 + 48n * H, 48)).toMatchObject({ buckets: 48, width: H, rollup: { table: 'zones_by_name_1h' } });
    expect(planBuckets(T0, T0 + 48n * H, 48, false)).toMatchObject({ buckets: 48, width: H, rollup: null });
  });
});

describe.skipIf(skip !== undefined)('fleet queries over the rollups, on a real ClickHouse', () => {
  let ch: ClickHouseServer;
  let target: ClickHouseTarget;
  const S = 1_000_000_000n;
  const H = 3600n * S;
  const T0 = 1_699_999_200n * S;

  // 864,000 zones `long` over 6 h: pair i % 4, one every 100 ms per pair, durations (k % 997 + 1) us x (pair + 1)
  beforeAll(async () => {
    ch = (await startClickHouse())!;
    target = connectClickHouse(`${ch.url}/?database=fleetroll`);
    await migrate(target);
    await target.client.command({
      query: `INSERT INTO fleetroll.zones (app, host, name, abs_start_ns, duration_ns)
        SELECT ['api', 'worker'][number % 2 + 1], ['h1', 'h2'][intDiv(number, 2) % 2 + 1], 'long',
          toInt64(${T0}) + intDiv(number, 4) * 100000000, (intDiv(number, 4) % 997 + 1) * 1000 * (number % 4 + 1)
        FROM numbers(864000)`,
    });
  }, 120_000);

  afterAll(async () => {
    await target?.client.close();
    await ch?.stop();
  });

  /** rollup vs every zone over the same buckets: count, mean, max equal; quantiles within 1% of the range */
  async function sameAsRaw(from: bigint, to: bigint, buckets: number, source: string) {
    const r = await fleetZones(target, { name: 'long', from, to, buckets });
    expect(r.source).toBe(source);
    const raw = await fleetZones(target, { name: 'long', from: BigInt(r.from), to: BigInt(r.to), buckets: r.buckets }, { rollups: false });
    expect(raw.source).toBe('zones_by_name');
    expect(raw.bucketNs).toBe(r.bucketNs);
    expect(r.series.map((s) => [s.app, s.host, s.total])).toEqual(raw.series.map((s) => [s.app, s.host, s.total]));
    for (let i = 0; i < r.series.length; i++) {
      const a = r.series[i]!;
      const b = raw.series[i]!;
      expect(a.count).toEqual(b.count);
      expect(a.maxNs).toEqual(b.maxNs);
      for (let k = 0; k < a.count.length; k++) {
        if (b.meanNs[k] === null) {
          expect(a.meanNs[k]).toBeNull();
          continue;
        }
        expect(a.meanNs[k]).toBeCloseTo(b.meanNs[k]!, 6);
        const range = b.maxNs[k]!;
        for (const q of ['p50Ns', 'p90Ns', 'p99Ns'] as const) expect(Math.abs(a[q][k]! - b[q][k]!)).toBeLessThanOrEqual(range * 0.01);
      }
    }
    return r;
  }

  it('answers from the 5-minute rollup what every zone gives (aligned window)', async () => {
    const r = await sameAsRaw(T0, T0 + 6n * H, 36, 'zones_by_name_5m');
    expect(r.buckets).toBe(36);
    expect(r.series.map((s) => s.total)).toEqual([216_000, 216_000, 216_000, 216_000]);
    expect(r.series[0]!.count).toEqual(new Array(36).fill(6000));
  });

  it('widens an unaligned window to whole minutes and says so', async () => {
    const r = await sameAsRaw(T0 + 30n * S, T0 + 6n * H - 30n * S, 100, 'zones_by_name_1m');
    expect([r.from, r.to, r.buckets, r.bucketNs]).toEqual([String(T0), String(T0 + 6n * H), 90, String(240n * S)]);
  });

  it('uses the hourly rollup over two days', async () => {
    const r = await sameAsRaw(T0, T0 + 48n * H, 48, 'zones_by_name_1h');
    expect(r.series[0]!.count.slice(0, 7)).toEqual([36_000, 36_000, 36_000, 36_000, 36_000, 36_000, 0]);
  });

  it('backfills the rollups from the zones already there when migrating to version 2', async () => {
    // a database at version 1 holding zones: no rollups, zs_schema (TinyLog, no DELETE) rebuilt with version 1 only
    for (const t of ['zones_by_name_1h', 'zones_by_name_5m', 'zones_by_name_1m']) await target.client.command({ query: `DROP TABLE fleetroll.${t}` });
    await target.client.command({ query: 'DROP TABLE fleetroll.zs_schema' });
    await target.client.command({ query: "CREATE TABLE fleetroll.zs_schema (version UInt32, what String, applied DateTime) ENGINE = TinyLog" });
    await target.client.insert({ table: 'fleetroll.zs_schema', values: [{ version: 1, what: 'v1', applied: 0 }], format: 'JSONEachRow' });
    expect(await migrate(target)).toEqual([2]);
    await sameAsRaw(T0, T0 + 48n * H, 48, 'zones_by_name_1h');
    await sameAsRaw(T0, T0 + 6n * H, 36, 'zones_by_name_5m');
  });
});
