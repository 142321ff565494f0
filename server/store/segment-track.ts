import type { BudgetAccount, Evictable } from './memory-budget.js';

/**
 * The bookkeeping every segmented column store shares (zones per depth, lock zones per lock and
 * thread, allocation records per pool): a track's rows live in fixed-size segments, registered
 * with the budget as they are made, so evicted oldest first; a list holds them by index (null
 * once evicted). These are the cold paths (once per segment); appending and reading rows stay
 * in each store, which knows its columns.
 */

/** A segment as its track sees it. */
export interface TrackSegment extends Evictable {
  readonly index: number;
  count: number;
  /** Gives its arrays back (array pool) and marks it dropped. */
  drop(): void;
}

/**
 * Puts `seg` at `index` (holes before it stay null) and registers it with the budget.
 * @returns seg
 */
export function installSegment<S extends TrackSegment>(segments: (S | null)[], seg: S, budget: BudgetAccount): S {
  while (segments.length < seg.index) segments.push(null);
  segments[seg.index] = seg;
  budget.register(seg);
  return seg;
}

/**
 * The capacity of a new segment: a track's first one starts at `first` and doubles as it fills;
 * one that filled a segment is busy, so its next ones are allocated whole (`rows`) instead of
 * being copied through every doubling. `slot` > 0 when the tail was evicted while in use.
 */
export function segmentCapacity(index: number, slot: number, first: number, rows: number): number {
  let capacity = index === 0 ? first : rows;
  while (capacity <= slot) capacity *= 2;
  return Math.min(capacity, rows);
}

/**
 * The first row still stored once segment `seg` (of `1 << shift` rows) was evicted: segments of
 * one track are registered, so evicted, oldest first, and everything up to the end of this one
 * is gone; later holes (segments evicted earlier while others stayed) are skipped too.
 */
export function firstRowAfterEviction(segments: readonly (TrackSegment | null)[], seg: TrackSegment, firstRow: number, count: number, shift: number): number {
  const rows = 1 << shift;
  let first = Math.max(firstRow, seg.index * rows + seg.count);
  while (first < count && !segments[first >>> shift]) first = ((first >>> shift) + 1) * rows;
  return Math.min(first, count);
}

/** Releases every segment from the budget and drops it (the session is deleted); empties the list. */
export function releaseSegments(segments: (TrackSegment | null)[], budget: BudgetAccount): void {
  for (const seg of segments) {
    if (!seg) continue;
    budget.release(seg);
    seg.drop();
  }
  segments.length = 0;
}
