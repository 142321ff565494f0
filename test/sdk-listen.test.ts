/**
 * Listen mode: the app waits like a Tracy client. Zonescope picks it up with `--connect` and
 * with `--discover` (UDP broadcasts on loopback); the handshake, the broadcast datagrams and
 * the NotAvailable answers follow tracy-protocol.md 1.2 and 1.3. Real sockets on 127.0.0.1.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listen } from '../client/node.js';
import { encodeHandshake, HandshakeStatus, parseBroadcast, PROTOCOL_VERSION, type BroadcastMessage } from '../protocol/tracy/index.js';
import { startServer } from '../server/serve.js';
import { FakeReceiver } from './support/sdk-receiver.js';
import { waitFor, waitNewSession } from './support/server-api.js';
import { expectWorkloadArrived, runWorkload } from './support/sdk-workload.js';

const HTTP = { host: '127.0.0.1', port: 0 };

/** A receiver over a real TCP connection to the app. */
function dialReceiver(port: number, options: ConstructorParameters<typeof FakeReceiver>[2] = {}): { receiver: FakeReceiver; socket: Socket; closed: Promise<void> } {
  const socket = netConnect({ host: '127.0.0.1', port });
  const receiver = new FakeReceiver((b) => socket.write(b), () => socket.end(), options);
  socket.on('connect', () => receiver.start());
  socket.on('data', (chunk) => receiver.receive(chunk));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  void closed.then(() => receiver.connectionClosed());
  return { receiver, socket, closed };
}

/** Collects the datagrams sent to a loopback UDP port. */
async function udpCollector(): Promise<{ port: number; messages: BroadcastMessage[]; sizes: number[]; close(): void }> {
  const socket: UdpSocket = createSocket('udp4');
  const messages: BroadcastMessage[] = [];
  const sizes: number[] = [];
  socket.on('message', (msg) => {
    const m = parseBroadcast(msg);
    if (m) messages.push(m);
    sizes.push(msg.length);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { port: socket.address().port, messages, sizes, close: () => socket.close() };
}

describe('listen()', () => {
  it('holds events until `zonescope serve --connect` dials in, and they all arrive', async () => {
    const tracy = await listen({ appName: 'listening-app', port: 0, exitHandlers: false });
    expect(tracy.state).toBe('waiting');
    await runWorkload(tracy); // recorded while nobody listens
    const server = await startServer({ http: HTTP, ingest: null, connect: [{ host: '127.0.0.1', port: tracy.listenPort }] });
    try {
      await tracy.connected;
      expect(tracy.state).toBe('connected');
      await tracy.close();
      expect(tracy.stats.dropped).toBe(0);
      const id = await waitNewSession(server, 0);
      const d = await expectWorkloadArrived(server, id, 'listening-app');
      expect(d.source).toBe('connect');
      expect(d.remote).toBe(`127.0.0.1:${tracy.listenPort}`);
    } finally {
      await server.close();
    }
  });

  it('announces itself by UDP and `zonescope serve --discover` picks it up', async () => {
    const server = await startServer({ http: HTTP, ingest: null, discoverPort: 0 });
    try {
      const tracy = await listen({ appName: 'discovered-app', port: 0, broadcast: { address: '127.0.0.1', port: server.discovery!.boundPort }, exitHandlers: false });
      await tracy.connected;
      await runWorkload(tracy);
      await tracy.close();
      const id = await waitNewSession(server, 0);
      await expectWorkloadArrived(server, id, 'discovered-app');
      expect(server.discovery!.announcements).toBeGreaterThanOrEqual(2); // waiting, then taken
    } finally {
      await server.close();
    }
  });

  it('broadcasts v3 datagrams while waiting and activeTime -1 when taken; later receivers get NotAvailable', async () => {
    const udp = await udpCollector();
    const tracy = await listen({ appName: 'announcer', port: 0, broadcast: { address: '127.0.0.1', port: udp.port }, exitHandlers: false });
    try {
      await waitFor('the first broadcast', () => udp.messages.length >= 1);
      const { activeTime, ...announced } = udp.messages[0]!;
      expect(announced).toEqual({ broadcastVersion: 3, protocolVersion: PROTOCOL_VERSION, listenPort: tracy.listenPort, pid: process.pid, programName: 'announcer' });
      expect(activeTime === 0 || activeTime === 1).toBe(true); // whole seconds since start, as Tracy counts
      expect(udp.sizes[0]).toBe(20 + 'announcer'.length + 1); // cut after the name's NUL

      const first = dialReceiver(tracy.listenPort);
      await tracy.connected;
      await waitFor('the "taken" broadcast', () => udp.messages.some((m) => m.activeTime === -1));
      expect(udp.messages.at(-1)).toMatchObject({ activeTime: -1, listenPort: tracy.listenPort });

      // While a receiver has the session, another one is told NotAvailable.
      const second = dialReceiver(tracy.listenPort);
      await second.closed;
      expect(second.receiver.bytes).toEqual([HandshakeStatus.NotAvailable]);

      tracy.zone('served', () => {});
      await tracy.close();
      await first.closed;
      expect(first.receiver.trace.terminated).toBe(true);
      expect(first.receiver.zoneCounts()).toEqual({ served: 1 });
      const count = udp.messages.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(udp.messages.length).toBe(count); // quiet once taken
    } finally {
      udp.close();
      await tracy.close();
    }
  });

  it('answers another protocol version with ProtocolMismatch, ignores a non-Tracy peer, and keeps waiting', async () => {
    const tracy = await listen({ appName: 'picky', port: 0, exitHandlers: false });
    try {
      const old = dialReceiver(tracy.listenPort, { version: PROTOCOL_VERSION - 1 });
      await old.closed;
      expect(old.receiver.bytes).toEqual([HandshakeStatus.ProtocolMismatch]);

      const http = netConnect({ host: '127.0.0.1', port: tracy.listenPort });
      const got: number[] = [];
      http.on('data', (b) => got.push(...b));
      http.write('GET / HTTP/1.1\r\n\r\n');
      await new Promise<void>((r) => http.on('close', () => r()));
      expect(got).toEqual([]); // closed silently

      const good = dialReceiver(tracy.listenPort);
      await tracy.connected;
      tracy.message('finally');
      await tracy.close();
      await good.closed;
      expect(good.receiver.trace.messages.map((m) => m.text)).toEqual(['finally']);
    } finally {
      await tracy.close();
    }
  });

  it('after the session, answers every handshake with NotAvailable until closed', async () => {
    const tracy = await listen({ port: 0, exitHandlers: false, closeTimeoutMs: 2000 });
    const first = dialReceiver(tracy.listenPort);
    await tracy.connected;
    first.socket.destroy(); // the receiver goes away: the session is over
    await tracy.closed;
    const next = netConnect({ host: '127.0.0.1', port: tracy.listenPort });
    next.on('error', () => {});
    const got: number[] = [];
    next.on('data', (b) => got.push(...b));
    next.on('connect', () => next.write(encodeHandshake()));
    await new Promise<void>((r) => next.on('close', () => r()));
    expect(got).toEqual([HandshakeStatus.NotAvailable]);
    await tracy.close();
    // closed: no longer listening
    const refused = await new Promise<string>((r) => netConnect({ host: '127.0.0.1', port: tracy.listenPort }).on('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')));
    expect(refused).toBe('ECONNREFUSED');
  });

  it('takes the first free port of 8086..8105 when none is given', async () => {
    const tracy = await listen({ exitHandlers: false });
    try {
      expect(tracy.listenPort).toBeGreaterThanOrEqual(8086);
      expect(tracy.listenPort).toBeLessThanOrEqual(8105);
    } finally {
      await tracy.close();
    }
  });

  it('rejects a bad broadcast port with a TypeError', async () => {
    await expect(listen({ port: 0, broadcast: { port: 0 } })).rejects.toThrow(new TypeError('broadcast.port must be an integer from 1 to 65535, not 0'));
  });
});
