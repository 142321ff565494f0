import type { BudgetAccount, Evictable } from './memory-budget.js';

/** What a track of time-sorted segments needs to know of each segment. */
export interface TimedSegment extends Evictable {
  count: number;
  /** latest time held */
  maxTime: number;
  /** Gives the segment's arrays back to the array pool and marks it evicted (count 0): its track was released. */
  drop(): void;
}

/**
 * The part shared by tracks kept as time-sorted segments (plots, frames, memory usage,
 * messages): the segment list, what eviction leaves behind, and giving everything back.
 */
export abstract class SortedSegments<S extends TimedSegment> {
  readonly segments: S[] = [];
  /** Time before which this track's data was evicted (0: nothing evicted). */
  evictedBeforeNs = -0; // a double from the start (times pass 2^31 ns): no map change at the first eviction; +0 below

  constructor(protected readonly budget: BudgetAccount) {
    this.evictedBeforeNs = 0;
  }

  /** Called by a segment the budget evicts (before it drops its data). */
  onEvicted(seg: S): void {
    this.budget.evicted(seg.bytes);
    if (seg.count > 0) this.evictedBeforeNs = Math.max(this.evictedBeforeNs, seg.maxTime);
    const at = this.segments.indexOf(seg);
    if (at >= 0) this.segments.splice(at, 1);
  }

  /**
   * Every segment leaves the budget (the session is deleted) and its arrays go back to the pool
   * at once: a reader still walking one (an export in progress) sees it evicted.
   */
  release(): void {
    for (const seg of this.segments) {
      this.budget.release(seg);
      seg.drop();
    }
    this.segments.length = 0;
  }
}
