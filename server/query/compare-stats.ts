import type { SessionStore } from '../store/session-store.js';
import { DurationList } from './growable.js';
import { namedZoneWalks, ZoneNameTable } from './compare-names.js';
import type { SlicedQuery } from './query-slicer.js';
import { SlicedSort } from './sliced-sort.js';
import type { ZoneWalks } from './zone-walk.js';
import type { RangeOptions } from './zone-stats.js';
import type { CompareSideStats } from '../../protocol/view/compare-types.js';

/** One side of a comparison: per zone name, its figures, over one store's range. */
export interface NameStats {
  /** by name; only names with zones in range */
  byName: Map<string, CompareSideStats>;
  /** zones counted */
  zones: number;
  /** zones left out because their name was past MAX_COMPARE_NAMES */
  droppedZones: number;
}

/**
 * The figures of the n durations given sorted as `short` then `long` (the DurationList split:
 * whole ns below 2^32 - 1, then the longer ones), taken in that order as the statistics query
 * takes them. The definitions are the statistics query's (zone-stats.ts):
 * - median: the middle value for an odd count, the mean of the two middle values for an even one;
 * - p99: nearest rank, the ceil(0.99 x n)-th value (1-based), so p99 of 1..100 is 99 and of a
 *   single value is that value.
 * Exact: nothing is estimated.
 */
export function summarizeSorted(short: ArrayLike<number>, long: ArrayLike<number>): CompareSideStats {
  const n = short.length + long.length;
  const at = (i: number) => (i < short.length ? short[i]! : long[i - short.length]!);
  let total = 0;
  for (let i = 0; i < short.length; i++) total += short[i]!;
  for (let i = 0; i < long.length; i++) total += long[i]!;
  if (n === 0) return { count: 0, totalNs: 0, meanNs: 0, medianNs: 0, p99Ns: 0 };
  return {
    count: n,
    totalNs: total,
    meanNs: total / n,
    medianNs: n % 2 ? at(n >> 1) : (at((n >> 1) - 1) + at(n >> 1)) / 2,
    p99Ns: at(Math.max(1, Math.ceil(0.99 * n)) - 1),
  };
}

/**
 * Per zone name (compare-names.ts) over [t0, t1] of one store: count, total, mean, median, p99,
 * as a resumable query (query-slicer.ts). Like the statistics query it keeps every duration (4
 * bytes a zone in range, for exact percentiles) and sorts each name's in steps (sliced-sort.ts),
 * so a name with millions of zones never holds the event loop; a name's durations are let go
 * once its figures are made.
 */
export class NameStatsQuery implements SlicedQuery<NameStats> {
  private readonly table: ZoneNameTable;
  private readonly durations: (DurationList | undefined)[] = [];
  private readonly walks: ZoneWalks;
  private zones = 0;
  private sortAt = 0;
  private shortSort: SlicedSort<Uint32Array> | null = null;
  private longSort: SlicedSort<Float64Array> | null = null;
  private readonly out = new Map<string, CompareSideStats>();

  constructor(store: SessionStore, options: RangeOptions = {}, maxNames?: number) {
    this.table = new ZoneNameTable(store, maxNames);
    this.walks = namedZoneWalks(store, options, this.table, (id, dur) => {
      let list = this.durations[id];
      if (list === undefined) this.durations[id] = list = new DurationList();
      list.push(dur);
      this.zones++;
    });
  }

  step(units: number): boolean {
    let left = this.walks.step(units);
    if (!this.walks.done) return false;
    const names = this.table.names;
    while (this.sortAt < names.length) {
      if (left <= 0) return false;
      const list = this.durations[this.sortAt];
      if (list === undefined) {
        this.sortAt++;
        left--;
        continue;
      }
      this.shortSort ??= new SlicedSort(list.short, (n) => new Uint32Array(n));
      this.longSort ??= new SlicedSort(list.long, (n) => new Float64Array(n));
      const before = left;
      if (!this.shortSort.step(left)) return false;
      left -= Math.max(1, Math.min(before, list.short.length));
      if (!this.longSort.step(Math.max(1, left))) return false;
      left -= Math.max(1, Math.min(before, list.long.length));
      this.out.set(names[this.sortAt]!, summarizeSorted(this.shortSort.sorted(), this.longSort.sorted()));
      this.durations[this.sortAt] = undefined;
      this.shortSort = null;
      this.longSort = null;
      this.sortAt++;
    }
    return true;
  }

  result(): NameStats {
    return { byName: this.out, zones: this.zones, droppedZones: this.table.droppedZones };
  }
}
