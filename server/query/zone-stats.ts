import type { SessionStore } from '../store/session-store.js';
import { DurationList } from './growable.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';
import { SlicedSort } from './sliced-sort.js';
import { ThreadZoneWalk, ZoneWalks } from './zone-walk.js';
import type { SrclocStats } from '../../protocol/view/types.js';

/** Statistics of one source location over a range, times in ns (the shape the viewer receives: protocol/view/types.ts). */
export type { SrclocStats };

export interface RangeOptions {
  t0?: number;
  t1?: number;
  /** only these app thread ids */
  threads?: number[];
}

/** Every source location's statistics over zones that start in [t0, t1] (default: all), at once. */
export function zoneStatistics(store: SessionStore, options: RangeOptions = {}): SrclocStats[] {
  return runToEnd(new ZoneStatsQuery(store, options));
}

/**
 * As zoneStatistics, computed in slices (query-slicer.ts). Memory: 4 bytes per zone in range
 * (the durations, for exact percentiles) plus two sort buffers the size of the largest location's.
 * @throws the abort reason of `slice.signal` when aborted between slices
 */
export function zoneStatisticsSliced(store: SessionStore, options: RangeOptions = {}, slice: SliceOptions = {}): Promise<SrclocStats[]> {
  return runInSlices(new ZoneStatsQuery(store, options), slice);
}

/** The walk over every thread, then the per-location sorts, as a resumable query. */
export class ZoneStatsQuery implements SlicedQuery<SrclocStats[]> {
  private readonly walks: ZoneWalks;
  /** durations per source location, and the locations in the order first seen */
  private readonly durations: (DurationList | undefined)[] = [];
  private readonly self: number[] = [];
  private readonly order: number[] = [];
  private sortAt = 0;
  private shortSort: SlicedSort<Uint32Array> | null = null;
  private longSort: SlicedSort<Float64Array> | null = null;
  private readonly out: SrclocStats[] = [];

  constructor(
    private readonly store: SessionStore,
    options: RangeOptions = {},
  ) {
    const t0 = options.t0 ?? -Infinity;
    const t1 = options.t1 ?? Infinity;
    const visit = (_d: number, _r: number, _s: number, dur: number, selfNs: number, srcloc: number) => {
      let list = this.durations[srcloc];
      if (list === undefined) {
        list = new DurationList();
        this.durations[srcloc] = list;
        this.self[srcloc] = 0;
        this.order.push(srcloc);
      }
      list.push(dur);
      this.self[srcloc]! += selfNs;
    };
    const walks: ThreadZoneWalk[] = [];
    for (const thread of store.threads.values()) {
      if (options.threads && !options.threads.includes(thread.id)) continue;
      walks.push(new ThreadZoneWalk(thread, t0, t1, visit));
    }
    this.walks = new ZoneWalks(walks);
  }

  step(units: number): boolean {
    let left = this.walks.step(units);
    if (!this.walks.done) return false;
    while (this.sortAt < this.order.length) {
      if (left <= 0) return false;
      const srcloc = this.order[this.sortAt]!;
      const list = this.durations[srcloc]!;
      this.shortSort ??= new SlicedSort(list.short, (n) => new Uint32Array(n));
      this.longSort ??= new SlicedSort(list.long, (n) => new Float64Array(n));
      const before = left;
      if (!this.shortSort.step(left)) return false;
      left -= Math.max(1, Math.min(before, list.short.length));
      if (!this.longSort.step(Math.max(1, left))) return false;
      left -= Math.max(1, Math.min(before, list.long.length));
      this.out.push(this.summary(srcloc, list.length, this.shortSort.sorted(), this.longSort.sorted()));
      this.durations[srcloc] = undefined;
      this.shortSort = null;
      this.longSort = null;
      this.sortAt++;
    }
    return true;
  }

  result(): SrclocStats[] {
    return this.out.sort((a, b) => b.totalNs - a.totalNs);
  }

  /** `short` then `long` are the location's n durations in ascending order. */
  private summary(srcloc: number, n: number, short: Uint32Array, long: Float64Array): SrclocStats {
    const store = this.store;
    const at = (i: number) => (i < short.length ? short[i]! : long[i - short.length]!);
    let total = 0;
    for (let i = 0; i < short.length; i++) total += short[i]!;
    for (let i = 0; i < long.length; i++) total += long[i]!;
    return {
      srcloc,
      name: store.srclocs.displayName(srcloc, store.names.strings),
      function: store.srclocs.functionName(srcloc, store.names.strings),
      file: store.srclocs.fileName(srcloc, store.names.strings),
      line: store.srclocs.line[srcloc] ?? 0,
      color: store.srclocs.color[srcloc] ?? 0,
      count: n,
      totalNs: total,
      selfNs: this.self[srcloc] ?? 0,
      minNs: at(0),
      meanNs: total / n,
      medianNs: n % 2 ? at(n >> 1) : (at((n >> 1) - 1) + at(n >> 1)) / 2,
      p90Ns: at(rankOf(n, 0.9) - 1),
      p99Ns: at(rankOf(n, 0.99) - 1),
      maxNs: at(n - 1),
    };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[rankOf(sorted.length, p) - 1]!;
}

/** The 1-based nearest rank of percentile p among n values. */
function rankOf(n: number, p: number): number {
  return Math.max(1, Math.ceil(p * n));
}
