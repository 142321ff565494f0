/**
 * The client's side of the Tracy conversation, over an in-memory pair (no ports, no server/):
 * handshake and welcome, query answers, shutdown, rejected handshakes, the bounded buffer.
 */
import { describe, expect, it, vi } from 'vitest';
import { HandshakeStatus, PROTOCOL_VERSION, QueueType, ServerQuery } from '../protocol/tracy/index.js';
import { memoryClient as connected, memoryPair, testClient } from '../test/support/sdk-receiver.js';
import { ClientError, ClientErrorCode, type ClientTransport } from './transport.js';

/** A transport the test drives by hand. */
function manualTransport(): ClientTransport & { written: Uint8Array[]; closed: boolean } {
  const t = {
    written: [] as Uint8Array[],
    closed: false,
    write(bytes: Uint8Array) {
      t.written.push(bytes.slice());
    },
    bufferedBytes: 0,
    close() {
      t.closed = true;
    },
    keepAlive() {},
    onData: null as ((chunk: Uint8Array) => void) | null,
    onDrain: null as (() => void) | null,
    onClose: null as ((error: Error | null) => void) | null,
  };
  return t;
}

describe('client conversation', () => {
  it('sends a KeepAlive item after 5 s without sending anything, and none while it has data to send', async () => {
    // only the flush interval and its clock are faked: the handshake runs on real microtasks
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      const { client, receiver } = await connected();
      const keepAlives = () => receiver.reader.decoder.histogram[QueueType.KeepAlive];
      const settle = () => new Promise<void>((r) => setImmediate(r));
      for (let i = 0; i < 60; i++) {
        client.plot('busy', i); // data every 100 ms for 6 s: never idle
        vi.advanceTimersByTime(100);
        await settle();
      }
      expect(keepAlives()).toBe(0);
      vi.advanceTimersByTime(4900);
      await settle();
      expect(keepAlives()).toBe(0);
      vi.advanceTimersByTime(200);
      await settle();
      expect(keepAlives()).toBe(1);
      vi.advanceTimersByTime(5000);
      await settle();
      expect(keepAlives()).toBe(2);
      await client.close();
      expect(receiver.error).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('answers a valid handshake with status Welcome and the welcome: timerMul 1, exectime 0, flags 0, pid, app name', async () => {
    const { client, receiver } = await connected();
    await client.close();
    const w = receiver.reader.welcome!;
    expect(receiver.bytes[0]).toBe(HandshakeStatus.Welcome);
    expect(w.timerMul).toBe(1);
    expect(w.exectime).toBe(0n);
    expect(w.flags).toBe(0);
    expect(w.pid).toBe(4242n);
    expect(w.programName).toBe('unit-app');
    expect(w.hostInfo).toContain('Runtime: vitest');
    expect(w.initEnd).toBe(w.initBegin);
    expect(w.resolution).toBeGreaterThanOrEqual(1n);
    expect(receiver.trace.terminated).toBe(true);
    expect(receiver.terminateSent).toBe(true);
    expect(client.state).toBe('closed');
  });

  it('answers every query with exactly one counted reply and resolves every id, source locations in order', async () => {
    const { client, receiver } = await connected();
    client.setThreadName('main loop');
    for (const name of ['alpha', 'beta', 'gamma', 'alpha']) client.zone(name, () => {});
    client.zone('colored', () => {}, 0x123456);
    client.plot('temperature', 21.5);
    client.frameMark('render');
    client.frameMarkStart('job');
    client.frameMarkEnd('job');
    // Queries the SDK has nothing for still need their one counted reply (tracy-protocol.md 3.2).
    receiver.query(ServerQuery.String, 987654321);
    receiver.query(ServerQuery.ThreadString, 77);
    receiver.query(ServerQuery.Parameter, 0);
    receiver.query(ServerQuery.FiberName, 5);
    receiver.query(ServerQuery.ExternalName, 6);
    receiver.query(ServerQuery.CallstackFrame, 0x1000);
    receiver.query(ServerQuery.Symbol, 0x2000);
    receiver.query(ServerQuery.SymbolCode, 0x3000, 64);
    receiver.query(ServerQuery.SourceCode, 17);
    receiver.query(ServerQuery.DataTransfer, 12);
    receiver.query(ServerQuery.DataTransferPart, 0x41414141);
    receiver.query(42, 0); // a query type from a future protocol
    await client.close();
    const d = receiver.reader.decoder;
    expect(receiver.error).toBeNull();
    expect(receiver.queriesSent).toBeGreaterThan(13);
    expect(d.repliesCounted).toBe(receiver.queriesSent);
    expect(receiver.outstanding).toBe(0);
    expect(receiver.zoneCounts()).toEqual({ alpha: 2, beta: 1, gamma: 1, colored: 1 });
    expect(d.srclocs.color[receiver.zonesNamed('colored')[0]!.srcloc]).toBe(0x123456);
    expect(d.names.threads.get(1)).toBe('main loop');
    expect(d.names.threads.get(77)).toBe('worker 76');
    expect([...d.names.plots.values()]).toEqual(['temperature']);
    expect([...d.names.frames.values()].sort()).toEqual(['job', 'render']);
    expect(d.names.strings.get(987654321)).toBe('');
    expect(d.histogram[QueueType.AckSymbolCodeNotAvailable]).toBe(1);
    expect(d.histogram[QueueType.AckSourceCodeNotAvailable]).toBe(1);
    expect(d.histogram[QueueType.ExternalThreadName]).toBe(1);
    expect(d.histogram[QueueType.ExternalName]).toBe(1);
    expect(d.histogram[QueueType.FiberName]).toBe(1);
    expect(d.histogram[QueueType.AckServerQueryNoop]).toBe(6);
    expect(client.stats.queries).toBe(receiver.queriesSent);
  });

  it('reassembles query packets that arrive one byte at a time', async () => {
    const { client, receiver } = await connected({}, { byteByByte: true });
    for (let i = 0; i < 20; i++) client.zone(`zone ${i}`, () => {});
    await client.close();
    expect(receiver.error).toBeNull();
    expect(receiver.reader.decoder.repliesCounted).toBe(receiver.queriesSent);
    expect(Object.keys(receiver.zoneCounts())).toHaveLength(20);
  });

  it('ends zones still open at close (counted), sends Terminate and keeps answering until the receiver finishes', async () => {
    const { client, receiver } = await connected();
    client.zoneBegin('left open');
    client.zoneBegin('also open');
    await client.close();
    expect(client.stats.zonesEndedAtClose).toBe(2);
    expect(receiver.trace.errors).toEqual([]);
    expect(receiver.trace.openCount).toBe(0);
    expect(receiver.zoneCounts()).toEqual({ 'left open': 1, 'also open': 1 });
    expect(receiver.trace.terminated).toBe(true);
    expect(receiver.terminateSent).toBe(true);
    // events after close are dropped and counted
    client.message('too late');
    expect(client.stats.dropped).toBe(1);
  });

  it('stops when the receiver sends ServerQueryTerminate, and drops later events', async () => {
    const { client, receiver } = await connected();
    client.zone('before', () => {});
    receiver.query(ServerQuery.Terminate, 0);
    client.flushNow();
    await client.closed;
    expect(client.state).toBe('closed');
    client.zone('after', () => {});
    expect(client.stats.dropped).toBe(1);
  });

  it('finishes the session on ServerQueryDisconnect: Terminate, then answers until the receiver is done', async () => {
    const { client, receiver } = await connected();
    client.zoneBegin('open at disconnect');
    receiver.query(ServerQuery.Disconnect, 0);
    client.flushNow();
    await client.closed;
    expect(receiver.trace.terminated).toBe(true);
    expect(receiver.trace.errors).toEqual([]);
    expect(client.stats.zonesEndedAtClose).toBe(1);
  });

  it('answers another protocol version with ProtocolMismatch (2) and closes', async () => {
    const client = testClient();
    const { transport, receiver } = memoryPair({ version: PROTOCOL_VERSION - 1 });
    const err = await client.attach(transport, 2000).ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe(ClientErrorCode.ProtocolMismatch);
    expect((err as ClientError).message).toBe(`the receiver speaks protocol ${PROTOCOL_VERSION - 1}, this client ${PROTOCOL_VERSION}`);
    await new Promise((r) => setImmediate(r));
    expect(receiver.bytes).toEqual([HandshakeStatus.ProtocolMismatch]);
    expect(receiver.closed).toBe(true);
    expect(client.canAttach).toBe(true); // listen mode may take the next receiver
    client.abort();
  });

  it('closes silently (no status byte) when the first bytes are not "TracyPrf"', async () => {
    const client = testClient();
    const t = manualTransport();
    const conv = client.attach(t, 2000);
    t.onData!(new TextEncoder().encode('GET / HTTP/1.1\r\n'));
    const err = (await conv.ready.catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe(ClientErrorCode.BadHandshake);
    expect(err.message).toContain('not a Tracy receiver');
    expect(t.written).toEqual([]);
    expect(t.closed).toBe(true);
    client.abort();
  });

  it('gives up when the receiver sends no handshake in time', async () => {
    const client = testClient();
    const t = manualTransport();
    const err = (await client.attach(t, 30).ready.catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe(ClientErrorCode.Timeout);
    expect(err.message).toBe('no handshake from the receiver within 30 ms');
    client.abort();
  });

  it('reports a connection that fails before the handshake as ZS_CLIENT_CONNECT with the cause', async () => {
    const client = testClient();
    const t = manualTransport();
    const conv = client.attach(t, 2000);
    t.onClose!(new Error('connect ECONNREFUSED 127.0.0.1:1'));
    const err = (await conv.ready.catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe(ClientErrorCode.Connect);
    expect(err.message).toBe('the connection failed before the handshake: connect ECONNREFUSED 127.0.0.1:1');
    client.abort();
  });
});

describe('client buffer', () => {
  it('holds events until a receiver comes, drops past bufferBytes (counted) and keeps zone ends balanced', async () => {
    const client = testClient({ bufferBytes: 1 << 20, compress: false });
    const outer = client.zoneBegin('outer');
    const total = 150_000;
    for (let i = 0; i < total; i++) client.zoneEnd(client.zoneBegin('inner'));
    client.zoneEnd(outer);
    const { dropped, bufferedBytes } = client.stats;
    expect(dropped).toBeGreaterThan(0);
    expect(bufferedBytes).toBeLessThanOrEqual((1 << 20) + 64);
    expect(client.canRecord(16)).toBe(false);

    const { transport, receiver } = memoryPair();
    await client.attach(transport, 2000).ready;
    expect(client.canRecord(16)).toBe(true); // the receiver took it all
    await client.close();
    expect(client.canRecord(16)).toBe(false);
    expect(receiver.trace.errors).toEqual([]);
    expect(receiver.zoneCounts()).toEqual({ outer: 1, inner: total - dropped });
  });

  it('returns small integer zone ids', async () => {
    const client = testClient();
    const a = client.zoneBegin('a');
    const b = client.zoneBegin('b');
    expect([a, b]).toEqual([1, 2]);
    client.abort();
  });
});
