/**
 * The ingest worker pipeline (docs/server.md, "Ingest pipeline"): a session whose stream is
 * decompressed by a worker thread stores exactly what the same stream stores when it is decoded
 * on the main thread, ends with the same errors and truncations, and holds bounded buffers while
 * its transport is paused. In-memory transports, real worker threads (from dist/, which
 * `npm test` builds first).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tracyFixturePath } from '../../test/support/fixture-paths.js';
import { storeSnapshot, expectSameSnapshot } from '../../test/support/store-snapshot.js';
import { SessionRegistry } from '../session/session-registry.js';
import type { Session, SessionTransport } from '../session/session.js';
import { BATCH_BYTES, FEW_STREAMS } from './inflate-messages.js';
import { defaultIngestWorkers, InflatePool, MAX_INFLATE_WORKERS } from './inflate-pool.js';

interface Probe extends SessionTransport {
  pauses: number;
  resumes: number;
  paused: boolean;
  onResume: (() => void) | null;
}

function probeTransport(): Probe {
  const t: Probe = {
    pauses: 0,
    resumes: 0,
    paused: false,
    onResume: null,
    write() {},
    close() {},
    pause() {
      t.pauses++;
      t.paused = true;
    },
    resume() {
      t.resumes++;
      t.paused = false;
      const go = t.onResume;
      t.onResume = null;
      go?.();
    },
  };
  return t;
}

function ended(session: Session): Promise<void> {
  return new Promise((resolve) => {
    const prev = session.onEnd;
    if (session.ended) return resolve();
    session.onEnd = (s) => {
      prev?.(s);
      resolve();
    };
  });
}

/** Feeds `bytes` in `chunk`-byte pieces, waiting for resume() whenever the session paused the transport. */
async function feed(session: Session, t: Probe, bytes: Uint8Array, chunk: number, close = true, watch?: () => void): Promise<void> {
  for (let p = 0; p < bytes.length; p += chunk) {
    if (t.paused) await new Promise<void>((go) => (t.onResume = go));
    session.receive(bytes.subarray(p, Math.min(bytes.length, p + chunk)));
    watch?.();
  }
  if (close) session.connectionClosed();
}

let pool: InflatePool;
beforeAll(() => {
  const started = InflatePool.start(1);
  if (started === null) throw new Error('dist/server/ingest/inflate-worker.js is missing: run npm run build');
  pool = started;
});
afterAll(() => pool.close());

async function run(bytes: Uint8Array, withPool: boolean, chunk = 65536): Promise<{ session: Session; t: Probe; maxRetained: number }> {
  const registry = new SessionRegistry({ inflatePool: withPool ? pool : null, handshakeTimeoutMs: 0, idleTimeoutMs: 0 });
  const t = probeTransport();
  const session = registry.create(t, 'tcp', 'test');
  session.start();
  const done = ended(session);
  let maxRetained = 0;
  await feed(session, t, bytes, chunk, true, () => (maxRetained = Math.max(maxRetained, session.retainedBytes)));
  await done;
  return { session, t, maxRetained };
}

const medium = () => new Uint8Array(readFileSync(tracyFixturePath('medium.client.bin')));

describe('how many ingest workers by default', () => {
  it('none on one or two cores, one per core beyond the first above that, at most MAX_INFLATE_WORKERS', () => {
    expect([1, 2, 3, 4, 5, 8, 64].map((cores) => defaultIngestWorkers(cores))).toEqual([0, 0, 2, 3, 4, 4, 4]);
    expect(defaultIngestWorkers(64)).toBe(MAX_INFLATE_WORKERS);
    expect(InflatePool.start(0)).toBeNull();
  });
});

describe('ingest worker pipeline', () => {
  it('stores a real Tracy recording exactly as decoding on the main thread does, with the same counters', async () => {
    const bytes = medium();
    const viaWorker = await run(bytes, true);
    const onMain = await run(bytes, false);
    expect(viaWorker.session.endReason).toBe(onMain.session.endReason);
    expect(viaWorker.session.error).toBeNull();
    expect(viaWorker.session.truncation).toBe(onMain.session.truncation);
    const w = viaWorker.session.reader;
    const m = onMain.session.reader;
    expect([w.bytes, w.frames, w.compressedBytes, w.decompressedBytes, w.decoder.items]).toEqual([m.bytes, m.frames, m.compressedBytes, m.decompressedBytes, m.decoder.items]);
    expect(w.bytes).toBe(bytes.length);
    expect(viaWorker.session.store.zonesEnded).toBe(onMain.session.store.zonesEnded);
    expect(viaWorker.session.store.zonesEnded).toBeGreaterThan(100_000);
    expectSameSnapshot(storeSnapshot(viaWorker.session.store), storeSnapshot(onMain.session.store));
  });

  it('pauses the transport while the stream is ahead of the walk and keeps the buffers between the threads bounded', async () => {
    const bytes = medium();
    // with more than FEW_STREAMS streams open the shallow pipeline applies (768 KiB of wire ahead)
    const others = Array.from({ length: FEW_STREAMS }, () => pool.open(() => {}));
    expect(pool.streams).toBe(FEW_STREAMS);
    // the whole 3 MB in one chunk: the wire ahead of the walk passes 768 KiB at once
    const { session, t, maxRetained } = await run(bytes, true, bytes.length).finally(() => others.forEach((c) => c.close()));
    expect(pool.streams).toBe(0);
    expect(session.endReason).toBe('terminated');
    expect(t.pauses).toBeGreaterThan(0);
    expect(t.resumes).toBe(t.pauses);
    // input waiting (the 3 MB chunk) + batches: never more than the input plus the batch credit
    expect(maxRetained).toBeLessThanOrEqual(bytes.length + 2 * BATCH_BYTES + 2 * 1024 * 1024);
    expect(session.retainedBytes).toBe(0);
  });

  it('ends with the same protocol error, at the same offset, for a corrupt LZ4 block', async () => {
    const bytes = medium();
    // the first frame header follows status (1) + welcome; corrupt a byte deep inside a later frame
    const bad = bytes.slice();
    const at = Math.floor(bytes.length / 2);
    for (let i = at; i < at + 64; i++) bad[i] = 0xff;
    const viaWorker = await run(bad, true);
    const onMain = await run(bad, false);
    expect(onMain.session.endReason).toBe('protocol-error');
    expect(viaWorker.session.endReason).toBe('protocol-error');
    expect(viaWorker.session.error).toEqual(onMain.session.error);
    // everything before the bad frame is kept
    expect(viaWorker.session.store.zonesEnded).toBe(onMain.session.store.zonesEnded);
    expect(viaWorker.session.store.zonesEnded).toBeGreaterThan(0);
  });

  it('reports the same cut when the stream stops inside a frame', async () => {
    const bytes = medium();
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.7));
    const viaWorker = await run(cut, true, 4096);
    const onMain = await run(cut, false, 4096);
    expect(onMain.session.truncation).toMatch(/inside the frame at offset \d+/);
    expect(viaWorker.session.truncation).toBe(onMain.session.truncation);
    expect(viaWorker.session.store.zonesEnded).toBe(onMain.session.store.zonesEnded);
  });

  it('ends a session that closes during its handshake as the main thread does', async () => {
    const bytes = medium().subarray(0, 40);
    const viaWorker = await run(bytes, true, 7);
    const onMain = await run(bytes, false, 7);
    expect(viaWorker.session.endReason).toBe(onMain.session.endReason);
    expect(viaWorker.session.truncation).toBe(onMain.session.truncation);
    expect(viaWorker.session.truncation).toMatch(/inside the WelcomeMessage/);
  });

  it('ends a stream whose worker dies with ZS_INGEST_WORKER_FAILED, keeping what was stored', async () => {
    const own = InflatePool.start(1)!;
    const registry = new SessionRegistry({ inflatePool: own, handshakeTimeoutMs: 0, idleTimeoutMs: 0 });
    const t = probeTransport();
    const session = registry.create(t, 'tcp', 'test');
    session.start();
    const done = ended(session);
    const bytes = medium();
    // half the stream, then wait until some zones are stored
    await feed(session, t, bytes.subarray(0, bytes.length >> 1), 65536, false);
    while (session.store.zonesEnded === 0) await new Promise((r) => setImmediate(r));
    await own.close();
    await done;
    expect(session.endReason).toBe('store-error');
    expect(session.error?.code).toBe('ZS_INGEST_WORKER_FAILED');
    expect(session.error?.message).toMatch(/the ingest worker failed/);
    expect(session.store.zonesEnded).toBeGreaterThan(0);
  });
});
