import { ARRAY_OVERHEAD_BYTES, EMPTY_F64, EMPTY_I32 } from './array-pool.js';
import type { BudgetAccount } from './memory-budget.js';
import { ZoneColumns, type ZoneExtra } from './zone-columns.js';

const FIRST_STACK = 64;
/**
 * What a thread costs (charged by the store when it first appears): this object, its map entry,
 * its depth list and the open-zone stack (two typed arrays of FIRST_STACK). The stack's growth
 * and the open-extra slots (made on the first zone text, name, colour or value) are charged as
 * they come; compact() gives the stack back once the stream is over.
 */
export const THREAD_BYTES = 896 + 2 * ARRAY_OVERHEAD_BYTES + FIRST_STACK * 12;

/** A nesting depth's columns object and its segment list (charged when the depth is first used). */
const DEPTH_BYTES = 160;

/**
 * One app thread: its finished zones per nesting depth and the stack of zones still open
 * (shown as running). Zone begin/end never allocate: the stack is typed arrays that double.
 */
export class ThreadTimeline {
  name: string | null = null;
  readonly depths: ZoneColumns[] = [];
  /** Open zones, innermost last. */
  openCount = 0;
  openStart: Float64Array = new Float64Array(FIRST_STACK);
  openSrcloc: Int32Array = new Int32Array(FIRST_STACK);
  /**
   * Null until a zone gets an extra; then filled with null up to the stack's capacity: a packed
   * array, never read through a hole.
   */
  openExtra: (ZoneExtra | null)[] | null = null;
  zonesBegun = 0;
  zonesEnded = 0;
  /** Zones open now in a store that only counts them (countBegin/countEnd); 0 otherwise. */
  countedOpen = 0;
  /** ZoneEnd with nothing open (Tracy's ZoneDoubleEnd): counted, ignored. */
  unmatchedEnds = 0;
  /** Zone modifiers (text, name, colour, value) with no open zone: counted, ignored. */
  orphanModifiers = 0;

  constructor(
    readonly id: number,
    private readonly budget: BudgetAccount,
  ) {}

  begin(timeNs: number, srcloc: number): void {
    const d = this.openCount;
    if (d === this.openStart.length) this.growStack();
    this.openStart[d] = timeNs;
    this.openSrcloc[d] = srcloc;
    // openExtra[d] is already null: end() clears the slots it leaves (most zones have no extra)
    this.openCount = d + 1;
    this.zonesBegun++;
  }

  /** @returns false when no zone was open */
  end(timeNs: number): boolean {
    const d = this.openCount - 1;
    if (d < 0) {
      this.unmatchedEnds++;
      return false;
    }
    this.openCount = d;
    // the first zone ending at a new depth makes its columns, out of line (end() is inlined per zone)
    const columns = this.depths[d] ?? this.newDepth(d);
    const extras = this.openExtra;
    let extra: ZoneExtra | null = null;
    if (extras !== null) {
      extra = extras[d]!;
      if (extra !== null) extras[d] = null;
    }
    columns.append(this.openStart[d]!, timeNs, this.openSrcloc[d]!, extra);
    this.zonesEnded++;
    return true;
  }

  /**
   * begin() for a store that counts zones without keeping them (ZoneCountingStore): only the
   * count and the nesting, in `countedOpen` (the open-zone stack stays empty).
   */
  countBegin(): void {
    this.countedOpen++;
    this.zonesBegun++;
  }

  /** end() for a store that counts zones without keeping them. */
  countEnd(): void {
    if (this.countedOpen === 0) {
      this.unmatchedEnds++;
      return;
    }
    this.countedOpen--;
    this.zonesEnded++;
  }

  /** Columns for depths up to `d` (charged as they are made); returns depth d's. */
  private newDepth(d: number): ZoneColumns {
    while (this.depths.length <= d) {
      this.budget.charge(DEPTH_BYTES);
      this.depths.push(new ZoneColumns(this.budget, this.depths.length));
    }
    return this.depths[d]!;
  }

  /** The extra record of the innermost open zone (created on demand), or null if none is open. */
  openZoneExtra(): ZoneExtra | null {
    const d = this.openCount - 1;
    if (d < 0) {
      this.orphanModifiers++;
      return null;
    }
    let extras = this.openExtra;
    if (extras === null) {
      this.budget.charge(16 + 8 * this.openStart.length);
      extras = this.openExtra = new Array<ZoneExtra | null>(this.openStart.length).fill(null);
    }
    let extra = extras[d] ?? null;
    if (extra === null) {
      extra = { text: null, name: null, color: -1, valueLo: 0, valueHi: -1, callstack: 0 };
      extras[d] = extra;
    }
    return extra;
  }

  /** Start of the earliest stored or open zone (Infinity when none); derived, not tracked per zone. */
  get firstNs(): number {
    const top = this.depths[0];
    let t = this.openCount > 0 ? this.openStart[0]! : Infinity;
    if (top && top.count > top.firstRow) t = Math.min(t, top.startAt(top.firstRow));
    return t;
  }

  /** End of the latest finished zone, or the start of the innermost open one (-Infinity when none). */
  get lastNs(): number {
    let t = this.openCount > 0 ? this.openStart[this.openCount - 1]! : -Infinity;
    for (const c of this.depths) if (c.count > c.firstRow) t = Math.max(t, c.endAt(c.count - 1));
    return t;
  }

  /** Finished zones stored (not evicted). */
  get storedZones(): number {
    let n = 0;
    for (const c of this.depths) n += c.count - c.firstRow;
    return n;
  }

  /** The latest time before which any of this thread's zones were evicted. */
  get evictedBeforeNs(): number {
    let t = 0;
    for (const c of this.depths) if (c.evictedBeforeNs > t) t = c.evictedBeforeNs;
    return t;
  }

  release(): void {
    for (const c of this.depths) c.release();
  }

  /**
   * The stream is over: the open-zone stack shrinks to the zones left open (most often none,
   * then it holds no arrays of its own) and the open-extra slots go.
   * @returns the bytes given back (to uncharge)
   */
  compact(): number {
    const n = this.openCount;
    let freed = 12 * (this.openStart.length - n);
    if (n === 0) {
      if (this.openStart.length > 0) freed += 2 * ARRAY_OVERHEAD_BYTES;
      this.openStart = EMPTY_F64;
      this.openSrcloc = EMPTY_I32;
    } else {
      this.openStart = this.openStart.slice(0, n);
      this.openSrcloc = this.openSrcloc.slice(0, n);
    }
    if (this.openExtra !== null) {
      // the zones left open keep theirs (an export shows them)
      freed += 8 * (this.openExtra.length - n);
      if (n === 0) freed += 16;
      this.openExtra = n === 0 ? null : this.openExtra.slice(0, n);
    }
    return freed;
  }

  private growStack(): void {
    const size = Math.max(FIRST_STACK, this.openStart.length * 2);
    this.budget.charge(12 * (size - this.openStart.length) + (this.openExtra !== null ? 8 * (size - this.openStart.length) : 0));
    const start = new Float64Array(size);
    start.set(this.openStart);
    const srcloc = new Int32Array(size);
    srcloc.set(this.openSrcloc);
    this.openStart = start;
    this.openSrcloc = srcloc;
    if (this.openExtra !== null) for (let i = this.openExtra.length; i < size; i++) this.openExtra.push(null);
  }
}
