/**
 * Runtime metrics (client/runtime-metrics.ts) into a real Zonescope server (real sockets on
 * 127.0.0.1, ephemeral ports), checked through the REST API: the five memory plots and the
 * event-loop delay plot with samples, and GC pauses as zones on the "GC" thread. GC is forced
 * with gc(), exposed in this process with V8's --expose-gc flag set at run time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../client/node.js';
import { EVENT_LOOP_DELAY_PLOT, MEMORY_PLOTS, startRuntimeMetrics, UNEXPLAINED_RSS_PLOT } from '../client/runtime-metrics.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { getJson, sleep, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
});

afterAll(async () => {
  await server.close();
});

/** global.gc, exposed at run time when the worker was not started with --expose-gc. */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** The defaults: no prefix and thread "GC" on the main thread (vitest may run files in workers). */
const PREFIX = threadId === 0 ? '' : `worker ${threadId} `;
const GC_THREAD = threadId === 0 ? 'GC' : `GC worker ${threadId}`;

describe('runtime metrics', () => {
  it('plots memory and event-loop delay, and puts forced and natural GC pauses on the GC thread', async () => {
    const gc = exposeGc();
    const before = server.registry.list().length;
    // through the connect() option, as users turn it on; close() stops it
    const tracy = await connect({ appName: 'runtime-metrics', port: server.ingestPort!, exitHandlers: false, runtimeMetrics: { intervalMs: 20 } });
    const stop = () => {};
    const main = tracy.zoneBegin('workload');
    let keep: number[][] = [];
    for (let round = 0; round < 6; round++) {
      // garbage for the scavenger, then a full collection
      for (let i = 0; i < 5000; i++) keep.push(new Array(200).fill(round));
      keep = keep.slice(-100);
      gc();
      await sleep(30);
    }
    spin(60); // one long event-loop stall
    await sleep(60);
    tracy.zoneEnd(main);
    stop();
    await tracy.close();
    expect(tracy.stats).toMatchObject({ dropped: 0, droppedNonFinite: 0, zonesEndedAtClose: 0 });

    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ endReason: 'terminated', error: null });
    const plots = new Map<string, Json>(d.plots.map((p: Json) => [p.name, p]));
    for (const name of MEMORY_PLOTS) {
      const p = plots.get(PREFIX + name);
      expect(p, name).toMatchObject({ format: 1 }); // PlotFormat.Memory
      expect(p.count, name).toBeGreaterThanOrEqual(10);
      expect(p.min, name).toBeGreaterThanOrEqual(0);
    }
    expect(plots.get(`${PREFIX}rss`).min).toBeGreaterThan(10 * 2 ** 20);
    expect(plots.get(`${PREFIX}heapUsed`).max).toBeGreaterThan(2 ** 20);
    const loop = plots.get(PREFIX + EVENT_LOOP_DELAY_PLOT);
    expect(loop).toMatchObject({ format: 0 });
    expect(loop.count).toBeGreaterThanOrEqual(5);
    expect(loop.max).toBeGreaterThan(40); // the 60 ms stall, in ms
    expect(loop.max).toBeLessThan(10_000);

    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    const gcThread = threads.find((t) => t.name === GC_THREAD);
    expect(gcThread, JSON.stringify(threads)).toBeDefined();
    expect(gcThread).toMatchObject({ depth: 1, open: 0, unmatchedEnds: 0 });
    expect(gcThread.zones).toBeGreaterThanOrEqual(6);
    expect(gcThread.id).not.toBe(1);
    const mainThread = threads.find((t) => t.id === 1);
    expect(mainThread).toMatchObject({ zones: 1 });
    // the GC zones lie inside the session, and the forced ones inside the workload zone
    expect(gcThread.firstNs).toBeGreaterThanOrEqual(0);

    const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats?threads=${gcThread.id}`);
    const counts = Object.fromEntries(stats.map((s) => [s.name, s.count]));
    expect(counts['GC major']).toBeGreaterThanOrEqual(6);
    expect(counts['GC minor']).toBeGreaterThanOrEqual(1);
    expect(Object.keys(counts).every((n) => /^GC (minor|major|incremental|weakcb)$/.test(n))).toBe(true);

    const zones: Json = await getJson(server, `/api/sessions/${id}/zones?nsPerPx=0&threads=${gcThread.id}`);
    const rows: number[] = zones.threads[0].depths.find((x: Json) => x.depth === 0).row;
    const details: Json[] = await Promise.all(rows.map((row) => getJson(server, `/api/sessions/${id}/zone?thread=${gcThread.id}&depth=0&row=${row}`)));
    const forced = details.filter((z) => z.name === 'GC major' && /forced/.test(z.text ?? ''));
    expect(forced.length).toBeGreaterThanOrEqual(6);
    for (const z of details) {
      expect(z.durNs).toBeGreaterThan(0);
      expect(z.durNs).toBeLessThan(1e9);
    }
  });

  it('shows event-loop stalls that start right after a sample (an app timer in the same timers phase)', async () => {
    const before = server.registry.list().length;
    const tracy = await connect({ appName: 'runtime-metrics-stalls', port: server.ingestPort!, exitHandlers: false });
    const stop = startRuntimeMetrics(tracy, { intervalMs: 50, memory: false, gc: false });
    // Created after the sampler's timer, with the same period: runs right after each sample.
    let stalls = 0;
    const app = setInterval(() => {
      if (stalls++ < 3) spin(40);
    }, 50);
    await sleep(400);
    clearInterval(app);
    stop();
    await tracy.close();
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    const loop = d.plots.find((p: Json) => p.name === PREFIX + EVENT_LOOP_DELAY_PLOT);
    expect(loop.count).toBeGreaterThanOrEqual(4);
    expect(loop.max).toBeGreaterThan(25);
    expect(loop.min).toBeGreaterThanOrEqual(0);
  });

  it('stops sampling on stop() and when the session ends', async () => {
    const before = server.registry.list().length;
    const tracy = await connect({ appName: 'runtime-metrics-stop', port: server.ingestPort!, exitHandlers: false });
    const stop = startRuntimeMetrics(tracy, { intervalMs: 10, gc: false, eventLoopDelay: false, heapSpaces: false });
    await sleep(80);
    stop();
    stop();
    await sleep(60); // would be ~6 more samples per plot
    await tracy.close();
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    const rss = d.plots.find((p: Json) => p.name === `${PREFIX}rss`);
    expect(rss.count).toBeGreaterThanOrEqual(2);
    expect(rss.count).toBeLessThanOrEqual(12);
    // heapSpaces: false leaves the memoryUsage() plots and the derived one
    expect(d.plots.map((p: Json) => p.name).sort()).toEqual([...MEMORY_PLOTS, UNEXPLAINED_RSS_PLOT].map((n) => PREFIX + n).sort());
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    expect(threads.find((t) => /^GC/.test(t.name))).toBeUndefined();

    // a second client: metrics end with its session, without stop()
    const other = await connect({ appName: 'runtime-metrics-close', port: server.ingestPort!, exitHandlers: false });
    startRuntimeMetrics(other, { intervalMs: 10 });
    await sleep(30);
    await other.close();
    await sleep(40);
    expect(other.stats.dropped).toBe(0);
  });

  it('rejects an interval out of range with a TypeError naming it', async () => {
    const tracy = await connect({ appName: 'runtime-metrics-bad', port: server.ingestPort!, exitHandlers: false });
    expect(() => startRuntimeMetrics(tracy, { intervalMs: 1 })).toThrow(new TypeError('runtimeMetrics intervalMs must be in [10, 60000], not 1'));
    await tracy.close();
  });
});
