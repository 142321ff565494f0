import { encodeClientStream, QueueWriter, WELCOME_SIZE, type StreamReaderHooks } from '../../protocol/tracy/index.js';
import { InflatedStreamReader, SyncDecodeSource } from '../session/decode-source.js';
import { reclaimNow } from '../store/array-pool.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { SessionStore, useDecoderTables } from '../store/session-store.js';
import { ZoneCountingStore } from '../store/zone-counting-store.js';
import { syntheticWelcome, writeSyntheticWorkload } from './synthetic-workload.js';

/** Zones per warm-up round: enough for the optimizing compiler to take the walk with full type feedback. */
export const WARM_UP_ZONES = 150_000;
const WARM_UP_ROUNDS = 2;
/** The throwaway stores' budget: a round stores ~2 MiB. */
const WARM_UP_BUDGET = 64 * 1024 * 1024;
/** Wire bytes handed over at a time on the main-thread path: what one socket read gives at most. */
const WARM_UP_CHUNK = 64 * 1024;

/** Which reader the sessions of this process use (see SessionOptions.inflatePool). */
export type WarmUpPath = 'main-thread' | 'inflate-worker';

export interface WarmUpResult {
  /** Wall-clock ms the warm-up took (the process does nothing else meanwhile). */
  ms: number;
  zones: number;
}

export interface WarmUpOptions {
  /** The reader this process's sessions use (default 'main-thread'). */
  path?: WarmUpPath;
  /** Its sessions count zones instead of keeping them (ZoneCountingStore); default false. */
  countZonesOnly?: boolean;
  /** Zones per round (default WARM_UP_ZONES). */
  zones?: number;
}

/**
 * Walks a synthetic workload (synthetic-workload.ts: nested zones in the 16- and 32-bit forms,
 * thread switches, frame marks, plots, source-location and string replies) into throwaway
 * stores before the first connection, along the path this process's sessions take:
 * - 'main-thread' (no ingest worker): the workload as wire bytes (welcome, LZ4 frames,
 *   Terminate) handed in 64 KiB chunks to the same decode source class a session uses, so the
 *   frame inflater (whole and split frames) is warm too;
 * - 'inflate-worker': decompressed frames through the main thread's reader of worker output.
 * Each round then ends as a session does (decode buffers released, store compacted).
 * Why: V8 compiles the item walk (one large function) and the store's calls only once they ran
 * long enough to collect type feedback; a fresh process's first session otherwise runs
 * interpreted and then deoptimizes each time it meets an item kind for the first time
 * (`node --trace-deopt`: "Insufficient type feedback" in walk, zoneEnd, srclocIndex...), which
 * made a fresh process's first stress session take ~1.5x a warm one. And the end of a session
 * changes fields the walk's compiled code relied on (the store's compact() replaces each
 * thread's open-zone stack, a field never reassigned before): done only by the first real
 * session, that deoptimized walk, zoneBegin and zoneEnd ("code dependencies", `node
 * --log-deopt`) as it ended, so the second session re-tiered them. Nothing of the warm-up is
 * kept: its stores have their own budget and are dropped.
 * @throws Error when the walk did not store every zone written (a bug, not bad input)
 */
export function warmUpDecoder(options: WarmUpOptions = {}): WarmUpResult {
  const path = options.path ?? 'main-thread';
  const zones = options.zones ?? WARM_UP_ZONES;
  const t0 = performance.now();
  let total = 0;
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    // the store class of this process's sessions: the walk then meets one zoneBegin/zoneEnd
    const account = new BudgetAccount(new MemoryBudget(WARM_UP_BUDGET));
    const store = options.countZonesOnly === true ? new ZoneCountingStore(account) : new SessionStore(account);
    const written = path === 'main-thread' ? throughSyncSource(store, zones, round + 1) : throughInflatedReader(store, zones, round + 1);
    // as Session.end: what an ended session keeps is its compacted store
    store.compact();
    store.version++;
    // a warm-up that walked something else than it wrote warmed the wrong paths: say so loudly
    if (store.zonesEnded !== written) throw new Error(`decoder warm-up: ${store.zonesEnded} zones stored of ${written} written`);
    total += written;
  }
  // what the warm-up allocated (its streams, stores and buffers) is all garbage now: return it
  // before the first session, which then reuses that memory instead of growing the process
  reclaimNow();
  return { ms: performance.now() - t0, zones: total };
}

/** Session hooks of the same shape as a session's (its onFrame bumps the store's version). */
function hooksFor(store: SessionStore): StreamReaderHooks {
  return {
    onWelcome: () => {},
    onFrame: () => {
      store.version++;
    },
  };
}

function throughSyncSource(store: SessionStore, zones: number, seed: number): number {
  let written = 0;
  const wire = encodeClientStream(syntheticWelcome(), (q) => (written = writeSyntheticWorkload(q, zones, seed).zones));
  const source = new SyncDecodeSource(store, hooksFor(store));
  useDecoderTables(store, source.reader.decoder);
  for (const [from, to] of wireChunks(wire)) {
    source.receive(wire.subarray(from, to));
    source.decodeSlice(Infinity, Infinity);
  }
  source.close();
  if (!source.finished || source.reader.error !== null || !store.terminated) {
    throw new Error(`decoder warm-up: the synthetic stream did not decode to its end (${source.reader.error?.message ?? 'no Terminate'})`);
  }
  source.release();
  return written;
}

function throughInflatedReader(store: SessionStore, zones: number, seed: number): number {
  const reader = new InflatedStreamReader(store, hooksFor(store));
  useDecoderTables(store, reader.decoder);
  reader.welcomeRead(syntheticWelcome(), null);
  const queue = new QueueWriter({ onFrame: (items, start, length) => reader.frameRead(items, start, start + length, 0) });
  const written = writeSyntheticWorkload(queue, zones, seed).zones;
  queue.flush();
  reader.decoder.release();
  return written;
}

/**
 * Where a socket could cut `wire` (status byte, welcome, then frames of a 4-byte size and a
 * block): every 64 KiB, which falls inside frame blocks, and inside every other frame's size
 * header, so the inflater's split-block and split-header paths both run.
 */
export function wireChunks(wire: Uint8Array): [number, number][] {
  const cuts = new Set<number>();
  for (let at = WARM_UP_CHUNK; at < wire.length; at += WARM_UP_CHUNK) cuts.add(at);
  const v = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
  let frame = 0;
  for (let at = 1 + WELCOME_SIZE; at + 4 <= wire.length; at += 4 + v.getUint32(at, true)) {
    if (frame++ % 2 === 1) cuts.add(at + 2);
  }
  const points = [0, ...[...cuts].sort((a, b) => a - b), wire.length];
  const chunks: [number, number][] = [];
  for (let i = 1; i < points.length; i++) chunks.push([points[i - 1]!, points[i]!]);
  return chunks;
}
