import type { LockOpen, LockThreadItems, LockTrackSet } from '../../protocol/view/types.js';
import { LOCK_SEGMENT_MASK, LOCK_SEGMENT_SHIFT, type LockColumns } from '../store/lock-columns.js';
import { HOLD_NONE, HOLD_SHARED, type LockThread, type LockTimeline } from '../store/lock-log.js';
import type { SessionStore } from '../store/session-store.js';
import { F64List, I32List } from './growable.js';

/**
 * Lock zones of a viewport at a level of detail decided in pixels, like zones (zone-lod.ts):
 * an acquisition (wait start to release) at least one pixel wide comes back on its own; a run
 * of narrower ones starting within the same pixel is folded into one item with its count and
 * its totals of waiting, holding and contended time, read from the track's running sums in
 * O(1). Runs are skipped by binary search, so a track costs about pixels x log(rows).
 */

/** The item cap of one viewport query over every lock track (REST default and maximum). */
export const MAX_LOCK_ITEMS = 100_000;

/** A lock's name: LockName's text, else its source location's name (TracyLockableN) or declaration. */
export function lockName(store: SessionStore, id: number): string {
  const info = store.locks.get(id);
  if (!info) return `lock ${id}`;
  return info.name ?? (store.srclocs.displayName(info.srcloc, store.names.strings) || `lock ${id}`);
}

/**
 * One track's items intersecting the closed range [t0, t1] (end >= t0, start <= t1), at most
 * `maxItems` (the rest of the range is left out).
 * @param nsPerPx nanoseconds per pixel; 0 returns every acquisition
 */
export function queryLockTrack(lt: LockThread, t0: number, t1: number, nsPerPx: number, maxItems: number): LockThreadItems {
  const cols = lt.columns;
  const start = new F64List();
  const end = new F64List();
  const wait = new F64List();
  const hold = new F64List();
  const contended = new F64List();
  const count = new I32List();
  const rows = new I32List();
  const flags = new I32List();
  const last = cols.firstStartingAfter(t1);
  let r = cols.firstEndingAtOrAfter(t0);
  while (r < last && start.length < maxItems) {
    const seg = cols.segments[r >>> LOCK_SEGMENT_SHIFT]!;
    const slot = r & LOCK_SEGMENT_MASK;
    const s = seg.start[slot]!;
    const e = seg.end[slot]!;
    let j = r + 1;
    if (nsPerPx > 0 && e - s < nsPerPx) {
      // rows r .. j-1 start inside this pixel; only the last of them can be wide
      j = Math.min(cols.firstStartingAtOrAfter(s + nsPerPx, r + 1), last);
      if (j - 1 > r && cols.endAt(j - 1) - cols.startAt(j - 1) >= nsPerPx) j--;
    }
    start.push(s);
    if (j === r + 1) {
      const obtain = seg.obtain[slot]!;
      const c = seg.contended[slot]!;
      end.push(e);
      wait.push(obtain - s);
      hold.push(e - obtain);
      contended.push(c === c ? e - c : 0);
      count.push(1);
      rows.push(r);
      flags.push(seg.flags[slot]!);
    } else {
      const lastSeg = cols.segments[(j - 1) >>> LOCK_SEGMENT_SHIFT]!;
      const ls = (j - 1) & LOCK_SEGMENT_MASK;
      const first = cols.segments[r >>> LOCK_SEGMENT_SHIFT]!;
      // running sums: (sum through j-1) - (sum through r) + row r's own
      const rowWait = first.obtain[slot]! - s;
      const rowHold = e - first.obtain[slot]!;
      const c = first.contended[slot]!;
      const rowContended = c === c ? e - c : 0;
      end.push(lastSeg.end[ls]!);
      wait.push(lastSeg.sumWait[ls]! - first.sumWait[slot]! + rowWait);
      hold.push(lastSeg.sumHold[ls]! - first.sumHold[slot]! + rowHold);
      contended.push(lastSeg.sumContended[ls]! - first.sumContended[slot]! + rowContended);
      count.push(j - r);
      rows.push(-1);
      flags.push(anyShared(cols, r, j));
    }
    r = j;
  }
  return {
    thread: lt.thread,
    startNs: start.view(),
    endNs: end.view(),
    waitNs: wait.view(),
    holdNs: hold.view(),
    contendedNs: contended.view(),
    count: count.view(),
    row: rows.view(),
    flags: flags.view(),
    open: openState(lt),
    evictedBeforeNs: cols.evictedBeforeNs,
  };
}

/** 1 when the first or last row of [r, j) is a shared hold (a run is narrower than a pixel: its ends stand for it). */
function anyShared(cols: LockColumns, r: number, j: number): number {
  const a = cols.segments[r >>> LOCK_SEGMENT_SHIFT]!.flags[r & LOCK_SEGMENT_MASK]!;
  const b = cols.segments[(j - 1) >>> LOCK_SEGMENT_SHIFT]!.flags[(j - 1) & LOCK_SEGMENT_MASK]!;
  return (a | b) & 1;
}

/** What the thread waits for or holds now, or null. */
export function openState(lt: LockThread): LockOpen | null {
  if (lt.holdMode !== HOLD_NONE) {
    return { startNs: lt.holdStartNs, obtainNs: lt.obtainNs, contendedNs: Number.isNaN(lt.contendedNs) ? null : lt.contendedNs, shared: lt.holdMode === HOLD_SHARED };
  }
  if (!Number.isNaN(lt.waitStartNs)) return { startNs: lt.waitStartNs, obtainNs: null, contendedNs: null, shared: lt.waitShared };
  return null;
}

export interface LockTracksResult {
  locks: LockTrackSet[];
  /** items in all tracks */
  items: number;
  /** the item cap was reached: later tracks, or the end of one, were left out */
  cut: boolean;
}

/**
 * Every lock's tracks that have items in [t0, t1] or an open wait or hold, at `nsPerPx`, at
 * most `maxItems` items in all (tracks past the cap are left out and `cut` is set).
 */
export function queryLockTracks(store: SessionStore, t0: number, t1: number, nsPerPx: number, maxItems: number): LockTracksResult {
  const locks: LockTrackSet[] = [];
  let items = 0;
  let cut = false;
  for (const lock of store.lockLog.locks.values()) {
    const set = lockTrackSet(store, lock);
    for (const lt of lock.threads.values()) {
      const room = maxItems - items;
      if (room <= 0) {
        cut = true;
        break;
      }
      const tr = queryLockTrack(lt, t0, t1, nsPerPx, room);
      if (tr.startNs.length === 0 && tr.open === null) continue;
      items += tr.startNs.length;
      if (tr.startNs.length >= room) cut = true;
      set.threads.push(tr);
    }
    if (set.threads.length > 0) locks.push(set);
    if (cut) break;
  }
  return { locks, items, cut };
}

export function lockTrackSet(store: SessionStore, lock: LockTimeline): LockTrackSet {
  return { id: lock.id, name: lockName(store, lock.id), shared: lock.shared, threads: [] };
}
