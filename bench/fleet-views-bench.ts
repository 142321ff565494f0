/**
 * `npm run bench -- fleet-views`: a session stored in ClickHouse answered from SQL
 * (server/fleet/clickhouse-views.ts, clickhouse-aggregates.ts), beside the same session in the
 * ring store. The stress recording (6.01 M zones) goes through server A (`--clickhouse`, in
 * process) into a local clickhouse-server; server B, started after, on the same database, opens
 * it from ClickHouse. The viewer's requests are then timed on both, over HTTP, 10 runs after a
 * warm-up each: the whole session and a zoomed viewport at 2000 px, one zone's details, the
 * statistics, the flame graph, a search and the messages. Also B's time to open the session
 * and its heap growth (the zones stay in ClickHouse).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type ServerHandle } from '../server/serve.js';
import { clickHouseSkipReason, startLocalClickHouse } from './clickhouse-process.js';
import { listenAsTracyClient } from './tracy-peer.js';

const RUNS = 10;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function timeGet(server: ServerHandle, path: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`);
  const body = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${new TextDecoder().decode(body).slice(0, 300)}`);
  return { ms: performance.now() - t, bytes: body.byteLength };
}

async function series(server: ServerHandle, path: string): Promise<{ p50: number; p99: number; bytes: number }> {
  await timeGet(server, path);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await timeGet(server, path);
    times.push(r.ms);
    bytes = r.bytes;
  }
  return { p50: pct(times, 0.5), p99: pct(times, 0.99), bytes };
}

export async function runFleetViewsBench(fixturesDir: string | null): Promise<void> {
  const skip = clickHouseSkipReason();
  const path = fixturesDir === null ? null : join(fixturesDir, 'stress.client.bin');
  let stress: Uint8Array;
  try {
    if (path === null) throw new Error('no ../shared/fixtures/tracy');
    stress = readFileSync(path);
  } catch (err) {
    console.log(`fleet-views: skipped (${(err as Error).message})`);
    return;
  }
  if (skip) {
    console.log(`fleet-views: skipped (${skip})`);
    return;
  }
  const ch = await startLocalClickHouse();
  const url = ch.url('zs_views_bench');
  const peer = await listenAsTracyClient(stress, 1);
  const a = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, memoryBytes: 4 * 2 ** 30, connect: [{ host: '127.0.0.1', port: peer.port }], clickhouse: url });
  let b: ServerHandle | null = null;
  try {
    const id = await new Promise<string>((resolve) => {
      const off = a.registry.subscribe((e) => {
        if (e.type === 'ended' && e.session.welcome) {
          off();
          resolve(e.session.id);
        }
      });
    });
    if (!(await a.fleet.flush(600_000))) throw new Error('not every zone was written within 10 min');
    const key = `${a.fleet.serverId}-${id}`;
    const lastNs = a.registry.get(id)!.store.lastNs;
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    b = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, clickhouse: url });
    const open = await timeGet(b, `/api/sessions/${key}`);
    global.gc?.();
    const heapGrowth = process.memoryUsage().heapUsed - heap0;
    const details = (await (await fetch(`http://127.0.0.1:${b.httpPort}/api/sessions/${key}`)).json()) as { zones: number };
    console.log(`stress: ${details.zones.toLocaleString('en')} zones in ClickHouse; B opened it in ${open.ms.toFixed(0)} ms, heap +${(heapGrowth / 2 ** 20).toFixed(1)} MiB (A's store holds it: ${(a.registry.get(id)!.store.budget.bytes / 2 ** 20).toFixed(0)} MiB)`);
    const mid = Math.round(lastNs / 2);
    // the longest track's middle zone
    const track = a.registry.get(id)!.store.threadList().flatMap((t) => t.depths.map((d) => ({ thread: t.id, depth: d.depth, count: d.count }))).sort((x, y) => y.count - x.count)[0]!;
    const requests: [string, string][] = [
      ['whole session, 2000 px', `zones?t0=0&t1=${lastNs}&px=2000`],
      ['1 % of it, 2000 px', `zones?t0=${mid}&t1=${mid + Math.round(lastNs / 100)}&px=2000`],
      ['0.01 %, every zone', `zones?t0=${mid}&t1=${mid + Math.round(lastNs / 10_000)}&nsPerPx=0`],
      [`zone details (row ${Math.floor(track.count / 2).toLocaleString('en')} of the longest track)`, `zone?thread=${track.thread}&depth=${track.depth}&row=${Math.floor(track.count / 2)}`],
      ['statistics, whole session', 'stats'],
      ['flame graph, whole session', 'flame'],
      ['search', 'search?q=a&limit=1000'],
      ['messages', 'messages?limit=1000'],
    ];
    console.log('| request | ring store (A) p50 / p99 | ClickHouse (B) p50 / p99 | bytes (B) |');
    console.log('|---|---|---|---|');
    for (const [what, q] of requests) {
      const ra = await series(a, `/api/sessions/${id}/${q}`);
      const rb = await series(b, `/api/sessions/${key}/${q}`);
      console.log(`| ${what} | ${ra.p50.toFixed(1)} / ${ra.p99.toFixed(1)} ms | ${rb.p50.toFixed(1)} / ${rb.p99.toFixed(1)} ms | ${rb.bytes.toLocaleString('en')} |`);
    }
  } finally {
    await b?.close();
    await a.close();
    await peer.close();
    await ch.stop();
  }
}
