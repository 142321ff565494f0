import type { SessionStore } from '../store/session-store.js';
import { NameStatsQuery, type NameStats } from './compare-stats.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';
import type { RangeOptions } from './zone-stats.js';
import { DEFAULT_COMPARE_SORT, filterCompareRows, sortCompareRows } from '../../protocol/view/compare-sort.js';
import type { CompareChange, CompareChanges, CompareRow, CompareSideStats } from '../../protocol/view/compare-types.js';

/** Rows one answer of GET /api/compare lists when no limit is given, and the most it takes. */
export const DEFAULT_COMPARE_LIMIT = 1000;
export const MAX_COMPARE_LIMIT = 10_000;

/** One side of a comparison: a store and the range (and threads) to take from it. */
export interface CompareSide {
  store: SessionStore;
  range: RangeOptions;
}

export interface CompareTable {
  a: NameStats;
  b: NameStats;
  /** every name of either side (unsorted: selectCompareRows sorts) */
  rows: CompareRow[];
}

/** B - A and its percentage of A: 0 % when both are 0, null when only A is 0. */
export function changeOf(a: number, b: number): CompareChange {
  const abs = b - a;
  return { abs, pct: a !== 0 ? (abs / a) * 100 : abs === 0 ? 0 : null };
}

export function changesOf(a: CompareSideStats, b: CompareSideStats): CompareChanges {
  return {
    count: changeOf(a.count, b.count),
    totalNs: changeOf(a.totalNs, b.totalNs),
    meanNs: changeOf(a.meanNs, b.meanNs),
    medianNs: changeOf(a.medianNs, b.medianNs),
    p99Ns: changeOf(a.p99Ns, b.p99Ns),
  };
}

/** The rows of every name on either side, A's names first (a name on one side has a null other side and change). */
export function joinNameStats(a: NameStats, b: NameStats): CompareRow[] {
  const names = new Set([...a.byName.keys(), ...b.byName.keys()]);
  const rows: CompareRow[] = [];
  for (const name of names) {
    const sa = a.byName.get(name) ?? null;
    const sb = b.byName.get(name) ?? null;
    rows.push({ name, a: sa, b: sb, change: sa && sb ? changesOf(sa, sb) : null });
  }
  return rows;
}

/**
 * The comparison of two sides as a resumable query: A's per-name figures, then B's (one side's
 * durations are let go before the other's are gathered, so the working memory is that of the
 * larger side: 4 bytes per zone in its range), then the join. The join and its sort touch at
 * most 2 x MAX_COMPARE_NAMES rows.
 */
export class CompareQuery implements SlicedQuery<CompareTable> {
  private readonly qa: NameStatsQuery;
  private qb: NameStatsQuery | null = null;
  private a: NameStats | null = null;
  private b: NameStats | null = null;

  constructor(
    sideA: CompareSide,
    private readonly sideB: CompareSide,
    private readonly maxNames?: number,
  ) {
    this.qa = new NameStatsQuery(sideA.store, sideA.range, maxNames);
  }

  step(units: number): boolean {
    if (this.a === null) {
      if (!this.qa.step(units)) return false;
      this.a = this.qa.result();
      // made only now: its walk sees the zones that exist when it starts
      this.qb = new NameStatsQuery(this.sideB.store, this.sideB.range, this.maxNames);
      return false;
    }
    if (this.b === null) {
      if (!this.qb!.step(units)) return false;
      this.b = this.qb!.result();
      this.qb = null;
    }
    return true;
  }

  result(): CompareTable {
    return { a: this.a!, b: this.b!, rows: joinNameStats(this.a!, this.b!) };
  }
}

/** compareSides at once (no slicing): for in-process callers and the CLI. */
export function compareSides(a: CompareSide, b: CompareSide): CompareTable {
  return runToEnd(new CompareQuery(a, b));
}

/**
 * As compareSides, in slices (query-slicer.ts).
 * @throws the abort reason of `slice.signal` when aborted between slices
 */
export function compareSidesSliced(a: CompareSide, b: CompareSide, slice: SliceOptions = {}): Promise<CompareTable> {
  return runInSlices(new CompareQuery(a, b), slice);
}

export interface RowSelection {
  /** a key of COMPARE_SORT_KEYS (default DEFAULT_COMPARE_SORT) */
  sort?: string;
  /** default 'desc' ('asc' for sort=name) */
  order?: 'asc' | 'desc';
  /** name substring, any case */
  filter?: string;
  /** rows returned at most (default all) */
  limit?: number;
}

/**
 * The rows matching `filter`, sorted, the first `limit`; with the counts over all matching rows.
 * @throws TypeError for an unknown sort key
 */
export function selectCompareRows(rows: readonly CompareRow[], o: RowSelection = {}): { rows: CompareRow[]; total: number; onlyA: number; onlyB: number } {
  const sort = o.sort ?? DEFAULT_COMPARE_SORT;
  const matching = filterCompareRows(rows, o.filter ?? '');
  const sorted = sortCompareRows(matching, sort, o.order ?? (sort === 'name' ? 'asc' : 'desc'));
  let onlyA = 0;
  let onlyB = 0;
  for (const r of matching) {
    if (r.b === null) onlyA++;
    else if (r.a === null) onlyB++;
  }
  return { rows: sorted.slice(0, o.limit ?? sorted.length), total: matching.length, onlyA, onlyB };
}
