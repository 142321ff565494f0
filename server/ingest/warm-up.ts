import { QueueWriter } from '../../protocol/tracy/index.js';
import { InflatedStreamReader } from '../session/decode-source.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { SessionStore } from '../store/session-store.js';
import { syntheticWelcome, writeSyntheticWorkload } from './synthetic-workload.js';

/** Zones per warm-up round: enough for the optimizing compiler to take the walk with full type feedback. */
export const WARM_UP_ZONES = 150_000;
const WARM_UP_ROUNDS = 2;
/** The throwaway stores' budget: a round stores ~2 MiB. */
const WARM_UP_BUDGET = 64 * 1024 * 1024;

export interface WarmUpResult {
  /** Wall-clock ms the warm-up took (the process does nothing else meanwhile). */
  ms: number;
  zones: number;
}

/**
 * Walks a synthetic workload (synthetic-workload.ts: nested zones in the 16- and 32-bit forms,
 * thread switches, frame marks, plots, source-location and string replies) into throwaway
 * stores, through the same reader class and calls a network session uses, before the first
 * connection. Why: V8 compiles the item walk (one large function) and the store's calls only
 * once they ran long enough to collect type feedback; a fresh process's first session otherwise
 * runs interpreted and then deoptimizes each time it meets an item kind for the first time
 * (`node --trace-deopt`: "Insufficient type feedback" in walk, zoneEnd, srclocIndex...), which
 * made a fresh process's first stress session take ~1.5x a warm one. Nothing of the warm-up is
 * kept: its stores have their own budget and are dropped.
 * @throws Error when the walk did not store every zone written (a bug, not bad input)
 */
export function warmUpDecoder(zones = WARM_UP_ZONES): WarmUpResult {
  const t0 = performance.now();
  let total = 0;
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    const store = new SessionStore(new BudgetAccount(new MemoryBudget(WARM_UP_BUDGET)));
    const reader = new InflatedStreamReader(store, {});
    store.srclocs = reader.decoder.srclocs;
    store.names = reader.decoder.names;
    store.callstacks = reader.decoder.callstacks;
    reader.welcomeRead(syntheticWelcome(), null);
    const queue = new QueueWriter({ onFrame: (items, start, length) => reader.frameRead(items, start, start + length, 0) });
    const written = writeSyntheticWorkload(queue, zones, round + 1).zones;
    queue.flush();
    reader.decoder.release();
    // a warm-up that walked something else than it wrote warmed the wrong paths: say so loudly
    if (store.zonesEnded !== written) throw new Error(`decoder warm-up: ${store.zonesEnded} zones stored of ${written} written`);
    total += written;
  }
  return { ms: performance.now() - t0, zones: total };
}
