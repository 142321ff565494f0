/**
 * The memory window on a large session: a store fed 2 million allocations (4 threads, each made
 * inside a zone; half never freed), then GET /memory's query (memory-query.ts) at mid-session and
 * the leaks, run in slices as the route runs it. Prints the bytes a record costs, the longest
 * slice (the longest the event loop is held), the slices, the total time, and result() (the
 * unsliced grouping at the end). Run: `npx tsc -p tsconfig.build.json && node --expose-gc dist/bench/memory-window-bench.js [ALLOCS]`.
 */
import { MemoryQuery, type MemoryQueryOptions } from '../server/query/memory-query.js';
import { SLICE_MS, SLICE_UNITS } from '../server/query/query-slicer.js';
import { BudgetAccount, MemoryBudget } from '../server/store/memory-budget.js';
import { SessionStore } from '../server/store/session-store.js';

const ALLOCS = Number(process.argv[2] ?? 2_000_000);
const THREADS = 4;

function build(): SessionStore {
  const budget = new MemoryBudget(8 * 2 ** 30);
  const s = new SessionStore(new BudgetAccount(budget));
  let t = 0;
  const per = ALLOCS / THREADS;
  for (let i = 0; i < per; i++) {
    for (let th = 1; th <= THREADS; th++) {
      s.zoneBegin(th, t, th);
      s.zoneBegin(th, t + 1, 10 + (i % 50));
      const address = 0x7f00_0000_0000 + (i * THREADS + th) * 64;
      s.memAlloc(th, t + 2, address, 16 + ((i * 7 + th) % 4000), 0);
      // half are freed at once, the other half never (leaks)
      if (i % 2 === 0) s.memFree(th, t + 3, address, 0);
      s.zoneEnd(th, t + 4);
      s.zoneEnd(th, t + 5);
    }
    t += 10;
  }
  return s;
}

function run(s: SessionStore, o: MemoryQueryOptions): void {
  (globalThis as { gc?: () => void }).gc?.(); // a collection left over from building the store is not the query's
  const q = new MemoryQuery(s, s.memory.get(0)!, o);
  let slices = 0;
  let longest = 0;
  const times: number[] = [];
  const started = performance.now();
  for (;;) {
    const sliceStart = performance.now();
    let done = false;
    for (let units = 0; units < SLICE_UNITS && !done; units += 1024) {
      done = q.step(1024);
      if (performance.now() - sliceStart >= SLICE_MS) break;
    }
    times.push(performance.now() - sliceStart);
    longest = Math.max(longest, times[times.length - 1]!);
    slices++;
    if (done) break;
  }
  const r0 = performance.now();
  const a = q.result();
  const resultMs = performance.now() - r0;
  const total = performance.now() - started;
  console.log(
    `${o.mode}${o.mode === 'at' ? ` t=${o.t}` : ''}: ${a.active.count} alive, ${a.bySize.length} size groups, ${a.byZone.length} zone groups; ` +
      `${slices} slices, longest ${longest.toFixed(1)} ms (p99 ${times.sort((x, y) => x - y)[Math.floor(times.length * 0.99)]!.toFixed(1)} ms), result() ${resultMs.toFixed(1)} ms, total ${total.toFixed(0)} ms`,
  );
}

const b0 = performance.now();
const store = build();
const pool = store.memory.get(0)!;
let recordBytes = 0;
for (const seg of pool.records.segments) if (seg) recordBytes += seg.bytes;
console.log(`built ${ALLOCS} allocations in ${(performance.now() - b0).toFixed(0)} ms; records ${recordBytes} bytes = ${(recordBytes / ALLOCS).toFixed(1)} bytes each; live table ${pool.live.size} entries; store ${store.budget.bytes} bytes`);
run(store, { mode: 'at', t: store.lastNs / 2 });
run(store, { mode: 'at', t: store.lastNs / 2 }); // zones cached by the first
run(store, { mode: 'leaks', t: 0 });
