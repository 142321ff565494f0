/**
 * One memory budget shared by every session's store. Each typed-array segment registers its
 * real byte size (and every growth); when the total would pass the limit, the oldest segments,
 * across all sessions, are evicted first. A segment says what eviction means for its track
 * (drop the data, remember the time before which data is gone).
 *
 *   register(seg) -> [ oldest ... newest ] FIFO -> evict() from the front while used > limit
 */
export interface Evictable {
  /** Bytes this segment holds right now (typed arrays plus side data). */
  readonly bytes: number;
  /** Drop the data; called once. The segment must not call back into the budget. */
  evict(): void;
  /** Set by the budget while the segment is registered. */
  budgetSlot: number;
  /**
   * True while the segment is its track's tail (still receiving the newest data). Such a
   * segment can be the oldest registered one (a quiet track's only segment), yet evicting it
   * would drop that track's newest data: it is passed over while older full segments remain.
   */
  active(): boolean;
}

/**
 * Thrown by BudgetAccount.charge when a session's tables (strings, source locations, live
 * allocations...) would take more than TABLE_SHARE of the budget, or would push the store past
 * the budget although every segment was evicted. The session ends 'store-error' with this
 * code; the store stays within the budget and other sessions keep at least the rest.
 */
export class BudgetError extends Error {
  override readonly name = 'BudgetError';
  readonly code = 'ZS_STORE_BUDGET';
}

/** Share of the budget one session's tables (charges outside segments) may take. */
export const TABLE_SHARE = 0.5;

/** The share of the budget live sessions' decode buffers may take together (chargeBuffers). */
export const BUFFER_SHARE = 0.25;

export class MemoryBudget {
  used = 0;
  /** Highest `used` seen once a change was settled (after eviction), ever. */
  peakUsed = 0;
  evictedBytes = 0;
  evictedSegments = 0;
  /** Of `used`: live sessions' decode buffers (chargeBuffers). */
  bufferBytes = 0;
  private queue: (Evictable | null)[] = [];
  /** Slots before `head` are all null (evicted or released). */
  private head = 0;
  private live = 0;
  /** Null slots in `queue` (evicted or released), before or after `head`. */
  private holes = 0;

  /** @param limit bytes; throws TypeError when not a positive number */
  constructor(readonly limit: number) {
    if (!(limit > 0) || !Number.isFinite(limit)) throw new TypeError(`memory budget must be a positive number of bytes, got ${limit}`);
  }

  /** Adds a new segment (youngest) with its current size, evicting older ones if needed. */
  register(seg: Evictable): void {
    seg.budgetSlot = this.queue.length;
    this.queue.push(seg);
    this.live++;
    this.used += seg.bytes;
    this.enforce(seg);
    if (this.used > this.peakUsed) this.peakUsed = this.used;
  }

  /** A registered segment grew (or shrank) by `delta` bytes; ignored once it is not registered. */
  resize(seg: Evictable, delta: number): void {
    if (seg.budgetSlot < 0) return;
    this.used += delta;
    if (delta > 0) {
      this.enforce(seg);
      if (this.used > this.peakUsed) this.peakUsed = this.used;
    }
  }

  /**
   * Bytes accounted outside segments (strings, tables): counted, never evicted themselves, but
   * they make room by evicting segments like any other growth.
   * @returns false, with nothing charged, when even with every segment evicted they do not fit
   */
  charge(delta: number): boolean {
    this.used += delta;
    if (delta > 0) {
      this.enforce(null);
      if (this.used > this.limit) {
        this.used -= delta;
        return false;
      }
      if (this.used > this.peakUsed) this.peakUsed = this.used;
    }
    return true;
  }

  /**
   * Charges (negative: gives back) live sessions' decode buffers (Session.chargeDecodeBuffers):
   * like charge(), but all of them together take at most BUFFER_SHARE of the limit, so stored
   * data always keeps room; what does not fit stays bounded by the connection limits.
   * @returns false, with nothing charged, when that share or the budget cannot hold them
   */
  chargeBuffers(delta: number): boolean {
    if (delta > 0 && this.bufferBytes + delta > this.limit * BUFFER_SHARE) return false;
    if (!this.charge(delta)) return false;
    this.bufferBytes += delta;
    return true;
  }

  /** Removes a segment without counting it as evicted (its session was deleted). */
  release(seg: Evictable): void {
    if (seg.budgetSlot < 0 || this.queue[seg.budgetSlot] !== seg) return;
    this.queue[seg.budgetSlot] = null;
    seg.budgetSlot = -1;
    this.live--;
    this.holes++;
    this.used -= seg.bytes;
    this.compact();
  }

  /** Segments registered and not evicted. */
  get segments(): number {
    return this.live;
  }

  /**
   * Evicts from the oldest while over the limit. Two passes: the first passes over `keep` (the
   * segment being written right now) and every active tail, so a quiet track's only segment,
   * registered long ago but holding its newest zones, survives while older full segments
   * remain; the second, only if that was not enough, takes active tails too (never `keep`).
   */
  private enforce(keep: Evictable | null): void {
    for (let pass = 0; pass < 2 && this.used > this.limit; pass++) {
      for (let i = this.head; this.used > this.limit && i < this.queue.length; i++) {
        const seg = this.queue[i];
        if (!seg || seg === keep || (pass === 0 && seg.active())) continue;
        this.queue[i] = null;
        this.holes++;
        this.live--;
        this.used -= seg.bytes;
        this.evictedBytes += seg.bytes;
        this.evictedSegments++;
        seg.budgetSlot = -1;
        seg.evict();
      }
    }
    while (this.head < this.queue.length && this.queue[this.head] === null) this.head++;
    this.compact();
  }

  /** Drops the null slots once they are most of the queue (evicted at the head or released). */
  private compact(): void {
    if (this.holes > 1024 && this.holes * 2 > this.queue.length) {
      this.queue = this.queue.filter((s): s is Evictable => s !== null);
      for (let i = 0; i < this.queue.length; i++) this.queue[i]!.budgetSlot = i;
      this.head = 0;
      this.holes = 0;
    }
  }
}

/**
 * One session's share of the budget: what its store holds and what was evicted from it. The
 * store's tracks talk to this; it forwards to the shared MemoryBudget.
 */
export class BudgetAccount {
  /** Bytes this session's store holds now. */
  bytes = 0;
  evictedBytes = 0;
  /** Segments of this session registered and neither evicted nor released: its data in the budget. */
  segments = 0;
  /** Bytes charged outside segments (tables), included in `bytes`. */
  tableBytes = 0;

  constructor(readonly budget: MemoryBudget) {}

  register(seg: Evictable): void {
    this.bytes += seg.bytes;
    this.segments++;
    this.budget.register(seg);
  }

  resize(seg: Evictable, delta: number): void {
    if (seg.budgetSlot < 0) return; // released or evicted: no longer counted
    this.bytes += delta;
    this.budget.resize(seg, delta);
  }

  /**
   * Charges bytes held outside segments (tables); a negative delta gives them back.
   * @throws BudgetError when, with every segment evicted, the budget still cannot hold them (the
   *   charge is undone first: the store never passes its limit)
   */
  charge(delta: number): void {
    const share = this.budget.limit * TABLE_SHARE;
    if (delta > 0 && this.tableBytes + delta > share) {
      throw new BudgetError(
        `this session's tables (strings, source locations, live allocations) need ${this.tableBytes + delta} bytes, more than half the memory budget of ${this.budget.limit} bytes`,
      );
    }
    if (!this.budget.charge(delta)) {
      throw new BudgetError(
        `the sessions' tables (strings, source locations, live allocations) need more than the memory budget of ${this.budget.limit} bytes, with every segment evicted`,
      );
    }
    this.bytes += delta;
    this.tableBytes += delta;
  }

  release(seg: Evictable): void {
    if (seg.budgetSlot >= 0) {
      this.bytes -= seg.bytes;
      this.segments--;
    }
    this.budget.release(seg);
  }

  /** Called by a track when the budget evicted one of its segments (`bytes` before eviction). */
  evicted(bytes: number): void {
    this.bytes -= bytes;
    this.evictedBytes += bytes;
    this.segments--;
  }

  /** After every segment was released: what was charged outside segments goes back too. */
  close(): void {
    this.budget.charge(-this.bytes);
    this.bytes = 0;
    this.tableBytes = 0;
  }
}
