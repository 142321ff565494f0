/**
 * The app side of a Tracy connection for the ingest benchmark: it writes a ready-made stream
 * (a recording or the synthetic one, both already holding the answers to the receiver's
 * queries, in order) as fast as the socket takes it, and only reads what the server sends to
 * spot ServerQueryTerminate. A minimal copy of test/support/tracy-replay.ts, which bench/
 * cannot import (test/ is not part of the build):
 * - `dialIngest`: dials the TCP ingest port like our SDK;
 * - `listenAsTracyClient`: listens like a Tracy client for `--connect`.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { HANDSHAKE_SIZE, PROTOCOL_VERSION, SERVER_QUERY_PACKET_SIZE, SHIBBOLETH } from '../protocol/tracy/index.js';
import { epochMs } from './bench-util.js';

export interface PeerResult {
  /** epoch ms when the connection was made (accepted, for a listening client) */
  connectedAt: number;
  /** epoch ms when the first stream byte was handed to the socket (right after the handshake) */
  firstByteAt: number;
  /** epoch ms when the whole stream was in the kernel's hands */
  lastByteAt: number;
  /** epoch ms when ServerQueryTerminate arrived (NaN if it never did) */
  terminateAt: number;
  /** epoch ms when the connection closed */
  closedAt: number;
  queries: number;
}

/** Drives one connection: wait for the 12-byte handshake, write the stream, count queries until Terminate/close. */
function play(socket: Socket, stream: Uint8Array): Promise<PeerResult> {
  return new Promise((resolve, reject) => {
    const head = Buffer.alloc(HANDSHAKE_SIZE);
    let received = 0;
    const result: PeerResult = { connectedAt: epochMs(), firstByteAt: NaN, lastByteAt: NaN, terminateAt: NaN, closedAt: NaN, queries: 0 };
    socket.on('data', (chunk: Buffer) => {
      let i = 0;
      if (received < HANDSHAKE_SIZE) {
        const n = Math.min(HANDSHAKE_SIZE - received, chunk.length);
        chunk.copy(head, received, 0, n);
        received += n;
        i = n;
        if (received < HANDSHAKE_SIZE) return;
        const version = head.readUInt32LE(SHIBBOLETH.length);
        if (!head.subarray(0, SHIBBOLETH.length).equals(Buffer.from(SHIBBOLETH)) || version !== PROTOCOL_VERSION) {
          socket.destroy();
          reject(new Error(`bad handshake from the server: ${head.toString('hex')}`));
          return;
        }
        result.firstByteAt = epochMs();
        socket.write(stream, () => (result.lastByteAt = epochMs()));
      }
      // query packets: 13 bytes each after the handshake; type 0 = Terminate
      for (; i < chunk.length; i++, received++) {
        if ((received - HANDSHAKE_SIZE) % SERVER_QUERY_PACKET_SIZE !== 0) continue;
        result.queries++;
        if (chunk[i] === 0 && Number.isNaN(result.terminateAt)) {
          result.terminateAt = epochMs();
          socket.end();
        }
      }
    });
    socket.on('close', () => {
      result.closedAt = epochMs();
      resolve(result);
    });
    socket.on('error', () => {
      // 'close' follows
    });
  });
}

/** Dials the TCP ingest port and plays the stream. */
export function dialIngest(port: number, stream: Uint8Array): Promise<PeerResult> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  return play(socket, stream);
}

export interface ListeningClient {
  port: number;
  /** One result per connection served, in order. */
  results: Promise<PeerResult>[];
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (ephemeral port) like a Tracy client and plays the stream to each of
 * the first `connections` handshakes (an app restarted that many times); later ones get
 * NotAvailable (3), as a finished Tracy client answers.
 */
export async function listenAsTracyClient(stream: Uint8Array, connections: number): Promise<ListeningClient> {
  const results: Promise<PeerResult>[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (results.length >= connections) {
      socket.on('error', () => {
        // the dialer may reset the connection: nothing to report
      });
      socket.once('data', () => socket.end(Buffer.of(3)));
      return;
    }
    results.push(play(socket, stream));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    results,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
