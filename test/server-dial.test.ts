/**
 * The server dialing Tracy clients: `--connect` keeps dialing (a restarted app gives a second
 * session; a finished app answering NotAvailable gives none), and `--discover` dials the clients
 * announced by UDP broadcasts, once per client. Plus parseBroadcast for every layout.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeBroadcast, parseBroadcast } from '../protocol/tracy/index.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { getJson, sleep, waitFor, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';
import { listenRecordedClient } from './support/tracy-replay.js';

const HTTP = { host: '127.0.0.1', port: 0 };
const zonesTotal = (name: string) => (JSON.parse(readFileSync(fixture(`${name}.truth.json`), 'utf8')) as { zones_total: number }).zones_total;

/** A TCP server that answers every handshake with one status byte, counting connections. */
async function statusOnlyClient(status: number): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    socket.on('error', () => {
      // the dialer may reset: nothing to report
    });
    socket.once('data', () => socket.end(Buffer.of(status)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function expectComplete(server: ServerHandle, id: string, name: string): Promise<Json> {
  const d = await waitSessionEnded(server, id);
  expect(d.source).toBe('connect');
  expect(d.endReason).toBe('terminated');
  expect(d.error).toBeNull();
  expect(d.zones).toBe(zonesTotal(name));
  return d;
}

describe.skipIf(!FIXTURES_PRESENT)('--connect', () => {
  it('dials again after a session ends and picks up the app when it restarts on the same port', async () => {
    const first = await listenRecordedClient(readFileSync(fixture('small.client.bin')), { chunkSize: 16 * 1024 });
    const port = first.port;
    const server = await startServer({ http: HTTP, ingest: null, connect: [{ host: '127.0.0.1', port }] });
    try {
      await first.done;
      const id1 = await waitNewSession(server, 0);
      const d1 = await expectComplete(server, id1, 'small');
      expect(d1.remote).toBe(`127.0.0.1:${port}`);

      // The finished app answers the re-dials with NotAvailable: no new session.
      await waitFor('two NotAvailable answers', () => first.notAvailable >= 2, 10_000);
      expect(server.registry.list()).toHaveLength(1);
      expect(server.dialers[0]!.lastError).toContain('NotAvailable');

      // The app restarts (a new process on the same port): a second session.
      await first.close();
      const second = await listenRecordedClient(readFileSync(fixture('small-ondemand.client.bin')), { port, chunkSize: 16 * 1024 });
      try {
        await second.done;
        const id2 = await waitNewSession(server, 1, 15_000);
        expect(id2).not.toBe(id1);
        await expectComplete(server, id2, 'small-ondemand');
        expect(server.dialers[0]!.sessions).toBe(2);
        const list: Json[] = await getJson(server, '/api/sessions');
        expect(list.map((s) => [s.id, s.source, s.endReason])).toEqual([
          [id1, 'connect', 'terminated'],
          [id2, 'connect', 'terminated'],
        ]);
      } finally {
        await second.close();
      }
    } finally {
      await server.close();
      await first.close();
    }
  });

  it.each([
    [3, 'NotAvailable'],
    [2, 'ProtocolMismatch'],
  ])('creates no session for a client that answers the handshake with status %d (%s), and keeps trying', async (status, name) => {
    const client = await statusOnlyClient(status);
    const server = await startServer({ http: HTTP, ingest: null, connect: [{ host: '127.0.0.1', port: client.port }] });
    try {
      await waitFor('three handshakes', () => client.connections() >= 3, 10_000);
      expect(server.registry.list()).toHaveLength(0);
      expect(await getJson(server, '/api/sessions')).toEqual([]);
      expect(server.dialers[0]!.sessions).toBe(0);
      expect(server.dialers[0]!.lastError).toBe(`127.0.0.1:${client.port} answered ${name}`);
    } finally {
      await server.close();
      await client.close();
    }
  });
});

describe.skipIf(!FIXTURES_PRESENT)('--discover', () => {
  async function broadcast(port: number, datagram: Uint8Array): Promise<void> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => socket.send(datagram, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    socket.close();
  }

  it('dials a client announced by UDP broadcast, once, however often it repeats the broadcast', async () => {
    const client = await listenRecordedClient(readFileSync(fixture('small.client.bin')), { chunkSize: 4096, pauseMs: 2 });
    const server = await startServer({ http: HTTP, ingest: null, discoverPort: 0 });
    try {
      const udp = server.discovery!.boundPort;
      expect(udp).toBeGreaterThan(0);
      const announce = encodeBroadcast({ listenPort: client.port, pid: 14947, activeTime: 0, programName: 'fixture_app' });
      await broadcast(udp, announce);
      const id = await waitNewSession(server, 0, 10_000);
      // The client repeats its broadcast (every 3 s in Tracy; faster here) while it streams.
      for (let i = 1; i <= 8; i++) {
        await broadcast(udp, encodeBroadcast({ listenPort: client.port, pid: 14947, activeTime: i, programName: 'fixture_app' }));
        await sleep(25);
      }
      await client.done;
      const d = await waitSessionEnded(server, id);
      expect(d.source).toBe('connect');
      expect(d.app).toBe('fixture_app');
      expect(d.endReason).toBe('terminated');
      expect(d.zones).toBe(zonesTotal('small'));
      expect(server.discovery!.announcements).toBe(9);
      await sleep(300);
      expect(server.registry.list()).toHaveLength(1);
    } finally {
      await server.close();
      await client.close();
    }
  });

  it('ignores broadcasts of a taken client (activeTime -1), of another protocol version and datagrams that are not broadcasts', async () => {
    const client = await statusOnlyClient(1);
    const server = await startServer({ http: HTTP, ingest: null, discoverPort: 0 });
    try {
      const udp = server.discovery!.boundPort;
      await broadcast(udp, encodeBroadcast({ listenPort: client.port, pid: 1, activeTime: -1, programName: 'taken' }));
      await broadcast(udp, encodeBroadcast({ listenPort: client.port, pid: 1, activeTime: 5, programName: 'old', protocolVersion: 81 }));
      await broadcast(udp, Uint8Array.of(9, 0, 1, 2, 3));
      await broadcast(udp, Uint8Array.of(3));
      await waitFor('two broadcasts parsed', () => server.discovery!.announcements === 2, 5000);
      await sleep(300);
      expect(client.connections()).toBe(0);
      expect(server.registry.list()).toHaveLength(0);
    } finally {
      await server.close();
      await client.close();
    }
  });
});

describe('--discover when the UDP port is taken', () => {
  it('fails to start and releases the HTTP and ingest ports it had opened', async () => {
    // A UDP socket without SO_REUSEADDR holds the port exclusively.
    const holder = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((r) => holder.bind(0, '0.0.0.0', () => r()));
    const taken = holder.address().port;
    const free = async () => {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as { port: number }).port;
      await new Promise<void>((r) => probe.close(() => r()));
      return port;
    };
    const httpPort = await free();
    const ingestPort = await free();
    try {
      await expect(startServer({ http: { host: '127.0.0.1', port: httpPort }, ingest: { host: '127.0.0.1', port: ingestPort }, discoverPort: taken })).rejects.toThrow(/EADDRINUSE/);
      // Both TCP ports are free again: nothing was left listening.
      for (const port of [httpPort, ingestPort]) {
        const again = createServer();
        await new Promise<void>((resolve, reject) => {
          again.once('error', reject);
          again.listen(port, '127.0.0.1', resolve);
        });
        await new Promise<void>((r) => again.close(() => r()));
      }
    } finally {
      holder.close();
    }
  });
});

describe('parseBroadcast', () => {
  const bytes = (...parts: (number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
  const u16 = (n: number) => [n & 0xff, n >>> 8];
  const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
  const name = (s: string) => [...new TextEncoder().encode(s), 0];

  it('reads the real v3 datagram of a client named app (tracy-protocol.md 1.2)', () => {
    const datagram = bytes([0x03, 0x00, 0xa7, 0x46, 0x52, 0x00, 0x00, 0x00, 0xf3, 0x2b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], [0x03, 0x00, 0x00, 0x00], [0x61, 0x70, 0x70, 0x00]);
    expect(datagram.length).toBe(24);
    expect(parseBroadcast(datagram)).toEqual({ broadcastVersion: 3, listenPort: 18087, protocolVersion: 82, pid: 11251, activeTime: 3, programName: 'app' });
    const taken = Uint8Array.from(datagram);
    taken.set([0xff, 0xff, 0xff, 0xff], 16);
    expect(parseBroadcast(taken)!.activeTime).toBe(-1);
  });

  it('reads v2 (no pid), v1 (u32 fields) and v0 (no port: 8086)', () => {
    expect(parseBroadcast(bytes(u16(2), u16(9000), u32(82), u32(42), name('two')))).toEqual({ broadcastVersion: 2, listenPort: 9000, protocolVersion: 82, pid: 0, activeTime: 42, programName: 'two' });
    expect(parseBroadcast(bytes(u32(1), u32(80), u32(9001), u32(7), name('one')))).toEqual({ broadcastVersion: 1, listenPort: 9001, protocolVersion: 80, pid: 0, activeTime: 7, programName: 'one' });
    expect(parseBroadcast(bytes(u32(0), u32(70), u32(0xffffffff), name('zero')))).toEqual({ broadcastVersion: 0, listenPort: 8086, protocolVersion: 70, pid: 0, activeTime: -1, programName: 'zero' });
  });

  it('reads full-size datagrams with the name padded to 64 bytes, and cut ones with fields missing as 0', () => {
    const v2 = new Uint8Array(76);
    v2.set(bytes(u16(2), u16(9000), u32(82), u32(1), name('padded')));
    expect(parseBroadcast(v2)!.programName).toBe('padded');
    const v3 = new Uint8Array(84);
    v3.set(bytes(u16(3), u16(1), u32(82)));
    v3.fill(0x41, 20); // 64 name bytes without a NUL: the name is all 64
    expect(parseBroadcast(v3)!.programName).toBe('A'.repeat(64));
    expect(parseBroadcast(bytes(u16(3), u16(8087)))).toEqual({ broadcastVersion: 3, listenPort: 8087, protocolVersion: 0, pid: 0, activeTime: 0, programName: '' });
  });

  it('rejects datagrams that are too short, too long for their version, or of a future version', () => {
    expect(parseBroadcast(Uint8Array.of(3))).toBeNull();
    expect(parseBroadcast(new Uint8Array(0))).toBeNull();
    expect(parseBroadcast(bytes(u16(4), u16(8086), u32(82)))).toBeNull();
    expect(parseBroadcast(new Uint8Array(85).fill(0, 0).fill(3, 0, 1))).toBeNull();
    expect(parseBroadcast(new Uint8Array(77))).toBeNull(); // v0 is 76 bytes at most
  });

  it('round-trips encodeBroadcast, which truncates after the name as the C++ client does', () => {
    const d = encodeBroadcast({ listenPort: 8086, pid: 2 ** 40 + 5, activeTime: 12, programName: 'my app' });
    expect(d.length).toBe(20 + 6 + 1);
    expect(parseBroadcast(d)).toEqual({ broadcastVersion: 3, listenPort: 8086, protocolVersion: 82, pid: 2 ** 40 + 5, activeTime: 12, programName: 'my app' });
    const long = encodeBroadcast({ listenPort: 1, pid: 1, activeTime: 0, programName: 'é'.repeat(40) });
    expect(long.length).toBeLessThanOrEqual(84);
    expect(parseBroadcast(long)!.programName).toBe('é'.repeat(31));
  });
});
