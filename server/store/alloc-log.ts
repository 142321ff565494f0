import { ARRAY_OVERHEAD_BYTES, EMPTY_F64, EMPTY_I32, EMPTY_U32, EMPTY_U8, giveArray, takeArray } from './array-pool.js';
import type { BudgetAccount } from './memory-budget.js';
import { firstRowAfterEviction, installSegment, releaseSegments, type TrackSegment } from './segment-track.js';

/**
 * Every allocation of one memory pool, as a record: address, size, thread, time allocated, time
 * freed (or still open), how it ended, and (filled in by the memory queries) the zone it was
 * made in. Records are numbered for good in arrival order and kept in segments of ALLOC_ROWS
 * rows, columns in typed arrays, charged to the budget and evicted oldest first with the rest of
 * the store:
 *
 *   row r -> segment r >>> ALLOC_SHIFT, slot r & ALLOC_MASK
 *   segments: [ evicted (null)... | seg k | seg k+1 | ... | tail (growing) ]
 *
 * 49 bytes a record (4 x f64, u32 thread, i32 zone, u8 end kind, u32 x2 alloc/free callstack). A free finds its record
 * through `live` (pointer -> row), the table every pool always kept of its live pointers.
 * When a segment is evicted, the records still open in it leave their size in `live` (encoded
 * as -(size + 1)), so a later free still gives the usage plot the right size.
 */
export const ALLOC_SHIFT = 13;
export const ALLOC_ROWS = 1 << ALLOC_SHIFT;
export const ALLOC_MASK = ALLOC_ROWS - 1;
const FIRST_CAPACITY = 256;
const ROW_BYTES = 4 * 8 + 4 + 4 + 1 + 8;
/** What a segment costs besides its rows: the object and its nine typed arrays. */
export const ALLOC_SEGMENT_OBJECT_BYTES = 176 + 9 * ARRAY_OVERHEAD_BYTES;
/** What one live pointer costs in `live` (a Map entry with a number key and value). */
export const LIVE_ENTRY_BYTES = 48;

/** How a record ended (the `ended` column). */
export const AllocEnd = {
  /** not freed (yet) */
  Open: 0,
  /** freed by the app (MemFree): counted in the pool's frees */
  Freed: 1,
  /** the pool was discarded (MemDiscard) */
  Discarded: 2,
  /** the same address was allocated again without a free (Tracy reports a memory fault) */
  Replaced: 3,
} as const;

/** `zone` column: not looked up yet (the memory queries fill it in when it is final). */
export const ZONE_UNRESOLVED = -2;
/** `zone` column: no zone was open on the thread at the time (or it was evicted). */
export const ZONE_NONE = -1;

export class AllocSegment implements TrackSegment {
  budgetSlot = -1;
  count = 0;
  address: Float64Array;
  size: Float64Array;
  allocNs: Float64Array;
  /** Infinity while open */
  freeNs: Float64Array;
  thread: Uint32Array;
  /** source location of the innermost zone open at allocNs on its thread, ZONE_NONE or ZONE_UNRESOLVED */
  zone: Int32Array;
  ended: Uint8Array;
  /** callstack ids (the session's CallstackTable) of the allocation and of its free; 0 = none */
  allocStack: Uint32Array;
  freeStack: Uint32Array;
  /** Earliest and latest allocation time held (arrival order is time order for Tracy's serial queue, but nothing relies on it). */
  minAllocNs = Infinity;
  maxAllocNs = -Infinity;
  evicted = false;

  constructor(
    private readonly owner: AllocLog,
    readonly index: number,
    capacity: number,
    /** First slot used: a segment made after its log's tail was evicted starts where that one stopped. */
    readonly firstSlot: number,
  ) {
    this.address = takeArray(Float64Array, capacity);
    this.size = takeArray(Float64Array, capacity);
    this.allocNs = takeArray(Float64Array, capacity);
    this.freeNs = takeArray(Float64Array, capacity);
    this.thread = takeArray(Uint32Array, capacity);
    this.zone = takeArray(Int32Array, capacity);
    this.ended = takeArray(Uint8Array, capacity);
    this.allocStack = takeArray(Uint32Array, capacity);
    this.freeStack = takeArray(Uint32Array, capacity);
  }

  get capacity(): number {
    return this.address.length;
  }

  get bytes(): number {
    return ALLOC_SEGMENT_OBJECT_BYTES + this.capacity * ROW_BYTES;
  }

  active(): boolean {
    return this.owner.isTail(this);
  }

  /** Doubles the columns (at most ALLOC_ROWS); returns the bytes added. */
  grow(): number {
    const cap = Math.min(ALLOC_ROWS, this.capacity * 2);
    const added = (cap - this.capacity) * ROW_BYTES;
    this.address = regrow(this.address, takeArray(Float64Array, cap));
    this.size = regrow(this.size, takeArray(Float64Array, cap));
    this.allocNs = regrow(this.allocNs, takeArray(Float64Array, cap));
    this.freeNs = regrow(this.freeNs, takeArray(Float64Array, cap));
    this.thread = regrow(this.thread, takeArray(Uint32Array, cap));
    this.zone = regrow(this.zone, takeArray(Int32Array, cap));
    this.ended = regrow(this.ended, takeArray(Uint8Array, cap));
    this.allocStack = regrow(this.allocStack, takeArray(Uint32Array, cap));
    this.freeStack = regrow(this.freeStack, takeArray(Uint32Array, cap));
    return added;
  }

  evict(): void {
    this.owner.onEvicted(this);
    this.drop();
  }

  /** Gives the columns back to the array pool (evicted or released: nothing reads them again). */
  drop(): void {
    this.evicted = true;
    for (const a of [this.address, this.size, this.allocNs, this.freeNs, this.thread, this.zone, this.ended, this.allocStack, this.freeStack]) giveArray(a);
    this.address = this.size = this.allocNs = this.freeNs = EMPTY_F64;
    this.thread = this.allocStack = this.freeStack = EMPTY_U32;
    this.zone = EMPTY_I32;
    this.ended = EMPTY_U8;
    this.count = 0;
  }
}

/** `to` with `from` copied in; `from` goes back to the pool. */
function regrow<T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  giveArray(from);
  return to;
}

export class AllocLog {
  /** segments[i] holds rows [i * ALLOC_ROWS, (i + 1) * ALLOC_ROWS); evicted ones are null. */
  readonly segments: (AllocSegment | null)[] = [];
  /** Records ever made (the next row number). */
  count = 0;
  /** First row still stored (rows below were evicted). */
  firstRow = 0;
  /** Latest allocation time among evicted records (0: nothing evicted). */
  evictedBeforeNs = -0; // a double from the start (times pass 2^31 ns): no map change at the first eviction; +0 below
  /** Live pointers: the row of the open record, or -(size + 1) once that record was evicted. Charged LIVE_ENTRY_BYTES each. */
  readonly live = new Map<number, number>();
  /** The row of the last allocation recorded and of the last record freed (-1: none), for the callstack reported right after. */
  lastAllocRow = -1;
  lastFreeRow = -1;
  /** Live allocations whose record was evicted: how many, and their bytes. */
  liveEvictedCount = 0;
  liveEvictedBytes = 0;
  private tail: AllocSegment | null = null;

  constructor(private readonly budget: BudgetAccount) {
    this.evictedBeforeNs = 0;
  }

  /**
   * Records an allocation. Allocating an address that is live already ends that record
   * (`Replaced`), as Tracy's server would after reporting the fault.
   * @returns the size of the allocation it replaced, or -1
   * @throws BudgetError (ZS_STORE_BUDGET) when the live table cannot grow; nothing is recorded then
   */
  alloc(thread: number, timeNs: number, address: number, size: number): number {
    const prev = this.live.get(address);
    if (prev === undefined) this.budget.charge(LIVE_ENTRY_BYTES); // first: it may throw
    const replaced = prev === undefined ? -1 : this.end(prev, timeNs, AllocEnd.Replaced);
    const row = this.count;
    const slot = row & ALLOC_MASK;
    let seg = this.tail;
    if (seg === null || slot === 0) seg = this.newSegment(row >>> ALLOC_SHIFT, slot);
    else if (slot >= seg.capacity) this.budget.resize(seg, seg.grow());
    seg.address[slot] = address;
    seg.size[slot] = size;
    seg.allocNs[slot] = timeNs;
    seg.freeNs[slot] = Infinity;
    seg.thread[slot] = thread;
    seg.zone[slot] = ZONE_UNRESOLVED;
    seg.ended[slot] = AllocEnd.Open;
    seg.allocStack[slot] = 0;
    seg.freeStack[slot] = 0;
    seg.count = slot + 1;
    this.lastAllocRow = row;
    if (timeNs < seg.minAllocNs) seg.minAllocNs = timeNs;
    if (timeNs > seg.maxAllocNs) seg.maxAllocNs = timeNs;
    this.count = row + 1;
    this.live.set(address, row);
    return replaced;
  }

  /** The app freed `address`. @returns its size, or -1 when it was not live (an unknown free) */
  free(address: number, timeNs: number): number {
    const v = this.live.get(address);
    this.lastFreeRow = v === undefined || v < 0 ? -1 : v;
    if (v === undefined) return -1;
    this.live.delete(address);
    this.budget.charge(-LIVE_ENTRY_BYTES);
    return this.end(v, timeNs, AllocEnd.Freed);
  }

  /** The pool was discarded: every live allocation ends at `timeNs`. */
  discard(timeNs: number): void {
    for (const v of this.live.values()) if (v >= 0) this.end(v, timeNs, AllocEnd.Discarded);
    this.budget.charge(-LIVE_ENTRY_BYTES * this.live.size);
    this.live.clear();
    this.liveEvictedCount = 0;
    this.liveEvictedBytes = 0;
  }

  /** Record `row` (allocated or freed just before) carries callstack `id`; a row evicted meanwhile is passed over. */
  setCallstack(row: number, id: number, ofFree: boolean): void {
    const seg = this.segmentOf(row);
    if (seg === null) return;
    (ofFree ? seg.freeStack : seg.allocStack)[row & ALLOC_MASK] = id;
  }

  /** The segment holding `row`, or null when evicted or out of range. */
  segmentOf(row: number): AllocSegment | null {
    if (row < this.firstRow || row >= this.count) return null;
    return this.segments[row >>> ALLOC_SHIFT] ?? null;
  }

  isTail(seg: AllocSegment): boolean {
    return this.tail === seg;
  }

  /** Records stored (not evicted). */
  get stored(): number {
    let n = 0;
    for (const s of this.segments) if (s) n += s.count;
    return n;
  }

  /** Called by a segment the budget evicts: its open records keep their size in `live`. */
  onEvicted(seg: AllocSegment): void {
    this.budget.evicted(seg.bytes);
    for (let i = seg.firstSlot; i < seg.count; i++) {
      if (seg.ended[i] !== AllocEnd.Open) continue;
      const size = seg.size[i]!;
      this.live.set(seg.address[i]!, -(size + 1));
      this.liveEvictedCount++;
      this.liveEvictedBytes += size;
    }
    if (seg.count > 0) this.evictedBeforeNs = Math.max(this.evictedBeforeNs, seg.maxAllocNs);
    this.segments[seg.index] = null;
    if (this.tail === seg) this.tail = null;
    this.firstRow = firstRowAfterEviction(this.segments, seg, this.firstRow, this.count, ALLOC_SHIFT);
  }

  /** Every segment leaves the budget (the session is deleted); their arrays go back to the pool. */
  release(): void {
    releaseSegments(this.segments, this.budget);
    this.tail = null;
    this.firstRow = this.count;
  }

  /** Ends the record of live value `v` (a row, or an evicted record's encoded size); returns its size. */
  private end(v: number, timeNs: number, how: number): number {
    if (v < 0) {
      this.liveEvictedCount--;
      this.liveEvictedBytes -= -v - 1;
      return -v - 1;
    }
    const seg = this.segmentOf(v);
    if (seg === null) return 0; // released with its session: nothing reads it any more
    const slot = v & ALLOC_MASK;
    seg.freeNs[slot] = timeNs;
    seg.ended[slot] = how;
    return seg.size[slot]!;
  }

  private newSegment(index: number, slot: number): AllocSegment {
    // a log that filled a segment is busy: its next ones are allocated whole
    const seg = new AllocSegment(this, index, index > 0 || slot >= FIRST_CAPACITY ? ALLOC_ROWS : FIRST_CAPACITY, slot);
    this.tail = seg;
    return installSegment(this.segments, seg, this.budget);
  }
}
