/**
 * The machinery that keeps heavy queries from blocking: slicing (yields counted in event-loop
 * turns, not milliseconds), cancellation, the stepwise sort, the bounded first-by-time list, the
 * concurrency gate and the resumable zone walk under eviction and release.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../test/support/tracy-streams.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { SessionStore } from '../store/session-store.js';
import { SEGMENT_ROWS } from '../store/zone-columns.js';
import { FirstByTime } from './first-by-time.js';
import { ChunkedList } from './growable.js';
import { QueryBusyError, QueryGate } from './query-gate.js';
import { QueryCancelledError, runInSlices, runToEnd, yieldToEventLoop, type SlicedQuery } from './query-slicer.js';
import { SlicedSort } from './sliced-sort.js';
import { ThreadZoneWalk, walkThreadZones } from './zone-walk.js';

/** A query of `total` units that records how many units each step was given. */
class CountingQuery implements SlicedQuery<number> {
  done = 0;
  steps = 0;
  constructor(readonly total: number) {}
  step(units: number): boolean {
    this.steps++;
    this.done = Math.min(this.total, this.done + units);
    return this.done === this.total;
  }
  result(): number {
    return this.done;
  }
}

/** Event-loop turns taken by `promise` to settle (counted with setImmediate). */
async function turnsUntil(promise: Promise<unknown>): Promise<number> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  let turns = 0;
  while (!settled) {
    await yieldToEventLoop();
    turns++;
  }
  return turns;
}

function storeWithOneThread(zones: number): SessionStore {
  const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 34)));
  // zone k at depth 0: [10k, 10k + 8), with a child [10k + 2, 10k + 5)
  for (let k = 0; k < zones; k++) {
    store.zoneBegin(1, 10 * k, 0);
    store.zoneBegin(1, 10 * k + 2, 1);
    store.zoneEnd(1, 10 * k + 5);
    store.zoneEnd(1, 10 * k + 8);
  }
  return store;
}

describe('runInSlices', () => {
  it('gives the event loop a turn after every slice of sliceUnits units, however fast the machine', async () => {
    const q = new CountingQuery(100_000);
    const turns = await turnsUntil(runInSlices(q, { sliceUnits: 10_000, sliceMs: Infinity }));
    expect(q.result()).toBe(100_000);
    expect(turns).toBeGreaterThanOrEqual(9);
  });

  it('runs to the end at once with runToEnd', () => {
    const q = new CountingQuery(1_000_000);
    expect(runToEnd(q)).toBe(1_000_000);
    expect(q.steps).toBe(1);
  });

  it('stops between slices when its signal is aborted, throwing the reason', async () => {
    const controller = new AbortController();
    const q = new CountingQuery(1_000_000);
    const run = runInSlices(q, { sliceUnits: 1000, sliceMs: Infinity, signal: controller.signal });
    await yieldToEventLoop();
    const reason = new Error('session gone');
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(q.done).toBeLessThan(1_000_000);
    const other = new AbortController();
    other.abort('client left');
    await expect(runInSlices(new CountingQuery(10), { signal: other.signal })).rejects.toThrow(QueryCancelledError);
  });
});

describe('SlicedSort', () => {
  for (const n of [0, 1, 2, 4095, 4096, 4097, 65_536, 65_537, 200_001]) {
    it(`sorts ${n} values in steps exactly as a native sort does`, () => {
      const rand = mulberry32(n + 7);
      const list = new ChunkedList((k) => new Uint32Array(k));
      const all: number[] = [];
      for (let i = 0; i < n; i++) {
        const v = (rand() * 2 ** 32) >>> 0;
        list.push(v);
        all.push(v);
      }
      const sorter = new SlicedSort(list, (k) => new Uint32Array(k));
      let steps = 0;
      while (!sorter.step(777)) steps++;
      expect(Array.from(sorter.sorted())).toEqual(Array.from(Uint32Array.from(all).sort()));
      if (n > 10_000) expect(steps).toBeGreaterThan(n / 777);
    });
  }
});

describe('FirstByTime', () => {
  it('keeps what a stable sort by time cut to the limit keeps, in 2 x limit items', () => {
    const rand = mulberry32(3);
    for (const limit of [0, 1, 7, 100]) {
      const first = new FirstByTime<{ t: number; i: number }>(limit, (x) => x.t);
      const all: { t: number; i: number }[] = [];
      for (let i = 0; i < 5000; i++) {
        const x = { t: Math.floor(rand() * 300), i };
        all.push(x);
        first.add(x);
      }
      const want = [...all].sort((a, b) => a.t - b.t).slice(0, limit);
      expect(first.sorted()).toEqual(want);
    }
  });
});

describe('QueryGate', () => {
  it('runs maxRunning at once, queues maxWaiting more in order and refuses the next with ZS_QUERY_BUSY', async () => {
    const gate = new QueryGate(1, 1);
    const order: string[] = [];
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
    const second = gate.run(async () => void order.push('second'));
    await expect(gate.run(async () => 'third')).rejects.toThrow(QueryBusyError);
    await expect(gate.run(async () => 'third')).rejects.toMatchObject({ code: 'ZS_QUERY_BUSY', message: expect.stringMatching(/1 running and 1 waiting/) });
    expect(gate.active).toBe(1);
    expect(gate.queued).toBe(1);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(gate.active).toBe(0);
    expect(() => new QueryGate(0)).toThrow(TypeError);
  });
});

describe('ThreadZoneWalk', () => {
  const ZONES = 3 * SEGMENT_ROWS;

  it('visits in small steps exactly what one walk visits', () => {
    const store = storeWithOneThread(ZONES);
    const thread = store.threads.get(1)!;
    const once: number[][] = [];
    walkThreadZones(thread, 1000, 200_000, (...a) => once.push(a));
    const stepped: number[][] = [];
    const walk = new ThreadZoneWalk(thread, 1000, 200_000, (...a) => stepped.push(a));
    let steps = 0;
    while (!walk.step(100)) steps++;
    expect(stepped).toEqual(once);
    // depth 0 starts at 10k (k = 100..20000), depth 1 at 10k + 2 (k = 100..19999)
    expect(once.length).toBe(19_901 + 19_900);
    expect(steps).toBeGreaterThan(300);
  });

  it('skips rows evicted between two steps and carries on with the parents and self times of what is left', () => {
    const store = storeWithOneThread(ZONES);
    const thread = store.threads.get(1)!;
    const seen: { depth: number; row: number; self: number; parent: number }[] = [];
    const walk = new ThreadZoneWalk(thread, -Infinity, Infinity, (depth, row, _s, _d, self, _src, parent) => seen.push({ depth, row, self, parent }));
    walk.step(SEGMENT_ROWS / 2);
    // the oldest segment of both depths goes (as the budget would evict it)
    for (const cols of thread.depths) cols.segments[0]!.evict();
    expect(thread.depths[0]!.firstRow).toBe(SEGMENT_ROWS);
    while (!walk.step(1000));
    const depth1 = seen.filter((z) => z.depth === 1);
    expect(depth1.every((z) => z.row >= SEGMENT_ROWS)).toBe(true);
    expect(depth1.length).toBe(ZONES - SEGMENT_ROWS);
    // a child's parent is the zone of the same row one level up; parents' self time is 8 - 3
    expect(depth1.every((z) => z.parent === z.row)).toBe(true);
    expect(seen.filter((z) => z.depth === 0 && z.row >= SEGMENT_ROWS).every((z) => z.self === 5)).toBe(true);
  });

  it('ends at the next step when the store is released (session deleted)', () => {
    const store = storeWithOneThread(ZONES);
    const thread = store.threads.get(1)!;
    let visits = 0;
    const walk = new ThreadZoneWalk(thread, -Infinity, Infinity, () => visits++);
    walk.step(1000);
    store.release();
    const before = visits;
    expect(walk.step(1_000_000)).toBe(true);
    expect(visits).toBe(before);
  });
});
