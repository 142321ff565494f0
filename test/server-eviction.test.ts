/**
 * The flight recorder: 50 million zones streamed through TCP ingest into a 64 MiB budget. The
 * store never holds more than the budget, the process stays small, the newest zones are exact
 * and the evicted ranges are reported by the API.
 *
 * Memory accounting: the server runs in this process, and so does the app that generates the
 * stream. The generator holds one QueueWriter buffer, one frame encoder and at most one socket
 * write queue (it waits for 'drain'), a few hundred KiB in all, and everything else it makes is
 * garbage of one frame. So the RSS checked below is the test runner + server + generator: an
 * upper bound of what the server uses. It is sampled every 20 ms and at every batch.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { getJson, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';
import { declarePatternNames, expectedZones, PERIOD_NS, writeIterations, ZONES_PER_ITERATION } from './support/zone-pattern.js';

const MiB = 2 ** 20;
const BUDGET = 64 * MiB;
const ZONES = 50_000_000;
const THREADS = [1, 2];
const ITERATIONS = ZONES / ZONES_PER_ITERATION / THREADS.length; // per thread
/** Iterations per thread per batch: 16 000 zones per batch. */
const PER_BATCH = 2000;

describe('eviction under a memory budget', () => {
  let server: ServerHandle | null = null;
  afterAll(async () => {
    await server?.close();
  });

  it('keeps 50 million streamed zones within a 64 MiB budget, the newest intact and the evicted ranges reported', async () => {
    const t0 = performance.now();
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, memoryBytes: BUDGET });
    const srv = server;
    const budget = srv.registry.budget;
    const names = new SyntheticNames();
    declarePatternNames(names, THREADS);

    const rssBaseline = process.memoryUsage().rss;
    let rssMax = rssBaseline;
    let usedMax = 0;
    let samples = 0;
    const sample = () => {
      samples++;
      if (budget.used > usedMax) usedMax = budget.used;
      const rss = process.memoryUsage().rss;
      if (rss > rssMax) rssMax = rss;
    };
    const sampler = setInterval(sample, 20);
    let midStream: { threads: Json[]; summary: Json } | null = null;
    const batches = Math.ceil(ITERATIONS / PER_BATCH);

    let result;
    try {
      result = await runSyntheticClient({
        port: srv.ingestPort!,
        welcome: syntheticWelcome('flight-recorder'),
        names,
        produce: async (q, batch) => {
          sample();
          if (batch === batches >> 1) {
            // half-way, while the session is live: the API already reports what was evicted
            const id = srv.registry.list()[0]!.id;
            midStream = { threads: await getJson(srv, `/api/sessions/${id}/threads`), summary: (await getJson(srv, '/api/sessions'))[0] };
          }
          const from = batch * PER_BATCH;
          const to = Math.min(ITERATIONS, from + PER_BATCH);
          for (const t of THREADS) writeIterations(q, t, from, to);
          return to < ITERATIONS;
        },
      });
    } finally {
      clearInterval(sampler);
    }
    const streamMs = performance.now() - t0;
    const id = await waitNewSession(srv, 0);
    const details = await waitSessionEnded(srv, id, 60_000);
    sample();

    console.log(
      `eviction: ${ZONES / 1e6} M zones in ${(streamMs / 1000).toFixed(1)} s (${(result.bytesSent / MiB).toFixed(1)} MiB on the wire, ${result.drains} waits for drain); ` +
        `budget.used max ${(usedMax / MiB).toFixed(2)} of ${BUDGET / MiB} MiB over ${samples} samples; RSS ${(rssBaseline / MiB).toFixed(0)} MiB before, max ${(rssMax / MiB).toFixed(0)} MiB (+${((rssMax - rssBaseline) / MiB).toFixed(0)}); ` +
        `evicted ${(details.evictedBytes / MiB).toFixed(0)} MiB`,
    );

    // Everything arrived and was decoded.
    expect(result.terminated).toBe(true);
    expect(details.endReason).toBe('terminated');
    expect(details.error).toBeNull();
    expect(details.zones).toBe(ZONES);

    // The budget held at every sample, and the process stayed small.
    expect(usedMax).toBeLessThanOrEqual(BUDGET);
    expect(usedMax).toBeGreaterThan(BUDGET * 0.9); // it was really used
    expect(rssMax).toBeLessThan(BUDGET + 200 * MiB);

    // Evicted ranges are reported: half-way through and at the end.
    expect(midStream).not.toBeNull();
    const mid = midStream as unknown as { threads: Json[]; summary: Json };
    expect(mid.summary.state).toBe('live');
    expect(mid.summary.evictedBytes).toBeGreaterThan(0);
    for (const t of mid.threads) expect(t.evictedBeforeNs, `thread ${t.id} half-way`).toBeGreaterThan(0);

    const threads: Json[] = await getJson(srv, `/api/sessions/${id}/threads`);
    expect(threads.map((t) => t.id)).toEqual(THREADS);
    const lastNs = (ITERATIONS - 1) * PERIOD_NS + 900;
    for (const t of threads) {
      expect(t.zones).toBe(ZONES / THREADS.length);
      expect(t.lastNs).toBe(lastNs);
      expect(t.evictedBeforeNs).toBeGreaterThan(mid.threads.find((m) => m.id === t.id).evictedBeforeNs);
      expect(t.storedZones).toBeLessThan(t.zones);
      expect(t.storedZones).toBeGreaterThan(100_000);
    }
    const list: Json[] = await getJson(srv, '/api/sessions');
    expect(list[0].evictedBytes).toBeGreaterThan(0);
    expect(list[0].evictedBytes + list[0].storeBytes).toBeGreaterThan(ZONES * 10 * 0.9); // 10 bytes a zone (zone-columns.ts)
    expect(list[0].storeBytes).toBeLessThanOrEqual(BUDGET);

    // The newest zones are exactly what was sent: the last 50 iterations of each thread.
    const srclocs: Json[] = await getJson(srv, `/api/sessions/${id}/srclocs`);
    const from = ITERATIONS - 50;
    const zones = await getJson(srv, `/api/sessions/${id}/zones?t0=${from * PERIOD_NS}&t1=${lastNs}&nsPerPx=0`);
    expect(zones.threads.map((t: Json) => t.thread)).toEqual(THREADS);
    for (const t of zones.threads) {
      const got = t.depths.flatMap((d: Json) => d.startNs.map((s: number, i: number) => ({ depth: d.depth, startNs: s, endNs: d.endNs[i], name: srclocs[d.srcloc[i]].name })));
      expect(got, `thread ${t.thread}`).toEqual(expectedZones(from, ITERATIONS));
      expect(t.open).toEqual([]);
    }

    // The oldest zones are gone, and the API says so rather than returning holes.
    const old = await getJson(srv, `/api/sessions/${id}/zones?t0=0&t1=${10 * PERIOD_NS}&nsPerPx=0`);
    for (const t of old.threads) {
      expect(t.depths).toEqual([]);
      expect(t.evictedBeforeNs).toBeGreaterThan(10 * PERIOD_NS);
    }
    // And the first stored zone of each depth starts where eviction stopped.
    for (const t of threads) {
      const first = await getJson(srv, `/api/sessions/${id}/zones?threads=${t.id}&t0=${t.evictedBeforeNs}&t1=${t.evictedBeforeNs + 5 * PERIOD_NS}&nsPerPx=0`);
      for (const d of first.threads[0].depths) expect(d.startNs[0]).toBeGreaterThanOrEqual(t.evictedBeforeNs - PERIOD_NS);
    }
  }, 300_000);
});
