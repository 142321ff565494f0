import { describe, expect, it } from 'vitest';
import { AppConversation, HandshakeFailed, type AppConversationHost, type AppTransport } from './app-conversation.js';
import { HandshakeStatus, PROTOCOL_VERSION, SERVER_QUERY_PACKET_SIZE } from './constants.js';
import { encodeHandshake } from './handshake.js';
import { ServerQuery } from './queue-types.js';

/** An in-memory transport: what the app writes, whether it closed, and a way to feed it bytes. */
function memoryTransport(): AppTransport & { written: number[][]; closed: boolean; feed(bytes: Uint8Array): void } {
  const t = {
    written: [] as number[][],
    closed: false,
    bufferedBytes: 0,
    write(bytes: Uint8Array) {
      t.written.push([...bytes]);
    },
    close() {
      t.closed = true;
    },
    keepAlive() {},
    onData: null as ((chunk: Uint8Array) => void) | null,
    onDrain: null as (() => void) | null,
    onClose: null as ((error: Error | null) => void) | null,
    feed(bytes: Uint8Array) {
      t.onData?.(bytes);
    },
  };
  return t;
}

/** A host that logs what the conversation asks of it. */
function loggingHost(): AppConversationHost & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    streaming: () => log.push('streaming'),
    query: (type, ptr, extra) => log.push(`query ${type} ${ptr} ${extra}`),
    afterQueries: () => log.push('afterQueries'),
    disconnect: () => log.push('disconnect'),
    drain: () => log.push('drain'),
  };
}

function queryPacket(type: number, ptr: number, extra = 0): Uint8Array {
  const b = new Uint8Array(SERVER_QUERY_PACKET_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, type);
  v.setUint32(1, ptr % 2 ** 32, true);
  v.setUint32(5, Math.floor(ptr / 2 ** 32), true);
  v.setUint32(9, extra, true);
  return b;
}

describe('AppConversation (the app side of the handshake, queries and Terminate)', () => {
  it('streams after a valid handshake split over chunks, and hands over every query packet whole', async () => {
    const t = memoryTransport();
    const host = loggingHost();
    const conv = new AppConversation(t, { host });
    const hs = encodeHandshake(PROTOCOL_VERSION);
    const q1 = queryPacket(ServerQuery.String, 2 ** 40 + 7);
    const q2 = queryPacket(ServerQuery.SourceLocation, 9, 3);
    const all = new Uint8Array([...hs, ...q1, ...q2]);
    // one byte stream cut inside the handshake and inside both packets
    for (const [from, to] of [[0, 5], [5, 15], [15, 30], [30, all.length]] as const) t.feed(all.subarray(from, to));
    await conv.ready;
    expect(conv.state).toBe('streaming');
    expect(host.log).toEqual(['streaming', `query ${ServerQuery.String} ${2 ** 40 + 7} 0`, 'afterQueries', `query ${ServerQuery.SourceLocation} 9 3`, 'afterQueries']);
    expect(conv.queries).toBe(2);
  });

  it('ends on ServerQueryTerminate, and on Disconnect asks the host to finish', async () => {
    const t = memoryTransport();
    const host = loggingHost();
    const conv = new AppConversation(t, { host });
    t.feed(new Uint8Array([...encodeHandshake(PROTOCOL_VERSION), ...queryPacket(ServerQuery.Disconnect, 0), ...queryPacket(ServerQuery.Terminate, 0)]));
    expect(await conv.ended).toBe('server-terminate');
    expect(host.log).toEqual(['streaming', 'disconnect']);
    expect(t.closed).toBe(true);
  });

  it('closes silently on a bad shibboleth and answers another version with ProtocolMismatch', async () => {
    const bad = memoryTransport();
    const c1 = new AppConversation(bad, { host: loggingHost() });
    bad.feed(new TextEncoder().encode('GET / HTTP/1.1\r\n'));
    const e1 = await c1.ready.catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(HandshakeFailed);
    expect(e1).toMatchObject({ kind: 'bad-handshake', message: expect.stringMatching(/^not a Tracy receiver: /) });
    expect([bad.written, bad.closed]).toEqual([[], true]);

    const old = memoryTransport();
    const c2 = new AppConversation(old, { host: loggingHost() });
    old.feed(encodeHandshake(PROTOCOL_VERSION - 1));
    await expect(c2.ready).rejects.toMatchObject({ kind: 'protocol-mismatch', message: `the receiver speaks protocol ${PROTOCOL_VERSION - 1}, this client ${PROTOCOL_VERSION}` });
    expect(old.written).toEqual([[HandshakeStatus.ProtocolMismatch]]);
    expect(await c2.ended).toBe('handshake-failed');
  });

  it('answers NotAvailable to a valid handshake when the session is taken (no host)', async () => {
    const t = memoryTransport();
    const conv = new AppConversation(t, { host: null });
    t.feed(encodeHandshake(PROTOCOL_VERSION));
    await expect(conv.ready).rejects.toMatchObject({ kind: 'not-available' });
    expect([t.written, t.closed]).toEqual([[[HandshakeStatus.NotAvailable]], true]);
  });

  it('fails the handshake on the owner’s timeout or a close, through options.error', async () => {
    const mapped = (f: HandshakeFailed) => new RangeError(`${f.kind}: ${f.message}`);
    const slow = memoryTransport();
    const c1 = new AppConversation(slow, { host: loggingHost(), error: mapped });
    slow.feed(encodeHandshake(PROTOCOL_VERSION).subarray(0, 4));
    c1.handshakeTimedOut(2000);
    await expect(c1.ready).rejects.toEqual(new RangeError('timeout: no handshake from the receiver within 2000 ms'));

    const gone = memoryTransport();
    const c2 = new AppConversation(gone, { host: loggingHost(), error: mapped });
    gone.onClose?.(new Error('ECONNREFUSED'));
    await expect(c2.ready).rejects.toEqual(new RangeError('connect: the connection failed before the handshake: ECONNREFUSED'));
    c2.handshakeTimedOut(1); // after the end: nothing
    expect(c2.endReason).toBe('handshake-failed');
  });
});
