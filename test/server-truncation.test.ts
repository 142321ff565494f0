/**
 * An app whose connection drops in the middle of a frame: the session ends 'disconnected',
 * says what was cut, and keeps everything the complete frames carried (compared with decoding
 * the same prefix with the protocol's TracyStreamReader directly).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';
import { countPrefix, frameBoundaries } from './support/stream-truth.js';
import { dialRecordedClient, listenRecordedClient, wsRecordedClient, type ReplayOptions } from './support/tracy-replay.js';

const FIRST_FRAME = 1171; // status byte + 1170-byte WelcomeMessage

describe.skipIf(!FIXTURES_PRESENT)('a connection closed in the middle of a frame', () => {
  let server: ServerHandle;
  let small: Buffer;
  let frames: number[];
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    small = readFileSync(fixture('small.client.bin'));
    frames = frameBoundaries(small, FIRST_FRAME);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Plays small cut at `cutAt` through `via`, waits for the session to end, returns its details. */
  async function playCut(via: 'tcp' | 'ws', cutAt: number): Promise<Json> {
    const before = server.registry.list().length;
    const o: ReplayOptions = { cutAt, chunkSize: 4096 };
    if (via === 'tcp') await dialRecordedClient(server.ingestPort!, small, o);
    else await wsRecordedClient(`ws://127.0.0.1:${server.httpPort}/ingest`, small, o);
    const id = await waitNewSession(server, before);
    return waitSessionEnded(server, id);
  }

  /** Checks a cut session against the decode of the frames before `lastWhole` (a frame boundary). */
  async function expectPrefix(details: Json, lastWhole: number): Promise<void> {
    const truth = countPrefix(small, lastWhole);
    expect(truth.zones).toBeGreaterThan(0);
    expect(details.zones).toBe(truth.zones);
    expect(details.bytes).toBeGreaterThan(lastWhole - 1);
    const threads: Json[] = await getJson(server, `/api/sessions/${details.id}/threads`);
    const byThread = Object.fromEntries(threads.filter((t) => t.zones > 0).map((t) => [t.id, t.zones]));
    expect(byThread).toEqual(Object.fromEntries(truth.zonesByThread));
    expect(details.messages).toBe(truth.messages);
    const plotPoints = details.plots.reduce((n: number, p: Json) => n + p.count, 0);
    expect(plotPoints).toBe(truth.plotPoints);
    const frameMarks = details.frames.reduce((n: number, f: Json) => n + f.count, 0);
    expect(frameMarks).toBe(truth.frameMarks);
  }

  for (const via of ['tcp', 'ws'] as const) {
    it(`keeps every complete frame and reports the cut when a ${via} app stops inside a frame`, async () => {
      // Frame 12 of small is 3519 bytes of LZ4: stop 1000 bytes into it.
      const frame = frames[12]!;
      const d = await playCut(via, frame + 4 + 1000);
      expect(d.state).toBe('ended');
      expect(d.endReason).toBe('disconnected');
      expect(d.error).toBeNull();
      expect(d.truncation).toBe(`the stream ended inside the frame at offset ${frame} (1000 of ${small.readUInt32LE(frame)} bytes)`);
      expect(d.bytes).toBe(frame + 4 + 1000);
      await expectPrefix(d, frame);
    });
  }

  it('reports a cut inside a frame header', async () => {
    const frame = frames[7]!;
    const d = await playCut('tcp', frame + 2);
    expect(d.endReason).toBe('disconnected');
    expect(d.truncation).toBe(`the stream ended inside a frame header (2 of 4 bytes) at offset ${frame + 2}`);
    await expectPrefix(d, frame);
  });

  it('reports no truncation when the connection closes exactly between two frames', async () => {
    const frame = frames[10]!;
    const d = await playCut('tcp', frame);
    expect(d.endReason).toBe('disconnected');
    expect(d.truncation).toBeNull();
    await expectPrefix(d, frame);
  });

  it('never lists an app that went away inside its WelcomeMessage, and counts it as closed in the handshake', async () => {
    const before = server.registry.list().length;
    const closedBefore = server.registry.gate.rejectedByReason.get('handshake-closed') ?? 0;
    await dialRecordedClient(server.ingestPort!, small, { cutAt: 500, chunkSize: 4096 });
    await waitFor('the cut connection to be counted', () => (server.registry.gate.rejectedByReason.get('handshake-closed') ?? 0) > closedBefore);
    expect(server.registry.pendingCount).toBe(0);
    expect(server.registry.list().length).toBe(before);
    expect((await getJson(server, '/api/sessions')).length).toBe(before);
  });

  it('keeps the complete frames when a Tracy client the server dialed goes away mid-frame', async () => {
    const frame = frames[15]!;
    const client = await listenRecordedClient(small, { cutAt: frame + 4 + 10, chunkSize: 8192 });
    const dialing = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port: client.port }] });
    try {
      await client.done;
      const id = await waitNewSession(dialing, 0);
      const d = await waitSessionEnded(dialing, id);
      expect(d.source).toBe('connect');
      expect(d.endReason).toBe('disconnected');
      expect(d.truncation).toBe(`the stream ended inside the frame at offset ${frame} (10 of ${small.readUInt32LE(frame)} bytes)`);
      expect(d.zones).toBe(countPrefix(small, frame).zones);
    } finally {
      await dialing.close();
      await client.close();
    }
  });
});
