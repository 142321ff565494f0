import type { DepthItems, MessageItem, ThreadItems } from '../../protocol/view/types.js';

/**
 * Track layout and hit-testing math, pure (no DOM): where each track sits vertically, which
 * track and row a y falls on, and which item of a sorted column a time hits. All lengths are CSS
 * px; track tops are measured in "content" coordinates, from the top of the first track (just
 * below the ruler), before vertical scrolling.
 *
 *   canvas y = RULER_H + track.top - scrollTop
 *   +--------------------------------------------------+
 *   | ruler (RULER_H)                                  |
 *   +--------------------------------------------------+ <- content y 0
 *   | frames track: bars (FRAME_BARS_H)                |
 *   |   + one lane per discontinuous set (FRAME_LANE_H) |
 *   +--------------------------------------------------+
 *   | thread: message lane (MSG_LANE_H)                |
 *   |   depth 0 row (ROW_H)  ...  depth n-1 row        |
 *   |   one lane per lock the thread used (LOCK_ROW_H)  |
 *   |   bottom padding (TRACK_PAD_B)                   |
 *   +--------------------------------------------------+
 *
 * Sticky pinned tracks: the pinned threads that fit (chooseSticky) are laid out first, right
 * under the frames track, and flagged `sticky`. They scroll like CSS `position: sticky`: with
 * the rest until the frames track has scrolled away, then they stay under the ruler (the
 * "pinned band") while the other tracks scroll beneath it. Each track has its own scroll
 * offset (trackScroll): sticky ones `min(scrollTop, frames height)`, the others scrollTop; a
 * view y (CSS px below the ruler) maps back to content y through contentYAt, so drawing,
 * headers and hit testing agree on where every track is (ScrollView).
 */

export const RULER_H = 24;
export const ROW_H = 18;
export const MSG_LANE_H = 6;
export const TRACK_PAD_B = 6;
export const COLLAPSED_H = 22;
export const FRAME_BARS_H = 40;
export const FRAME_LANE_H = 16;
export const LOCK_ROW_H = 12;

export interface TrackLayout {
  kind: 'frames' | 'thread';
  /** thread id (-1 for the frames track) */
  thread: number;
  /** content y of the track's top, CSS px */
  top: number;
  height: number;
  /** zone rows drawn (0 when collapsed): depths firstRow .. firstRow + rows - 1 */
  rows: number;
  /** the depth drawn in the first row: > 0 when a track with a maximum height is scrolled */
  firstRow: number;
  /** the thread's zone rows in all (more than `rows` when a maximum height cuts them) */
  totalRows: number;
  collapsed: boolean;
  /** lock ids of the lock lanes under the zone rows, in order (none when collapsed) */
  locks: readonly number[];
  /** a pinned track kept in the pinned band under the ruler while the others scroll */
  sticky: boolean;
}

export interface Layout {
  tracks: TrackLayout[];
  /** content height of all tracks, CSS px */
  height: number;
  /** height of the sticky tracks together (the pinned band), CSS px; 0 when none */
  stickyHeight: number;
}

/** A thread's own cut: at most `maxRows` zone rows drawn, from depth `firstRow` (its own scroll). */
export interface RowWindow {
  maxRows: number;
  firstRow: number;
}

/** The first row a track of `total` rows showing `shown` of them can start at, `want` clamped. */
export function clampFirstRow(want: number, total: number, shown: number): number {
  return Math.max(0, Math.min(Math.round(want), total - shown));
}

/**
 * Lays the frames track (bars and `frameLanes` lanes) on top, then one track per thread in the
 * given order: `rows` zone rows (at least one) or a thin collapsed strip. A thread with a row
 * window (`windows`) draws at most its maxRows rows, from its firstRow (clamped to the rows).
 * Threads flagged sticky are sticky only while they come first (a sticky one after another
 * thread is laid out as an ordinary track).
 */
export function layoutTracks(
  threads: readonly { thread: number; rows: number; locks?: readonly number[]; sticky?: boolean }[],
  collapsed: ReadonlySet<number>,
  frameLanes: number,
  windows: ReadonlyMap<number, RowWindow> = new Map(),
): Layout {
  const tracks: TrackLayout[] = [];
  let y = 0;
  const framesH = FRAME_BARS_H + frameLanes * FRAME_LANE_H;
  tracks.push({ kind: 'frames', thread: -1, top: y, height: framesH, rows: 0, firstRow: 0, totalRows: 0, collapsed: false, locks: [], sticky: false });
  y += framesH;
  let stickyHeight = 0;
  let leading = true;
  for (const t of threads) {
    const sticky: boolean = leading && t.sticky === true;
    leading = sticky;
    const isCollapsed = collapsed.has(t.thread);
    const total = Math.max(1, t.rows);
    const w = windows.get(t.thread);
    const rows = isCollapsed ? 0 : w && w.maxRows >= 1 ? Math.min(total, Math.floor(w.maxRows)) : total;
    const firstRow = isCollapsed || !w ? 0 : clampFirstRow(w.firstRow, total, rows);
    const locks = isCollapsed ? [] : (t.locks ?? []);
    const height = isCollapsed ? COLLAPSED_H : MSG_LANE_H + rows * ROW_H + locks.length * LOCK_ROW_H + TRACK_PAD_B;
    tracks.push({ kind: 'thread', thread: t.thread, top: y, height, rows, firstRow, totalRows: isCollapsed ? t.rows : total, collapsed: isCollapsed, locks, sticky });
    if (sticky) stickyHeight += height;
    y += height;
  }
  return { tracks, height: y, stickyHeight };
}

/** The pinned band may take this share of the tracks' view height at most. */
export const STICKY_SHARE = 0.5;

/**
 * Which pinned threads stay in the pinned band: the newest pins first (the end of `pinned`),
 * taken while their heights (`heightOf`; undefined: not drawn, skipped) add up to at most
 * `budget` CSS px; from the first that does not fit on, the older pins scroll with the others
 * (still first in the order, under the band).
 */
export function chooseSticky(pinned: readonly number[], heightOf: (thread: number) => number | undefined, budget: number): Set<number> {
  const out = new Set<number>();
  let used = 0;
  for (let i = pinned.length - 1; i >= 0; i--) {
    const h = heightOf(pinned[i]!);
    if (h === undefined) continue;
    if (used + h > budget) break;
    used += h;
    out.add(pinned[i]!);
  }
  return out;
}

/**
 * Where the tracks are for one scroll position. View y: CSS px below the ruler (canvas y minus
 * RULER_H). The pinned band covers view y [bandTop, bandBottom).
 */
export interface ScrollView {
  scrollTop: number;
  /** the sticky tracks' scroll offset: min(scrollTop, frames track height) */
  pinScroll: number;
  bandTop: number;
  bandBottom: number;
}

export function scrollView(layout: Layout, scrollTop: number): ScrollView {
  const framesH = layout.tracks[0]?.kind === 'frames' ? layout.tracks[0].height : 0;
  const pinScroll = Math.max(0, Math.min(scrollTop, framesH));
  const bandTop = framesH - pinScroll;
  return { scrollTop, pinScroll, bandTop, bandBottom: bandTop + layout.stickyHeight };
}

/** The scroll offset a track is drawn with: view y = content y - trackScroll. */
export function trackScroll(sv: ScrollView, track: TrackLayout): number {
  return track.sticky ? sv.pinScroll : sv.scrollTop;
}

/** Content y under view y: the pinned band's tracks inside it, the scrolled tracks elsewhere. */
export function contentYAt(sv: ScrollView, viewY: number): number {
  return viewY >= sv.bandTop && viewY < sv.bandBottom ? viewY + sv.pinScroll : viewY + sv.scrollTop;
}

/** Whether view y of `track` can be seen: sticky tracks always, the others outside the band. */
export function shownAt(sv: ScrollView, track: TrackLayout, viewY: number): boolean {
  return track.sticky || viewY < sv.bandTop || viewY >= sv.bandBottom;
}

/**
 * Where a track header dragged to view y drops: before the thread whose upper half it is over,
 * after it in its lower half (`before` null: after the last), with the view y of the line that
 * marks it; null over the ruler or the frames track.
 */
export function dropTarget(layout: Layout, sv: ScrollView, viewY: number): { before: number | null; markY: number } | null {
  const y = contentYAt(sv, viewY);
  const i = trackAt(layout.tracks, y);
  // a line at the edge of a scrolled track is never drawn under the band (it would read as the band's)
  const mark = (t: TrackLayout, contentY: number) => {
    const at = contentY - trackScroll(sv, t);
    return t.sticky ? at : Math.max(at, sv.bandBottom);
  };
  if (i < 0) {
    const last = layout.tracks[layout.tracks.length - 1];
    if (y < 0 || !last || last.kind === 'frames') return null;
    return { before: null, markY: mark(last, last.top + last.height) };
  }
  const t = layout.tracks[i]!;
  if (t.kind === 'frames') return null;
  if (y <= t.top + t.height / 2) return { before: t.thread, markY: mark(t, t.top) };
  const next = layout.tracks[i + 1];
  return { before: next ? next.thread : null, markY: mark(t, t.top + t.height) };
}

/** Whether zone row `depth` of a thread track is drawn (not collapsed, inside its row window). */
export function rowShown(track: TrackLayout, depth: number): boolean {
  return !track.collapsed && depth >= track.firstRow && depth < track.firstRow + track.rows;
}

/** Index of the track holding content y, or -1 above the first / below the last. */
export function trackAt(tracks: readonly TrackLayout[], y: number): number {
  let lo = 0;
  let hi = tracks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const t = tracks[mid]!;
    if (y < t.top) hi = mid - 1;
    else if (y >= t.top + t.height) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Content y of the top of zone row `depth` of a thread track. */
export function rowTop(track: TrackLayout, depth: number): number {
  return track.top + MSG_LANE_H + (depth - track.firstRow) * ROW_H;
}

/** Content y of the top of lock lane `lane` (index into track.locks) of a thread track. */
export function lockLaneTop(track: TrackLayout, lane: number): number {
  return track.top + MSG_LANE_H + track.rows * ROW_H + lane * LOCK_ROW_H;
}

/** The lock lane (index into track.locks) of a thread track at content y, or -1. */
export function lockLaneAt(track: TrackLayout, y: number): number {
  if (track.kind !== 'thread' || track.collapsed || track.locks.length === 0) return -1;
  const i = Math.floor((y - lockLaneTop(track, 0)) / LOCK_ROW_H);
  return i >= 0 && i < track.locks.length ? i : -1;
}

/** The zone row (depth) of a thread track at content y, or -1 (message lane, padding, collapsed). */
export function rowAt(track: TrackLayout, y: number): number {
  if (track.kind !== 'thread' || track.collapsed) return -1;
  const d = Math.floor((y - track.top - MSG_LANE_H) / ROW_H);
  return d >= 0 && d < track.rows ? d + track.firstRow : -1;
}

/** Whether content y is on the message lane (top edge) of a thread track, with `slackPx` below. */
export function onMessageLane(track: TrackLayout, y: number, slackPx = 3): boolean {
  return track.kind === 'thread' && !track.collapsed && y >= track.top && y < track.top + MSG_LANE_H + slackPx;
}

/** The first index i with a[i] >= x in an ascending array (a.length if none). */
export function lowerBound(a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index i with a[i] > x in an ascending array (a.length if none). */
export function upperBound(a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The item of non-overlapping intervals sorted by start (and so by end) under time `t`: the one
 * containing t, else the nearest one within `tolNs`, else -1.
 */
export function hitInterval(startNs: ArrayLike<number>, endNs: ArrayLike<number>, t: number, tolNs: number): number {
  const n = Math.min(startNs.length, endNs.length);
  let best = -1;
  let bestDist = Infinity;
  for (let i = lowerBound(endNs, t - tolNs, 0, n); i < n; i++) {
    const s = startNs[i]!;
    if (s > t + tolNs) break;
    const e = endNs[i]!;
    const dist = t < s ? s - t : t > e ? t - e : 0;
    if (dist === 0) return i;
    if (dist < bestDist) {
      bestDist = dist;
      best = i;
    }
  }
  return best;
}

/** The index of the point in an ascending `timeNs` nearest to `t`, within `tolNs`, or -1. */
export function nearestPoint(timeNs: ArrayLike<number>, t: number, tolNs: number): number {
  let best = -1;
  let bestDist = Infinity;
  for (let i = lowerBound(timeNs, t - tolNs); i < timeNs.length; i++) {
    const x = timeNs[i]!;
    if (x > t + tolNs) break;
    const d = Math.abs(x - t);
    if (d < bestDist) {
      bestDist = d;
      best = i;
    }
  }
  return best;
}

/** The view [t0, t1] zoomed by `factor` (< 1 zooms in) around the time at fraction `at` (0..1). */
export function zoomAround(t0: number, t1: number, factor: number, at: number): { t0: number; t1: number } {
  const span = t1 - t0;
  const anchor = t0 + span * at;
  const next = span * factor;
  return { t0: anchor - next * at, t1: anchor - next * at + next };
}

/** The first message at or after `t` in time-ordered `messages`. */
export function firstMessageAtOrAfter(messages: readonly MessageItem[], t: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (messages[mid]!.timeNs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Zones of a thread intersecting [t0, t1] (merged items count all their zones; open zones
 * count), in O(depths x log items): per depth a prefix sum of `count`, kept in `cache` for as
 * long as the depth's arrays live.
 */
export function zonesInView(th: ThreadItems, t0: number, t1: number, cache: WeakMap<DepthItems, Float64Array>): number {
  let n = 0;
  for (const d of th.depths) {
    let p = cache.get(d);
    if (!p) {
      p = new Float64Array(d.count.length + 1);
      for (let i = 0; i < d.count.length; i++) p[i + 1] = p[i]! + d.count[i]!;
      cache.set(d, p);
    }
    const a = lowerBound(d.endNs, t0);
    const b = Math.max(a, upperBound(d.startNs, t1));
    n += p[b]! - p[a]!;
  }
  for (const o of th.open) if (o.startNs <= t1) n++;
  return n;
}
