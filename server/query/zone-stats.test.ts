/**
 * Statistics per source location on the real recordings against Tracy's own csvexport (count,
 * total, min, max; `-e` for self time) and against a brute-force computation over the store.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES_PRESENT, fixture, parseCsvexportStats } from '../../test/support/inspect-fixtures.js';
import type { SessionStore } from '../store/session-store.js';
import { decodeFixtureStore } from '../../test/support/fixture-store.js';
import { SEGMENT_ROWS } from '../store/zone-columns.js';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { SessionStore as Store } from '../store/session-store.js';
import { runInSlices } from './query-slicer.js';
import { percentile, zoneStatistics, ZoneStatsQuery, type SrclocStats } from './zone-stats.js';

if (!FIXTURES_PRESENT) console.warn('zone-stats.test: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');

interface RefZone {
  start: number;
  dur: number;
  self: number;
  srcloc: number;
}

/**
 * Every stored zone with its self time, computed independently of zone-walk: per thread, all
 * depths sorted by (start, depth); a zone's parent is the latest zone one level up.
 */
function referenceZones(store: SessionStore): RefZone[] {
  const out: RefZone[] = [];
  for (const thread of store.threads.values()) {
    const zones: (RefZone & { depth: number })[] = [];
    thread.depths.forEach((cols, depth) => {
      for (let r = cols.firstRow; r < cols.count; r++) {
        const seg = cols.segmentOf(r)!;
        const dur = seg.durationAt(r % SEGMENT_ROWS);
        zones.push({ start: seg.startAt(r % SEGMENT_ROWS), dur, self: dur, srcloc: seg.srcloc[r % SEGMENT_ROWS]!, depth });
      }
    });
    zones.sort((a, b) => a.start - b.start || a.depth - b.depth);
    const lastAt: (RefZone | undefined)[] = [];
    for (const z of zones) {
      const parent = z.depth > 0 ? lastAt[z.depth - 1] : undefined;
      if (parent) parent.self -= z.dur;
      lastAt[z.depth] = z;
      out.push(z);
    }
  }
  return out;
}

/** Per source location: sorted durations and self-time sum of zones starting in [t0, t1]. */
function referenceStats(zones: readonly RefZone[], t0 = -Infinity, t1 = Infinity): Map<number, { d: Float64Array; self: number }> {
  const lists = new Map<number, { d: number[]; self: number }>();
  for (const z of zones) {
    if (z.start < t0 || z.start > t1) continue;
    let l = lists.get(z.srcloc);
    if (!l) lists.set(z.srcloc, (l = { d: [], self: 0 }));
    l.d.push(z.dur);
    l.self += z.self;
  }
  const out = new Map<number, { d: Float64Array; self: number }>();
  for (const [k, v] of lists) out.set(k, { d: Float64Array.from(v.d).sort(), self: v.self });
  return out;
}

function key(name: string, file: string, line: number, count: number, total: number): string {
  return `${name}|${file}|${line}|${count}|${total}`;
}

function compareWithReference(stats: SrclocStats[], ref: Map<number, { d: Float64Array; self: number }>): void {
  expect(stats.length).toBe(ref.size);
  for (const s of stats) {
    const r = ref.get(s.srcloc)!;
    const d = r.d;
    const n = d.length;
    const total = d.reduce((a, x) => a + x, 0);
    const median = n % 2 ? d[(n - 1) / 2]! : (d[n / 2 - 1]! + d[n / 2]!) / 2;
    const rank = (p: number) => d[Math.max(0, Math.ceil(p * n) - 1)]!;
    const got = [s.count, s.totalNs, s.selfNs, s.minNs, s.maxNs, s.meanNs, s.medianNs, s.p90Ns, s.p99Ns];
    const want = [n, total, r.self, d[0], d[n - 1], total / n, median, rank(0.9), rank(0.99)];
    if (got.some((g, i) => g !== want[i])) expect(got, s.name).toEqual(want);
  }
}

describe('zoneStatistics with durations beyond 32 bits', () => {
  it("orders zones of 2^32 - 1 ns and longer with the others, sliced or not", async () => {
    const store = new Store(new BudgetAccount(new MemoryBudget(2 ** 30)));
    const durations = [7, 5_000_000_000, 3, 2, 4_294_967_295, 9, 1];
    let t = 0;
    for (const d of durations) {
      store.zoneBegin(1, t, 0);
      store.zoneEnd(1, t + d);
      t += d + 10;
    }
    const sorted = [...durations].sort((a, b) => a - b);
    const want = { count: 7, minNs: 1, maxNs: 5_000_000_000, medianNs: 7, totalNs: durations.reduce((a, b) => a + b, 0), p90Ns: sorted[6], p99Ns: sorted[6] };
    expect(zoneStatistics(store)[0]).toMatchObject(want);
    expect((await runInSlices(new ZoneStatsQuery(store), { sliceUnits: 1 }))[0]).toMatchObject(want);
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const d = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(d, 0.9)).toBe(9);
    expect(percentile(d, 0.99)).toBe(10);
    expect(percentile(d, 0)).toBe(1);
    expect(percentile(new Float64Array(0), 0.5)).toBe(0);
  });
});

describe.skipIf(!FIXTURES_PRESENT).each(['small', 'medium'])('zoneStatistics on the %s recording', (name) => {
  const store = FIXTURES_PRESENT ? decodeFixtureStore(name) : (null as unknown as SessionStore);
  const stats = FIXTURES_PRESENT ? zoneStatistics(store) : [];
  const ref = FIXTURES_PRESENT ? referenceZones(store) : [];

  it("matches csvexport's count, total, min and max per source location", () => {
    const csv = parseCsvexportStats(readFileSync(fixture(`${name}.zones.csv`), 'utf8'));
    // csvexport omits locations whose total is 0; one row per location (GoTracy-style ones repeat)
    const ours = stats.filter((s) => s.totalNs > 0).map((s) => `${key(s.name, s.file, s.line, s.count, s.totalNs)}|${s.minNs}|${s.maxNs}`);
    const theirs = csv.map((c) => `${key(c.name, c.file, c.line, c.count, c.totalNs)}|${c.minNs}|${c.maxNs}`);
    expect(ours.sort()).toEqual(theirs.sort());
  });

  it('matches the self times of csvexport -e', () => {
    // `csvexport -e` prints the same columns, with self times: total_ns is the self total
    // (Frame: 1990989 total, 924084 self on small)
    const csv = parseCsvexportStats(readFileSync(fixture(`${name}.zones-self.csv`), 'utf8'));
    const ours = stats.filter((s) => s.totalNs > 0).map((s) => key(s.name, s.file, s.line, s.count, s.selfNs));
    const theirs = csv.map((c) => key(c.name, c.file, c.line, c.count, c.totalNs));
    expect(ours.sort()).toEqual(theirs.sort());
  });

  it('computes every figure like a brute-force pass over the zones', () => {
    compareWithReference(stats, referenceStats(ref));
    const means = stats.every((s) => s.minNs <= s.medianNs && s.medianNs <= s.p90Ns && s.p90Ns <= s.p99Ns && s.p99Ns <= s.maxNs);
    expect(means).toBe(true);
  });

  it('restricts to the zones that start in [t0, t1]', () => {
    const starts = ref.map((z) => z.start).sort((a, b) => a - b);
    const t0 = starts[Math.floor(starts.length * 0.3)]!;
    const t1 = starts[Math.floor(starts.length * 0.6)]!;
    const ranged = zoneStatistics(store, { t0, t1 });
    compareWithReference(ranged, referenceStats(ref, t0, t1));
    expect(ranged.reduce((n, s) => n + s.count, 0)).toBe(ref.filter((z) => z.start >= t0 && z.start <= t1).length);
  });

  it('restricts to the threads asked for', () => {
    const thread = [...store.threads.values()].find((t) => t.zonesEnded > 0)!;
    const only = zoneStatistics(store, { threads: [thread.id] });
    expect(only.reduce((n, s) => n + s.count, 0)).toBe(thread.storedZones);
  });

  it('sorts by total time, largest first', () => {
    for (let i = 1; i < stats.length; i++) expect(stats[i - 1]!.totalNs).toBeGreaterThanOrEqual(stats[i]!.totalNs);
  });
});
