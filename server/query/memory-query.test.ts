/**
 * The memory window's numbers (memory-query.ts): against the medium recording's own counters
 * (truth file) and usage series, and against a synthetic workload whose every allocation, zone
 * and leak is known (test/support/memory-workload.ts).
 */
import { describe, expect, it } from 'vitest';
import { decodeFixtureStore } from '../../test/support/fixture-store.js';
import { FIXTURES_PRESENT, readTruth } from '../../test/support/inspect-fixtures.js';
import { aliveAt, ARENA, feedMemoryWorkload, ITERATIONS, memoryModel, PERIOD_NS, SRCLOC_INDEX, type ModelAlloc } from '../../test/support/memory-workload.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { SessionStore } from '../store/session-store.js';
import { MemoryQuery, SIZE_BUCKETS, type MemoryAnswerCore, type MemoryQueryOptions } from './memory-query.js';
import { runToEnd } from './query-slicer.js';

const POOL_PTR = 0xa4e4a;
const ZONE_NAMES = new Map<number, string>([[SRCLOC_INDEX.Tick, 'Tick'], [SRCLOC_INDEX.LoadAsset, 'LoadAsset'], [SRCLOC_INDEX.Job, 'Job']]);

function synthetic(): SessionStore {
  const s = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 30)));
  feedMemoryWorkload(s, POOL_PTR);
  return s;
}

function query(s: SessionStore, poolPtr: number, o: MemoryQueryOptions): MemoryAnswerCore {
  return runToEnd(new MemoryQuery(s, s.memory.get(poolPtr)!, o));
}

/** The same query stepped 37 units at a time (slices end anywhere). */
function stepped(s: SessionStore, poolPtr: number, o: MemoryQueryOptions): MemoryAnswerCore {
  const q = new MemoryQuery(s, s.memory.get(poolPtr)!, o);
  let steps = 0;
  while (!q.step(37)) steps++;
  expect(steps).toBeGreaterThan(10);
  return q.result();
}

function expected(list: ModelAlloc[]) {
  const bySize = new Map<number, number>();
  const byZone = new Map<number, number>();
  const histogram = new Array<number>(SIZE_BUCKETS).fill(0);
  for (const a of list) {
    bySize.set(a.size, (bySize.get(a.size) ?? 0) + 1);
    const z = a.zone === null ? -1 : SRCLOC_INDEX[a.zone as keyof typeof SRCLOC_INDEX];
    byZone.set(z, (byZone.get(z) ?? 0) + a.size);
    histogram[Math.floor(Math.log2(a.size))]!++;
  }
  return { bySize, byZone, histogram, bytes: list.reduce((n, a) => n + a.size, 0) };
}

describe.skipIf(!FIXTURES_PRESENT)('the memory window of the medium recording', () => {
  const truth = FIXTURES_PRESENT ? readTruth('medium') : null;
  const store = FIXTURES_PRESENT ? decodeFixtureStore('medium') : null;

  it("counts the app's allocations, frees and bytes allocated, and no allocation alive at the end", () => {
    const s = store!;
    const pool = s.memory.get(0)!;
    expect(pool.allocatedBytes).toBe(truth!.memory.bytes_allocated_total);
    const end = query(s, 0, { mode: 'at', t: s.lastNs });
    expect(end.window).toEqual({ allocs: truth!.memory.alloc_unnamed, allocatedBytes: truth!.memory.bytes_allocated_total, frees: truth!.memory.free_unnamed });
    expect(end.active).toEqual({ count: 0, bytes: 0 });
    const leaks = query(s, 0, { mode: 'leaks', t: 0 });
    expect(leaks.active.count).toBe(truth!.memory.alloc_unnamed - truth!.memory.free_unnamed);
    expect(leaks.allocations).toEqual([]);
    expect(end.peak.bytes).toBe(pool.usage.max);
  });

  it('gives, at every allocation time and just after it, the bytes alive that the usage series has at that time', () => {
    const s = store!;
    const pool = s.memory.get(0)!;
    const samples: [number, number][] = [];
    pool.usage.forEachInRange(0, Infinity, (t, v) => samples.push([t, v]));
    let checked = 0;
    let alive = 0;
    for (let i = 0; i < samples.length; i += 97) {
      const [t] = samples[i]!;
      // the last sample at t is the usage after every event at t
      let j = i;
      while (j + 1 < samples.length && samples[j + 1]![0] === t) j++;
      const a = query(s, 0, { mode: 'at', t, limit: 10 });
      expect(a.active.bytes, `t=${t}`).toBe(samples[j]![1]);
      if (a.active.count <= 10) expect(a.allocations.reduce((n, x) => n + x.size, 0)).toBe(a.active.bytes);
      if (a.active.count > 0) alive++;
      checked++;
    }
    expect(checked).toBeGreaterThan(200);
    expect(alive).toBeGreaterThan(50);
  });
});

describe('the memory window of a synthetic workload', () => {
  const model = memoryModel();
  const s = synthetic();

  it('lists the allocations alive at t, with their thread, times, age and the zone they were made in', () => {
    for (const t of [150_000, 150_001, 499_999, 500_000, 3 * PERIOD_NS + 500_000, 3 * PERIOD_NS + 499_999, 123 * PERIOD_NS + 260_000, (ITERATIONS - 1) * PERIOD_NS + 910_000]) {
      const want = aliveAt(model, '', t);
      const a = query(s, 0, { mode: 'at', t, limit: 10_000 });
      expect(a.active.count, `t=${t}`).toBe(want.length);
      expect(a.allocations.map((x) => [x.address, x.size, x.thread, x.allocNs, x.ageNs, ZONE_NAMES.get(x.srcloc) ?? null])).toEqual(
        want.map((m) => [m.address, m.size, m.thread, m.allocNs, t - m.allocNs, m.zone]),
      );
      const e = expected(want);
      expect(a.active.bytes).toBe(e.bytes);
      expect(new Map(a.bySize.map((g) => [g.size, g.count]))).toEqual(e.bySize);
      expect(new Map(a.byZone.map((g) => [g.srcloc, g.bytes]))).toEqual(e.byZone);
      expect(a.histogram.counts).toEqual(e.histogram);
      expect(a.cursor).toBeNull();
    }
  });

  it('groups by size and by zone, largest first', () => {
    const t = 200 * PERIOD_NS + 550_000;
    const a = query(s, 0, { mode: 'at', t });
    expect(a.byZone.map((g) => ZONE_NAMES.get(g.srcloc))).toEqual(['LoadAsset', 'Tick']);
    // LoadAsset: the last three iterations' allocations plus every 10th before (leaks)
    const loads = aliveAt(model, '', t).filter((m) => m.zone === 'LoadAsset');
    expect(a.byZone[0]).toMatchObject({ count: loads.length, bytes: loads.reduce((n, m) => n + m.size, 0) });
    expect(a.byZone[1]).toMatchObject({ srcloc: SRCLOC_INDEX.Tick, count: 1, bytes: 1000 });
    for (let i = 1; i < a.bySize.length; i++) expect(a.bySize[i - 1]!.bytes).toBeGreaterThanOrEqual(a.bySize[i]!.bytes);
  });

  it('keeps the named pool apart, with its own leaks', () => {
    const arena = model.filter((m) => m.pool === ARENA);
    const leaks = query(s, POOL_PTR, { mode: 'leaks', t: 0 });
    const want = arena.filter((m) => m.end === 'leak');
    expect(want.length).toBe(5);
    expect(leaks.allocations.map((x) => x.address)).toEqual(want.map((m) => m.address));
    expect(leaks.allocations.every((x) => x.srcloc === SRCLOC_INDEX.Job && x.freeNs === null)).toBe(true);
    expect(leaks.window).toEqual({ allocs: arena.length, allocatedBytes: arena.length * 4096, frees: arena.length - 5 });
    expect(s.memory.get(POOL_PTR)!.allocs).toBe(arena.length);
    // the default pool's leaks: every 10th LoadAsset allocation, and those freed after the end
    const defaultLeaks = query(s, 0, { mode: 'leaks', t: 0 });
    expect(defaultLeaks.allocations.map((x) => x.address)).toEqual(model.filter((m) => m.pool === '' && m.end === 'leak').map((m) => m.address));
    expect(defaultLeaks.allocations[0]!.ageNs).toBe(s.lastNs - defaultLeaks.allocations[0]!.allocNs);
  });

  it('lists what was made in a range and is alive at its end', () => {
    const t0 = 100 * PERIOD_NS;
    const t1 = 105 * PERIOD_NS + 300_000;
    const a = query(s, 0, { mode: 'range', t0, t: t1, limit: 10_000 });
    const want = aliveAt(model, '', t1).filter((m) => m.allocNs >= t0);
    expect(a.allocations.map((x) => x.address)).toEqual(want.map((m) => m.address));
    const made = model.filter((m) => m.pool === '' && m.allocNs >= t0 && m.allocNs <= t1);
    expect(a.window.allocs).toBe(made.length);
    expect(a.window.frees).toBe(model.filter((m) => m.pool === '' && m.end === 'free' && m.freeNs >= t0 && m.freeNs <= t1).length);
  });

  it('pages through the list with the cursor: every allocation once, in order, whatever the page size', () => {
    const all = query(s, 0, { mode: 'leaks', t: 0, limit: 10_000 }).allocations;
    expect(all.length).toBeGreaterThan(40);
    for (const limit of [1, 7, 40]) {
      const seen: number[] = [];
      let cursor: number | undefined;
      for (let pages = 0; pages < 1000; pages++) {
        const page = query(s, 0, { mode: 'leaks', t: 0, limit, ...(cursor !== undefined && { cursor }) });
        expect(page.allocations.length).toBeLessThanOrEqual(limit);
        expect(page.active.count).toBe(all.length);
        seen.push(...page.allocations.map((x) => x.row));
        if (page.cursor === null) break;
        cursor = page.cursor;
      }
      expect(seen).toEqual(all.map((x) => x.row));
    }
  });

  it('gives the same answer when computed in small slices', () => {
    const o: MemoryQueryOptions = { mode: 'at', t: 250 * PERIOD_NS + 260_000, limit: 10_000 };
    expect(stepped(s, 0, o)).toEqual(query(s, 0, o));
  });

  it("finds an allocation's zone when the zone arrives after the allocation (the serial queue ran ahead)", () => {
    const s2 = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 30)));
    s2.zoneBegin(1, 0, 0);
    s2.memAlloc(1, 150, 0xa0, 16, 0);
    const early = query(s2, 0, { mode: 'at', t: 160 });
    // the thread's data has not reached t=150 yet (its outer zone began at 0 and is open)
    expect(early.allocations[0]!.srcloc).toBe(0);
    s2.zoneBegin(1, 100, 3);
    s2.zoneEnd(1, 200);
    s2.zoneEnd(1, 300);
    const late = query(s2, 0, { mode: 'at', t: 160 });
    expect(late.allocations[0]!.srcloc).toBe(3);
    expect(late.byZone).toEqual([{ srcloc: 3, count: 1, bytes: 16 }]);
  });
});
