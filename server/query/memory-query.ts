import { ALLOC_MASK, ALLOC_ROWS, ALLOC_SHIFT, AllocEnd, type AllocSegment } from '../store/alloc-log.js';
import type { MemoryPool, SessionStore } from '../store/session-store.js';
import { AllocZoneResolver } from './alloc-zone.js';
import { runInSlices, type SlicedQuery, type SliceOptions } from './query-slicer.js';

/**
 * The memory window of one pool at a time `t` (Tracy's memory window): the allocations alive at
 * t, their count and bytes, grouped by size and by the zone they were made in, their size
 * histogram, a page of them in arrival order; what was allocated and freed up to t; the peak.
 * Variants: only the allocations made in [t0, t] (and alive at t), and the leaks (never freed,
 * t = Infinity). Computed over the stored records, in slices (one unit per record looked at).
 */

/** Allocations listed per answer: default and maximum (`limit`). */
export const DEFAULT_ALLOC_LIMIT = 1_000;
export const MAX_ALLOC_LIMIT = 10_000;
/** Groups listed per grouping (by size, by zone); the rest are summed in `...Other`. */
export const MAX_ALLOC_GROUPS = 1_000;
/** Distinct sizes counted one by one; sizes seen after that many are summed in `bySizeOther`. */
export const MAX_SIZE_KEYS = 16_384;
/** Size histogram buckets: bucket k holds sizes in [2^k, 2^(k+1)) (bucket 0 also size 0); sizes are u48. */
export const SIZE_BUCKETS = 48;

export interface MemoryQueryOptions {
  /**
   * 'at': alive at t; 'range': made in [t0, t] and alive at t; 'made': made in [t0, t], freed or
   * not (pprof's alloc_space: what the allocated flame graph counts); 'leaks': never freed
   * (t = Infinity)
   */
  mode: 'at' | 'range' | 'made' | 'leaks';
  /** ns; ignored for leaks */
  t: number;
  /** ns; range mode only */
  t0?: number;
  /** allocations listed (default DEFAULT_ALLOC_LIMIT) */
  limit?: number;
  /** first row to list (from a previous answer's `cursor`); default the first stored */
  cursor?: number;
  /** keeps only the allocations whose callstack id passes (the flame graph's frame filter) */
  stackFilter?: (callstack: number) => boolean;
}

export interface AllocItem {
  row: number;
  address: number;
  size: number;
  thread: number;
  allocNs: number;
  /** null while not freed */
  freeNs: number | null;
  /** at t (leaks: at the session's last event) */
  ageNs: number;
  srcloc: number;
  /** callstack ids of the allocation and of its free, 0 = none */
  callstack: number;
  freeCallstack: number;
}

export interface AllocGroup {
  count: number;
  bytes: number;
}

export interface MemoryAnswerCore {
  active: AllocGroup;
  /** In the window [t0 (or the first record), t]: allocations made, their bytes, frees by the app. */
  window: { allocs: number; allocatedBytes: number; frees: number };
  /** The highest usage sample in the window and its time (NaN/null when none is stored). */
  peak: { bytes: number; timeNs: number | null };
  bySize: (AllocGroup & { size: number })[];
  bySizeOther: AllocGroup & { groups: number };
  byZone: (AllocGroup & { srcloc: number })[];
  byZoneOther: AllocGroup & { groups: number };
  /** grouped by the allocation's callstack id (0: allocations without one) */
  byStack: (AllocGroup & { callstack: number })[];
  byStackOther: AllocGroup & { groups: number };
  histogram: { counts: number[]; bytes: number[] };
  allocations: AllocItem[];
  /** Row to pass as `cursor` for the next page, or null when this page ends the list. */
  cursor: number | null;
}

function topGroups<K extends 'size' | 'srcloc' | 'callstack'>(key: K, counts: Map<number, number>, bytes: Map<number, number>): { top: (AllocGroup & Record<K, number>)[]; other: AllocGroup & { groups: number } } {
  const all = [...counts].map(([k, count]) => ({ [key]: k, count, bytes: bytes.get(k)! }) as unknown as AllocGroup & Record<K, number>);
  all.sort((a, b) => b.bytes - a.bytes || b.count - a.count || a[key] - b[key]);
  const other = { groups: 0, count: 0, bytes: 0 };
  for (let i = MAX_ALLOC_GROUPS; i < all.length; i++) {
    other.groups++;
    other.count += all[i]!.count;
    other.bytes += all[i]!.bytes;
  }
  return { top: all.slice(0, MAX_ALLOC_GROUPS), other };
}

function add(map: Map<number, number>, key: number, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** The resumable scan behind /memory and /memory/leaks. */
export class MemoryQuery implements SlicedQuery<MemoryAnswerCore> {
  private readonly lo: number;
  private readonly t: number;
  private readonly ageAt: number;
  private readonly limit: number;
  private readonly endRow: number;
  private readonly zones: AllocZoneResolver;
  private row: number;
  private seriesSeg = 0;
  private seriesRow = 0;
  private readonly out: MemoryAnswerCore;
  private readonly sizeCount = new Map<number, number>();
  private readonly zoneCount = new Map<number, number>();
  private readonly zoneBytes = new Map<number, number>();
  private readonly stackCount = new Map<number, number>();
  private readonly stackBytes = new Map<number, number>();
  private readonly firstListRow: number;
  private readonly stackFilter: ((callstack: number) => boolean) | null;
  /** 'made': every allocation of the window is listed, freed or not */
  private readonly made: boolean;

  constructor(
    store: SessionStore,
    private readonly pool: MemoryPool,
    o: MemoryQueryOptions,
  ) {
    this.t = o.mode === 'leaks' ? Infinity : o.t;
    this.lo = o.mode === 'range' || o.mode === 'made' ? (o.t0 ?? -Infinity) : -Infinity;
    this.made = o.mode === 'made';
    this.ageAt = o.mode === 'leaks' ? store.lastNs : o.t;
    this.limit = o.limit ?? DEFAULT_ALLOC_LIMIT;
    this.firstListRow = o.cursor ?? 0;
    this.stackFilter = o.stackFilter ?? null;
    const log = pool.records;
    this.endRow = log.count; // records made while the query runs are not seen
    this.row = log.firstRow;
    this.zones = new AllocZoneResolver(store);
    this.out = {
      active: { count: 0, bytes: 0 },
      window: { allocs: 0, allocatedBytes: 0, frees: 0 },
      peak: { bytes: NaN, timeNs: null },
      bySize: [],
      bySizeOther: { groups: 0, count: 0, bytes: 0 },
      byZone: [],
      byZoneOther: { groups: 0, count: 0, bytes: 0 },
      byStack: [],
      byStackOther: { groups: 0, count: 0, bytes: 0 },
      histogram: { counts: new Array<number>(SIZE_BUCKETS).fill(0), bytes: new Array<number>(SIZE_BUCKETS).fill(0) },
      allocations: [],
      cursor: null,
    };
  }

  step(units: number): boolean {
    let budget = units;
    // phase 1: the peak of the usage series in [lo, t]
    const series = this.pool.usage.segments;
    while (this.seriesSeg < series.length && budget > 0) {
      const seg = series[this.seriesSeg]!;
      if (seg.count === 0 || seg.minTime > this.t || seg.maxTime < this.lo) {
        this.seriesSeg++;
        this.seriesRow = 0;
        budget--;
        continue;
      }
      const end = Math.min(seg.count, this.seriesRow + budget);
      const peak = this.out.peak;
      for (let i = this.seriesRow; i < end; i++) {
        const time = seg.time[i]!;
        if (time < this.lo || time > this.t) continue;
        const v = seg.value[i]!;
        if (!(v <= peak.bytes)) {
          peak.bytes = v;
          peak.timeNs = time;
        }
      }
      budget -= end - this.seriesRow;
      this.seriesRow = end;
      if (end === seg.count) {
        this.seriesSeg++;
        this.seriesRow = 0;
      }
    }
    // phase 2: every stored record up to endRow
    const log = this.pool.records;
    while (budget > 0 && this.row < this.endRow) {
      if (this.row < log.firstRow) this.row = log.firstRow; // evicted meanwhile
      const seg = log.segmentOf(this.row);
      const base = (this.row >>> ALLOC_SHIFT) * ALLOC_ROWS;
      if (seg === null || seg.minAllocNs > this.t) {
        this.row = base + ALLOC_ROWS;
        budget--;
        continue;
      }
      const end = Math.min(base + seg.count, this.endRow, this.row + budget);
      budget -= end - this.row;
      for (let r = Math.max(this.row, base + seg.firstSlot); r < end; r++) budget -= this.visit(seg, r & ALLOC_MASK, r);
      this.row = end >= base + seg.count ? base + ALLOC_ROWS : end;
    }
    return this.seriesSeg >= series.length && this.row >= this.endRow;
  }

  /** Looks at one record; returns the extra units spent (a zone lookup). */
  private visit(seg: AllocSegment, slot: number, row: number): number {
    const allocNs = seg.allocNs[slot]!;
    if (allocNs > this.t) return 0;
    const callstack = seg.allocStack[slot]!;
    if (this.stackFilter !== null && !this.stackFilter(callstack)) return 0;
    const freeNs = seg.freeNs[slot]!;
    const size = seg.size[slot]!;
    const out = this.out;
    if (allocNs >= this.lo) {
      out.window.allocs++;
      out.window.allocatedBytes += size;
    }
    if (seg.ended[slot] === AllocEnd.Freed && freeNs >= this.lo && freeNs <= this.t) out.window.frees++;
    // alive at t: made in the window, not freed by t (leaks: never freed)
    const alive = this.made || (this.t === Infinity ? seg.ended[slot] === AllocEnd.Open : freeNs > this.t);
    if (!alive || allocNs < this.lo) return 0;
    out.active.count++;
    out.active.bytes += size;
    const k = size < 2 ? 0 : Math.min(SIZE_BUCKETS - 1, Math.floor(Math.log2(size)));
    out.histogram.counts[k]!++;
    out.histogram.bytes[k]! += size;
    if (this.sizeCount.has(size) || this.sizeCount.size < MAX_SIZE_KEYS) add(this.sizeCount, size, 1);
    else {
      out.bySizeOther.count++;
      out.bySizeOther.bytes += size;
    }
    const zone = this.zones.zoneOf(seg, slot);
    add(this.zoneCount, zone, 1);
    add(this.zoneBytes, zone, size);
    add(this.stackCount, callstack, 1);
    add(this.stackBytes, callstack, size);
    if (row >= this.firstListRow) {
      if (out.allocations.length < this.limit) {
        out.allocations.push({
          row,
          address: seg.address[slot]!,
          size,
          thread: seg.thread[slot]!,
          allocNs,
          freeNs: freeNs === Infinity ? null : freeNs,
          ageNs: this.ageAt - allocNs,
          srcloc: zone,
          callstack,
          freeCallstack: seg.freeStack[slot]!,
        });
      } else if (out.cursor === null) out.cursor = row;
    }
    return 4;
  }

  result(): MemoryAnswerCore {
    const out = this.out;
    const sizeBytes = new Map<number, number>();
    for (const [size, n] of this.sizeCount) sizeBytes.set(size, size * n);
    const bySize = topGroups('size', this.sizeCount, sizeBytes);
    out.bySize = bySize.top;
    out.bySizeOther.groups += bySize.other.groups;
    out.bySizeOther.count += bySize.other.count;
    out.bySizeOther.bytes += bySize.other.bytes;
    const byZone = topGroups('srcloc', this.zoneCount, this.zoneBytes);
    out.byZone = byZone.top;
    out.byZoneOther = byZone.other;
    const byStack = topGroups('callstack', this.stackCount, this.stackBytes);
    out.byStack = byStack.top;
    out.byStackOther = byStack.other;
    return out;
  }
}

/** Runs a MemoryQuery in slices (query-slicer.ts). */
export function memoryQuerySliced(store: SessionStore, pool: MemoryPool, o: MemoryQueryOptions, slice: SliceOptions = {}): Promise<MemoryAnswerCore> {
  return runInSlices(new MemoryQuery(store, pool, o), slice);
}
