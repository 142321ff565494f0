/**
 * Issue 10, rows 8 and 9: viewers that never read, and viewers that flood the server with
 * subscribe/viewport requests. The bounds are checked on the server's side (the hub's
 * per-viewer counters and unsent bytes), never on RSS or timing: at most --max-viewers
 * connections (the next one closed with 1013 and a reason), every update within the byte cap,
 * at most one update in flight and one per tick per viewer, the newest request winning.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LIVE_CONTROL_MAX_BYTES } from '../server/http/live-hub.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { waitFor, waitNewSession, type Json } from './support/server-api.js';
import { parseExposition, sampleOf } from './support/prometheus-text.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';
import { declarePatternNames, PERIOD_NS, writeIterations } from './support/zone-pattern.js';

const KiB = 1024;
/** A small cap, so a session of modest size overflows it at maximum detail. */
const UPDATE_CAP = 64 * KiB;
/** What one viewer may hold unsent: its update in flight, and control messages below the threshold (plus one session list, a few KiB here). */
const UNSENT_BOUND = UPDATE_CAP + LIVE_CONTROL_MAX_BYTES + 16 * KiB;
const ITERATIONS = 100_000; // 400,000 zones on one thread

interface Client {
  ws: WebSocket;
  messages: Json[];
  closed: Promise<{ code: number; reason: string }>;
  send(msg: unknown): void;
}

async function connect(server: ServerHandle): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`);
  const messages: Json[] = [];
  ws.on('message', (data: Buffer) => messages.push({ ...(decode(data) as Json), bytes: data.length }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed, send: (msg) => ws.send(encode(msg)) };
}

const pause = (c: Client) => (c.ws as unknown as { _socket: Socket })._socket.pause();

describe('live viewers under load', () => {
  let server: ServerHandle;
  let id: string;
  let lastNs: number;
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, liveUpdateMaxBytes: UPDATE_CAP });
    const names = new SyntheticNames();
    declarePatternNames(names, [1]);
    await runSyntheticClient({
      port: server.ingestPort!,
      welcome: syntheticWelcome('static-app'),
      names,
      produce: (q, batch) => {
        writeIterations(q, 1, batch * 5000, batch * 5000 + 5000);
        return (batch + 1) * 5000 < ITERATIONS;
      },
    });
    id = await waitNewSession(server, 0);
    await waitFor('the session to end', () => server.registry.get(id)?.ended);
    lastNs = server.registry.get(id)!.store.lastNs;
  });
  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    await server.close();
  });

  it('refuses the viewer past --max-viewers with close code 1013, and bounds what 30 viewers that never read hold', async () => {
    const maxDetail = { type: 'subscribe', session: id, follow: false, t0: 0, t1: lastNs, px: 1e9 };
    for (let i = 0; i < 64; i++) clients.push(await connect(server));
    expect(server.http.live.viewerCount).toBe(64);
    // 30 of them ask for the whole session at maximum detail, then never read again
    const stuck = clients.slice(0, 30);
    for (const c of stuck) {
      pause(c);
      c.send(maxDetail);
    }
    const stats = () => server.http.live.viewerStats().filter((v) => v.session === id);
    await waitFor('an update for each stuck viewer', () => stats().length === 30 && stats().every((v) => v.updates >= 1));
    // and keep asking for other viewports
    for (let k = 1; k <= 20; k++) for (const c of stuck) c.send({ ...maxDetail, type: 'viewport', t0: k * PERIOD_NS });
    await waitFor('every request handled', () => stats().every((v) => v.requests === 21));
    for (const v of stats()) {
      expect(v.largestUpdateBytes).toBeLessThanOrEqual(UPDATE_CAP);
      expect(v.bufferedAmount).toBeLessThanOrEqual(UNSENT_BOUND);
    }

    // a reading viewer gets the same request within the cap, coarser or cut, and says so
    const reader = clients[30]!;
    reader.send(maxDetail);
    const update = await waitFor('an update', () => reader.messages.find((m) => m.type === 'update'));
    expect(update.bytes).toBeLessThanOrEqual(UPDATE_CAP);
    expect(update.nsPerPx > lastNs / 16384 || update.cut === 1).toBe(true);

    // the 65th viewer is refused with a reason that names the limit and the option
    const extra = await connect(server);
    expect(await extra.closed).toEqual({ code: 1013, reason: 'too many viewers (max 64): --max-viewers raises it' });
    expect(server.http.live.viewerCount).toBe(64);
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
    const families = parseExposition(await res.text());
    expect(sampleOf(families, 'zonescope_live_viewers_refused_total').value).toBe(1);
    expect(sampleOf(families, 'zonescope_live_viewers').value).toBe(64);
    expect(sampleOf(families, 'zonescope_live_updates_reduced_total').value).toBeGreaterThanOrEqual(31);

    // the limit counts open connections: once one closes, a new viewer gets in
    clients.pop()!.ws.close();
    await waitFor('the hub to see the close', () => server.http.live.viewerCount === 63);
    const again = await connect(server);
    clients.push(again);
    await waitFor('the session list', () => again.messages.find((m) => m.type === 'sessions'));
    expect(server.http.live.viewerCount).toBe(64);
  });

  it('sends a viewer that floods viewport requests at most one update per tick, ending with its newest viewport', async () => {
    // free two places: the flooders are fresh connections
    for (const c of clients.splice(0)) c.ws.terminate();
    await waitFor('the hub to drop the old viewers', () => server.http.live.viewerCount === 0);
    const flooders = [await connect(server), await connect(server)];
    clients.push(...flooders);
    const N = 300;
    const ticksBefore = server.http.live.stats().ticks;
    for (const c of flooders) {
      // back to back, as fast as the socket takes them (the viewers sent one every 10 ms)
      c.send({ type: 'subscribe', session: id, follow: false, t0: 0, t1: 1000 * PERIOD_NS, px: 2000 });
      for (let i = 1; i <= N; i++) c.send({ type: 'viewport', follow: false, t0: i * PERIOD_NS, t1: (i + 1000) * PERIOD_NS, px: 2000 });
    }
    for (const c of flooders) await waitFor('the newest viewport', () => c.messages.find((m) => m.type === 'update' && m.t0 === N * PERIOD_NS));
    const ticksAfter = server.http.live.stats().ticks;
    for (const c of flooders) {
      const updates = c.messages.filter((m) => m.type === 'update').length;
      // one update per tick interval at most: the first request's, then one per tick
      expect(updates).toBeLessThanOrEqual(ticksAfter - ticksBefore + 1);
    }
    const perViewer = server.http.live.viewerStats();
    expect(perViewer.map((v) => v.requests)).toEqual([N + 1, N + 1]);
    // every request that did not get its own update was coalesced into a later one
    for (const v of perViewer) expect(v.coalesced).toBeGreaterThanOrEqual(N + 1 - v.updates);
  });

  it('keeps one update in flight for a viewer that floods requests and never reads', async () => {
    const c = await connect(server);
    clients.push(c);
    await waitFor('the session list', () => c.messages.find((m) => m.type === 'sessions'));
    pause(c);
    const N = 500;
    const ticksBefore = server.http.live.stats().ticks;
    c.send({ type: 'subscribe', session: id, follow: false, t0: 0, t1: lastNs, px: 1e9 });
    for (let i = 1; i <= N; i++) c.send({ type: 'viewport', follow: false, t0: i * PERIOD_NS, t1: lastNs, px: 1e9 });
    await waitFor('every request handled', () => server.http.live.viewerStats().some((v) => v.requests === N + 1));
    const v = server.http.live.viewerStats().find((s) => s.requests === N + 1)!;
    expect(v.updates).toBeLessThanOrEqual(server.http.live.stats().ticks - ticksBefore + 1);
    expect(v.largestUpdateBytes).toBeLessThanOrEqual(UPDATE_CAP);
    expect(v.bufferedAmount).toBeLessThanOrEqual(UNSENT_BOUND);
  });
});
