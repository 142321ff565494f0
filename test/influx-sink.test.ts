/**
 * Issue 15, InfluxDB acceptance: plot samples streamed by an app through `serve --influx` into a
 * real influxd (Debian's 1.6, test/support/db-servers.ts): `SELECT count(value) FROM
 * zonescope_plot WHERE plot='...'` equals the samples sent, with the tags and the exact
 * absolute nanosecond time; and with influxd down mid-stream, nothing is lost once it is back
 * (the batch writer retried, and says so). Skipped only where influxd is not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlotKind } from '../protocol/tracy/index.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { parseExposition, sampleOf } from './support/prometheus-text.js';
import { INFLUX_MISSING, startInflux, type DbServer } from './support/db-servers.js';
import { waitNewSession, waitSessionEnded } from './support/server-api.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';

if (INFLUX_MISSING !== null) console.warn(`influx-sink: ${INFLUX_MISSING}`);

const SERVER_ID = 'feedbeef';
const EPOCH_S = 1_700_000_000;

/** An InfluxQL query's rows, times as exact ns strings (JSON numbers past 2^53 would be rounded). */
async function select(influx: DbServer, db: string, q: string): Promise<(string | number)[][]> {
  const res = await fetch(`${influx.url}/query?${new URLSearchParams({ db, q, epoch: 'ns' })}`);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  // quote the integer times before JSON.parse: ["time", ...] rows begin with [<digits>,
  const body = JSON.parse(text.replace(/\[(\d{16,}),/g, '["$1",')) as { results: { series?: { values: (string | number)[][] }[]; error?: string }[] };
  expect(body.results[0]!.error).toBeUndefined();
  return body.results[0]!.series?.[0]?.values ?? [];
}

/** InfluxQL string literal. */
const lit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Streams `plots` (name -> values at ticks 1000, 2000, ...) from app APP as one live session; returns its id once ended. */
async function streamPlots(server: ServerHandle, before: number, app: string, plots: Record<string, number[]>): Promise<string> {
  const names = new SyntheticNames();
  const ids = Object.keys(plots).map((name, k) => {
    names.plots.set(0x5000 + k, name);
    return 0x5000 + k;
  });
  await runSyntheticClient({
    port: server.ingestPort!,
    welcome: syntheticWelcome(app, { epoch: BigInt(EPOCH_S), hostInfo: 'OS: Linux\nUser: me@box-7\n' }),
    names,
    produce: (q, batch) => {
      // 1000 samples per plot per batch, so the stream spans many frames
      const values = Object.values(plots);
      const n = Math.max(...values.map((v) => v.length));
      const from = batch * 1000;
      for (let i = from; i < Math.min(n, from + 1000); i++) {
        values.forEach((v, k) => {
          if (i < v.length) q.plot(1, ids[k]!, 1000 * (i + 1), v[i]!, PlotKind.Double);
        });
      }
      return from + 1000 < n;
    },
  });
  const id = await waitNewSession(server, before);
  await waitSessionEnded(server, id);
  return id;
}

describe.skipIf(INFLUX_MISSING !== null)('serve --influx into a real influxd', () => {
  let influx: DbServer;
  let server: ServerHandle | null = null;
  beforeAll(async () => {
    influx = (await startInflux())!;
  });
  afterEach(async () => {
    await server?.close();
    server = null;
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it('stores every plot sample: count(value) per plot equals the samples sent, with tags and exact ns times', async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, influx: `${influx.url}/?db=zs1`, fleet: { serverId: SERVER_ID, feedIntervalMs: 50 } });
    const heap = Array.from({ length: 5000 }, (_, i) => 1_000_000 + i * 1.5);
    const odd = Array.from({ length: 2500 }, (_, i) => (i === 7 ? NaN : -i / 8));
    const oddName = 'event loop, p99 = "ms"\\x';
    const id = await streamPlots(server, 0, 'svc a', { 'heap used': heap, [oddName]: odd });
    expect(await server.fleet.flush(30_000)).toBe(true);

    const count = async (plot: string) => (await select(influx, 'zs1', `SELECT count(value) FROM zonescope_plot WHERE plot=${lit(plot)}`))[0]?.[1];
    expect(await count('heap used')).toBe(heap.length);
    // the NaN sample never leaves the app (the queue writer drops non-finite points, tracy-protocol.md P10);
    // one that reached the sink would be skipped and counted (server/fleet/influx-sink.test.ts)
    expect(await count(oddName)).toBe(odd.length - 1);
    expect(server.fleet.influx!.sink.counters).toMatchObject({ queuedRows: heap.length + odd.length - 1, writtenRows: heap.length + odd.length - 1, failedRows: 0, droppedRows: 0 });

    const last = await select(influx, 'zs1', `SELECT value, app, host, session, plot FROM zonescope_plot WHERE plot='heap used' ORDER BY time DESC LIMIT 1`);
    // abs = epoch 1700000000 s + 5000 * 1000 ns: past 2^53, exact
    expect(last).toEqual([[`${EPOCH_S}00${5_000_000}`, heap[4999]!, 'svc a', 'box-7', `${SERVER_ID}-${id}`, 'heap used']]);
    const first = await select(influx, 'zs1', `SELECT value FROM zonescope_plot WHERE plot=${lit(oddName)} AND value < 0 ORDER BY time ASC LIMIT 1`);
    expect(first).toEqual([[`${EPOCH_S}000002000`, -1 / 8]]);
  });

  it('loses nothing while influxd is down: the writes are retried until it is back', async () => {
    server = await startServer({
      http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, influx: `${influx.url}/?db=zs2`,
      fleet: { serverId: SERVER_ID, feedIntervalMs: 50, writer: { flushMs: 20, backoffMinMs: 20, backoffMaxMs: 200 } },
    });
    const before = await streamPlots(server, 0, 'svc b', { rss: Array.from({ length: 1000 }, (_, i) => i) });
    expect(await server.fleet.flush(30_000)).toBe(true);
    const sink = server.fleet.influx!.sink;
    expect(sink.counters.writtenRows).toBe(1000);

    await influx.down();
    const during = await streamPlots(server, 1, 'svc b', { rss: Array.from({ length: 3000 }, (_, i) => i) });
    // the feed hands the samples over, the writer fails and retries
    await server.fleet.influx!.feed.pass();
    const retried = sink.counters.retriedSends;
    expect(await sink.flush(300)).toBe(false);
    expect(sink.counters.retriedSends).toBeGreaterThan(retried);
    expect(sink.counters.writtenRows).toBe(1000);

    await influx.up();
    expect(await server.fleet.flush(30_000)).toBe(true);
    expect(sink.counters).toMatchObject({ queuedRows: 4000, writtenRows: 4000, failedRows: 0, droppedRows: 0 });
    // and /metrics says so
    const families = parseExposition(await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text());
    expect(sampleOf(families, 'zonescope_fleet_rows_total', { sink: 'influx', table: 'zonescope_plot', state: 'written' }).value).toBe(4000);
    expect(sampleOf(families, 'zonescope_fleet_retried_sends_total', { sink: 'influx' }).value).toBe(sink.counters.retriedSends);
    const inSession = async (id: string) => (await select(influx, 'zs2', `SELECT count(value) FROM zonescope_plot WHERE plot='rss' AND session=${lit(`${SERVER_ID}-${id}`)}`))[0]?.[1];
    expect(await inSession(before)).toBe(1000);
    expect(await inSession(during)).toBe(3000);
    const total = await select(influx, 'zs2', `SELECT count(value) FROM zonescope_plot WHERE plot='rss'`);
    expect(total[0]?.[1]).toBe(4000);
  });

  it('spills to the --data spool when influxd is down longer than memory holds, and sends the spool once it is back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'zonescope-influx-spool-'));
    try {
      server = await startServer({
        http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, influx: `${influx.url}/?db=zs3`, dataDir,
        fleet: { serverId: SERVER_ID, feedIntervalMs: 50, writer: { flushMs: 20, backoffMinMs: 20, backoffMaxMs: 200, maxBatchBytes: 4096, maxBufferedBytes: 16384 } },
      });
      const sink = server.fleet.influx!.sink;
      await influx.down();
      const id = await streamPlots(server, 0, 'svc c', { rss: Array.from({ length: 5000 }, (_, i) => i), heapUsed: Array.from({ length: 5000 }, (_, i) => 2 * i) });
      await server.fleet.influx!.feed.pass();
      expect(await sink.flush(300)).toBe(false);
      // 10,000 lines of ~110 bytes: far past 16 KiB of memory
      expect(sink.counters.spilledRows).toBeGreaterThan(5000);
      expect(sink.counters.spooledBytes).toBeGreaterThan(0);
      expect(sink.counters.droppedRows).toBe(0);

      await influx.up();
      expect(await server.fleet.flush(30_000)).toBe(true);
      expect(sink.counters).toMatchObject({ queuedRows: 10_000, writtenRows: 10_000, failedRows: 0, droppedRows: 0, spooledBytes: 0 });
      for (const plot of ['rss', 'heapUsed']) {
        const n = await select(influx, 'zs3', `SELECT count(value) FROM zonescope_plot WHERE plot=${lit(plot)} AND session=${lit(`${SERVER_ID}-${id}`)}`);
        expect(n[0]?.[1], plot).toBe(5000);
      }
    } finally {
      await server?.close();
      server = null;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
