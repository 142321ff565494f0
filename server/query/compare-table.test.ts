/**
 * Comparing two captures: the math (median, p99, change), a capture against itself (all
 * zeros), and the medium recording against a range of itself (every figure exact: equal to the
 * statistics query where a name is one source location, and to a brute-force computation over
 * the stored zones by name everywhere).
 */
import { describe, expect, it } from 'vitest';
import { FIXTURES_PRESENT } from '../../test/support/inspect-fixtures.js';
import { decodeFixtureStore } from '../../test/support/fixture-store.js';
import { zonesOf } from '../../test/support/store-rows.js';
import { sortCompareRows } from '../../protocol/view/compare-sort.js';
import type { CompareRow, CompareSideStats } from '../../protocol/view/compare-types.js';
import { summarizeSorted } from './compare-stats.js';
import { changeOf, compareSides, CompareQuery, selectCompareRows } from './compare-table.js';
import { runInSlices } from './query-slicer.js';
import { zoneStatistics } from './zone-stats.js';

if (!FIXTURES_PRESENT) console.warn('compare-table.test: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');

describe('the figures of one side', () => {
  it('takes the middle value as the median of an odd count and the mean of the two middle ones of an even count', () => {
    expect(summarizeSorted(Uint32Array.of(1, 2, 9), new Float64Array(0)).medianNs).toBe(2);
    expect(summarizeSorted(Uint32Array.of(1, 2, 9, 10), new Float64Array(0)).medianNs).toBe(5.5);
  });

  it('takes p99 as the nearest rank: the ceil(0.99 n)-th shortest duration', () => {
    const hundred = Uint32Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarizeSorted(hundred, new Float64Array(0)).p99Ns).toBe(99);
    const thousandAndOne = Uint32Array.from({ length: 1001 }, (_, i) => i + 1);
    expect(summarizeSorted(thousandAndOne, new Float64Array(0)).p99Ns).toBe(991); // ceil(990.99)
    expect(summarizeSorted(Uint32Array.of(7), new Float64Array(0))).toEqual({ count: 1, totalNs: 7, meanNs: 7, medianNs: 7, p99Ns: 7 });
  });

  it('puts durations too long for 32 bits after the others', () => {
    const s = summarizeSorted(Uint32Array.of(10, 20), Float64Array.of(2 ** 33));
    expect(s).toEqual({ count: 3, totalNs: 30 + 2 ** 33, meanNs: (30 + 2 ** 33) / 3, medianNs: 20, p99Ns: 2 ** 33 });
  });
});

describe('a change from A to B', () => {
  it('is B - A and its percentage of A', () => {
    expect(changeOf(200, 250)).toEqual({ abs: 50, pct: 25 });
    expect(changeOf(200, 150)).toEqual({ abs: -50, pct: -25 });
  });

  it('is 0 % when both are 0 and has no percentage when only A is 0', () => {
    expect(changeOf(0, 0)).toEqual({ abs: 0, pct: 0 });
    expect(changeOf(0, 5)).toEqual({ abs: 5, pct: null });
  });
});

function row(name: string, a: Partial<CompareSideStats> | null, b: Partial<CompareSideStats> | null): CompareRow {
  const full = (x: Partial<CompareSideStats>): CompareSideStats => ({ count: 1, totalNs: 1, meanNs: 1, medianNs: 1, p99Ns: 1, ...x });
  const sa = a && full(a);
  const sb = b && full(b);
  return {
    name,
    a: sa,
    b: sb,
    change: sa && sb ? { count: changeOf(sa.count, sb.count), totalNs: changeOf(sa.totalNs, sb.totalNs), meanNs: changeOf(sa.meanNs, sb.meanNs), medianNs: changeOf(sa.medianNs, sb.medianNs), p99Ns: changeOf(sa.p99Ns, sb.p99Ns) } : null,
  };
}

describe('the order of compare rows', () => {
  const rows = [row('slower', { medianNs: 100 }, { medianNs: 150 }), row('faster', { medianNs: 100 }, { medianNs: 50 }), row('new', null, { medianNs: 10 }), row('same', { medianNs: 100 }, { medianNs: 100 }), row('gone', { medianNs: 10 }, null)];

  it('sorts by a change, either way, with names on one side last both ways', () => {
    expect(sortCompareRows(rows, 'median-pct', 'desc').map((r) => r.name)).toEqual(['slower', 'same', 'faster', 'gone', 'new']);
    expect(sortCompareRows(rows, 'median-pct', 'asc').map((r) => r.name)).toEqual(['faster', 'same', 'slower', 'gone', 'new']);
  });

  it('filters by name, counts the rows on one side only and cuts at the limit', () => {
    const picked = selectCompareRows(rows, { sort: 'name', filter: 'N', limit: 1 });
    expect(picked.rows.map((r) => r.name)).toEqual(['gone']);
    expect(picked).toMatchObject({ total: 2, onlyA: 1, onlyB: 1 });
    expect(selectCompareRows(rows, { sort: 'name', order: 'desc' }).rows.map((r) => r.name)).toEqual(['slower', 'same', 'new', 'gone', 'faster']);
  });

  it('refuses an unknown sort key with a TypeError', () => {
    expect(() => selectCompareRows(rows, { sort: 'median' })).toThrow(TypeError);
  });
});

describe.skipIf(!FIXTURES_PRESENT)('the medium recording compared', () => {
  const store = FIXTURES_PRESENT ? decodeFixtureStore('medium') : (null as never);

  it('with itself has every change zero and every name on both sides', () => {
    const table = compareSides({ store, range: {} }, { store, range: {} });
    expect(table.rows.length).toBeGreaterThan(10);
    expect(table.a.zones).toBe(202_201);
    for (const r of table.rows) {
      expect(r.change, r.name).not.toBeNull();
      for (const c of Object.values(r.change!)) expect(c, r.name).toEqual({ abs: 0, pct: 0 });
    }
  });

  it('with a range of itself gives the exact figures of each side, computed in slices', async () => {
    const lastNs = store.lastNs;
    const t0 = Math.round(lastNs / 3);
    const t1 = Math.round((2 * lastNs) / 3);
    const query = new CompareQuery({ store, range: {} }, { store, range: { t0, t1 } });
    let steps = 0;
    const table = await runInSlices({ step: (u) => (steps++, query.step(u)), result: () => query.result() }, { sliceUnits: 16_384 });
    expect(steps).toBeGreaterThan(202_201 / 16_384);

    // brute force: every stored zone by the name it shows
    const zones = zonesOf(store);
    const expected = (from: number, to: number) => {
      const by = new Map<string, number[]>();
      for (const z of zones) if (z.startNs >= from && z.startNs <= to) (by.get(z.name) ?? by.set(z.name, []).get(z.name)!).push(z.endNs - z.startNs);
      const out = new Map<string, CompareSideStats>();
      for (const [name, d] of by) {
        d.sort((x, y) => x - y);
        const n = d.length;
        const total = d.reduce((s, x) => s + x, 0);
        out.set(name, { count: n, totalNs: total, meanNs: total / n, medianNs: n % 2 ? d[(n - 1) / 2]! : (d[n / 2 - 1]! + d[n / 2]!) / 2, p99Ns: d[Math.ceil(0.99 * n) - 1]! });
      }
      return out;
    };
    const whole = expected(-Infinity, Infinity);
    const part = expected(t0, t1);
    expect(new Map(table.rows.filter((r) => r.a).map((r) => [r.name, r.a]))).toEqual(whole);
    expect(new Map(table.rows.filter((r) => r.b).map((r) => [r.name, r.b]))).toEqual(part);
    expect(part.size).toBeLessThanOrEqual(whole.size);
    // ZoneName overrides are names of their own; Tracy's per-call source locations merge
    expect(whole.get('dyn-0')?.count).toBe(3000);
    expect(whole.get('GoStyleZone')?.count).toBe(1200);

    // and the statistics query's numbers, for every name that is one source location without overrides
    for (const [range, side] of [[{}, 'a'], [{ t0, t1 }, 'b']] as const) {
      const stats = zoneStatistics(store, range);
      const perName = new Map<string, number>();
      for (const s of stats) perName.set(s.name, (perName.get(s.name) ?? 0) + 1);
      let checked = 0;
      for (const s of stats) {
        const r = table.rows.find((x) => x.name === s.name);
        if (perName.get(s.name) !== 1 || r?.[side]?.count !== s.count) continue; // several locations, or overridden zones
        expect(r[side], s.name).toEqual({ count: s.count, totalNs: s.totalNs, meanNs: s.meanNs, medianNs: s.medianNs, p99Ns: s.p99Ns });
        checked++;
      }
      expect(checked).toBeGreaterThan(10);
    }
  });
});
