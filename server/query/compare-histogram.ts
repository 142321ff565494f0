import { namedZoneWalks, ZoneNameTable } from './compare-names.js';
import type { CompareSide } from './compare-table.js';
import { DurationList, type ChunkedList, type NumberArray } from './growable.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';
import type { ZoneWalks } from './zone-walk.js';
import { DEFAULT_SEARCH_BUCKETS, MAX_SEARCH_BUCKETS } from './zone-search.js';
import type { CompareHistogram } from '../../protocol/view/compare-types.js';

/** Buckets of a compare histogram when none are asked for (40), and the most it takes (1000): find zone's. */
export const DEFAULT_COMPARE_BUCKETS = DEFAULT_SEARCH_BUCKETS;
export const MAX_COMPARE_BUCKETS = MAX_SEARCH_BUCKETS;

/**
 * Log-spaced bucket edges from `minNs` to `maxNs` (both included): `buckets` + 1 edges, the
 * first max(1, minNs), the last above maxNs. Durations under 1 ns count in the first bucket.
 */
export function logEdges(minNs: number, maxNs: number, buckets: number): { edges: number[]; lo: number; stepLog: number } {
  const lo = Math.log(Math.max(1, minNs));
  const hi = Math.log(Math.max(2, maxNs + 1));
  const stepLog = (hi - lo) / buckets || 1;
  const edges: number[] = [];
  for (let i = 0; i <= buckets; i++) edges.push(Math.exp(lo + i * stepLog));
  return { edges, lo, stepLog };
}

/** The bucket of `ns` among `buckets` log-spaced from lo (log ns) by stepLog. */
export function bucketOf(ns: number, lo: number, stepLog: number, buckets: number): number {
  return Math.min(buckets - 1, Math.max(0, Math.floor((Math.log(Math.max(1, ns)) - lo) / stepLog)));
}

/**
 * The duration histograms of one zone name (compare-names.ts) on both sides, over the same
 * buckets (from the shortest to the longest duration of either side), as a resumable query:
 * A's durations of that name are gathered, then B's (4 bytes a matching zone each), then
 * counted into the buckets in steps.
 */
export class CompareHistogramQuery implements SlicedQuery<CompareHistogram> {
  private readonly buckets: number;
  private readonly lists = [new DurationList(), new DurationList()] as const;
  private readonly walks: [ZoneWalks, ZoneWalks];
  private side = 0;
  private counting = false;
  private countSide = 0;
  private countAt = 0;
  private edges: number[] = [];
  private lo = 0;
  private stepLog = 1;
  private readonly counts: [number[], number[]];

  constructor(
    a: CompareSide,
    b: CompareSide,
    private readonly name: string,
    buckets = DEFAULT_COMPARE_BUCKETS,
  ) {
    this.buckets = Math.max(1, Math.min(MAX_COMPARE_BUCKETS, Math.floor(buckets)));
    this.counts = [new Array<number>(this.buckets).fill(0), new Array<number>(this.buckets).fill(0)];
    this.walks = [this.walkOf(a, this.lists[0]), this.walkOf(b, this.lists[1])];
  }

  /** Only zones of `name`: it is interned first (id 0), so the table never fills before it. */
  private walkOf(side: CompareSide, list: DurationList): ZoneWalks {
    const table = new ZoneNameTable(side.store);
    table.intern(this.name);
    return namedZoneWalks(side.store, side.range, table, (id, dur) => {
      if (id === 0) list.push(dur);
    });
  }

  step(units: number): boolean {
    let left = units;
    while (this.side < 2) {
      left = this.walks[this.side]!.step(left);
      if (!this.walks[this.side]!.done) return false;
      this.side++;
      if (left <= 0) return false;
    }
    if (!this.counting) {
      const [la, lb] = this.lists;
      if (la.length + lb.length > 0) ({ edges: this.edges, lo: this.lo, stepLog: this.stepLog } = logEdges(Math.min(la.min, lb.min), Math.max(la.max, lb.max), this.buckets));
      this.counting = true;
    }
    while (this.countSide < 2) {
      const list = this.lists[this.countSide]!;
      const counts = this.counts[this.countSide]!;
      const s = list.short.length;
      const n = list.length;
      while (this.countAt < n) {
        if (left <= 0) return false;
        const to = Math.min(this.countAt < s ? s : n, this.countAt + left);
        if (this.countAt < s) this.count(list.short, this.countAt, to, counts);
        else this.count(list.long, this.countAt - s, to - s, counts);
        left -= to - this.countAt;
        this.countAt = to;
      }
      this.countSide++;
      this.countAt = 0;
    }
    return true;
  }

  private count<A extends NumberArray>(list: ChunkedList<A>, from: number, to: number, counts: number[]): void {
    const { lo, stepLog, buckets } = this;
    for (let i = from; i < to; i++) counts[bucketOf(list.chunks[i >>> 16]![i & 0xffff]!, lo, stepLog, buckets)]!++; // ChunkedList.CHUNK = 2^16
  }

  result(): CompareHistogram {
    const empty = this.edges.length === 0;
    return {
      name: this.name,
      edgesNs: this.edges,
      a: { count: this.lists[0].length, counts: empty ? [] : this.counts[0] },
      b: { count: this.lists[1].length, counts: empty ? [] : this.counts[1] },
    };
  }
}

/** The histograms at once (in-process callers, tests). */
export function compareHistogram(a: CompareSide, b: CompareSide, name: string, buckets?: number): CompareHistogram {
  return runToEnd(new CompareHistogramQuery(a, b, name, buckets));
}

/**
 * As compareHistogram, in slices.
 * @throws the abort reason of `slice.signal` when aborted between slices
 */
export function compareHistogramSliced(a: CompareSide, b: CompareSide, name: string, buckets?: number, slice: SliceOptions = {}): Promise<CompareHistogram> {
  return runInSlices(new CompareHistogramQuery(a, b, name, buckets), slice);
}
