import type { LockSummary } from '../../protocol/view/types.js';
import { LOCK_FLAG_SHARED, LOCK_SEGMENT_MASK, LOCK_SEGMENT_SHIFT } from '../store/lock-columns.js';
import type { LockThread, LockTimeline } from '../store/lock-log.js';
import type { SessionStore } from '../store/session-store.js';
import { lockName, openState } from './lock-tracks.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';

export type { LockSummary };

/**
 * Every lock's figures over the acquisitions that start (begin waiting) in [t0, t1]:
 * acquisitions, contended ones, total and longest wait and hold, and where the longest wait is.
 * A resumable walk over the lock tracks (one unit = one acquisition), so a session with millions
 * of them is answered in slices (query-slicer.ts). Rows appended after the walk began are not
 * counted; rows evicted meanwhile are skipped. Working memory: one record per lock and thread.
 */
export function lockSummaries(store: SessionStore, t0 = -Infinity, t1 = Infinity): LockSummary[] {
  return runToEnd(new LockSummaryQuery(store, t0, t1));
}

/** lockSummaries in slices. @throws the abort reason of `slice.signal` when aborted between slices */
export function lockSummariesSliced(store: SessionStore, t0: number, t1: number, slice: SliceOptions = {}): Promise<LockSummary[]> {
  return runInSlices(new LockSummaryQuery(store, t0, t1), slice);
}

interface Cursor {
  lock: LockTimeline;
  summary: LockSummary;
  lt: LockThread;
  row: number;
  end: number;
  t: LockSummary['threads'][number];
}

export class LockSummaryQuery implements SlicedQuery<LockSummary[]> {
  private readonly out: LockSummary[] = [];
  private readonly cursors: Cursor[] = [];
  private at = 0;

  constructor(
    private readonly store: SessionStore,
    private readonly t0: number,
    private readonly t1: number,
  ) {
    for (const lock of store.lockLog.locks.values()) {
      const info = store.locks.get(lock.id);
      const summary: LockSummary = {
        id: lock.id,
        name: lockName(store, lock.id),
        shared: lock.shared,
        announcedNs: info?.announcedNs ?? 0,
        terminatedNs: info && Number.isFinite(info.terminatedNs) ? info.terminatedNs : null,
        acquisitions: 0,
        contended: 0,
        sharedAcquisitions: 0,
        waitTotalNs: 0,
        waitMaxNs: 0,
        holdTotalNs: 0,
        holdMaxNs: 0,
        contendedTotalNs: 0,
        worstWait: null,
        threads: [],
        open: [],
        evictedBeforeNs: 0,
        events: lock.events,
        overlaps: lock.overlaps,
        reattributed: lock.reattributed,
        reentries: lock.reentries,
        unmatchedReleases: lock.unmatchedReleases,
        clamped: lock.clamped,
        droppedEvents: lock.droppedEvents,
      };
      this.out.push(summary);
      for (const lt of lock.threads.values()) {
        const cols = lt.columns;
        const name = store.names.threads.get(lt.thread) ?? null;
        const t = { thread: lt.thread, name, acquisitions: 0, contended: 0, waitTotalNs: 0, waitMaxNs: 0, holdTotalNs: 0, holdMaxNs: 0 };
        summary.threads.push(t);
        summary.evictedBeforeNs = Math.max(summary.evictedBeforeNs, cols.evictedBeforeNs);
        const open = openState(lt);
        if (open) summary.open.push({ thread: lt.thread, startNs: open.startNs, obtainNs: open.obtainNs, shared: open.shared });
        this.cursors.push({ lock, summary, lt, row: cols.firstStartingAtOrAfter(t0), end: cols.firstStartingAfter(t1), t });
      }
    }
  }

  step(units: number): boolean {
    let left = units;
    while (this.at < this.cursors.length) {
      const c = this.cursors[this.at]!;
      const cols = c.lt.columns;
      const s = c.summary;
      const t = c.t;
      if (c.row < cols.firstRow) c.row = cols.firstRow; // evicted meanwhile
      while (c.row < c.end) {
        if (left-- <= 0) return false;
        const r = c.row++;
        const seg = cols.segments[r >>> LOCK_SEGMENT_SHIFT];
        if (!seg) continue;
        const k = r & LOCK_SEGMENT_MASK;
        const start = seg.start[k]!;
        const obtain = seg.obtain[k]!;
        const end = seg.end[k]!;
        const contended = seg.contended[k]!;
        const wait = obtain - start;
        const hold = end - obtain;
        s.acquisitions++;
        t.acquisitions++;
        s.waitTotalNs += wait;
        t.waitTotalNs += wait;
        s.holdTotalNs += hold;
        t.holdTotalNs += hold;
        if (hold > s.holdMaxNs) s.holdMaxNs = hold;
        if (hold > t.holdMaxNs) t.holdMaxNs = hold;
        if (wait > t.waitMaxNs) t.waitMaxNs = wait;
        if (wait > s.waitMaxNs) {
          s.waitMaxNs = wait;
          s.worstWait = { thread: c.lt.thread, threadName: t.name, startNs: start, obtainNs: obtain, endNs: end, waitNs: wait, row: r };
        }
        if (contended === contended) {
          s.contended++;
          t.contended++;
          s.contendedTotalNs += end - contended;
        }
        if (seg.flags[k]! & LOCK_FLAG_SHARED) s.sharedAcquisitions++;
      }
      this.at++;
    }
    return true;
  }

  result(): LockSummary[] {
    return this.out;
  }
}
