import { ARRAY_OVERHEAD_BYTES, EMPTY_F64, EMPTY_U8, giveArray, takeArray } from './array-pool.js';
import type { BudgetAccount } from './memory-budget.js';
import { firstRowAfterEviction, installSegment, releaseSegments, segmentCapacity, type TrackSegment } from './segment-track.js';

/**
 * Finished acquisitions of one lock by one thread ("lock zones"), in fixed-size segments of
 * typed-array columns, appended at release. One thread's acquisitions of one lock never
 * overlap (lock-log.ts keeps it so, clamping malformed input), so every column is sorted by
 * start and by end at once, like a zone depth (zone-columns.ts):
 *
 *   global row r -> segment r >>> LOCK_SEGMENT_SHIFT, slot r & LOCK_SEGMENT_MASK
 *   segments: [ evicted... | seg k | ... | tail (growing) ]
 *
 * Per acquisition 57 bytes: wait start, obtain, contention start (NaN: nobody waited for it
 * while held) and release, all float64 ns, flags (LOCK_FLAG_SHARED), and the track's running
 * sums of waiting, holding and contended time up to and including the row (float64 ns: a
 * thread's rows do not overlap, so a sum never passes the session's length). The sums let the
 * level of detail fold a run of rows into one item with its totals in O(1), so a viewport costs
 * pixels x log(rows), not rows. The lock zone is [start, end]: waiting [start, obtain), holding
 * [obtain, end], of which [contended, end] with another thread waiting.
 */
export const LOCK_SEGMENT_SHIFT = 13;
export const LOCK_SEGMENT_ROWS = 1 << LOCK_SEGMENT_SHIFT;
export const LOCK_SEGMENT_MASK = LOCK_SEGMENT_ROWS - 1;
const FIRST_CAPACITY = 128;
const ROW_BYTES = 7 * 8 + 1;
/** What a segment costs besides its rows: the object and its eight typed arrays. */
export const LOCK_SEGMENT_OBJECT_BYTES = 160 + 8 * ARRAY_OVERHEAD_BYTES;
/** flags bit: a shared (read) hold of a shared lock. */
export const LOCK_FLAG_SHARED = 1;

export class LockSegment implements TrackSegment {
  budgetSlot = -1;
  count = 0;
  start: Float64Array;
  obtain: Float64Array;
  contended: Float64Array;
  end: Float64Array;
  flags: Uint8Array;
  /** running sums of the track, ns, up to and including each row */
  sumWait: Float64Array;
  sumHold: Float64Array;
  sumContended: Float64Array;
  evicted = false;

  constructor(
    private readonly owner: LockColumns,
    readonly index: number,
    capacity: number,
  ) {
    this.start = takeArray(Float64Array, capacity);
    this.obtain = takeArray(Float64Array, capacity);
    this.contended = takeArray(Float64Array, capacity);
    this.end = takeArray(Float64Array, capacity);
    this.flags = takeArray(Uint8Array, capacity);
    this.sumWait = takeArray(Float64Array, capacity);
    this.sumHold = takeArray(Float64Array, capacity);
    this.sumContended = takeArray(Float64Array, capacity);
  }

  active(): boolean {
    return this.owner.isTail(this);
  }

  get capacity(): number {
    return this.start.length;
  }

  get bytes(): number {
    return LOCK_SEGMENT_OBJECT_BYTES + this.capacity * ROW_BYTES;
  }

  /** Doubles the columns (at most LOCK_SEGMENT_ROWS); returns the bytes added. */
  grow(): number {
    const before = this.bytes;
    const cap = Math.min(LOCK_SEGMENT_ROWS, this.capacity * 2);
    this.start = regrow(this.start, takeArray(Float64Array, cap));
    this.obtain = regrow(this.obtain, takeArray(Float64Array, cap));
    this.contended = regrow(this.contended, takeArray(Float64Array, cap));
    this.end = regrow(this.end, takeArray(Float64Array, cap));
    this.flags = regrow(this.flags, takeArray(Uint8Array, cap));
    this.sumWait = regrow(this.sumWait, takeArray(Float64Array, cap));
    this.sumHold = regrow(this.sumHold, takeArray(Float64Array, cap));
    this.sumContended = regrow(this.sumContended, takeArray(Float64Array, cap));
    return this.bytes - before;
  }

  evict(): void {
    this.owner.onEvicted(this);
    this.drop();
  }

  /** Gives the columns back to the array pool (evicted, or the session was deleted). */
  drop(): void {
    this.evicted = true;
    giveArray(this.start);
    giveArray(this.obtain);
    giveArray(this.contended);
    giveArray(this.end);
    giveArray(this.flags);
    giveArray(this.sumWait);
    giveArray(this.sumHold);
    giveArray(this.sumContended);
    this.sumWait = EMPTY_F64;
    this.sumHold = EMPTY_F64;
    this.sumContended = EMPTY_F64;
    this.start = EMPTY_F64;
    this.obtain = EMPTY_F64;
    this.contended = EMPTY_F64;
    this.end = EMPTY_F64;
    this.flags = EMPTY_U8;
    this.count = 0;
  }
}

function regrow<T extends Float64Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  giveArray(from);
  return to;
}

export class LockColumns {
  /** segments[i] holds rows [i * LOCK_SEGMENT_ROWS, (i + 1) * LOCK_SEGMENT_ROWS); evicted ones are null. */
  readonly segments: (LockSegment | null)[] = [];
  /** Rows ever appended. */
  count = 0;
  /** First row still stored. */
  firstRow = 0;
  /** Time before which this track's acquisitions were evicted (0: nothing evicted). */
  evictedBeforeNs = -0; // a double from the start (times pass 2^31 ns): no map change at the first eviction; +0 below
  /** Sums over every row ever appended, ns (what the running-sum columns hold for the newest row). */
  totalWaitNs = 0;
  totalHoldNs = 0;
  totalContendedNs = 0;
  private tail: LockSegment | null = null;

  constructor(private readonly budget: BudgetAccount) {
    this.evictedBeforeNs = 0;
  }

  /**
   * Appends a finished acquisition. The caller keeps the order: startNs >= the previous row's
   * end, startNs <= obtainNs <= endNs, contendedNs NaN or in [obtainNs, endNs].
   */
  append(startNs: number, obtainNs: number, contendedNs: number, endNs: number, flags: number): void {
    const row = this.count;
    const slot = row & LOCK_SEGMENT_MASK;
    let seg = this.tail;
    if (seg === null || slot === 0) seg = this.newSegment(row >>> LOCK_SEGMENT_SHIFT, slot);
    else if (slot >= seg.capacity) this.budget.resize(seg, seg.grow());
    seg.start[slot] = startNs;
    seg.obtain[slot] = obtainNs;
    seg.contended[slot] = contendedNs;
    seg.end[slot] = endNs;
    seg.flags[slot] = flags;
    this.totalWaitNs += obtainNs - startNs;
    this.totalHoldNs += endNs - obtainNs;
    if (contendedNs === contendedNs) this.totalContendedNs += endNs - contendedNs; // not NaN
    seg.sumWait[slot] = this.totalWaitNs;
    seg.sumHold[slot] = this.totalHoldNs;
    seg.sumContended[slot] = this.totalContendedNs;
    seg.count = slot + 1;
    this.count = row + 1;
  }

  /** The segment holding `row`, or null when evicted or out of range. */
  segmentOf(row: number): LockSegment | null {
    if (row < this.firstRow || row >= this.count) return null;
    return this.segments[row >>> LOCK_SEGMENT_SHIFT] ?? null;
  }

  startAt(row: number): number {
    return this.segments[row >>> LOCK_SEGMENT_SHIFT]!.start[row & LOCK_SEGMENT_MASK]!;
  }

  endAt(row: number): number {
    return this.segments[row >>> LOCK_SEGMENT_SHIFT]!.end[row & LOCK_SEGMENT_MASK]!;
  }

  /** End of the newest row (-Infinity when none was appended or it was evicted). */
  lastEnd(): number {
    const seg = this.segmentOf(this.count - 1);
    return seg === null ? -Infinity : seg.end[(this.count - 1) & LOCK_SEGMENT_MASK]!;
  }

  /** First stored row ending at or after `t`; count if none. */
  firstEndingAtOrAfter(t: number): number {
    let lo = this.firstRow;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.endAt(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First stored row at or after `from` starting at or after `t`; count if none. */
  firstStartingAtOrAfter(t: number, from = this.firstRow): number {
    let lo = Math.max(from, this.firstRow);
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.startAt(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First stored row starting after `t`; count if none. */
  firstStartingAfter(t: number): number {
    let lo = this.firstRow;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.startAt(mid) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  isTail(seg: LockSegment): boolean {
    return this.tail === seg;
  }

  /** Called by a segment the budget evicts: segments of a track go oldest first. */
  onEvicted(seg: LockSegment): void {
    this.budget.evicted(seg.bytes);
    if (seg.count > 0) this.evictedBeforeNs = Math.max(this.evictedBeforeNs, seg.end[seg.count - 1]!);
    this.segments[seg.index] = null;
    if (this.tail === seg) this.tail = null;
    this.firstRow = firstRowAfterEviction(this.segments, seg, this.firstRow, this.count, LOCK_SEGMENT_SHIFT);
  }

  /** Releases every segment from the budget (session deleted). */
  release(): void {
    releaseSegments(this.segments, this.budget);
    this.tail = null;
    this.firstRow = this.count;
  }

  /** A new segment; only a track's first one starts small (a busy track's next ones are whole). */
  private newSegment(index: number, slot: number): LockSegment {
    const seg = new LockSegment(this, index, segmentCapacity(index, slot, FIRST_CAPACITY, LOCK_SEGMENT_ROWS));
    this.tail = seg;
    return installSegment(this.segments, seg, this.budget);
  }
}
