/**
 * `lod`: the viewport query behind GET /api/sessions/:id/zones (queryThreadZones for every
 * thread, as the route does) on the store filled with the 10 M-zone synthetic stream, at
 * 2000 px: the full range, the last 1% of it and the last millisecond.
 */
import { MAX_ZONES_PER_DEPTH, queryThreadZones, type ThreadZones } from '../server/query/zone-lod.js';
import type { SessionStore } from '../server/store/session-store.js';
import { checkTarget, collectGarbage, median } from './bench-util.js';
import { filledSyntheticStore } from './store-bench.js';

const WIDTH_PX = 2000;
const WARMUP = 5;
const RUNS = 21;

export interface LodFigures {
  view: string;
  t0: number;
  t1: number;
  nsPerPx: number;
  /** items returned (single zones plus merged runs) and the zones they stand for */
  items: number;
  zonesCovered: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

function queryAll(store: SessionStore, t0: number, t1: number, nsPerPx: number): ThreadZones[] {
  const out: ThreadZones[] = [];
  for (const t of store.threadList()) out.push(queryThreadZones(t, t0, t1, nsPerPx, MAX_ZONES_PER_DEPTH));
  return out;
}

export function benchLodView(store: SessionStore, view: string, t0: number, t1: number): LodFigures {
  const nsPerPx = (t1 - t0) / WIDTH_PX;
  let result: ThreadZones[] = [];
  for (let i = 0; i < WARMUP; i++) result = queryAll(store, t0, t1, nsPerPx);
  collectGarbage();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    result = queryAll(store, t0, t1, nsPerPx);
    times.push(performance.now() - start);
  }
  let items = 0;
  let zonesCovered = 0;
  for (const thread of result) {
    for (const d of thread.depths) {
      items += d.count.length;
      for (let k = 0; k < d.count.length; k++) zonesCovered += d.count[k]!;
    }
  }
  return { view, t0, t1, nsPerPx, items, zonesCovered, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times) };
}

export function printLodFigures(f: LodFigures): void {
  console.log(
    `  ${f.view.padEnd(28)} ${((f.t1 - f.t0) / 1e6).toFixed(3).padStart(10)} ms range, ${f.nsPerPx.toFixed(1).padStart(9)} ns/px: ` +
      `${String(f.items).padStart(6)} items for ${String(f.zonesCovered).padStart(8)} zones, ` +
      `median ${f.medianMs.toFixed(2)} ms (min ${f.minMs.toFixed(2)}, max ${f.maxMs.toFixed(2)})`,
  );
}

/** `lod`: needs the filled store (made here if `store` did not run in this process). */
export function runLodBench(): void {
  const store = filledSyntheticStore();
  let firstNs = Infinity;
  for (const t of store.threads.values()) firstNs = Math.min(firstNs, t.firstNs);
  const lastNs = store.lastNs;
  const span = lastNs - firstNs;
  console.log(
    `lod: ${(store.zonesEnded / 1e6).toFixed(1)} M zones on ${store.threads.size} threads, ${(span / 1e6).toFixed(0)} ms, ` +
      `${WIDTH_PX} px wide, all threads as GET /zones does; ${RUNS} runs after ${WARMUP} warm-up`,
  );
  const views = [
    benchLodView(store, 'full range', 0, lastNs),
    benchLodView(store, 'last 1% of the range', lastNs - span / 100, lastNs),
    benchLodView(store, 'last 1 ms', lastNs - 1e6, lastNs),
    benchLodView(store, '1 ms in the middle', firstNs + span / 2, firstNs + span / 2 + 1e6),
  ];
  for (const f of views) printLodFigures(f);
  const full = views[0]!;
  checkTarget('lod', 'full-range query of 10 M zones at 2000 px', `${full.medianMs.toFixed(2)} ms`, '< 20 ms', full.medianMs < 20);
}
