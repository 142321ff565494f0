import { describe, expect, it } from 'vitest';
import { exportAndReopen } from '../../test/support/store-export.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { SessionStore } from '../store/session-store.js';
import type { StoreCaptureResult } from './store-to-capture.js';
import { findBadTime } from './store-time-range.js';

const newStore = () => new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 30)));

/** A store fed through its visitor API: zones [start, end] on thread 1 at depth 0, and a message and a plot point at `sampleNs`. */
function storeWith(zones: [number, number][], sampleNs = 10): SessionStore {
  const store = newStore();
  for (const [s, e] of zones) {
    store.zoneBegin(1, s, 0);
    store.zoneEnd(1, e);
  }
  store.plot(0x50, sampleNs, 1);
  store.messageLiteral(1, sampleNs, 0x60, 0, 0);
  return store;
}

/** Runs the export to its end (it must not throw) and decodes the capture again. */
function exportAll(store: SessionStore): { result: StoreCaptureResult; again: SessionStore; terminated: boolean } {
  const { result, again } = exportAndReopen(store, null, { sessionId: 's', wallClockStartMs: 0 });
  return { result, again: again.store, terminated: again.terminated };
}

describe('findBadTime', () => {
  it('finds nothing in a store whose times are all encodable', () => {
    expect(findBadTime(storeWith([[0, 5], [10, 20]]))).toBeNull();
    expect(findBadTime(newStore())).toBeNull();
  });

  it('names the first zone, sample or message time that is NaN or beyond 2^53 ns', () => {
    expect(findBadTime(storeWith([[0, 5], [4e18, 4e18 + 1000]]))).toEqual({ what: 'latest event', ns: 4e18 + 1000 });
    const nan = storeWith([[NaN, NaN]]);
    expect(findBadTime(nan)).toEqual({ what: 'zone start on thread 1', ns: NaN });
    expect(findBadTime(storeWith([[0, 5]], -4e18))).toEqual({ what: 'plot sample', ns: -4e18 });
    // finite but huge: fine for Chrome JSON (the bound is the caller's)
    expect(findBadTime(storeWith([[0, 5], [4e18, 4e18 + 1000]]), Number.MAX_VALUE)).toBeNull();
    expect(findBadTime(nan, Number.MAX_VALUE)).toMatchObject({ what: 'zone start on thread 1' });
  });
});

describe('exportStoreToCapture with times it cannot encode', () => {
  it('leaves them out and counts them, and the capture is whole', () => {
    const { result, again, terminated } = exportAll(storeWith([[0, 5], [4e18, 4e18 + 1000], [NaN, NaN]], NaN));
    expect(terminated).toBe(true);
    expect(result).toMatchObject({ zones: 1, unencodable: 4, plotSamples: 0, messages: 0 });
    expect(again.zonesEnded).toBe(1);
  });

  it('leaves out a NaN zone between good ones, which the extremes do not show, with the zones nested in it', () => {
    const store = newStore();
    // three depth-0 zones with one child each; the middle ones are NaN: the first and last
    // rows of both depths are fine
    for (const [s, e] of [[0, 5], [NaN, NaN], [10, 20]] as const) {
      store.zoneBegin(1, s, 0);
      store.zoneBegin(1, s + 1, 0);
      store.zoneEnd(1, e - 1);
      store.zoneEnd(1, e);
    }
    expect(findBadTime(store)).toBeNull();
    const { result, again } = exportAll(store);
    expect(result).toMatchObject({ zones: 4, unencodable: 2 }); // the NaN zone and its NaN child
    expect(again.zonesEnded).toBe(4);
    expect(again.threads.get(1)!.depths.map((c) => c.count)).toEqual([2, 2]);
  });

  it('ends a running zone within range when the latest time is out of it', () => {
    const store = storeWith([[0, 5]]);
    store.zoneBegin(1, 7, 0);
    store.plot(0x50, 4e18, 2); // lastNs out of range: the running zone cannot end there
    const { result, again, terminated } = exportAll(store);
    expect(terminated).toBe(true);
    expect(result).toMatchObject({ zones: 2, openZonesEnded: 1, unencodable: 1 });
    expect(again.zonesEnded).toBe(2);
  });
});
