/**
 * `store`: decode AND store in this process, the session's own wiring without sockets: a
 * TracyStreamReader whose visitor is a SessionStore. Figures: zones/s, and bytes per stored
 * zone twice: what the store charges its budget account, and what the process heap really
 * grew by (heapUsed + arrayBuffers after a full collection, needs --expose-gc).
 */
import { TracyStreamReader } from '../protocol/tracy/index.js';
import { BudgetAccount, MemoryBudget } from '../server/store/memory-budget.js';
import { readerForStore, SessionStore } from '../server/store/session-store.js';
import { checkTarget, collectGarbage, fmtMBs, fmtRate, hasGc, heapBytes, median } from './bench-util.js';
import { loadFixture } from './decoder-bench.js';
import { syntheticStream } from './synthetic-stream.js';

/** Large enough that nothing is evicted: eviction would make the bytes per zone meaningless. */
const BUDGET_BYTES = 16 * 2 ** 30;

export interface StoreFigures {
  name: string;
  runs: number;
  zones: number;
  storedZones: number;
  decompressedBytes: number;
  /** median wall time of decode + store, and the fastest run */
  ms: number;
  minMs: number;
  /** store.budget.bytes after the decode */
  accountBytes: number;
  /** median heapUsed + arrayBuffers growth, after gc */
  heapDeltaBytes: number;
  evictedBytes: number;
}

/** Decodes the whole stream into a fresh store, the way Session wires them. */
export function fillStore(stream: Uint8Array): { store: SessionStore; reader: TracyStreamReader } {
  const store = new SessionStore(new BudgetAccount(new MemoryBudget(BUDGET_BYTES)));
  const reader = readerForStore(store);
  reader.push(stream);
  return { store, reader };
}

/** As fillStore, but only the store survives the call, so the heap figure leaves the reader out. */
function fillAndDropReader(stream: Uint8Array): { store: SessionStore; decompressedBytes: number } {
  const { store, reader } = fillStore(stream);
  return { store, decompressedBytes: reader.decompressedBytes };
}

function storedZones(store: SessionStore): number {
  let n = 0;
  for (const t of store.threads.values()) n += t.storedZones;
  return n;
}

/** The store of the latest measured run: the only reference to it (see measureOnce). */
let latest: SessionStore | null = null;

interface OneRun {
  ms: number;
  heapDelta: number;
  zones: number;
  storedZones: number;
  decompressedBytes: number;
  accountBytes: number;
  evictedBytes: number;
}

/**
 * One decode into a new store, measured. Only numbers leave this function and the store is
 * referenced from `latest` alone, which is cleared before the baseline: a store held in a
 * caller's stack slot from the previous run would otherwise stay alive through the baseline
 * (interpreter registers are not cleared at the end of a block) and cancel the delta.
 */
function measureOnce(stream: Uint8Array): OneRun {
  latest = null;
  collectGarbage();
  const before = heapBytes();
  const t0 = performance.now();
  const filled = fillAndDropReader(stream);
  const ms = performance.now() - t0;
  latest = filled.store;
  // The reader's buffers (window, staging) go; the store keeps only its columns and tables.
  collectGarbage();
  const heapDelta = heapBytes() - before;
  const store = filled.store;
  return {
    ms,
    heapDelta,
    zones: store.zonesEnded,
    storedZones: storedZones(store),
    decompressedBytes: filled.decompressedBytes,
    accountBytes: store.budget.bytes,
    evictedBytes: store.budget.evictedBytes,
  };
}

/**
 * `warmup` unmeasured runs, then `runs` measured ones (medians); each run's store is dropped
 * before the next baseline. The last run's store is returned (the LOD benchmark queries it).
 */
export function benchStore(name: string, stream: Uint8Array, runs: number, warmup = 3): { figures: StoreFigures; store: SessionStore } {
  const measured: OneRun[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const run = measureOnce(stream);
    if (i >= warmup) measured.push(run);
  }
  const last = measured[measured.length - 1]!;
  const figures: StoreFigures = {
    name,
    runs,
    zones: last.zones,
    storedZones: last.storedZones,
    decompressedBytes: last.decompressedBytes,
    ms: median(measured.map((r) => r.ms)),
    minMs: Math.min(...measured.map((r) => r.ms)),
    accountBytes: last.accountBytes,
    heapDeltaBytes: median(measured.map((r) => r.heapDelta)),
    evictedBytes: last.evictedBytes,
  };
  storeFiguresByName.set(name, figures);
  return { figures, store: latest! };
}

export function printStoreFigures(f: StoreFigures): void {
  const perZone = (bytes: number) => (bytes / f.storedZones).toFixed(1);
  console.log(
    `store ${f.name}: ${(f.zones / 1e6).toFixed(2)} M zones ended, ${(f.storedZones / 1e6).toFixed(2)} M stored, ` +
      `evicted ${f.evictedBytes} bytes; medians of ${f.runs} runs\n` +
      `  decode + store: ${f.ms.toFixed(0)} ms  ${fmtRate(f.zones, f.ms)} zones, ${fmtMBs(f.decompressedBytes, f.ms)} decompressed  ` +
      `[fastest ${f.minMs.toFixed(0)} ms: ${fmtRate(f.zones, f.minMs)} zones]\n` +
      `  store account:  ${(f.accountBytes / 2 ** 20).toFixed(1)} MiB = ${perZone(f.accountBytes)} bytes/zone\n` +
      `  process heap:   ${(f.heapDeltaBytes / 2 ** 20).toFixed(1)} MiB = ${perZone(f.heapDeltaBytes)} bytes/zone (heapUsed + arrayBuffers after gc)` +
      (hasGc() ? '' : ' -- WITHOUT --expose-gc: not meaningful'),
  );
}

function checkStoreTargets(f: StoreFigures): void {
  const what = `store ${f.name.split(' (')[0]}`;
  const zonesPerS = (f.zones / f.ms) * 1000;
  checkTarget(what, 'zones/s decoded and stored', `${(zonesPerS / 1e6).toFixed(2)} M`, '>= 11.00 M', zonesPerS >= 11e6);
  const account = f.accountBytes / f.storedZones;
  const heap = f.heapDeltaBytes / f.storedZones;
  // issue 12: no regression from the 14.3 bytes/zone measured before it
  checkTarget(what, 'bytes/zone (store account)', account.toFixed(1), '<= 14.3', account <= 14.3);
  checkTarget(what, 'bytes/zone (process heap)', heap.toFixed(1), '<= 14.3', heap <= 14.3);
}

/** Figures of the streams stored so far in this process, by name (the ingest bench shows them). */
export const storeFiguresByName = new Map<string, StoreFigures>();

let keptSynthetic: SessionStore | null = null;

/** The synthetic stream decoded into a store: the last `store` run's, or made now. */
export function filledSyntheticStore(): SessionStore {
  if (keptSynthetic === null) {
    const t0 = performance.now();
    keptSynthetic = fillStore(syntheticStream().stream).store;
    console.log(`(filled the store with ${(keptSynthetic.zonesEnded / 1e6).toFixed(1)} M zones in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return keptSynthetic;
}

/** `store`: stress (when present) and the synthetic stream. */
export function runStoreBench(fixtures: string | null): void {
  if (!hasGc()) console.log('store: run with node --expose-gc (npm run bench does) for the heap figures');
  if (fixtures) {
    const { figures } = benchStore('stress.client.bin (real Tracy client)', loadFixture(fixtures, 'stress.client.bin'), 5);
    printStoreFigures(figures);
    checkStoreTargets(figures);
  } else {
    console.log('store: ../shared/fixtures/tracy is absent, stress is skipped');
  }
  const s = syntheticStream();
  const { figures, store } = benchStore(s.name, s.stream, 5);
  printStoreFigures(figures);
  checkStoreTargets(figures);
  keptSynthetic = store;
}
