/**
 * `npm run bench -- fleet`: fleet query latency over a large zones table in a real, local
 * clickhouse-server (its own, in a temp dir; bench/clickhouse-process.ts).
 *
 * The zones are generated inside ClickHouse (INSERT ... SELECT FROM numbers(), in chunks of
 * 10 M), as `serve --clickhouse` writes them: 4 apps x 5 hosts, 8 zone names (`handle request` 40%
 * of them, `db query` 20%, the rest 5-10% each), starts evenly over 24 h, durations skewed (mostly
 * 10-1000 us, 1% up to 50 ms). The materialized view fills zones_by_name.
 *
 * Then fleetZones (the route's function) is timed, 20 runs after 2 warm-ups each, on the
 * question the panel asks (each answered from the rollup planBuckets picks):
 *   - `handle request` over the whole 24 h, 100 buckets (40 M zones: the heaviest; 5-min rollup)
 *   - `db query` over the last hour, 60 buckets (1-min rollup)
 *   - `handle request`, one app, over 6 h, 100 buckets (1-min rollup)
 *   - `handle request` over 24 h in 24 buckets (hourly rollup)
 *   - `db query`, 10 min in 60 buckets of 10 s (under a minute: every zone, zones_by_name)
 * then the heaviest once more reading every zone (rollups off, 3 runs: the cost without them),
 * and fleetApps over the 24 h. Target (issue 15): p99 < 1 s over 100 M zones.
 *
 * ZONESCOPE_BENCH_FLEET_ZONES sets the number of zones (default 100000000).
 */
import { connectClickHouse, migrate, type ClickHouseTarget } from '../server/fleet/clickhouse-connection.js';
import { fleetApps, fleetZones, type FleetZonesQuery } from '../server/fleet/fleet-queries.js';
import { checkTarget } from './bench-util.js';
import { clickHouseSkipReason, startLocalClickHouse } from './clickhouse-process.js';

// a whole hour (2026-05-28T20:00:00Z), so hourly buckets fall on the hour
const T0 = 1_779_998_400_000_000_000n;
const DAY_NS = 86_400_000_000_000n;
const HOUR_NS = 3_600_000_000_000n;
const CHUNK = 10_000_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** Fills `target`'s zones (and so zones_by_name) with `zones` generated zones, 10 M per statement. */
export async function generateFleetZones(target: ClickHouseTarget, zones: number): Promise<void> {
  const db = target.database;
  const t0 = performance.now();
  const nsPerZone = DAY_NS / BigInt(zones);
  for (let first = 0; first < zones; first += CHUNK) {
    const n = Math.min(CHUNK, zones - first);
    // h = a hash of the zone number: picks the name, app, host and duration
    await target.client.command({
      query: `INSERT INTO ${db}.zones (session, app, host, pid, thread, depth, name, function, file, line, start_ns, abs_start_ns, duration_ns)
        SELECT concat('bench0000-', toString(app_i * 5 + host_i)), concat('app-', toString(app_i)), concat('host-', toString(app_i), '-', toString(host_i)),
          1000 + app_i * 5 + host_i, h % 16, 0, name, name, 'src/bench.ts', 42,
          toInt64(n * ${nsPerZone}), toInt64(${T0}) + toInt64(n * ${nsPerZone}),
          if(h % 100 = 0, 1000000 + (h % 49000000), 10000 + (intDiv(h, 100) % 1000) * (intDiv(h, 100000) % 1000))
        FROM (
          SELECT number + ${first} AS n, intHash64(number + ${first}) AS h,
            intDiv(h, 7) % 4 AS app_i, intDiv(h, 31) % 5 AS host_i,
            ['handle request', 'handle request', 'handle request', 'handle request', 'db query', 'db query', 'render', 'gc', 'parse json', 'cache lookup'][intDiv(h, 1009) % 10 + 1] AS name
          FROM numbers(${n})
        )`,
    });
    const done = first + n;
    const s = (performance.now() - t0) / 1000;
    console.log(`  generated ${(done / 1e6).toFixed(0)} M zones in ${s.toFixed(0)} s (${(done / s / 1e6).toFixed(2)} M zones/s, with the view)`);
  }
}

export async function runFleetBench(): Promise<void> {
  const skip = clickHouseSkipReason();
  if (skip) {
    console.log(`fleet: skipped (${skip})`);
    return;
  }
  const zones = Number(process.env.ZONESCOPE_BENCH_FLEET_ZONES ?? 100_000_000);
  const ch = await startLocalClickHouse({ maxMemoryBytes: 8_000_000_000 });
  try {
    const target = connectClickHouse(ch.url('fleetbench'), { requestTimeoutMs: 1_800_000 });
    await migrate(target);
    const db = target.database;
    const version = ((await (await target.client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json()) as { v: string }[])[0]!.v;
    console.log(`clickhouse-server ${version}, ${zones.toLocaleString('en')} zones over 24 h`);
    const t0 = performance.now();
    await generateFleetZones(target, zones);
    const genS = (performance.now() - t0) / 1000;
    const [counts] = (await (await target.client.query({ query: `SELECT (SELECT count() FROM ${db}.zones) AS zones, (SELECT count() FROM ${db}.zones_by_name) AS by_name`, format: 'JSONEachRow' })).json()) as { zones: string; by_name: string }[];
    console.log(`generated in ${genS.toFixed(0)} s; zones ${counts!.zones}, zones_by_name ${counts!.by_name}`);
    // let background merges settle a little: the queries are measured on the table as it is then
    const parts = async () => ((await (await target.client.query({ query: `SELECT count() AS p FROM system.parts WHERE database = '${db}' AND table = '.inner.zones_by_name' AND active`, format: 'JSONEachRow' })).json()) as { p: string }[])[0]?.p;
    console.log(`zones_by_name active parts: ${await parts()}`);
    const sizes = (await (await target.client.query({ query: `SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) AS bytes FROM system.parts WHERE database = '${db}' AND active GROUP BY table ORDER BY table`, format: 'JSONEachRow' })).json()) as { table: string; rows: string; bytes: string }[];
    for (const t of sizes) console.log(`  ${t.table}: ${Number(t.rows).toLocaleString('en')} rows, ${(Number(t.bytes) / 2 ** 20).toFixed(0)} MiB compressed`);

    // one session per (app, host), as the writer would list them
    await target.client.command({
      query: `INSERT INTO ${db}.sessions SELECT concat('bench0000-', toString(number)), 'bench0000', concat('app-', toString(intDiv(number, 5))),
        concat('host-', toString(intDiv(number, 5)), '-', toString(number % 5)), 1000 + number, toInt64(${T0}), 0, toInt64(${DAY_NS}), ${Math.round(zones / 20)}, 1, 'closed', 1 FROM numbers(20)`,
    });
    const end = T0 + DAY_NS;
    const cases: { what: string; q: FleetZonesQuery; runs: number; rollups?: false }[] = [
      { what: "'handle request', whole 24 h, 100 buckets", q: { name: 'handle request', from: T0, to: end, buckets: 100 }, runs: 20 },
      { what: "'db query', last 1 h, 60 buckets", q: { name: 'db query', from: end - HOUR_NS, to: end, buckets: 60 }, runs: 20 },
      { what: "'handle request', app-1, 6 h, 100 buckets", q: { name: 'handle request', app: 'app-1', from: end - 6n * HOUR_NS, to: end, buckets: 100 }, runs: 20 },
      { what: "'handle request', whole 24 h, 24 buckets", q: { name: 'handle request', from: T0, to: end, buckets: 24 }, runs: 20 },
      { what: "'db query', last 10 min, 60 buckets", q: { name: 'db query', from: end - HOUR_NS / 6n, to: end, buckets: 60 }, runs: 20 },
      { what: "'handle request', whole 24 h, 100 buckets, rollups off", q: { name: 'handle request', from: T0, to: end, buckets: 100 }, runs: 3, rollups: false },
    ];
    let worstP99 = 0;
    for (const c of cases) {
      let rows = 0;
      let series = 0;
      let source = '';
      const limits = { maxExecutionMs: 120_000, ...(c.rollups === false && { rollups: false as const }) };
      for (let i = 0; i < (c.runs > 3 ? 2 : 1); i++) await fleetZones(target, c.q, limits);
      const times: number[] = [];
      for (let i = 0; i < c.runs; i++) {
        const t = performance.now();
        const r = await fleetZones(target, c.q, limits);
        times.push(performance.now() - t);
        series = r.series.length;
        rows = r.series.reduce((a, s) => a + s.total, 0);
        source = `${r.source}, ${r.buckets} buckets`;
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 0.5);
      const p99 = percentile(times, 0.99);
      if (c.rollups !== false) worstP99 = Math.max(worstP99, p99);
      console.log(`fleetZones ${c.what}: ${rows.toLocaleString('en')} zones, ${series} series (${source}); p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times[times.length - 1]!.toFixed(0)}, ${c.runs} runs)`);
    }
    const appTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await fleetApps(target, { from: T0, to: end });
      appTimes.push(performance.now() - t);
    }
    appTimes.sort((a, b) => a - b);
    console.log(`fleetApps 24 h: p50 ${percentile(appTimes, 0.5).toFixed(0)} ms, p99 ${percentile(appTimes, 0.99).toFixed(0)} ms`);
    checkTarget('fleet', `fleetZones p99 over ${(zones / 1e6).toFixed(0)} M zones (worst of the panel's questions above)`, `${worstP99.toFixed(0)} ms`, '< 1000 ms over 100 M', worstP99 < 1000 && zones >= 100_000_000);
    await target.client.close();
  } finally {
    await ch.stop();
  }
}
