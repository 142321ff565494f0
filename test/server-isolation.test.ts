/**
 * Bad input ends one connection with a clear reason; the server and the other sessions go on
 * (ARCHITECTURE.md, non-negotiables). Two sessions stream at once through different transports,
 * one of them is corrupted mid-way; and DELETE removes a session and gives its memory back.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatChunks, encodeClientStream, FrameEncoder } from '../protocol/tracy/index.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import type { Session } from '../server/session/session.js';
import { FIXTURES_PRESENT, fixture, readTruth } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitSessionEnded, type Json } from './support/server-api.js';
import { countPrefix, frameBoundaries } from './support/stream-truth.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';
import { dialRecordedClient, wsRecordedClient } from './support/tracy-replay.js';
import { declarePatternNames, writeIterations, ZONES_PER_ITERATION } from './support/zone-pattern.js';

const FIRST_FRAME = 1171; // status byte + 1170-byte WelcomeMessage

const truth = (name: string) => readTruth(name);

/** Checks a session that received a whole recording: every zone, by name. */
async function expectComplete(server: ServerHandle, id: string, name: string): Promise<void> {
  const t = truth(name);
  const d = await getJson(server, `/api/sessions/${id}`);
  expect(d.state).toBe('ended');
  expect(d.endReason).toBe('terminated');
  expect(d.error).toBeNull();
  expect(d.truncation).toBeNull();
  expect(d.zones).toBe(t.zones_total);
  const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
  const byName: Record<string, number> = {};
  for (const s of stats) byName[s.name] = (byName[s.name] ?? 0) + s.count;
  expect(byName).toEqual(t.zones_by_name);
}

/** Records, for every session that ends, the state of every other session at that moment. */
function watchEnds(server: ServerHandle): Map<string, Map<string, string>> {
  const seen = new Map<string, Map<string, string>>();
  server.registry.subscribe((e) => {
    if (e.type !== 'ended') return;
    seen.set(e.session.id, new Map(server.registry.list().filter((s) => s !== e.session).map((s) => [s.id, s.state])));
  });
  return seen;
}

describe.skipIf(!FIXTURES_PRESENT)('a protocol error in one session', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('ends only that session, with the error visible in its details, while another streams on unaffected', async () => {
    const medium = readFileSync(fixture('medium.client.bin'));
    const small = readFileSync(fixture('small.client.bin'));
    const frames = frameBoundaries(small, FIRST_FRAME);
    // Frame 9 of small gets a frame size of 0xFFFFFFF0: far beyond LZ4Size.
    const badFrame = frames[9]!;
    const ends = watchEnds(server);
    const before = server.registry.list().length;

    const [mediumReplay, smallReplay] = await Promise.all([
      dialRecordedClient(server.ingestPort!, medium, { chunkSize: 16 * 1024, pauseMs: 1 }),
      wsRecordedClient(`ws://127.0.0.1:${server.httpPort}/ingest`, small, {
        chunkSize: 1500,
        pauseMs: 5,
        corrupt: { offset: badFrame, bytes: Uint8Array.of(0xf0, 0xff, 0xff, 0xff) },
      }),
    ]);

    const sessions = server.registry.list().slice(before);
    expect(sessions.map((s) => s.source).sort()).toEqual(['tcp', 'ws']);
    const tcp = sessions.find((s) => s.source === 'tcp')!;
    const ws = sessions.find((s) => s.source === 'ws')!;

    // The corrupted WebSocket session: ended by the server, with the reason and where.
    const bad = await waitSessionEnded(server, ws.id);
    expect(bad.endReason).toBe('protocol-error');
    expect(bad.error).toEqual({
      code: 'ZS_PROTOCOL_BAD_FRAME_SIZE',
      message: expect.stringContaining('frame size 4294967280 is outside 1..263188'),
      offset: badFrame,
      queueType: -1,
    });
    expect(smallReplay.terminated).toBe(true); // the app was told (ServerQueryTerminate)
    // Everything before the bad frame was kept.
    expect(bad.zones).toBe(countPrefix(small, badFrame).zones);
    expect(bad.zones).toBeGreaterThan(0);
    // It failed while the other session was still streaming.
    expect(ends.get(ws.id)?.get(tcp.id)).toBe('live');

    // The TCP session received everything and is exactly the recording.
    await waitSessionEnded(server, tcp.id);
    await expectComplete(server, tcp.id, 'medium');
    expect(mediumReplay.terminated).toBe(true);
    expect(server.registry.protocolErrors).toBe(1);

    // The server goes on: a third session is accepted and complete.
    const third = dialRecordedClient(server.ingestPort!, small, { chunkSize: 4096 });
    await third;
    const id = await waitFor('a third session', () => server.registry.list()[before + 2]?.id);
    await waitSessionEnded(server, id);
    await expectComplete(server, id, 'small');
  });

  it('ends a session whose valid LZ4 frame holds an unknown queue type, naming the type and the frame', async () => {
    // A synthetic stream built with the encoder: 1000 iterations of nested zones, then a frame
    // whose items are valid LZ4 but start with queue type 250 (beyond the protocol's table),
    // then more zones that must not be decoded.
    const head = encodeClientStream(syntheticWelcome('broken-app'), (q) => writeIterations(q, 7, 0, 1000), { terminate: false });
    const badItems = Uint8Array.of(250, 1, 2, 3, 4, 5, 6, 7, 8);
    const badFrame = new FrameEncoder().encode(badItems, 0, badItems.length);
    const tailStream = encodeClientStream(syntheticWelcome('broken-app'), (q) => writeIterations(q, 7, 1000, 2000));
    const tail = tailStream.subarray(FIRST_FRAME);
    const stream = concatChunks([head, badFrame, tail]);

    const small = readFileSync(fixture('small.client.bin'));
    const before = server.registry.list().length;
    const [, goodReplay] = await Promise.all([
      dialRecordedClient(server.ingestPort!, stream, { chunkSize: 2000, pauseMs: 2 }),
      wsRecordedClient(`ws://127.0.0.1:${server.httpPort}/ingest`, small, { chunkSize: 2000, pauseMs: 2 }),
    ]);
    const sessions = server.registry.list().slice(before);
    const bad = await waitSessionEnded(server, sessions.find((s) => s.source === 'tcp')!.id);
    expect(bad.endReason).toBe('protocol-error');
    expect(bad.app).toBe('broken-app');
    expect(bad.error.code).toBe('ZS_PROTOCOL_UNKNOWN_QUEUE_TYPE');
    expect(bad.error.queueType).toBe(250);
    expect(bad.error.offset).toBe(head.length);
    expect(bad.error.message).toContain(`frame at offset ${head.length}`);
    expect(bad.zones).toBe(1000 * ZONES_PER_ITERATION);

    const good = sessions.find((s) => s.source === 'ws')!;
    await waitSessionEnded(server, good.id);
    await expectComplete(server, good.id, 'small');
    expect(goodReplay.terminated).toBe(true);
  });

  it('closes the WebSocket of a failed session at once, even when the error came while the decoder was behind', async () => {
    // The whole medium recording in one WebSocket message: the session decodes it in slices
    // with the socket paused, and fails half-way (a frame with a bad size) with megabytes pending.
    const medium = readFileSync(fixture('medium.client.bin'));
    const badFrame = frameBoundaries(medium, FIRST_FRAME).find((p) => p > medium.length / 2)!;
    const before = server.registry.list().length;
    const t0 = performance.now();
    const replay = await wsRecordedClient(`ws://127.0.0.1:${server.httpPort}/ingest`, medium, {
      chunkSize: medium.length,
      corrupt: { offset: badFrame, bytes: Uint8Array.of(0, 0, 0, 0) },
    });
    const closedMs = performance.now() - t0;
    expect(replay.terminated).toBe(true);
    const d = await waitSessionEnded(server, server.registry.list()[before]!.id);
    expect(d.endReason).toBe('protocol-error');
    expect(d.error.offset).toBe(badFrame);
    // The close handshake needs the server to read the app's close frame: a socket left paused
    // would wait for ws's 30 s close timeout.
    expect(closedMs).toBeLessThan(5000);
  });

  it('ends a connection that is not a Tracy app (an HTTP request on the ingest port) as handshake-rejected', async () => {
    const before = server.registry.list().length;
    const socket = connect(server.ingestPort!, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((r) => socket.once('close', () => r()));
    const d = await waitSessionEnded(server, server.registry.list()[before]!.id);
    expect(d.endReason).toBe('handshake-rejected');
    expect(d.error).toEqual({ code: 'ZS_PROTOCOL_HANDSHAKE_REJECTED', message: 'the app answered the handshake with unknown status 71 (71), not Welcome (1)', offset: 0, queueType: -1 });
    // our handshake, then ServerQueryTerminate
    const bytes = Buffer.concat(received);
    expect(bytes.length).toBe(12 + 13);
    expect(bytes[12]).toBe(0);
  });

  it('removes a live session on DELETE: the app is told to stop and the memory goes back to the budget', async () => {
    const usedBefore = server.registry.budget.used;
    const names = new SyntheticNames();
    declarePatternNames(names, [1]);
    let sessionSeen: Session | undefined;
    const before = server.registry.list().length;
    const client = runSyntheticClient({
      port: server.ingestPort!,
      welcome: syntheticWelcome('deleted-app'),
      names,
      flushEachBatch: true,
      produce: async (q, batch) => {
        writeIterations(q, 1, batch * 100, batch * 100 + 100);
        await new Promise((r) => setTimeout(r, 5));
        return batch < 100_000; // until the server stops it
      },
    });
    sessionSeen = await waitFor('the session to have zones', () => {
      const s = server.registry.list()[before];
      return s && s.store.zonesEnded > 1000 ? s : undefined;
    });
    const id = sessionSeen.id;
    expect(server.registry.budget.used).toBeGreaterThan(usedBefore);

    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: id });

    const result = await client;
    expect(result.terminated).toBe(true);
    expect(sessionSeen.endReason).toBe('deleted');
    const missing = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: `no session ${id}`, code: 'ZS_HTTP_NO_SESSION' });
    const list: Json[] = await getJson(server, '/api/sessions');
    expect(list.map((s) => s.id)).not.toContain(id);
    expect(server.registry.budget.used).toBe(usedBefore);
  });

  it('removes an ended session on DELETE and answers 404 for a second DELETE', async () => {
    const ended = server.registry.list().find((s) => s.ended)!;
    const url = `http://127.0.0.1:${server.httpPort}/api/sessions/${ended.id}`;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(200);
    expect(server.registry.get(ended.id)).toBeUndefined();
    const again = await fetch(url, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect((await again.json()).code).toBe('ZS_HTTP_NO_SESSION');
  });
});
