import { ARRAY_OVERHEAD_BYTES, EMPTY_U16, EMPTY_U32, giveArray, takeArray } from './array-pool.js';
import type { BudgetAccount } from './memory-budget.js';
import { firstRowAfterEviction, installSegment, releaseSegments, segmentCapacity, type TrackSegment } from './segment-track.js';
import { ZoneExtras, type ZoneExtra } from './zone-extras.js';

export type { ZoneExtra } from './zone-extras.js';

/**
 * Finished zones of one (thread, depth) track, in fixed-size segments of typed-array columns.
 * At one depth zones never overlap and are appended when they end, so every column is sorted
 * by start and by end at once.
 *
 *   global row r -> segment r >>> SEGMENT_SHIFT, slot r & SEGMENT_MASK
 *   segments: [ evicted... | seg k | seg k+1 | ... | tail (growing) ]
 *
 * Per zone 10 bytes: start as a u32 offset in ns from the segment's `base` (its first zone's
 * start), duration u32 (ns; 0xFFFFFFFF = look it up in the segment's `longDurations`), source
 * location u16 (Tracy's own limit is 32767 static + 32767 inline locations). A segment whose zones
 * span more than 2^32 ns (4.29 s: a sparse track, such as a frame-level depth 0) or whose starts
 * are not whole ns (an imported trace) turns "wide": its starts become exact f64 (14 bytes per
 * zone, as every segment took before). Zone text, name, colour and value are rare and live in
 * sparse side columns (zone-extras.ts), made on a segment's first extra.
 * A segment's arrays start small and double up to SEGMENT_ROWS, so a quiet track costs little.
 */
export const SEGMENT_SHIFT = 14;
export const SEGMENT_ROWS = 1 << SEGMENT_SHIFT;
export const SEGMENT_MASK = SEGMENT_ROWS - 1;
const FIRST_CAPACITY = 256;
const LONG_DURATION = 0xffffffff;
/** `base` of a wide segment: NaN, so append()'s offset check sends every zone to appendRare. */
const WIDE_BASE = NaN;
export const MAX_SRCLOC = 0xffff;
/** What a segment costs besides its columns' elements: the object and its three typed arrays. */
export const ZONE_SEGMENT_OBJECT_BYTES = 128 + 3 * ARRAY_OVERHEAD_BYTES;

export class ZoneSegment implements TrackSegment {
  budgetSlot = -1;
  count = 0;
  /** Start of the segment's first zone (ns); its zones' starts are `base + startOff[slot]`. NaN once wide. */
  base = -0; // a double from the start (times pass 2^31 ns): +0 in the constructor
  /** Starts as offsets from base (ns); EMPTY_U32 once wide. */
  startOff: Uint32Array;
  /** Exact starts, once the offsets could not hold one (see the class comment); null while narrow. */
  wide: Float64Array | null = null;
  dur: Uint32Array;
  srcloc: Uint16Array;
  /** Text, name, colour and value of the rows that have any; null until the first. */
  extras: ZoneExtras | null = null;
  longDurations: Map<number, number> | null = null;
  /** Bytes of longDurations (extras count their own). */
  private extraBytes = 0;
  evicted = false;

  constructor(
    private readonly owner: ZoneColumns,
    readonly index: number,
    capacity: number,
    base: number,
  ) {
    this.base = base;
    this.startOff = takeArray(Uint32Array, capacity);
    this.dur = takeArray(Uint32Array, capacity);
    this.srcloc = takeArray(Uint16Array, capacity);
  }

  active(): boolean {
    return this.owner.isTail(this);
  }

  get capacity(): number {
    return this.dur.length;
  }

  get bytes(): number {
    return ZONE_SEGMENT_OBJECT_BYTES + this.startOff.byteLength + (this.wide?.byteLength ?? 0) + this.dur.byteLength + this.srcloc.byteLength + this.extraBytes + (this.extras?.bytes ?? 0);
  }

  /** Start of `slot` (exact ns). */
  startAt(slot: number): number {
    const wide = this.wide;
    return wide === null ? this.base + this.startOff[slot]! : wide[slot]!;
  }

  /** Stores `slot`'s start in whichever form the segment has, turning it wide if the offset does not fit; returns the bytes added. */
  setStart(slot: number, startNs: number): number {
    const off = startNs - this.base;
    if ((off >>> 0) === off) {
      this.startOff[slot] = off;
      return 0;
    }
    const before = this.bytes;
    if (this.wide === null) this.widen();
    this.wide![slot] = startNs;
    return this.bytes - before;
  }

  /** Exact f64 starts from here on: the offsets are copied out and given back. */
  private widen(): void {
    const wide = takeArray(Float64Array, this.capacity);
    const off = this.startOff;
    const base = this.base;
    for (let i = 0; i < this.count; i++) wide[i] = base + off[i]!;
    giveArray(off);
    this.startOff = EMPTY_U32;
    this.wide = wide;
    this.base = WIDE_BASE;
  }

  /** Doubles the arrays; returns the bytes added. */
  grow(): number {
    const before = this.bytes;
    const cap = Math.min(SEGMENT_ROWS, this.capacity * 2);
    if (this.wide !== null) {
      const wide = takeArray(Float64Array, cap);
      wide.set(this.wide);
      giveArray(this.wide);
      this.wide = wide;
    } else {
      const startOff = takeArray(Uint32Array, cap);
      startOff.set(this.startOff);
      giveArray(this.startOff);
      this.startOff = startOff;
    }
    const dur = takeArray(Uint32Array, cap);
    dur.set(this.dur);
    const srcloc = takeArray(Uint16Array, cap);
    srcloc.set(this.srcloc);
    giveArray(this.dur);
    giveArray(this.srcloc);
    this.dur = dur;
    this.srcloc = srcloc;
    return this.bytes - before;
  }

  durationAt(slot: number): number {
    const d = this.dur[slot]!;
    return d === LONG_DURATION ? this.longDurations!.get(slot)! : d;
  }

  endAt(slot: number): number {
    return this.startAt(slot) + this.durationAt(slot);
  }

  /** The extra of `slot` as a new object, or null. Binary search over the sparse rows. */
  extraAt(slot: number): ZoneExtra | null {
    const extras = this.extras;
    if (extras === null) return null;
    const i = extras.find(slot);
    return i < 0 ? null : extras.at(i);
  }

  /** Zones of this segment that have an extra. */
  get extraCount(): number {
    return this.extras?.count ?? 0;
  }

  /** Stores `slot`'s extra (slots ascending); returns the bytes added. */
  addExtra(slot: number, extra: ZoneExtra): number {
    if (this.extras === null) {
      this.extras = new ZoneExtras();
      return this.extras.bytes + this.extras.add(slot, extra);
    }
    return this.extras.add(slot, extra);
  }

  addLongDuration(slot: number, durNs: number): number {
    (this.longDurations ??= new Map()).set(slot, durNs);
    this.extraBytes += 32;
    return 32;
  }

  evict(): void {
    this.owner.onEvicted(this);
    this.drop();
  }

  /** Gives the arrays back to the array pool and marks the segment evicted (evicted, or its track released). */
  drop(): void {
    this.evicted = true;
    giveArray(this.startOff);
    if (this.wide !== null) giveArray(this.wide);
    giveArray(this.dur);
    giveArray(this.srcloc);
    this.startOff = EMPTY_U32;
    this.wide = null;
    this.dur = EMPTY_U32;
    this.srcloc = EMPTY_U16;
    this.extras?.drop();
    this.extras = null;
    this.longDurations = null;
    this.extraBytes = 0;
  }
}

/**
 * ZoneColumns.tail when there is none: no rows and base NaN, so append()'s checks send the zone
 * to appendRare without a null check of their own (append is inlined into the decoder's walk,
 * whose inlining budget is tight). Never handed out or written to.
 */
const NO_TAIL = new ZoneSegment(null as unknown as ZoneColumns, -1, 0, NaN);

export class ZoneColumns {
  /** segments[i] holds rows [i * SEGMENT_ROWS, (i + 1) * SEGMENT_ROWS); evicted ones are null. */
  readonly segments: (ZoneSegment | null)[] = [];
  /** Rows ever appended (the next row number). */
  count = 0;
  /** First row still stored (rows below were evicted). */
  firstRow = 0;
  /** Time before which this track's data was evicted (0 = nothing evicted). */
  evictedBeforeNs = -0; // a double from the start (times pass 2^31 ns): no map change at the first eviction; +0 below
  /** The segment being written; NO_TAIL before the first and after the tail was evicted or released. */
  private tail: ZoneSegment = NO_TAIL;

  constructor(
    private readonly budget: BudgetAccount,
    readonly depth: number,
  ) {
    this.evictedBeforeNs = 0;
  }

  /**
   * Appends a finished zone. startNs must not precede the previous zone's end.
   *
   * Runs once per zone, inlined into the decoder's walk: everything rare (a new segment, a
   * growing one, a long duration, an extra) is in appendRare, out of line, so what TurboFan
   * inlines here stays small. An inlining budget spent on cold code leaves hot calls out of
   * line, and a call out of line boxes its float64 times into heap numbers: ~25 scavenges per
   * 6 M zones.
   */
  append(startNs: number, endNs: number, srcloc: number, extra: ZoneExtra | null): void {
    const row = this.count;
    const slot = row & SEGMENT_MASK;
    const seg = this.tail;
    const dur = endNs - startNs;
    // NO_TAIL and wide segments have base NaN and no rows: their offset never passes
    const off = startNs - seg.base;
    if (slot === 0 || slot >= seg.dur.length || extra !== null || !(dur >= 0 && dur < LONG_DURATION) || (off >>> 0) !== off) {
      this.appendRare(startNs, dur, srcloc, extra);
      return;
    }
    seg.startOff[slot] = off;
    seg.srcloc[slot] = srcloc;
    seg.dur[slot] = dur;
    seg.count = slot + 1;
    this.count = row + 1;
  }

  /** append() for a zone that needs a new, bigger or wide segment, a long duration or an extra. */
  private appendRare(startNs: number, dur: number, srcloc: number, extra: ZoneExtra | null): void {
    const row = this.count;
    const slot = row & SEGMENT_MASK;
    let seg = this.tail;
    if (seg === NO_TAIL || slot === 0) seg = this.newSegment(row >>> SEGMENT_SHIFT, slot, startNs);
    else if (slot >= seg.capacity) this.budget.resize(seg, seg.grow());
    const added = seg.setStart(slot, startNs);
    if (added !== 0) this.budget.resize(seg, added);
    seg.srcloc[slot] = srcloc;
    if (dur >= 0 && dur < LONG_DURATION) seg.dur[slot] = dur;
    else {
      seg.dur[slot] = LONG_DURATION;
      this.budget.resize(seg, seg.addLongDuration(slot, dur));
    }
    if (extra !== null) this.budget.resize(seg, seg.addExtra(slot, extra));
    seg.count = slot + 1;
    this.count = row + 1;
  }

  /** The segment holding `row`, or null when evicted or out of range. */
  segmentOf(row: number): ZoneSegment | null {
    if (row < this.firstRow || row >= this.count) return null;
    return this.segments[row >>> SEGMENT_SHIFT] ?? null;
  }

  startAt(row: number): number {
    return this.segments[row >>> SEGMENT_SHIFT]!.startAt(row & SEGMENT_MASK);
  }

  endAt(row: number): number {
    return this.segments[row >>> SEGMENT_SHIFT]!.endAt(row & SEGMENT_MASK);
  }

  /** First stored row whose end is after `t` (zones are sorted by end too); count if none. */
  firstEndingAfter(t: number): number {
    let lo = this.firstRow;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.endAt(mid) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First stored row whose end is at or after `t` (a zone ending at t touches t); count if none. */
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

  /** First stored row whose start is after `t`: rows before it start at or before t; count if none. */
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

  /** First stored row at or after `from` whose start is >= t; count if none. */
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

  /**
   * Like firstStartingAtOrAfter from `from`, but galloping: probes from+1, +2, +4... before the
   * binary search, so a caller stepping forward through nearby rows (the level-of-detail walk,
   * whose next pixel is usually a few hundred rows ahead) pays log(distance), not log(count).
   */
  gallopStartingAtOrAfter(t: number, from: number): number {
    let row = Math.max(from, this.firstRow);
    const count = this.count;
    while (row < count) {
      const index = row >>> SEGMENT_SHIFT;
      const seg = this.segments[index];
      const base = index * SEGMENT_ROWS;
      if (!seg) {
        row = base + SEGMENT_ROWS;
        continue;
      }
      // search this segment's own start column: no segment lookup per probe
      const n = seg.count;
      if (seg.startAt(n - 1) < t) {
        row = base + n;
        continue;
      }
      let lo = row - base;
      let hi = lo;
      let step = 1;
      while (hi < n && seg.startAt(hi) < t) {
        lo = hi + 1;
        hi = lo + step;
        step *= 2;
      }
      if (hi > n) hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (seg.startAt(mid) < t) lo = mid + 1;
        else hi = mid;
      }
      return base + lo;
    }
    return count;
  }

  isTail(seg: ZoneSegment): boolean {
    return this.tail === seg;
  }

  /** Called by a segment the budget evicts. */
  onEvicted(seg: ZoneSegment): void {
    this.budget.evicted(seg.bytes);
    if (seg.count > 0) this.evictedBeforeNs = Math.max(this.evictedBeforeNs, seg.endAt(seg.count - 1));
    this.segments[seg.index] = null;
    if (this.tail === seg) this.tail = NO_TAIL;
    this.firstRow = firstRowAfterEviction(this.segments, seg, this.firstRow, this.count, SEGMENT_SHIFT);
  }

  /** Releases every segment from the budget (session deleted). */
  release(): void {
    releaseSegments(this.segments, this.budget);
    this.tail = NO_TAIL;
    this.firstRow = this.count;
  }

  /** A new tail segment (segment-track.ts: segmentCapacity). */
  private newSegment(index: number, slot: number, startNs: number): ZoneSegment {
    const seg = new ZoneSegment(this, index, segmentCapacity(index, slot, FIRST_CAPACITY, SEGMENT_ROWS), startNs);
    this.tail = seg;
    return installSegment(this.segments, seg, this.budget);
  }
}
