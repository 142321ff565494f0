/**
 * The allocation records of a memory pool (alloc-log.ts): one record per allocation with its
 * end, charged to the budget, evicted oldest first, and frees of evicted records still giving
 * the usage plot the right size.
 */
import { describe, expect, it } from 'vitest';
import { ALLOC_ROWS, ALLOC_SEGMENT_OBJECT_BYTES, AllocEnd, LIVE_ENTRY_BYTES } from './alloc-log.js';
import { BudgetAccount, MemoryBudget } from './memory-budget.js';
import { SessionStore } from './session-store.js';

function store(limit = 2 ** 30): { store: SessionStore; budget: MemoryBudget } {
  const budget = new MemoryBudget(limit);
  return { store: new SessionStore(new BudgetAccount(budget)), budget };
}

function record(s: SessionStore, row: number, pool = 0) {
  const log = s.memory.get(pool)!.records;
  const seg = log.segmentOf(row)!;
  const i = row - seg.index * ALLOC_ROWS;
  return { address: seg.address[i], size: seg.size[i], thread: seg.thread[i], allocNs: seg.allocNs[i], freeNs: seg.freeNs[i], ended: seg.ended[i] };
}

describe('AllocLog', () => {
  it('keeps one record per allocation with its address, size, thread and times, and how it ended', () => {
    const { store: s } = store();
    s.memAlloc(7, 100, 0x1000, 64, 0);
    s.memAlloc(8, 110, 0x2000, 32, 0);
    s.memFree(7, 150, 0x1000, 0);
    s.memAlloc(8, 160, 0x2000, 48, 0); // allocated again without a free: the first record ends
    s.memFree(8, 170, 0xdead, 0); // unknown address
    const pool = s.memory.get(0)!;
    expect(pool.records.count).toBe(3);
    expect(record(s, 0)).toEqual({ address: 0x1000, size: 64, thread: 7, allocNs: 100, freeNs: 150, ended: AllocEnd.Freed });
    expect(record(s, 1)).toEqual({ address: 0x2000, size: 32, thread: 8, allocNs: 110, freeNs: 160, ended: AllocEnd.Replaced });
    expect(record(s, 2)).toEqual({ address: 0x2000, size: 48, thread: 8, allocNs: 160, freeNs: Infinity, ended: AllocEnd.Open });
    expect(pool).toMatchObject({ allocs: 3, frees: 2, unknownFrees: 1, allocatedBytes: 144, usedBytes: 48 });
    expect(pool.live.size).toBe(1);
  });

  it('ends every live record when the pool is discarded, and gives their table entries back', () => {
    const { store: s, budget } = store();
    s.memAlloc(1, 10, 0x10, 8, 5);
    s.memAlloc(1, 20, 0x20, 8, 5);
    const before = budget.used;
    s.memDiscard(1, 30, 5);
    expect(budget.used).toBe(before - 2 * LIVE_ENTRY_BYTES);
    expect(record(s, 0, 5)).toMatchObject({ freeNs: 30, ended: AllocEnd.Discarded });
    expect(record(s, 1, 5)).toMatchObject({ freeNs: 30, ended: AllocEnd.Discarded });
    expect(s.memory.get(5)!.live.size).toBe(0);
    expect(s.memory.get(5)!.usedBytes).toBe(0);
  });

  it('charges its segments as they grow and gives everything back on release', () => {
    const { store: s, budget } = store();
    for (let i = 0; i < ALLOC_ROWS + 10; i++) s.memAlloc(1, i, 0x1000 + 16 * i, 16, 0);
    const log = s.memory.get(0)!.records;
    const segs = log.segments.filter((x) => x !== null);
    expect(segs.length).toBe(2);
    expect(segs[0]!.bytes).toBe(ALLOC_SEGMENT_OBJECT_BYTES + ALLOC_ROWS * 49);
    expect(segs.every((x) => x!.budgetSlot >= 0)).toBe(true);
    expect(budget.used).toBe(s.budget.bytes);
    s.release();
    expect(budget.used).toBe(0);
    expect(log.stored).toBe(0);
  });

  it('evicts its oldest segments under the budget; a later free of an evicted record still takes its size off the usage', () => {
    // room for a few segments of records beside the live table
    const { store: s, budget } = store(3 * 2 ** 20);
    const pool = () => s.memory.get(0)!;
    const longLived: number[] = [];
    let t = 0;
    for (let i = 0; i < 20 * ALLOC_ROWS; i++) {
      const address = 0x10_0000 + 16 * i;
      s.memAlloc(1, t++, address, 100 + (i % 7), 0);
      if (i % 1000 === 0) longLived.push(address);
      else s.memFree(1, t++, address, 0);
    }
    const log = pool().records;
    expect(log.firstRow).toBeGreaterThan(0);
    expect(log.evictedBeforeNs).toBeGreaterThan(0);
    expect(budget.used).toBeLessThanOrEqual(budget.limit);
    expect(log.count).toBe(20 * ALLOC_ROWS);
    // the long-lived allocations in evicted segments are counted, with their bytes
    const evictedLive = longLived.filter((a) => (pool().live.get(a) ?? 0) < 0);
    expect(evictedLive.length).toBeGreaterThan(0);
    expect(log.liveEvictedCount).toBe(evictedLive.length);
    const usedBefore = pool().usedBytes;
    const size = -pool().live.get(evictedLive[0]!)! - 1;
    s.memFree(1, t++, evictedLive[0]!, 0);
    expect(pool().usedBytes).toBe(usedBefore - size);
    expect(pool().usage.last).toBe(usedBefore - size);
    expect(log.liveEvictedCount).toBe(evictedLive.length - 1);
    // the app's counters are not evicted
    expect(pool().allocs).toBe(20 * ALLOC_ROWS);
    expect(pool().frees).toBe(20 * ALLOC_ROWS - longLived.length + 1);
    expect(pool().unknownFrees).toBe(0);
  });
});
