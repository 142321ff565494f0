import type { SessionStore } from '../store/session-store.js';
import { SEGMENT_MASK } from '../store/zone-columns.js';
import { DurationList, type ChunkedList, type NumberArray } from './growable.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';
import { FirstByTime } from './first-by-time.js';
import { ThreadZoneWalk, ZoneWalks } from './zone-walk.js';
import type { RangeOptions } from './zone-stats.js';
import type { ZoneMatch, ZoneSearchResult } from '../../protocol/view/types.js';

/** Zone search results (the shape the viewer receives: protocol/view/types.ts). */
export type { ZoneMatch, ZoneSearchResult };

/** Matches returned when no limit is given. */
export const DEFAULT_SEARCH_LIMIT = 1000;
/** The largest `limit` a search takes (GET /search answers 400 ZS_QUERY_LIMIT above it). */
export const MAX_SEARCH_LIMIT = 10_000;
/** Histogram buckets when none are asked for, and the most a search makes. */
export const DEFAULT_SEARCH_BUCKETS = 40;
export const MAX_SEARCH_BUCKETS = 1000;

export interface SearchOptions extends RangeOptions {
  /** matches to return, the first by start time (default 1000; GET /search takes at most MAX_SEARCH_LIMIT) */
  limit?: number;
  /** histogram buckets (default 40, at most MAX_SEARCH_BUCKETS) */
  buckets?: number;
  /** keeps only the zones whose callstack id passes (the stack flame graph's frame filter) */
  stackFilter?: (callstack: number) => boolean;
}

/** Zones whose source location's displayed name contains `query` (case-insensitive), at once. */
export function searchZones(store: SessionStore, query: string, options: SearchOptions = {}): ZoneSearchResult {
  return runToEnd(new ZoneSearchQuery(store, query, options));
}

/**
 * As searchZones, in slices (query-slicer.ts). Memory: 4 bytes per matching zone (durations, for
 * the histogram) plus at most 2 x limit kept matches.
 * @throws the abort reason of `slice.signal` when aborted between slices
 */
export function searchZonesSliced(store: SessionStore, query: string, options: SearchOptions = {}, slice: SliceOptions = {}): Promise<ZoneSearchResult> {
  return runInSlices(new ZoneSearchQuery(store, query, options), slice);
}

export class ZoneSearchQuery implements SlicedQuery<ZoneSearchResult> {
  private readonly q: string;
  private readonly limit: number;
  private readonly buckets: number;
  /** phase 1: source locations looked at so far; the wanted ones */
  private srclocAt = 0;
  private readonly wanted = new Set<number>();
  private readonly counts = new Map<number, number>();
  /** phase 2: the walk */
  private walks: ZoneWalks | null = null;
  private readonly matches: FirstByTime<ZoneMatch>;
  private readonly durations = new DurationList();
  /** phase 3: the histogram's counts, filled from histAt on */
  private histAt = 0;
  private edges: number[] = [];
  private histCounts: number[] = [];
  private lo = 0;
  private stepLog = 1;

  constructor(
    private readonly store: SessionStore,
    private readonly query: string,
    private readonly options: SearchOptions = {},
  ) {
    this.q = query.toLowerCase();
    this.limit = Math.max(0, Math.floor(options.limit ?? DEFAULT_SEARCH_LIMIT));
    this.buckets = Math.max(1, Math.min(MAX_SEARCH_BUCKETS, Math.floor(options.buckets ?? DEFAULT_SEARCH_BUCKETS)));
    this.matches = new FirstByTime(this.limit, (m) => m.startNs);
  }

  step(units: number): boolean {
    let left = units;
    const store = this.store;
    // the name the user sees, as in Tracy's Find Zone: matching the function of a named zone
    // too would make "physics" find every zone written inside PatternA_Physics()
    for (; this.srclocAt < store.srclocs.count; this.srclocAt++) {
      if (left <= 0) return false;
      left -= 8; // a name lookup and a lower-casing: worth a few zones
      if (store.srclocs.displayName(this.srclocAt, store.names.strings).toLowerCase().includes(this.q)) this.wanted.add(this.srclocAt);
    }
    if (this.walks === null) this.walks = new ZoneWalks(this.wanted.size > 0 ? this.threadWalks() : []);
    if (!this.walks.done) {
      left = this.walks.step(left);
      if (!this.walks.done) return false;
      this.startHistogram();
    }
    const { short, long } = this.durations;
    const n = this.durations.length;
    while (this.histAt < n) {
      if (left <= 0) return false;
      const s = short.length;
      const to = Math.min(this.histAt < s ? s : n, this.histAt + left);
      if (this.histAt < s) this.count(short, this.histAt, to);
      else this.count(long, this.histAt - s, to - s);
      left -= to - this.histAt;
      this.histAt = to;
    }
    return true;
  }

  /** Adds values [from, to) of `list` to the histogram. */
  private count<A extends NumberArray>(list: ChunkedList<A>, from: number, to: number): void {
    const counts = this.histCounts;
    for (let i = from; i < to; i++) {
      const v = list.chunks[i >>> 16]![i & 0xffff]!; // ChunkedList.CHUNK = 2^16
      counts[Math.min(this.buckets - 1, Math.max(0, Math.floor((Math.log(Math.max(1, v)) - this.lo) / this.stepLog)))]!++;
    }
  }

  result(): ZoneSearchResult {
    const store = this.store;
    return {
      query: this.query,
      srclocs: [...this.wanted].map((srcloc) => ({ srcloc, name: store.srclocs.displayName(srcloc, store.names.strings), count: this.counts.get(srcloc) ?? 0 })),
      total: this.durations.length,
      matches: this.matches.sorted(),
      histogram: { edgesNs: this.edges, counts: this.histCounts },
    };
  }

  private threadWalks(): ThreadZoneWalk[] {
    const { t0 = -Infinity, t1 = Infinity, threads, stackFilter } = this.options;
    const walks: ThreadZoneWalk[] = [];
    for (const thread of this.store.threads.values()) {
      if (threads && !threads.includes(thread.id)) continue;
      const id = thread.id;
      walks.push(
        new ThreadZoneWalk(thread, t0, t1, (depth, row, s, dur, _self, srcloc) => {
          if (!this.wanted.has(srcloc)) return;
          if (stackFilter !== undefined) {
            const seg = thread.depths[depth]!.segmentOf(row);
            const cs = seg === null ? 0 : seg.extraAt(row & SEGMENT_MASK)?.callstack ?? 0;
            if (!stackFilter(cs)) return;
          }
          this.counts.set(srcloc, (this.counts.get(srcloc) ?? 0) + 1);
          this.durations.push(dur);
          if (this.matches.wants(s)) this.matches.add({ thread: id, depth, row, srcloc, startNs: s, durNs: dur });
        }),
      );
    }
    return walks;
  }

  /** Log-scale edges from the matches' shortest to longest duration. */
  private startHistogram(): void {
    if (this.durations.length === 0) return;
    const buckets = this.buckets;
    this.lo = Math.log(Math.max(1, this.durations.min));
    const hi = Math.log(Math.max(2, this.durations.max + 1));
    this.stepLog = (hi - this.lo) / buckets || 1;
    for (let i = 0; i <= buckets; i++) this.edges.push(Math.exp(this.lo + i * this.stepLog));
    this.histCounts = new Array<number>(buckets).fill(0);
  }
}
