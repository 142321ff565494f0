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
import type { AppTransport } from '../../protocol/tracy/app-conversation.js';

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

/** The receiver's bytes, appended. */
class ByteLog {
  private buf = new Uint8Array(1 << 16);
  length = 0;
  append(b: Uint8Array): void {
    if (this.length + b.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + b.length));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * A receiver over an in-memory AppTransport: what the replay writes waits in a backlog (its
 * bufferedBytes) until the receiver takes it; after takeAll() it takes each write on the next
 * turn and reports the drain, as a socket that keeps up does.
 */
class MemoryReceiver implements AppTransport {
  onData: ((chunk: Uint8Array) => void) | null = null;
  onDrain: (() => void) | null = null;
  onClose: ((error: Error | null) => void) | null = null;
  readonly taken = new ByteLog();
  private readonly queue: Uint8Array[] = [];
  backlog = 0;
  maxBacklog = 0;
  private taking = false;
  private scheduled = false;
  private closed = false;

  get bufferedBytes(): number {
    return this.backlog;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(bytes);
    this.backlog += bytes.length;
    if (this.backlog > this.maxBacklog) this.maxBacklog = this.backlog;
    this.schedule();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => this.onClose?.(null));
  }

  keepAlive(): void {}

  takeAll(): void {
    this.taking = true;
    this.schedule();
  }

  private schedule(): void {
    if (!this.taking || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const b of this.queue.splice(0)) this.taken.append(b);
      this.backlog = 0;
      this.onDrain?.();
    });
  }
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
    // An in-memory receiver rather than a socket: the kernel's socket buffers (up to tens of MiB
    // with autotuning) would take a whole recording before a pause could show, so only a
    // transport whose backlog the test owns makes "reads no further than the receiver takes"
    // observable. The TCP path is the same code: the tests above and below run it over sockets.
    const recording = new Uint8Array(readFileSync(fixture('medium.client.bin')));
    const highWaterBytes = 64 * 1024;
    const bound = highWaterBytes + CAPTURE_CHUNK_SIZE + 4 + LZ4_SIZE;
    expect(recording.length).toBeGreaterThan(4 * bound); // the file cannot fit in what may be buffered
    const replay = await open(captureFile('medium-backpressure', recording), { port: 0, highWaterBytes });
    const rx = new MemoryReceiver();
    replay.attach(rx, 2000);
    rx.onData!(encodeHandshake());

    // The receiver takes nothing: reading must stop once the backlog passes the high-water mark.
    await waitFor('reading to pause', () => replay.readingPaused && rx.backlog > highWaterBytes);
    expect(rx.maxBacklog).toBeLessThanOrEqual(bound);
    expect(replay.stats.bytes).toBeLessThanOrEqual(bound);
    expect(replay.stats.bytes).toBeLessThan(recording.length);

    // It takes everything as it comes: the rest flows, never more than the bound ahead of it.
    rx.takeAll();
    await waitFor('every byte', () => rx.taken.length >= recording.length && rx.backlog === 0, 60_000);
    expect(Buffer.compare(Buffer.from(rx.taken.bytes()), Buffer.from(recording))).toBe(0);
    expect(rx.maxBacklog).toBeLessThanOrEqual(bound);
    expect(replay.stats.maxBufferedBytes).toBeLessThanOrEqual(bound);
    expect(replay.stats.pauses).toBeGreaterThan(0); // paused again whenever the backlog grew
    rx.onData!(new Uint8Array(SERVER_QUERY_PACKET_SIZE)); // ServerQueryTerminate
    expect(await replay.done).toMatchObject({ end: 'server-terminate', complete: true, bytes: recording.length });
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
