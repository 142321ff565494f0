/**
 * ZoneCountingStore (what `zonescope capture` decodes into) must count exactly the zones a
 * SessionStore stores, per thread, from real Tracy recordings, keep everything else as it does,
 * and hold no zone.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CallstackTarget } from '../../protocol/tracy/index.js';
import { FIXTURES_PRESENT, fixture, readTruth } from '../../test/support/inspect-fixtures.js';
import { BudgetAccount, MemoryBudget } from './memory-budget.js';
import { readerForStore, SessionStore } from './session-store.js';
import { ZoneCountingStore } from './zone-counting-store.js';

function decode(name: string, counting: boolean): { store: SessionStore; budget: MemoryBudget } {
  const budget = new MemoryBudget(2 ** 40);
  const account = new BudgetAccount(budget);
  const store = counting ? new ZoneCountingStore(account) : new SessionStore(account);
  const reader = readerForStore(store);
  reader.push(new Uint8Array(readFileSync(fixture(`${name}.client.bin`))));
  expect(reader.error).toBeNull();
  return { store, budget };
}

describe.skipIf(!FIXTURES_PRESENT).each(['small', 'small-ondemand', 'medium'])('ZoneCountingStore fed the %s recording', (name) => {
  it('counts the zones a SessionStore stores, thread by thread, and keeps none of them', () => {
    const truth = readTruth(name);
    const kept = decode(name, false);
    const counted = decode(name, true);
    expect(counted.store.zonesBegun).toBe(truth.zones_total);
    expect(counted.store.zonesEnded).toBe(kept.store.zonesEnded);
    expect(counted.store.zonesEnded).toBeGreaterThan(0);
    const perThread = (s: SessionStore) => s.threadList().map((t) => [t.id, t.name, t.zonesBegun, t.zonesEnded, t.unmatchedEnds]);
    expect(perThread(counted.store)).toEqual(perThread(kept.store));
    for (const t of counted.store.threadList()) {
      expect(t.storedZones).toBe(0);
      expect(t.depths).toHaveLength(0);
      expect(t.openCount).toBe(0);
    }
    // the rest is kept as before
    expect(counted.store.lastNs).toBe(kept.store.lastNs);
    expect([...counted.store.frames.keys()]).toEqual([...kept.store.frames.keys()]);
    expect([...counted.store.plots.keys()]).toEqual([...kept.store.plots.keys()]);
    expect(counted.store.messages.total).toBe(kept.store.messages.total);
    expect(counted.store.messages.total).toBeGreaterThan(0);
    // and the zones' memory is not spent
    expect(counted.budget.used).toBeLessThan(kept.budget.used);
  });
});

describe('ZoneCountingStore', () => {
  it('counts nesting per thread: an end with nothing open is unmatched, and zone modifiers are dropped', () => {
    const store = new ZoneCountingStore(new BudgetAccount(new MemoryBudget(2 ** 30)));
    store.zoneBegin(7, 10, 1);
    store.zoneBegin(7, 20, 2);
    store.zoneBegin(9, 25, 1);
    store.zoneColor(7, 0xff0000);
    store.callstack(CallstackTarget.Zone, 7, 3);
    store.zoneEnd(7, 30);
    store.zoneEnd(7, 40);
    store.zoneEnd(7, 50); // nothing open on thread 7 any more
    const t7 = store.thread(7);
    expect([t7.zonesBegun, t7.zonesEnded, t7.unmatchedEnds, t7.countedOpen]).toEqual([2, 2, 1, 0]);
    const t9 = store.thread(9);
    expect([t9.zonesBegun, t9.zonesEnded, t9.countedOpen]).toEqual([1, 0, 1]);
    expect(store.zonesBegun).toBe(3);
    expect(store.zonesEnded).toBe(2);
    expect(store.lastNs).toBe(50);
    expect(t7.storedZones + t9.storedZones).toBe(0);
    expect(t7.openExtra).toBeNull();
    expect(t7.orphanModifiers).toBe(0);
  });

  it('still refuses more source locations than a store can index', () => {
    const store = new ZoneCountingStore(new BudgetAccount(new MemoryBudget(2 ** 30)));
    expect(() => store.zoneBegin(1, 0, 0x10000)).toThrow(/source locations/);
  });
});
