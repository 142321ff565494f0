/**
 * The viewer WebSocket (/api/live): a viewer following a live session gets new zones within
 * 100 ms of their arrival, with numeric columns as msgpack bin (typed-array bytes); a viewer
 * that stops reading is skipped instead of queued for, so the server's memory stays bounded.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { encodeClientStream } from '../protocol/tracy/index.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { waitFor, waitNewSession, type Json } from './support/server-api.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';
import { dialRecordedClient } from './support/tracy-replay.js';
import { declarePatternNames, PERIOD_NS, writeIterations } from './support/zone-pattern.js';

const MiB = 2 ** 20;

/**
 * A copy of a msgpack bin as its own ArrayBuffer: the decoder hands out views into the message
 * (Buffers, whose slice() is not a copy), at any byte offset.
 */
function binBytes(bin: unknown): ArrayBuffer {
  expect(bin).toBeInstanceOf(Uint8Array);
  return new Uint8Array(bin as Uint8Array).buffer;
}

/** A Float64Array copy of a msgpack bin holding float64 bytes. */
function f64(bin: unknown): Float64Array {
  const bytes = binBytes(bin);
  expect(bytes.byteLength % 8).toBe(0);
  return new Float64Array(bytes);
}

interface Viewer {
  ws: WebSocket;
  /** Every message received, with its arrival time (performance.now()). */
  messages: { at: number; msg: Json }[];
  onMessage: ((msg: Json, at: number) => void) | null;
  send(msg: unknown): void;
}

async function openViewer(server: ServerHandle): Promise<Viewer> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`);
  const viewer: Viewer = {
    ws,
    messages: [],
    onMessage: null,
    send: (msg) => ws.send(encode(msg)),
  };
  ws.on('message', (data: Buffer) => {
    const at = performance.now();
    const msg = decode(data) as Json;
    viewer.messages.push({ at, msg });
    viewer.onMessage?.(msg, at);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return viewer;
}

/**
 * Streams a session slowly (one zone every 20 ms through TCP ingest), with a viewer following
 * it; returns, for each zone, the time from handing its frame to the socket to the arrival of
 * the first 'update' that holds it. `meanwhile` runs once the paced stream has started.
 */
async function followLatencies(server: ServerHandle, viewers: Viewer[], zones: number, meanwhile?: () => Promise<void>): Promise<{ latencies: number[]; sentAt: number[]; seenAt: number[]; last: Json; id: string }> {
  const STEP_NS = 20e6; // app time between zones, as the wall clock paces them (20 ms)
  const sentAt = new Array<number>(zones).fill(NaN);
  const seenAt = new Array<number>(zones).fill(NaN);
  let pendingZone = -1;
  let started!: () => void;
  const go = new Promise<void>((r) => (started = r));
  const names = new SyntheticNames();
  names.srcloc(0x77, 'Tick', 'tick', 'live.cpp', 7);
  names.threads.set(1, 'main');
  const before = server.registry.list().length;
  const client = runSyntheticClient({
    port: server.ingestPort!,
    welcome: syntheticWelcome('live-app'),
    names,
    flushEachBatch: true,
    onChunk: (_chunk, at) => {
      if (pendingZone >= 0) sentAt[pendingZone] = at;
      pendingZone = -1;
    },
    produce: async (q, batch) => {
      if (batch === 0) {
        // one zone so the session exists before the viewer subscribes
        q.zoneBegin(1, 0, 0x77);
        q.zoneEnd(1, 1e6);
        return true;
      }
      if (batch === 1) await go;
      await new Promise((r) => setTimeout(r, 20));
      const k = batch - 1;
      q.zoneBegin(1, k * STEP_NS + 1e6, 0x77);
      q.zoneEnd(1, k * STEP_NS + 6e6);
      pendingZone = k;
      return k + 1 < zones;
    },
  });
  const id = await waitNewSession(server, before);
  const viewer = await openViewer(server);
  viewers.push(viewer);
  await waitFor('the sessions message', () => viewer.messages.find((m) => m.msg.type === 'sessions'));
  expect(viewer.messages[0]!.msg.type).toBe('sessions');
  expect(viewer.messages[0]!.msg.sessions.map((s: Json) => s.id)).toContain(id);

  let typedChecked = false;
  viewer.onMessage = (msg, at) => {
    if (msg.type !== 'update') return;
    for (const t of msg.threads) {
      for (const d of t.depths) {
        const starts = f64(d.startNs);
        const ends = f64(d.endNs);
        expect(ends.length).toBe(starts.length);
        if (!typedChecked) {
          expect(d.srcloc).toBeInstanceOf(Uint8Array);
          expect(new Int32Array(binBytes(d.count)).every((n) => n >= 1)).toBe(true);
          typedChecked = true;
        }
        for (const s of starts) {
          const k = Math.round((s - 1e6) / STEP_NS);
          if (k >= 0 && k < zones && s === k * STEP_NS + 1e6 && Number.isNaN(seenAt[k]!)) seenAt[k] = at;
        }
      }
    }
  };
  // follow mode, a 2 s window at 1000 px: zones are 5 px wide, so each comes on its own
  viewer.send({ type: 'subscribe', session: id, follow: true, span: 2e9, px: 1000 });
  await waitFor('a first update', () => viewer.messages.find((m) => m.msg.type === 'update'));
  started();
  if (meanwhile) {
    await new Promise((r) => setTimeout(r, 100));
    await meanwhile();
  }
  const result = await client;
  expect(result.terminated).toBe(true);
  await waitFor('every zone seen', () => seenAt.every((t) => !Number.isNaN(t)), 30_000);

  const latencies = sentAt.map((t, k) => seenAt[k]! - t);
  expect(latencies.filter((l) => !(l >= 0)), `zones never seen or seen before sent: ${latencies}`).toEqual([]);
  expect(typedChecked).toBe(true);
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(`live latency over ${zones} zones${meanwhile ? ' (with a concurrent burst)' : ''}: median ${sorted[zones >> 1]!.toFixed(1)} ms, max ${sorted[zones - 1]!.toFixed(1)} ms`);
  const last = viewer.messages.filter((m) => m.msg.type === 'update').at(-1)!.msg;
  return { latencies, sentAt, seenAt, last, id };
}

/** A session of `batches` x `perBatch` iterations of the zone pattern on thread 1, sent to the end through TCP ingest; its id. */
async function patternSession(server: ServerHandle, app: string, batches: number, perBatch: number): Promise<string> {
  const names = new SyntheticNames();
  declarePatternNames(names, [1]);
  await runSyntheticClient({
    port: server.ingestPort!,
    welcome: syntheticWelcome(app),
    names,
    produce: (q, batch) => {
      writeIterations(q, 1, batch * perBatch, (batch + 1) * perBatch);
      return batch < batches - 1;
    },
  });
  return waitNewSession(server, 0);
}

describe('the live viewer WebSocket', () => {
  let server: ServerHandle | null = null;
  const viewers: Viewer[] = [];
  const cleanUp = async () => {
    for (const v of viewers.splice(0)) v.ws.terminate();
    await server?.close();
    server = null;
  };
  afterEach(cleanUp);
  /** A fresh server (after what a failed attempt of a retried test left). */
  const fresh = async (memoryBytes?: number): Promise<ServerHandle> => {
    await cleanUp();
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, ...(memoryBytes ? { memoryBytes } : {}) });
    return server;
  };

  // No wall-clock thresholds here (the suite shares two cores with everything else): these
  // tests check what reaches the viewer and in which order; the latency figures are measured by
  // `npm run bench -- viewer` (docs/PERFORMANCE.md) and only printed here.
  it('sends a following viewer each new zone as it arrives, in the update after it, with columns as typed-array bytes', async () => {
    const srv = await fresh();
    const { latencies, last, id } = await followLatencies(srv, viewers, 40);
    // every zone was seen, and never before its frame was handed to the socket
    expect(latencies.filter((l) => !(l >= 0))).toEqual([]);
    expect(last.session).toBe(id);
    expect(last.t1).toBe(last.lastNs);
    expect(last.t0).toBe(Math.max(0, last.lastNs - 2e9));
    expect(last.threads[0].name).toBe('main');
  });

  it("keeps a following viewer's zones flowing while another app sends a burst of highly compressed frames and hangs up", async () => {
    const srv = await fresh();
    // 4 M zones that LZ4 squeezes into ~250 KB: written in one go, they arrive in a few socket
    // reads, each holding hundreds of times its size in queue items; and the app closes the
    // connection right after writing, long before the server has decoded it all.
    const burstOf = (iterations: number) => encodeClientStream(syntheticWelcome('burst-app'), (q) => writeIterations(q, 1, 0, iterations));
    const burst = burstOf(1_000_000);
    expect(burst.length).toBeLessThan(1 * MiB);
    // A long-running server has its decoder compiled: warm it up first, so what is measured is
    // scheduling, not the JIT's first pass over the zone paths.
    const warm = burstOf(100_000);
    await dialRecordedClient(srv.ingestPort!, warm, { cutAt: warm.length });
    await waitFor('the warm-up session to end', () => srv.registry.list()[0]?.ended);

    let burstSentAt = NaN;
    let burstEndedAt = NaN;
    const off = srv.registry.subscribe((e) => {
      if (e.type === 'ended' && e.session.welcome?.programName === 'burst-app') burstEndedAt = performance.now();
    });
    const { latencies, sentAt, seenAt } = await followLatencies(srv, viewers, 40, async () => {
      burstSentAt = performance.now();
      await dialRecordedClient(srv.ingestPort!, burst, { cutAt: burst.length });
    });
    off();
    const burstSession = srv.registry.list().filter((s) => s.welcome?.programName === 'burst-app')[1]!;
    await waitFor('the burst session to end', () => burstSession.ended);
    expect(burstSession.endReason).toBe('terminated');
    expect(burstSession.store.zonesEnded).toBe(4_000_000);
    // Decoding is sliced by time (one frame, up to 256 KiB of items, is the unit of work), so
    // the follower's zones that arrive while the burst is being decoded reach the viewer before
    // the burst is done. Without the slicing the burst was decoded in one go (~3 s) and nothing
    // reached the viewer until it ended.
    const during = sentAt.filter((t, k) => t >= burstSentAt && seenAt[k]! < burstEndedAt).length;
    const detail = `burst decoded from ${burstSentAt.toFixed(0)} to ${burstEndedAt.toFixed(0)} ms; latencies (ms): ${latencies.map((l) => l.toFixed(1)).join(' ')}`;
    expect(burstEndedAt, detail).toBeGreaterThan(burstSentAt);
    expect(during, detail).toBeGreaterThan(0);
  });

  it('skips a viewer that stops reading, and keeps the server memory bounded while a big session streams', async () => {
    const budget = 64 * MiB;
    const srv = await fresh(budget);
    const names = new SyntheticNames();
    declarePatternNames(names, [1, 2]);
    const ITERATIONS = 600_000; // per thread: 4.8 M zones in all
    const PER_BATCH = 2000;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const client = runSyntheticClient({
      port: srv.ingestPort!,
      welcome: syntheticWelcome('big-app'),
      names,
      produce: async (q, batch) => {
        if (batch === 1) await gate;
        const from = batch * PER_BATCH;
        const to = Math.min(ITERATIONS, from + PER_BATCH);
        writeIterations(q, 1, from, to);
        writeIterations(q, 2, from, to);
        return to < ITERATIONS;
      },
    });
    const id = await waitNewSession(srv, 0);

    // A stuck viewer: subscribes with a wide, detailed viewport, then never reads again.
    const stuck = await openViewer(srv);
    viewers.push(stuck);
    const viewport = { type: 'subscribe', session: id, follow: true, span: 2000 * PERIOD_NS, px: 50_000 };
    stuck.send(viewport);
    await waitFor('a first update', () => stuck.messages.find((m) => m.msg.type === 'update'));
    ((stuck.ws as unknown as { _socket: Socket })._socket).pause();
    // A healthy viewer on the same session.
    const healthy = await openViewer(srv);
    viewers.push(healthy);
    healthy.send(viewport);

    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    let bufferedMax = 0;
    let updateBytesMax = 0;
    healthy.ws.on('message', (data: Buffer) => (updateBytesMax = Math.max(updateBytesMax, data.length)));
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      for (const v of srv.http.live.viewerStats()) bufferedMax = Math.max(bufferedMax, v.bufferedAmount);
    }, 10);
    release();
    const healthyBefore = healthy.messages.length;
    try {
      await client;
    } finally {
      clearInterval(sampler);
    }
    const stats = srv.http.live.viewerStats();
    const stuckStats = stats.reduce((a, b) => (a.bufferedAmount >= b.bufferedAmount ? a : b));
    // How many updates were skipped depends on how much the kernel's socket buffers took before
    // the stuck viewer's backlog showed (tens of MiB with autotuning): printed, not asserted.
    // What is asserted holds on any machine: never more than the 1 MiB threshold plus the one
    // update that crossed it.
    expect(bufferedMax).toBeLessThanOrEqual(MiB + updateBytesMax);
    expect(updateBytesMax).toBeGreaterThan(100_000); // the updates were big enough to matter
    // The healthy viewer kept getting updates while the other one was stuck.
    expect(healthy.messages.length - healthyBefore).toBeGreaterThan(10);
    const growth = rssMax - rssBefore;
    console.log(`stuck viewer: skipped ${stuckStats.skipped} updates, max bufferedAmount ${(bufferedMax / MiB).toFixed(2)} MiB, largest update ${(updateBytesMax / MiB).toFixed(2)} MiB; RSS ${(rssBefore / MiB).toFixed(0)} -> max ${(rssMax / MiB).toFixed(0)} MiB (+${(growth / MiB).toFixed(0)})`);
    expect(growth).toBeLessThan(budget + 200 * MiB);

    // Reading again, the stuck viewer catches up with one coalesced update of the final state.
    ((stuck.ws as unknown as { _socket: Socket })._socket).resume();
    const finalVersion = srv.registry.get(id)!.store.version;
    await waitFor('the stuck viewer to catch up', () => stuck.messages.some((m) => m.msg.type === 'update' && m.msg.version === finalVersion), 10_000);
  });

  it('does not queue without bound for a viewer that keeps sending viewport messages but never reads', async () => {
    const srv = await fresh();
    // a finished session with enough zones for big updates
    const id = await patternSession(srv, 'static-app', 20, 5000);
    const viewer = await openViewer(srv);
    viewers.push(viewer);
    await waitFor('the sessions message', () => viewer.messages.length > 0);
    ((viewer.ws as unknown as { _socket: Socket })._socket).pause();
    let bufferedMax = 0;
    viewer.send({ type: 'subscribe', session: id, t0: 0, t1: 5000 * PERIOD_NS, px: 100_000, follow: false });
    for (let i = 1; i <= 400; i++) {
      // each viewport change asks for a fresh update of 20 000 zones (~0.5 MiB)
      viewer.send({ type: 'viewport', t0: i * 1000, t1: i * 1000 + 5000 * PERIOD_NS, px: 100_000, follow: false });
      await new Promise((r) => setTimeout(r, 2));
      for (const v of srv.http.live.viewerStats()) bufferedMax = Math.max(bufferedMax, v.bufferedAmount);
    }
    // (whether any update was skipped depends on the kernel's socket buffers: not asserted)
    expect(bufferedMax).toBeLessThan(4 * MiB);
  });

  it('builds one update for the viewers of one session with the same viewport, and sends each of them its bytes', async () => {
    const srv = await fresh();
    const id = await patternSession(srv, 'shared-app', 5, 2000);
    await waitFor('the session to end', () => srv.registry.get(id)?.state === 'ended');
    const raw: Buffer[][] = [[], [], []];
    const three = await Promise.all([0, 1, 2].map(() => openViewer(srv)));
    viewers.push(...three);
    three.forEach((v, i) => v.ws.on('message', (data: Buffer) => (decode(data) as Json).type === 'update' && raw[i]!.push(data)));
    await waitFor('the sessions messages', () => three.every((v) => v.messages.length > 0));
    const before = srv.http.live.stats();
    const viewport = { type: 'subscribe', session: id, t0: 0, t1: 4000 * PERIOD_NS, follow: false };
    three[0]!.send({ ...viewport, px: 700 });
    three[1]!.send({ ...viewport, px: 700 });
    three[2]!.send({ ...viewport, px: 500 }); // another width: an update of its own
    await waitFor('an update for each viewer', () => raw.every((r) => r.length === 1));
    const after = srv.http.live.stats();
    expect(after.updates - before.updates).toBe(3);
    expect(after.shared - before.shared).toBe(1);
    expect(Buffer.compare(raw[0]![0]!, raw[1]![0]!)).toBe(0);
    expect(Buffer.compare(raw[0]![0]!, raw[2]![0]!)).not.toBe(0);
    const shown = decode(raw[1]![0]!) as Json;
    expect(shown.session).toBe(id);
    expect(shown.threads[0].depths.length).toBeGreaterThan(0);
    expect((decode(raw[2]![0]!) as Json).nsPerPx).toBeCloseTo((4000 * PERIOD_NS) / 500);
    // finished builds are kept for later viewers, at most 4 of them
    expect(srv.http.live.stats().sharedBuilds).toBe(2);
    for (let k = 1; k <= 5; k++) {
      three[2]!.send({ ...viewport, type: 'viewport', px: 500 + k });
      await waitFor(`the update for width ${500 + k}`, () => raw[2]!.length === 1 + k);
    }
    expect(srv.http.live.stats().sharedBuilds).toBe(4);
    expect(srv.http.live.stats().shared - before.shared).toBe(1);
  });
});
