/**
 * Issue 15's acceptance "two servers writing to one ClickHouse: /api/fleet/zones on either answers
 * for both": two `serve --clickhouse` servers on one real clickhouse-server (Debian's 18.16, random
 * loopback ports) each record the same real Tracy recording; GET /api/fleet/apps on either lists
 * both sessions (two server ids), and GET /api/fleet/zones on either counts each zone name twice:
 * its count in one session's own statistics x 2, the max equal to the session's longest.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetAppsResult, FleetZonesResult } from '../protocol/view/fleet-types.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { CLICKHOUSE_MISSING, startClickHouse, type ClickHouseServer } from './support/db-servers.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { streamToServer } from './support/tracy-replay.js';

const skip = CLICKHOUSE_MISSING ?? (FIXTURES_PRESENT ? null : 'the Tracy fixtures are absent');
if (skip) console.warn(`fleet-two-servers: skipped: ${skip}`);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function api<T = Json>(server: ServerHandle, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}


describe.skipIf(skip !== null)('two servers writing to one ClickHouse', () => {
  let ch: ClickHouseServer;
  const servers: ServerHandle[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    ch = (await startClickHouse())!;
    const url = `${ch.url}/?database=zs_two_${process.pid}`;
    const recording = readFileSync(fixture('medium.client.bin'));
    for (let i = 0; i < 2; i++) {
      const s = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: url, fleet: { feedIntervalMs: 20 } });
      servers.push(s);
      ids.push(await streamToServer(s, recording));
      expect(await s.fleet.flush()).toBe(true);
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
    await ch?.stop();
  });

  it('answers /api/fleet/apps and /api/fleet/zones for both on either', async () => {
    const [a, b] = servers as [ServerHandle, ServerHandle];
    // one session's figures per name, from its own statistics (the ring store)
    const stats: Json[] = await api(a, `/api/sessions/${ids[0]}/stats`);
    const byName = new Map<string, { count: number; maxNs: number }>();
    for (const s of stats) {
      const e = byName.get(s.name) ?? { count: 0, maxNs: 0 };
      e.count += s.count;
      e.maxNs = Math.max(e.maxNs, s.maxNs);
      byName.set(s.name, e);
    }
    const [name, one] = [...byName.entries()].sort((x, y) => y[1].count - x[1].count)[0]!;

    const keys = [`${a.fleet.serverId}-${ids[0]}`, `${b.fleet.serverId}-${ids[1]}`].sort();
    for (const s of servers) {
      const apps = await api<FleetAppsResult>(s, `/api/fleet/apps?from=0&to=${(1n << 63n) - 1n}`);
      const sessions = apps.apps.flatMap((x) => x.hosts.flatMap((h) => h.sessions));
      expect(sessions.map((x) => x.session).sort()).toEqual(keys);
      expect(new Set(sessions.map((x) => x.server))).toEqual(new Set([a.fleet.serverId, b.fleet.serverId]));
      // the window both sessions cover, from their stored start and last zone
      const from = sessions.map((x) => BigInt(x.startNs)).reduce((p, q) => (q < p ? q : p));
      const to = sessions.map((x) => BigInt(x.lastNs)).reduce((p, q) => (q > p ? q : p)) + 1n;
      const zones = await api<FleetZonesResult>(s, `/api/fleet/zones?name=${encodeURIComponent(name)}&from=${from}&to=${to}&buckets=10`);
      const total = zones.series.reduce((n, x) => n + x.total, 0);
      const counted = zones.series.reduce((n, x) => n + x.count.reduce((p, q) => p + q, 0), 0);
      expect([name, total, counted]).toEqual([name, 2 * one.count, 2 * one.count]);
      expect(Math.max(...zones.series.flatMap((x) => x.maxNs.map((v) => v ?? 0)))).toBe(one.maxNs);
    }
  });
});
