import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHandshake, HandshakeStatus, LZ4_SIZE, SERVER_QUERY_PACKET_SIZE } from '../../protocol/tracy/index.js';
import { decodeFixtureStore } from '../../test/support/fixture-store.js';
import { FIXTURES_PRESENT, fixture } from '../../test/support/inspect-fixtures.js';
import { captureOfRecording } from '../../test/support/recording-capture.js';
import { waitFor, waitNewSession, waitSessionEnded } from '../../test/support/server-api.js';
import { expectSameSnapshot, storeSnapshot } from '../../test/support/store-snapshot.js';
import { startServer, type ServerHandle } from '../serve.js';
import { CAPTURE_CHUNK_SIZE } from './capture-file.js';
import { CaptureReplay } from './replay.js';

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts/replay-unit');
mkdirSync(OUT, { recursive: true });

const opened: CaptureReplay[] = [];
const servers: ServerHandle[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of opened.splice(0)) r.close();
  for (const s of servers.splice(0)) await s.close();
});

function captureFile(name: string, recording: Uint8Array): string {
  const path = join(OUT, `${name}.zscap`);
  writeFileSync(path, captureOfRecording(recording));
  return path;
}

async function open(path: string, options: Parameters<typeof CaptureReplay.open>[1]): Promise<CaptureReplay> {
  const r = await CaptureReplay.open(path, options);
  opened.push(r);
  return r;
}

/** A raw receiver: sends `handshake`, collects what comes back; `pause` holds its reads. */
function rawReceiver(port: number, handshake: Uint8Array): { socket: Socket; received: () => Buffer; bytes: () => number; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1', () => socket.write(handshake));
  sockets.push(socket);
  const chunks: Buffer[] = [];
  let n = 0;
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    n += d.length;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return { socket, received: () => Buffer.concat(chunks), bytes: () => n, closed };
}

describe.skipIf(!FIXTURES_PRESENT)('CaptureReplay', () => {
  it('announces itself by UDP, and a server that discovers it records the capture exactly', async () => {
    const recording = new Uint8Array(readFileSync(fixture('small.client.bin')));
    const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, discoverPort: 0 });
    servers.push(server);
    const replay = await open(captureFile('small', recording), { port: 0, broadcast: { address: '127.0.0.1', port: server.discovery!.boundPort } });
    expect(replay.appName).toBe('fixture_app');
    const id = await waitNewSession(server, 0);
    const details = await waitSessionEnded(server, id);
    expect(details).toMatchObject({ endReason: 'terminated', source: 'connect', remote: `127.0.0.1:${replay.port}` });
    expectSameSnapshot(storeSnapshot(server.registry.get(id)!.store), storeSnapshot(decodeFixtureStore('small')));
    expect(await replay.done).toMatchObject({ end: 'server-terminate', complete: true, bytes: recording.length, terminate: true, cutBytes: 0, error: null });
  });

  it('reads the file only as fast as the receiver takes it, and sends exactly the recorded bytes', async () => {
    const recording = new Uint8Array(readFileSync(fixture('stress.client.bin')));
    const highWaterBytes = 256 * 1024;
    const replay = await open(captureFile('stress', recording), { port: 0, highWaterBytes });
    const rx = rawReceiver(replay.port, encodeHandshake());
    await waitFor('the first bytes', () => rx.bytes() > 0);
    rx.socket.pause(); // a receiver that stops reading
    await new Promise((r) => setTimeout(r, 300));
    const stalled = replay.stats.bytes;
    await new Promise((r) => setTimeout(r, 300));
    expect(replay.stats.bytes).toBe(stalled); // nothing more read while the socket is full
    expect(stalled).toBeLessThan(recording.length);
    rx.socket.resume();
    await waitFor('every byte', () => rx.bytes() >= recording.length, 60_000);
    expect(Buffer.compare(rx.received(), Buffer.from(recording))).toBe(0);
    rx.socket.write(new Uint8Array(SERVER_QUERY_PACKET_SIZE)); // ServerQueryTerminate
    expect(await replay.done).toMatchObject({ end: 'server-terminate', complete: true, bytes: recording.length });
    expect(replay.stats.pauses).toBeGreaterThan(0);
    // bounded: the high-water mark, plus what one file chunk held beyond it
    expect(replay.stats.maxBufferedBytes).toBeLessThanOrEqual(highWaterBytes + CAPTURE_CHUNK_SIZE + 4 + LZ4_SIZE);
  });

  it('answers another protocol version with ProtocolMismatch and still serves the next receiver', async () => {
    const recording = new Uint8Array(readFileSync(fixture('small.client.bin')));
    const replay = await open(captureFile('small-2', recording), { port: 0 });
    const old = rawReceiver(replay.port, encodeHandshake(81));
    await old.closed;
    expect([...old.received()]).toEqual([HandshakeStatus.ProtocolMismatch]);
    expect(replay.canAttach).toBe(true);
    const rx = rawReceiver(replay.port, encodeHandshake());
    await waitFor('every byte', () => rx.bytes() >= recording.length);
    expect(Buffer.compare(rx.received(), Buffer.from(recording))).toBe(0);
    // meanwhile, and after, everyone else is told NotAvailable
    const late = rawReceiver(replay.port, encodeHandshake());
    await late.closed;
    expect([...late.received()]).toEqual([HandshakeStatus.NotAvailable]);
    rx.socket.end(); // the receiver goes away
    expect(await replay.done).toMatchObject({ end: 'closed', complete: true });
  });
});
