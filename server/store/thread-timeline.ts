import type { BudgetAccount } from './memory-budget.js';
import { ZoneColumns, type ZoneExtra } from './zone-columns.js';

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
  openStart = new Float64Array(64);
  openSrcloc = new Int32Array(64);
  /** Filled with null up to the stack's capacity: a packed array, never read through a hole. */
  openExtra: (ZoneExtra | null)[] = new Array<ZoneExtra | null>(64).fill(null);
  zonesBegun = 0;
  zonesEnded = 0;
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
    let columns = this.depths[d];
    if (columns === undefined) {
      while (this.depths.length <= d) {
        this.budget.charge(DEPTH_BYTES);
        this.depths.push(new ZoneColumns(this.budget, this.depths.length));
      }
      columns = this.depths[d]!;
    }
    const extra = this.openExtra[d]!;
    if (extra !== null) this.openExtra[d] = null;
    columns.append(this.openStart[d]!, timeNs, this.openSrcloc[d]!, extra);
    this.zonesEnded++;
    return true;
  }

  /** The extra record of the innermost open zone (created on demand), or null if none is open. */
  openZoneExtra(): ZoneExtra | null {
    const d = this.openCount - 1;
    if (d < 0) {
      this.orphanModifiers++;
      return null;
    }
    let extra = this.openExtra[d] ?? null;
    if (extra === null) {
      extra = { text: null, name: null, color: -1, valueLo: 0, valueHi: -1 };
      this.openExtra[d] = extra;
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

  private growStack(): void {
    const start = new Float64Array(this.openStart.length * 2);
    start.set(this.openStart);
    const srcloc = new Int32Array(this.openSrcloc.length * 2);
    srcloc.set(this.openSrcloc);
    this.openStart = start;
    this.openSrcloc = srcloc;
    for (let i = this.openExtra.length; i < start.length; i++) this.openExtra.push(null);
  }
}
