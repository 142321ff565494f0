import type { ThreadTimeline } from '../store/thread-timeline.js';
import { SEGMENT_MASK, SEGMENT_SHIFT, type ZoneColumns } from '../store/zone-columns.js';

/**
 * Visits every stored zone of a thread that starts in [t0, t1], depth by depth, with its
 * self time (duration minus the durations of its direct children, found with a pointer that
 * walks the next depth's sorted columns in step) and its parent's row. Shared by statistics,
 * the flame graph and zone search.
 */
export type ZoneVisit = (depth: number, row: number, startNs: number, durNs: number, selfNs: number, srcloc: number, parentRow: number) => void;

export function walkThreadZones(thread: ThreadTimeline, t0: number, t1: number, visit: ZoneVisit): void {
  const depths = thread.depths;
  for (let d = 0; d < depths.length; d++) {
    const cols = depths[d]!;
    const children = depths[d + 1];
    const parents = d > 0 ? depths[d - 1]! : null;
    let r = cols.firstStartingAtOrAfter(t0);
    let k = children ? children.firstStartingAtOrAfter(t0) : 0;
    let pr = parents ? parents.firstEndingAfter(t0) : -1;
    for (; r < cols.count; r++) {
      const seg = cols.segments[r >>> SEGMENT_SHIFT];
      if (!seg) {
        r = ((r >>> SEGMENT_SHIFT) + 1) * (SEGMENT_MASK + 1) - 1;
        continue;
      }
      const slot = r & SEGMENT_MASK;
      const s = seg.start[slot]!;
      if (s > t1) break;
      const dur = seg.durationAt(slot);
      const e = s + dur;
      let childNs = 0;
      if (children) {
        k = advanceStart(children, k, s);
        while (k < children.count) {
          const cs = startOf(children, k);
          if (cs >= e) break;
          if (cs >= s) childNs += children.endAt(k) - cs;
          k++;
        }
      }
      let parentRow = -1;
      if (parents) {
        while (pr < parents.count && pr >= parents.firstRow && parents.endAt(pr) < e) pr++;
        if (pr < parents.count && pr >= parents.firstRow && parents.startAt(pr) <= s) parentRow = pr;
      }
      visit(d, r, s, dur, dur - childNs, seg.srcloc[slot]!, parentRow);
    }
  }
}

function advanceStart(cols: ZoneColumns, k: number, s: number): number {
  while (k < cols.count && startOf(cols, k) < s) k++;
  return k;
}

function startOf(cols: ZoneColumns, row: number): number {
  const seg = cols.segments[row >>> SEGMENT_SHIFT];
  return seg ? seg.start[row & SEGMENT_MASK]! : -Infinity;
}
