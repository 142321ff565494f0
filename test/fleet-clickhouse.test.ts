/**
 * `serve --clickhouse` against a real clickhouse-server (Debian's 18.16) started on random
 * loopback ports: a real Tracy recording streamed through the server lands in ClickHouse zone for
 * zone (to the ns), a new server without --data lists and opens it from ClickHouse, and an
 * outage of ClickHouse mid-stream loses nothing. Two servers on one ClickHouse:
 * fleet-two-servers.test.ts.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { CLICKHOUSE_MISSING, startClickHouse, type ClickHouseServer } from './support/db-servers.js';
import { fixture } from './support/inspect-fixtures.js';
import { streamToServer } from './support/tracy-replay.js';
import { getAllZones } from './support/zone-pages.js';

if (CLICKHOUSE_MISSING) console.warn(`fleet-clickhouse: skipped: ${CLICKHOUSE_MISSING}`);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let ch: ClickHouseServer;
let client: ClickHouseClient;
let dbSeq = 0;
const newDatabase = () => `zs_test_${process.pid}_${dbSeq++}`;

async function rows<T = Json>(query: string): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return (await rs.json()) as T[];
}

async function api(server: ServerHandle, path: string): Promise<Json> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`);
  expect(res.status, path).toBe(200);
  return res.json();
}


/** "thread|depth|start|duration|name" of every zone the server's store holds for session `id`. */
async function storeZones(server: ServerHandle, id: string): Promise<string[]> {
  const all = await getAllZones(server, id);
  const srclocs: Json[] = await api(server, `/api/sessions/${id}/srclocs`);
  const out: string[] = [];
  for (const t of all.threads) {
    for (const d of t.depths) {
      for (let i = 0; i < d.startNs.length; i++) out.push(`${t.thread}|${d.depth}|${d.startNs[i]}|${d.endNs[i] - d.startNs[i]}|${srclocs[d.srcloc[i]].name}`);
    }
  }
  return out.sort();
}

const medium = () => readFileSync(fixture('medium.client.bin'));

describe.skipIf(CLICKHOUSE_MISSING !== null)('serve --clickhouse on a real ClickHouse', () => {
  beforeAll(async () => {
    ch = (await startClickHouse())!;
    client = createClient({ url: ch.url });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await ch?.stop();
  });

  it('writes every zone of a real recording, to the ns, and a new server lists and opens it from ClickHouse', async () => {
    const database = newDatabase();
    const url = `${ch.url}/?database=${database}`;
    const a = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: url, fleet: { feedIntervalMs: 20 } });
    let zonesA: string[];
    let detailsA: Json;
    let statsA: Json[];
    let key: string;
    try {
      const id = await streamToServer(a, medium());
      expect(await a.fleet.flush()).toBe(true);
      detailsA = await api(a, `/api/sessions/${id}`);
      key = `${a.fleet.serverId}-${id}`;
      const [count] = await rows<{ n: string }>(`SELECT count() AS n FROM ${database}.zones WHERE session = '${key}'`);
      expect(Number(count!.n)).toBe(detailsA.zones);
      expect(detailsA.zones).toBe(202_201);
      // every zone, start and duration to the ns, against the ring store
      zonesA = await storeZones(a, id);
      const chZones = await rows<{ z: string }>(`SELECT concat(toString(thread), '|', toString(depth), '|', toString(start_ns), '|', toString(duration_ns), '|', name) AS z FROM ${database}.zones WHERE session = '${key}'`);
      expect(chZones.map((r) => r.z).sort()).toEqual(zonesA);
      // absolute times: the session's wall-clock start + the relative time, exactly
      const [abs] = await rows<{ bad: string }>(`SELECT countIf(abs_start_ns != start_ns + s.start_abs_ns) AS bad FROM ${database}.zones ANY INNER JOIN (SELECT session, argMax(start_abs_ns, version) AS start_abs_ns FROM ${database}.sessions GROUP BY session) AS s USING session WHERE session = '${key}'`);
      expect(abs!.bad).toBe('0');
      const [counts] = await rows<Json>(`SELECT (SELECT count() FROM ${database}.frames) AS f, (SELECT count() FROM ${database}.plots) AS p, (SELECT count() FROM ${database}.messages) AS m`);
      const plotSamples = detailsA.plots.reduce((n: number, p: Json) => n + p.count, 0);
      expect(Number(counts.p)).toBe(plotSamples);
      expect(Number(counts.m)).toBe(detailsA.messages);
      // per frame set, by its real name: a continuous set of n marks has n - 1 frames, a start/end set n
      const frameSets = await rows<{ name: string; n: string }>(`SELECT name, count() AS n FROM ${database}.frames GROUP BY name`);
      expect(Object.fromEntries(frameSets.map((f) => [f.name, Number(f.n)]))).toEqual(Object.fromEntries(detailsA.frames.map((f: Json) => [f.name, f.continuous ? f.count - 1 : f.count])));
      expect(Number(counts.f)).toBe(detailsA.frames.reduce((n: number, f: Json) => n + (f.continuous ? f.count - 1 : f.count), 0));
      const plotRows = await rows<{ plot: string; n: string }>(`SELECT plot, count() AS n FROM ${database}.plots GROUP BY plot`);
      expect(Object.fromEntries(plotRows.map((p) => [p.plot, Number(p.n)]))).toEqual(Object.fromEntries(detailsA.plots.map((p: Json) => [p.name, p.count])));
      const [session] = await rows<Json>(`SELECT argMax(zones, version) AS zones, argMax(ended, version) AS ended, argMax(app, version) AS app FROM ${database}.sessions WHERE session = '${key}' GROUP BY session`);
      expect(session).toEqual({ zones: String(detailsA.zones), ended: 1, app: 'fixture_app' });
      const [span] = await rows<{ first: string; earliest: string }>(
        `SELECT (SELECT argMax(first_ns, version) FROM ${database}.sessions WHERE session = '${key}') AS first, (SELECT min(start_ns) FROM ${database}.zones WHERE session = '${key}') AS earliest`,
      );
      expect(span!.first).toBe(span!.earliest);
      statsA = await api(a, `/api/sessions/${id}/stats`);
      const counters = a.fleet.clickhouse!.sink.counters().find((c) => c.table === 'zones')!.counters;
      expect(counters).toMatchObject({ queuedRows: 202_201, writtenRows: 202_201, failedRows: 0, droppedRows: 0 });
    } finally {
      await a.close();
    }

    // a new server, no --data: the session is listed from ClickHouse and opens with the same zones
    const b = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: url });
    try {
      const list: Json[] = await api(b, '/api/sessions');
      expect(list.map((s) => [s.id, s.source, s.app, s.zones])).toEqual([[key, 'clickhouse', 'fixture_app', 202_201]]);
      const details = await api(b, `/api/sessions/${key}`);
      expect(details).toMatchObject({ source: 'clickhouse', zones: detailsA.zones, messages: detailsA.messages, error: null });
      expect(await storeZones(b, key)).toEqual(zonesA);
      const byName = (stats: Json[]) => {
        const m: Record<string, [number, number]> = {};
        for (const s of stats) {
          const e = (m[s.name] ??= [0, 0]);
          e[0] += s.count;
          e[1] += s.totalNs;
        }
        return m;
      };
      expect(byName(await api(b, `/api/sessions/${key}/stats`))).toEqual(byName(statsA));
      const plots = Object.fromEntries(details.plots.map((p: Json) => [p.name, p.count]));
      expect(plots).toEqual(Object.fromEntries(detailsA.plots.map((p: Json) => [p.name, p.count])));
    } finally {
      await b.close();
    }
  }, 120_000);

  it('ClickHouse down from before the server starts to after the stream: nothing lost, the retries counted', async () => {
    const database = newDatabase();
    // down before the server starts: it starts anyway (schema and session list retried later)
    await ch.down();
    const server = await startServer({
      http: { host: '127.0.0.1', port: 0 },
      ingest: null,
      clickhouse: `${ch.url}/?database=${database}`,
      fleet: { feedIntervalMs: 20, writer: { backoffMinMs: 20, backoffMaxMs: 200, maxBatchBytes: 256 * 1024 } },
    });
    try {
      expect(server.fleet.clickhouse!.catalog.lastError).not.toBeNull();
      const id = await streamToServer(server, medium());
      await server.fleet.clickhouse!.feed.pass();
      const zones = server.fleet.clickhouse!.sink.writers.zones.counters;
      // the sends are failing now (events: the counter moving), nothing is written
      await expect.poll(() => zones.retriedSends, { timeout: 30_000 }).toBeGreaterThan(0);
      expect(zones.writtenRows).toBe(0);
      expect(zones.queuedRows).toBe(202_201);
      const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/zonescope_fleet_retried_sends_total\{sink="clickhouse",table="zones"\} [1-9]/);
      await ch.up();
      expect(await server.fleet.flush(60_000)).toBe(true);
      expect(zones).toMatchObject({ writtenRows: 202_201, failedRows: 0, droppedRows: 0 });
      // the session list reads again once ClickHouse is back
      await server.fleet.clickhouse!.catalog.refresh();
      expect(server.fleet.clickhouse!.catalog.lastError).toBeNull();
      const [count] = await rows<{ n: string }>(`SELECT count() AS n FROM ${database}.zones WHERE session = '${server.fleet.serverId}-${id}'`);
      expect(Number(count!.n)).toBe(202_201);
      const after = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
      expect(after).toContain('zonescope_fleet_rows_total{sink="clickhouse",table="zones",state="written"} 202201');
    } finally {
      await server.close();
    }
  }, 120_000);

  it('ClickHouse killed while a session streams and started again: every zone written (at least once), the retries counted', async () => {
    const database = newDatabase();
    const server = await startServer({
      http: { host: '127.0.0.1', port: 0 },
      ingest: null,
      clickhouse: `${ch.url}/?database=${database}`,
      fleet: { feedIntervalMs: 20, writer: { backoffMinMs: 20, backoffMaxMs: 200, maxBatchBytes: 64 * 1024, flushMs: 20 } },
    });
    try {
      const zones = server.fleet.clickhouse!.sink.writers.zones.counters;
      // the recording in 16 KiB chunks 10 ms apart (~1.2 s): ClickHouse is killed once it took some rows
      const streamed = streamToServer(server, medium(), { chunkSize: 16 * 1024, pauseMs: 10 });
      await expect.poll(() => zones.writtenRows, { timeout: 30_000, interval: 5 }).toBeGreaterThan(0);
      await ch.down();
      const id = await streamed;
      await expect.poll(() => zones.retriedSends, { timeout: 30_000 }).toBeGreaterThan(0);
      await ch.up();
      expect(await server.fleet.flush(60_000)).toBe(true);
      expect(zones).toMatchObject({ queuedRows: 202_201, writtenRows: 202_201, failedRows: 0, droppedRows: 0 });
      // a batch ClickHouse stored just before it was killed, unanswered, is sent again: delivery is
      // at least once (docs/fleet.md); every zone is there
      const [r] = await rows<{ n: string; d: string }>(`SELECT count() AS n, uniqExact(thread, depth, start_ns) AS d FROM ${database}.zones WHERE session = '${server.fleet.serverId}-${id}'`);
      expect(Number(r!.d)).toBe(202_201);
      expect(Number(r!.n)).toBeGreaterThanOrEqual(202_201);
    } finally {
      await server.close();
    }
  }, 120_000);
});
