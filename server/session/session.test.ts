/**
 * One session over an in-memory transport (no sockets): what it keeps after it ends (issue 10
 * row 3: the decode buffers are released, only the store and its tables stay) and its timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TracyStreamWriter } from '../../protocol/tracy/index.js';
import { FIXTURES_PRESENT, fixture } from '../../test/support/inspect-fixtures.js';
import { syntheticWelcome } from '../../test/support/synthetic-client.js';
import { readFileSync } from 'node:fs';
import { SessionRegistry } from './session-registry.js';
import { reclaimState } from '../store/array-pool.js';
import { MemoryBudget } from '../store/memory-budget.js';
import { Session, SESSION_BYTES, type SessionTransport } from './session.js';

function memoryTransport(): SessionTransport & { closed: boolean } {
  const t = {
    closed: false,
    write() {},
    close() {
      t.closed = true;
    },
    pause() {},
    resume() {},
  };
  return t;
}

function ended(session: Session): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (session.ended ? resolve() : setImmediate(check));
    check();
  });
}

/** The bytes an app sends: status + welcome as one chunk, then one chunk per frame. */
function appStream(): { welcome: Uint8Array; keepAlive: () => Uint8Array } {
  const chunks: Uint8Array[] = [];
  const writer = new TracyStreamWriter((c) => chunks.push(c.slice()));
  writer.welcome(syntheticWelcome('timer-test'));
  const welcome = chunks.shift()!;
  return {
    welcome,
    keepAlive: () => {
      writer.queue.keepAlive();
      writer.queue.flush();
      return chunks.shift()!;
    },
  };
}

describe('session', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.skipIf(!FIXTURES_PRESENT)('releases its decode buffers when it ends: an ended session keeps only its store and tables', async () => {
    const registry = new SessionRegistry();
    const session = registry.create(memoryTransport(), 'import', 'small.client.bin');
    session.start();
    const bin = readFileSync(fixture('small.client.bin'));
    // in 1000-byte chunks, so frames are split and the split-frame buffer is used too
    let midway = 0;
    for (let p = 0; p < bin.length; p += 1000) {
      session.receive(bin.subarray(p, Math.min(bin.length, p + 1000)));
      if (p === 30_000) midway = session.retainedBytes;
    }
    expect(midway).toBeGreaterThan(64 * 1024); // the LZ4 window at least, while it streams
    // while it streams, its decode buffers are charged to the budget beside its store
    expect(registry.budget.used).toBe(session.store.budget.bytes + session.reader.retainedBytes);
    session.connectionClosed();
    await ended(session);
    expect(session.endReason).toBe('terminated');
    expect(session.retainedBytes).toBe(0);
    expect(session.reader.retainedBytes).toBe(0);
    // what it keeps: the store (charged to the budget) and the names it resolves through
    expect(session.store.zonesEnded).toBe(3371);
    expect(session.store.budget.bytes).toBeGreaterThan(0);
    expect(registry.budget.used).toBe(session.store.budget.bytes);
    expect(session.store.threadList().some((t) => t.name !== null)).toBe(true);
    expect(session.store.srclocs.displayName(0, session.store.names.strings)).not.toBe('');
  });

  it.skipIf(!FIXTURES_PRESENT)('decodes only a few ms of what arrives in one event-loop turn; the transport pauses and later turns decode the rest', async () => {
    const registry = new SessionRegistry();
    const transport = { ...memoryTransport(), paused: false, pauses: 0, resumes: 0 };
    transport.pause = () => {
      transport.paused = true;
      transport.pauses++;
    };
    transport.resume = () => {
      transport.paused = false;
      transport.resumes++;
    };
    const session = registry.create(transport, 'tcp', '127.0.0.1:1');
    session.start();
    const bin = readFileSync(fixture('medium.client.bin'));
    // as libuv hands a busy socket's data over: 64 KiB reads back to back in one callback
    // (3.1 MB of wire is tens of ms of decoding, far past the turn's few ms)
    for (let p = 0; p < bin.length; p += 64 * 1024) session.receive(bin.subarray(p, Math.min(bin.length, p + 64 * 1024)));
    expect(transport.paused).toBe(true);
    const decodedInTurn = session.bytesReceived;
    expect(decodedInTurn).toBeGreaterThan(0);
    expect(decodedInTurn).toBeLessThan(bin.length / 2);
    // the next turn decodes more (one slice), without new input
    await new Promise((r) => setImmediate(r));
    expect(session.bytesReceived).toBeGreaterThan(decodedInTurn);
    // caught up, the transport reads again
    while (session.bytesReceived < bin.length) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(transport.paused).toBe(false);
    expect(transport.resumes).toBe(transport.pauses);
    session.connectionClosed();
    await ended(session);
    expect(session.endReason).toBe('terminated');
    expect(session.store.zonesEnded).toBe(202_201);
  });

  it.skipIf(!FIXTURES_PRESENT)('decodes nothing as it arrives while another session waits for its slice: busy sessions share the turns evenly', async () => {
    const registry = new SessionRegistry();
    const bin = readFileSync(fixture('medium.client.bin'));
    const open = () => {
      const transport = { ...memoryTransport(), paused: false };
      transport.pause = () => (transport.paused = true);
      transport.resume = () => (transport.paused = false);
      const session = registry.create(transport, 'tcp', '127.0.0.1:1');
      session.start();
      return { session, transport };
    };
    const a = open();
    const b = open();
    const CHUNK = 64 * 1024;
    const nextTurn = () => new Promise((r) => setImmediate(r));
    // a: its whole stream in one turn, far past the turn's receive-time decoding
    for (let p = 0; p < bin.length; p += CHUNK) a.session.receive(bin.subarray(p, p + CHUNK));
    expect(a.transport.paused).toBe(true);
    // a turn later a has decoded one more slice (128 KiB of input at most) and waits for the next
    await nextTurn();
    expect(a.session.bytesReceived).toBeLessThan(bin.length / 2);
    // b's first bytes in this fresh turn: not decoded now, because a waits for its slice; b's own slice decodes them
    b.session.receive(bin.subarray(0, CHUNK));
    expect(b.session.bytesReceived).toBe(0);
    expect(b.transport.paused).toBe(true);
    await nextTurn();
    expect(b.session.bytesReceived).toBeGreaterThan(0);
    // the rest of b's stream: every zone of each stored
    for (let q = CHUNK; q < bin.length; q += CHUNK) b.session.receive(bin.subarray(q, q + CHUNK));
    a.session.connectionClosed();
    b.session.connectionClosed();
    await Promise.all([ended(a.session), ended(b.session)]);
    for (const x of [a, b]) {
      expect(x.session.endReason).toBe('terminated');
      expect(x.session.store.zonesEnded).toBe(202_201);
    }
  });

  it('charges the budget for the session itself once its welcome is read, and gives it back when deleted', async () => {
    const registry = new SessionRegistry();
    const session = registry.create(memoryTransport(), 'tcp', '127.0.0.1:1');
    session.start();
    const app = appStream();
    session.receive(app.welcome.subarray(0, 10));
    expect(registry.budget.used).toBe(0); // no welcome yet: nothing of the app's is kept
    session.receive(app.welcome.subarray(10));
    expect(session.state).toBe('live');
    expect(registry.budget.used).toBe(SESSION_BYTES);
    session.connectionClosed();
    await ended(session);
    expect(registry.budget.used).toBeGreaterThanOrEqual(SESSION_BYTES);
    expect(registry.delete(session.id)).toBe(true);
    expect(registry.budget.used).toBe(0);
  });

  it('ends a network session that sends nothing for the idle timeout, and not one that keeps sending', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const registry = new SessionRegistry({ idleTimeoutMs: 1000, handshakeTimeoutMs: 0 });
    const transport = memoryTransport();
    const session = registry.create(transport, 'tcp', '127.0.0.1:1', { address: '127.0.0.1' });
    session.start();
    const app = appStream();
    // bytes arrive in separate event-loop turns, as from a socket (setImmediate is not faked):
    // receive() decodes only a few ms of input per turn and leaves the rest for later turns
    const nextTurn = () => new Promise((r) => setImmediate(r));
    session.receive(app.welcome);
    await nextTurn();
    expect(session.state).toBe('live');
    vi.advanceTimersByTime(900);
    session.receive(app.keepAlive());
    await nextTurn();
    vi.advanceTimersByTime(900); // 1800 ms since the welcome, 900 since the last byte
    expect(session.state).toBe('live');
    vi.advanceTimersByTime(200);
    expect(session.endReason).toBe('idle-timeout');
    expect(transport.closed).toBe(true);
    expect(registry.endedByReason.get('idle-timeout')).toBe(1);
    expect(registry.gate.openConnections).toBe(0);
  });

  it('ends a network session without a welcome after the handshake timeout, unlisted and counted', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const registry = new SessionRegistry({ handshakeTimeoutMs: 500 });
    const events: string[] = [];
    registry.subscribe((e) => events.push(e.type));
    const transport = memoryTransport();
    const session = registry.create(transport, 'ws', '127.0.0.1:1', { address: '127.0.0.1' });
    session.start();
    session.receive(appStream().welcome.subarray(0, 100)); // a welcome that never completes
    expect(registry.pendingCount).toBe(1);
    expect(registry.list()).toEqual([]);
    expect(registry.get(session.id)).toBeUndefined();
    vi.advanceTimersByTime(499);
    expect(session.ended).toBe(false);
    vi.advanceTimersByTime(1);
    expect(session.endReason).toBe('handshake-timeout');
    expect(transport.closed).toBe(true);
    expect(registry.pendingCount).toBe(0);
    expect(registry.list()).toEqual([]);
    expect(registry.gate.rejectedByReason.get('handshake-timeout')).toBe(1);
    expect(events).toEqual(['added', 'ended']);
  });

  it.skipIf(!FIXTURES_PRESENT)('asks for a young GC every reclaimEveryBytes of wire, and a full one at its end after reclaimAtEndBytes', async () => {
    const bin = readFileSync(fixture('small.client.bin'));
    const run = async (atEnd: number) => {
      await new Promise((r) => setImmediate(r)); // GCs asked for before run first
      const before = reclaimState();
      const session = new Session({ id: 'gc', budget: new MemoryBudget(2 ** 30), transport: memoryTransport(), source: 'import', remote: 'x', reclaimEveryBytes: 10_000, reclaimAtEndBytes: atEnd });
      session.start();
      let young = 0;
      for (let p = 0; p < bin.length; p += 5000) {
        session.receive(bin.subarray(p, Math.min(bin.length, p + 5000)));
        const now = reclaimState().youngRuns;
        await new Promise((r) => setImmediate(r));
        young += reclaimState().youngRuns - now;
      }
      session.connectionClosed();
      await ended(session);
      await new Promise((r) => setImmediate(r));
      return { young, full: reclaimState().gcRuns - before.gcRuns };
    };
    const small = await run(bin.length + 1);
    expect(small.young).toBe(Math.floor(bin.length / 10_000));
    expect(small.full).toBe(0);
    const large = await run(bin.length);
    expect(large.full).toBe(1);
  });
});
