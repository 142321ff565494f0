import type { ThreadTimeline } from '../store/thread-timeline.js';
import { SEGMENT_MASK, SEGMENT_SHIFT, type ZoneColumns } from '../store/zone-columns.js';
import { F64List, I32List } from './growable.js';

/**
 * Zones of one (thread, depth) track for a viewport, at a level of detail decided in pixels:
 * a zone at least one pixel wide comes back on its own; a run of narrower ones that start
 * within the same pixel is folded into one merged item with its count (srcloc -1). Runs are
 * skipped with binary search, so the cost is about pixels x log(zones), not zones in range.
 */
export interface DepthZones {
  depth: number;
  startNs: Float64Array;
  endNs: Float64Array;
  /** source location index; -1 = merged item */
  srcloc: Int32Array;
  /** zones in the item: 1 for a single zone */
  count: Int32Array;
  /** row of a single zone in its track (for details), -1 for merged items */
  row: Int32Array;
}

export interface ThreadZones {
  thread: number;
  depths: DepthZones[];
  /** Zones still open: start, srcloc, depth (end = the session's latest time). */
  open: { startNs: number; srcloc: number; depth: number }[];
  /** Time before which this thread's zones were evicted (0: nothing evicted). */
  evictedBeforeNs: number;
}

/** The per-depth item cap of a viewport query (a huge range at nsPerPx 0 stays bounded). */
export const MAX_ZONES_PER_DEPTH = 2_000_000;

/**
 * Zones of one depth that intersect the closed range [t0, t1] (end >= t0, start <= t1): a zero-
 * length zone at either end counts, and merged items never count zones starting after t1.
 * @param nsPerPx nanoseconds per pixel; 0 returns every zone individually
 * @param maxItems safety cap per depth (a huge range at nsPerPx 0)
 */
export function queryDepth(columns: ZoneColumns, t0: number, t1: number, nsPerPx: number, maxItems = Infinity): DepthZones {
  return queryDepthPage(columns, t0, t1, nsPerPx, 0, maxItems).zones;
}

/**
 * queryDepth from row `fromRow` on (rows before it are left out), at most `maxItems` items.
 * @returns the items and the first row not covered (-1 when the depth's range is complete), to
 *   continue from: a merged item never spans two pages, so every zone is covered exactly once
 */
export function queryDepthPage(columns: ZoneColumns, t0: number, t1: number, nsPerPx: number, fromRow: number, maxItems: number): { zones: DepthZones; nextRow: number } {
  if (nsPerPx <= 0) return everyZone(columns, t0, t1, fromRow, maxItems);
  const start = new F64List();
  const end = new F64List();
  const srcloc = new I32List();
  const count = new I32List();
  const rows = new I32List();
  // rows [r, last) intersect the closed range [t0, t1]: end >= t0 and start <= t1
  const last = columns.firstStartingAfter(t1);
  let r = Math.max(columns.firstEndingAtOrAfter(t0), fromRow);
  while (r < last && start.length < maxItems) {
    const seg = columns.segments[r >>> SEGMENT_SHIFT]!;
    const slot = r & SEGMENT_MASK;
    const s = seg.startAt(slot);
    const e = seg.endAt(slot);
    if (nsPerPx <= 0 || e - s >= nsPerPx) {
      start.push(s);
      end.push(e);
      srcloc.push(seg.srcloc[slot]!);
      count.push(1);
      rows.push(r);
      r++;
      continue;
    }
    // zones r .. j-1 start inside this pixel (and in range); only the last of them can be wide
    let j = Math.min(columns.gallopStartingAtOrAfter(s + nsPerPx, r + 1), last);
    if (j - 1 > r && columns.endAt(j - 1) - columns.startAt(j - 1) >= nsPerPx) j--;
    start.push(s);
    end.push(columns.endAt(j - 1));
    if (j === r + 1) {
      srcloc.push(seg.srcloc[slot]!);
      count.push(1);
      rows.push(r);
    } else {
      srcloc.push(-1);
      count.push(j - r);
      rows.push(-1);
    }
    r = j;
  }
  const zones = { depth: columns.depth, startNs: start.view(), endNs: end.view(), srcloc: srcloc.view(), count: count.view(), row: rows.view() };
  return { zones, nextRow: r < last ? r : -1 };
}

/** queryDepthPage at nsPerPx 0: the item count is known, so the columns are made once, at their size. */
function everyZone(columns: ZoneColumns, t0: number, t1: number, fromRow: number, maxItems: number): { zones: DepthZones; nextRow: number } {
  const last = columns.firstStartingAfter(t1);
  const first = Math.max(columns.firstEndingAtOrAfter(t0), fromRow);
  const n = Math.max(0, Math.min(last - first, maxItems));
  const zones: DepthZones = { depth: columns.depth, startNs: new Float64Array(n), endNs: new Float64Array(n), srcloc: new Int32Array(n), count: new Int32Array(n).fill(1), row: new Int32Array(n) };
  for (let i = 0, r = first; i < n; i++, r++) {
    const seg = columns.segments[r >>> SEGMENT_SHIFT]!;
    const slot = r & SEGMENT_MASK;
    zones.startNs[i] = seg.startAt(slot);
    zones.endNs[i] = seg.endAt(slot);
    zones.srcloc[i] = seg.srcloc[slot]!;
    zones.row[i] = r;
  }
  const next = first + n;
  return { zones, nextRow: next < last ? next : -1 };
}

export function queryThreadZones(thread: ThreadTimeline, t0: number, t1: number, nsPerPx: number, maxItems = Infinity): ThreadZones {
  const depths: DepthZones[] = [];
  for (const columns of thread.depths) {
    if (columns.count === columns.firstRow) continue;
    const d = queryDepth(columns, t0, t1, nsPerPx, maxItems);
    if (d.startNs.length > 0) depths.push(d);
  }
  const open: ThreadZones['open'] = [];
  for (let d = 0; d < thread.openCount; d++) {
    const s = thread.openStart[d]!;
    if (s <= t1) open.push({ startNs: s, srcloc: thread.openSrcloc[d]!, depth: d });
  }
  return { thread: thread.id, depths, open, evictedBeforeNs: thread.evictedBeforeNs };
}
