/**
 * What an ended session keeps is charged to the budget or given back: records charged as they
 * are made, open-zone stacks given back when the stream is over, released segments' arrays
 * returned to the array pool.
 */
import { describe, expect, it } from 'vitest';
import { pooledArrayBytes } from './array-pool.js';
import { BudgetAccount, BudgetError, MemoryBudget } from './memory-budget.js';
import { SessionStore } from './session-store.js';
import { THREAD_BYTES } from './thread-timeline.js';

const text = new TextEncoder().encode('zone text');

function store(limit = 2 ** 30): { store: SessionStore; budget: MemoryBudget } {
  const budget = new MemoryBudget(limit);
  return { store: new SessionStore(new BudgetAccount(budget)), budget };
}

describe('SessionStore charges', () => {
  it('charges every lock record, so a stream announcing locks without end hits the table limit', () => {
    const { store: s, budget } = store(2 ** 20);
    let id = 0;
    expect(() => {
      for (; id < 1_000_000; id++) s.lockAnnounce(id, id, 0, false);
    }).toThrow(BudgetError);
    expect(id).toBeLessThan(10_000);
    expect(budget.used).toBeLessThanOrEqual(budget.limit);
    s.lockAnnounce(5, 0, 0, false); // announced again: no second charge
  });

  it('charges a thread when it first appears and gives its open-zone stack back once the stream is over', () => {
    const { store: s, budget } = store();
    s.zoneBegin(1, 10, 0);
    s.zoneEnd(1, 20);
    const charged = budget.used;
    expect(charged).toBeGreaterThanOrEqual(THREAD_BYTES);
    s.compact();
    const t = s.threads.get(1)!;
    expect(t.openStart.length).toBe(0);
    expect(t.openExtra).toBeNull();
    expect(budget.used).toBeLessThan(charged);
    expect(budget.used).toBe(s.budget.bytes);
    s.release();
    expect(budget.used).toBe(0);
  });

  it('keeps the zones left open, with their text, when it compacts', () => {
    const { store: s, budget } = store();
    s.zoneBegin(1, 10, 3);
    s.zoneBegin(1, 11, 4);
    s.zoneText(1, text, 0, text.length);
    s.compact();
    const t = s.threads.get(1)!;
    expect(t.openCount).toBe(2);
    expect([...t.openStart]).toEqual([10, 11]);
    expect([...t.openSrcloc]).toEqual([3, 4]);
    expect(t.openExtra).toEqual([null, { text: 'zone text', name: null, color: -1, valueLo: 0, valueHi: -1, callstack: 0 }]);
    expect(budget.used).toBe(s.budget.bytes);
    expect(budget.used).toBeGreaterThan(0);
  });

  it('gives nothing back twice: compacting after everything was discarded leaves the budget at 0', () => {
    const { store: s, budget } = store();
    s.zoneBegin(1, 10, 0);
    s.zoneEnd(1, 20);
    s.discardAll();
    s.compact();
    expect(budget.used).toBe(0);
    expect(s.budget.bytes).toBe(0);
  });

  it('hands the arrays of a released session to the array pool and marks its segments evicted', () => {
    const { store: s } = store();
    for (let i = 0; i < 300; i++) {
      s.zoneBegin(1, 2 * i, 0);
      s.zoneText(1, text, 0, text.length);
      s.zoneEnd(1, 2 * i + 1);
      s.plot(7, i, i);
      s.message(1, i, text, 0, text.length, -1, 0);
    }
    const zoneSeg = s.threads.get(1)!.depths[0]!.segments[0]!;
    const plotSeg = s.plots.get(7)!.series.segments[0]!;
    const messageSeg = s.messages.segments[0]!;
    const before = pooledArrayBytes();
    s.release();
    expect(pooledArrayBytes()).toBeGreaterThan(before);
    for (const seg of [zoneSeg, plotSeg, messageSeg]) expect(seg.evicted).toBe(true);
    expect(zoneSeg.extraAt(0)).toBeNull();
    expect(plotSeg.count).toBe(0);
    expect(messageSeg.count).toBe(0);
  });
});
