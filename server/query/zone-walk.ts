import type { ThreadTimeline } from '../store/thread-timeline.js';
import { SEGMENT_MASK, SEGMENT_SHIFT, type ZoneColumns } from '../store/zone-columns.js';

/**
 * Visits every stored zone of a thread that starts in [t0, t1], depth by depth, with its
 * self time (duration minus the durations of its direct children, found with a pointer that
 * walks the next depth's sorted columns in step) and its parent's row. Shared by statistics,
 * the flame graph and zone search.
 */
export type ZoneVisit = (depth: number, row: number, startNs: number, durNs: number, selfNs: number, srcloc: number, parentRow: number) => void;

/** walkThreadZones in one go (no slicing). */
export function walkThreadZones(thread: ThreadTimeline, t0: number, t1: number, visit: ZoneVisit): void {
  new ThreadZoneWalk(thread, t0, t1, visit).step(Number.MAX_SAFE_INTEGER);
}

/**
 * The walk of walkThreadZones as a resumable state machine, for queries run in slices.
 *
 * Between two steps the store may change under it, and the walk stays consistent:
 * - zones appended after the walk began are not visited (each depth's row count is taken when
 *   the walk is made; their parents ended later still, so no visited zone lacks a child);
 * - rows evicted meanwhile are skipped (every read goes through the live segment list, and the
 *   read heads are moved up to each track's first stored row on resume);
 * - a released store (the session was deleted) has no segments left: the walk ends at once.
 */
export class ThreadZoneWalk {
  /** per depth, the rows that existed when the walk began */
  private readonly ends: number[];
  private d = 0;
  private r = 0;
  private k = 0;
  private pr = -1;
  /** units the last step() used (it may overshoot its budget by one parent's children) */
  spent = 0;

  constructor(
    readonly thread: ThreadTimeline,
    private readonly t0: number,
    private readonly t1: number,
    private readonly visit: ZoneVisit,
  ) {
    this.ends = thread.depths.map((c) => c.count);
    this.enterDepth(0);
  }

  /**
   * Looks at about `units` zones (rows visited plus child rows stepped over; one parent's
   * children are never split); true once every depth is done.
   */
  step(units: number): boolean {
    const depths = this.thread.depths;
    let left = units;
    while (this.d < this.ends.length) {
      const d = this.d;
      const cols = depths[d]!;
      const end = this.ends[d]!;
      const children = depths[d + 1];
      const childEnd = this.ends[d + 1] ?? 0;
      const parents = d > 0 ? depths[d - 1]! : null;
      const parentEnd = d > 0 ? this.ends[d - 1]! : 0;
      // rows below a track's first stored row were evicted since the last step
      let r = Math.max(this.r, cols.firstRow);
      let k = children ? Math.max(this.k, children.firstRow) : 0;
      let pr = parents ? Math.max(this.pr, parents.firstRow) : -1;
      for (; r < end; r++) {
        if (left <= 0) {
          this.r = r;
          this.k = k;
          this.pr = pr;
          this.spent = units - left;
          return false;
        }
        left--;
        const seg = cols.segments[r >>> SEGMENT_SHIFT];
        if (!seg) {
          r = ((r >>> SEGMENT_SHIFT) + 1) * (SEGMENT_MASK + 1) - 1;
          continue;
        }
        const slot = r & SEGMENT_MASK;
        const s = seg.startAt(slot);
        if (s > this.t1) break;
        const dur = seg.durationAt(slot);
        const e = s + dur;
        let childNs = 0;
        if (children) {
          const from = k;
          while (k < childEnd && startOf(children, k) < s) k++;
          while (k < childEnd) {
            const cs = startOf(children, k);
            if (cs >= e) break;
            if (cs >= s) childNs += children.endAt(k) - cs;
            k++;
          }
          left -= k - from;
        }
        let parentRow = -1;
        if (parents) {
          while (pr < parentEnd && pr >= parents.firstRow && parents.endAt(pr) < e) pr++;
          if (pr < parentEnd && pr >= parents.firstRow && parents.startAt(pr) <= s) parentRow = pr;
        }
        this.visit(d, r, s, dur, dur - childNs, seg.srcloc[slot]!, parentRow);
      }
      this.enterDepth(d + 1);
      left--; // the next depth's binary searches
    }
    this.spent = units - left;
    return true;
  }

  private enterDepth(d: number): void {
    this.d = d;
    const depths = this.thread.depths;
    const cols = depths[d];
    if (cols === undefined || d >= this.ends.length) return;
    const children = depths[d + 1];
    const parents = d > 0 ? depths[d - 1]! : null;
    this.r = cols.firstStartingAtOrAfter(this.t0);
    this.k = children ? children.firstStartingAtOrAfter(this.t0) : 0;
    this.pr = parents ? parents.firstEndingAfter(this.t0) : -1;
  }
}

/** Start of `row`, or -Infinity when its segment is gone (evicted rows are stepped over). */
function startOf(cols: ZoneColumns, row: number): number {
  const seg = cols.segments[row >>> SEGMENT_SHIFT];
  return seg ? seg.startAt(row & SEGMENT_MASK) : -Infinity;
}

/** The walks of several threads, one after the other; a finished walk is dropped (and its visitor's state with it). */
export class ZoneWalks {
  private readonly walks: (ThreadZoneWalk | null)[];
  private at = 0;

  constructor(walks: ThreadZoneWalk[]) {
    this.walks = walks;
  }

  get done(): boolean {
    return this.at >= this.walks.length;
  }

  /** Steps the walks in order with about `units` units; returns the units left (<= 0: all spent). */
  step(units: number): number {
    let left = units;
    while (this.at < this.walks.length && left > 0) {
      const walk = this.walks[this.at]!;
      const finished = walk.step(left);
      left -= Math.max(1, walk.spent);
      if (finished) this.walks[this.at++] = null;
    }
    return left;
  }
}
