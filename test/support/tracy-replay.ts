/**
 * Plays a Tracy client from a recording (`*.client.bin`: the bytes a real app sent, from its
 * handshake status byte on), over real sockets, for integration tests:
 * - `listenRecordedClient`: listens like a Tracy client (the server dials it, `--connect`),
 *   checks the 12-byte handshake, then writes the recording;
 * - `dialRecordedClient`: the mirror, dialing the TCP ingest port like our SDK;
 * - `wsRecordedClient`: the same over the `/ingest` WebSocket.
 * The recording already holds the answers to the queries a Tracy receiver sends, in order, so
 * the helper only collects the query packets and stops at ServerQueryTerminate (or EOF).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { TracyDialer } from '../../server/ingest/tracy-dialer.js';
import type { ServerHandle } from '../../server/serve.js';
import { HANDSHAKE_SIZE, PROTOCOL_VERSION, SERVER_QUERY_PACKET_SIZE, SHIBBOLETH } from '../../protocol/tracy/index.js';

export interface ReplayOptions {
  /** Write the recording in chunks of this size (default: all at once). */
  chunkSize?: number;
  /** Close the connection after writing this many bytes of the recording (a mid-stream cut). */
  cutAt?: number;
  /** Replace the recording's bytes with these from `offset` on (corruption in the middle). */
  corrupt?: { offset: number; bytes: Uint8Array };
  /** Milliseconds between chunks (default 0: as fast as the socket takes them). */
  pauseMs?: number;
}

export interface ReplayResult {
  /** Everything the server sent: handshake + query packets. */
  received: Buffer;
  /** Query packets after the handshake, by type. */
  queries: number[];
  /** True when the server sent ServerQueryTerminate. */
  terminated: boolean;
}

function prepare(recording: Uint8Array, o: ReplayOptions): Uint8Array {
  let bytes = recording;
  if (o.corrupt) {
    bytes = Uint8Array.from(recording);
    bytes.set(o.corrupt.bytes.subarray(0, Math.max(0, bytes.length - o.corrupt.offset)), o.corrupt.offset);
  }
  if (o.cutAt !== undefined) bytes = bytes.subarray(0, o.cutAt);
  return bytes;
}

function checkHandshake(received: Buffer): void {
  for (let i = 0; i < SHIBBOLETH.length; i++) {
    if (received[i] !== SHIBBOLETH[i]) throw new Error(`bad shibboleth byte ${i}: ${received[i]}`);
  }
  const version = received.readUInt32LE(8);
  if (version !== PROTOCOL_VERSION) throw new Error(`server speaks protocol ${version}`);
}

function summarize(received: Buffer): ReplayResult {
  const queries: number[] = [];
  let terminated = false;
  for (let p = HANDSHAKE_SIZE; p + SERVER_QUERY_PACKET_SIZE <= received.length; p += SERVER_QUERY_PACKET_SIZE) {
    const type = received[p]!;
    queries.push(type);
    if (type === 0) terminated = true;
  }
  return { received, queries, terminated };
}

async function writePaced(write: (b: Uint8Array) => void, bytes: Uint8Array, o: ReplayOptions): Promise<void> {
  const size = o.chunkSize ?? bytes.length;
  for (let p = 0; p < bytes.length; p += size) {
    write(bytes.subarray(p, Math.min(bytes.length, p + size)));
    if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
  }
}

/** Drives one socket: wait for the handshake, write, collect until terminate/EOF. */
function playOnSocket(socket: Socket, recording: Uint8Array, o: ReplayOptions): Promise<ReplayResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let started = false;
    const bytes = prepare(recording, o);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      if (!started && total >= HANDSHAKE_SIZE) {
        started = true;
        try {
          checkHandshake(Buffer.concat(chunks));
        } catch (err) {
          socket.destroy();
          reject(err);
          return;
        }
        writePaced((b) => socket.write(b), bytes, o).then(() => {
          if (o.cutAt !== undefined) socket.end();
        }, reject);
      }
      const result = summarize(Buffer.concat(chunks));
      if (result.terminated) socket.end();
    });
    socket.on('close', () => resolve(summarize(Buffer.concat(chunks))));
    socket.on('error', () => {
      // 'close' follows
    });
  });
}

export interface RecordedClient {
  port: number;
  /** Resolves when the first connection is done. */
  done: Promise<ReplayResult>;
  /** Handshakes answered NotAvailable (3) after the one session was served. */
  readonly notAvailable: number;
  /** Stops listening and drops any open connection. */
  close(): Promise<void>;
}

export interface ListenOptions extends ReplayOptions {
  /** Port to listen on (default 0: an ephemeral port), e.g. to play an app that restarts. */
  port?: number;
}

/** Listens on 127.0.0.1 (ephemeral port) like a Tracy client; serves one connection. */
export async function listenRecordedClient(recording: Uint8Array, o: ListenOptions = {}): Promise<RecordedClient> {
  let resolveDone!: (r: ReplayResult) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<ReplayResult>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  let served = false;
  let notAvailable = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (served) {
      // a finished Tracy client answers later handshakes with NotAvailable (3)
      socket.on('error', () => {
        // the dialer may reset the connection: nothing to report
      });
      socket.once('data', () => {
        notAvailable++;
        socket.end(Buffer.of(3));
      });
      return;
    }
    served = true;
    playOnSocket(socket, recording, o).then(resolveDone, rejectDone);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    done,
    get notAvailable() {
      return notAvailable;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Dials the TCP ingest port like our SDK and plays the recording. */
export function dialRecordedClient(port: number, recording: Uint8Array, o: ReplayOptions = {}): Promise<ReplayResult> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  return playOnSocket(socket, recording, o);
}

/** Plays the recording through the /ingest WebSocket. */
export function wsRecordedClient(url: string, recording: Uint8Array, o: ReplayOptions = {}): Promise<ReplayResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const chunks: Buffer[] = [];
    let total = 0;
    let started = false;
    const bytes = prepare(recording, o);
    ws.on('message', (data: Buffer) => {
      chunks.push(data);
      total += data.length;
      if (!started && total >= HANDSHAKE_SIZE) {
        started = true;
        try {
          checkHandshake(Buffer.concat(chunks));
        } catch (err) {
          ws.terminate();
          reject(err);
          return;
        }
        const size = o.chunkSize ?? 64 * 1024;
        writePaced((b) => ws.send(b, { binary: true }), bytes, { ...o, chunkSize: size }).then(() => {
          if (o.cutAt !== undefined) ws.close();
        }, reject);
      }
      if (summarize(Buffer.concat(chunks)).terminated) ws.close();
    });
    ws.on('close', () => resolve(summarize(Buffer.concat(chunks))));
    ws.on('error', reject);
  });
}

/**
 * Plays a recording to a running server that dials it (a TracyDialer on the server's registry,
 * as `--connect` does); resolves with the ended session's id once the app's side is closed.
 */
export async function streamToServer(server: ServerHandle, recording: Uint8Array, options: ReplayOptions = {}): Promise<string> {
  const app = await listenRecordedClient(recording, options);
  const ended = new Promise<string>((resolve) => {
    const off = server.registry.subscribe((e) => {
      if (e.type === 'ended' && e.session.welcome) {
        off();
        resolve(e.session.id);
      }
    });
  });
  const dialer = new TracyDialer(server.registry, { host: '127.0.0.1', port: app.port });
  dialer.start();
  const id = await ended;
  dialer.stop();
  await app.close();
  return id;
}
