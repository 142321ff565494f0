/**
 * `node dist/bench/compare-bench.js` (after `npm run build`): how long the comparison of two
 * captures holds the event loop. The stress recording (6 M zones) is decoded into a store and
 * compared with itself (table, one name's histograms, merged flame graph) as GET /api/compare
 * runs them: sliced (query-slicer.ts), then the rows selected and sorted. A probe re-arms
 * setImmediate throughout and records the longest gap between two of its turns: the longest
 * time any other request, socket or viewer would have waited. Then the part that is not
 * sliced, the join and sort of the rows, at the name cap (MAX_COMPARE_NAMES on each side).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tracyFixturesDir } from './bench-util.js';
import { compareFlameSliced } from '../server/query/compare-flame.js';
import { compareHistogramSliced } from '../server/query/compare-histogram.js';
import { MAX_COMPARE_NAMES } from '../server/query/compare-names.js';
import { compareSidesSliced, joinNameStats, selectCompareRows } from '../server/query/compare-table.js';
import { BudgetAccount, MemoryBudget } from '../server/store/memory-budget.js';
import { readerForStore, SessionStore } from '../server/store/session-store.js';
import { zoneStatisticsSliced } from '../server/query/zone-stats.js';
import type { CompareSideStats } from '../protocol/view/compare-types.js';

/** Runs `work` while a setImmediate probe measures the longest event-loop stall (ms). */
async function withProbe<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; maxStallMs: number; turns: number }> {
  let running = true;
  let last = performance.now();
  let maxStallMs = 0;
  let turns = 0;
  const tick = () => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last);
    last = now;
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  // the stretch after the last probe turn counts too
  maxStallMs = Math.max(maxStallMs, performance.now() - last);
  running = false;
  return { value, ms, maxStallMs, turns };
}

const dir = tracyFixturesDir();
if (dir === null) {
  console.log('compare: ../shared/fixtures/tracy is absent, skipped');
  process.exit(0);
}
const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 40)));
const t = performance.now();
readerForStore(store).push(new Uint8Array(readFileSync(join(dir, 'stress.client.bin'))));
console.log(`compare: stress decoded: ${(store.zonesEnded / 1e6).toFixed(2)} M zones in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const side = { store, range: {} };

const table = await withProbe(async () => {
  const r = await compareSidesSliced(side, side);
  return selectCompareRows(r.rows, { limit: 1000 });
});
console.log(`compare: table, stress vs itself: ${table.ms.toFixed(0)} ms, ${table.value.total} names, longest event-loop stall ${table.maxStallMs.toFixed(1)} ms over ${table.turns} turns`);
// the same probe around the statistics query (GET /stats), the machinery the table reuses
const stats0 = await withProbe(() => zoneStatisticsSliced(store));
console.log(`compare: for reference, /stats of stress: ${stats0.ms.toFixed(0)} ms, longest stall ${stats0.maxStallMs.toFixed(1)} ms over ${stats0.turns} turns`);
const top = table.value.rows.reduce((m, r) => (r.a && r.a.count > m.count ? { name: r.name, count: r.a.count } : m), { name: '', count: 0 });
const hist = await withProbe(() => compareHistogramSliced(side, side, top.name));
console.log(`compare: histogram of ${top.name} (${top.count} zones a side): ${hist.ms.toFixed(0)} ms, longest stall ${hist.maxStallMs.toFixed(1)} ms over ${hist.turns} turns`);
const flame = await withProbe(() => compareFlameSliced(side, side));
console.log(`compare: flame, stress vs itself: ${flame.ms.toFixed(0)} ms, ${flame.value.nodes.length} merged nodes, longest stall ${flame.maxStallMs.toFixed(1)} ms over ${flame.turns} turns`);

// the unsliced tail at the cap: 2 x MAX_COMPARE_NAMES names, half of them on both sides
const byA = new Map<string, CompareSideStats>();
const byB = new Map<string, CompareSideStats>();
for (let i = 0; i < MAX_COMPARE_NAMES; i++) {
  byA.set(`zone-${i}`, { count: i + 1, totalNs: 1000 * i, meanNs: 1000, medianNs: 900 + (i % 200), p99Ns: 5000 });
  byB.set(`zone-${i + MAX_COMPARE_NAMES / 2}`, { count: i + 2, totalNs: 1100 * i, meanNs: 1100, medianNs: 950 + (i % 300), p99Ns: 5200 });
}
const stats = (byName: Map<string, CompareSideStats>) => ({ byName, zones: 0, droppedZones: 0 });
const times: number[] = [];
for (let k = 0; k < 7; k++) {
  const t1 = performance.now();
  const rows = joinNameStats(stats(byA), stats(byB));
  selectCompareRows(rows, { sort: 'median-pct', limit: 10_000 });
  times.push(performance.now() - t1);
}
times.sort((x, y) => x - y);
console.log(`compare: join + sort of ${(MAX_COMPARE_NAMES * 1.5).toLocaleString('en-US')} rows (the name cap on both sides): median of 7 ${times[3]!.toFixed(1)} ms, worst ${times[6]!.toFixed(1)} ms`);
