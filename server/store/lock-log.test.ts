import { describe, expect, it } from 'vitest';
import { LOCK_FLAG_SHARED, LOCK_SEGMENT_MASK, LOCK_SEGMENT_ROWS, type LockColumns } from './lock-columns.js';
import { LOCK_THREAD_BYTES, LOCK_TIMELINE_BYTES, LockLog, MAX_LOCK_THREADS } from './lock-log.js';
import { BudgetAccount, BudgetError, MemoryBudget } from './memory-budget.js';

const WAIT = 0;
const OBTAIN = 1;
const RELEASE = 2;
const A = 11;
const B = 22;
const C = 33;

interface Row {
  start: number;
  obtain: number;
  contended: number | null;
  end: number;
  shared: boolean;
}

function rows(cols: LockColumns): Row[] {
  const out: Row[] = [];
  for (let r = cols.firstRow; r < cols.count; r++) {
    const seg = cols.segmentOf(r)!;
    const k = r & LOCK_SEGMENT_MASK;
    const c = seg.contended[k]!;
    out.push({ start: seg.start[k]!, obtain: seg.obtain[k]!, contended: Number.isNaN(c) ? null : c, end: seg.end[k]!, shared: (seg.flags[k]! & LOCK_FLAG_SHARED) !== 0 });
  }
  return out;
}

function newLog(limit = 2 ** 30): { log: LockLog; account: BudgetAccount; budget: MemoryBudget } {
  const budget = new MemoryBudget(limit);
  const account = new BudgetAccount(budget);
  return { log: new LockLog(account), account, budget };
}

function track(log: LockLog, id: number, thread: number): LockColumns {
  return log.locks.get(id)!.threads.get(thread)!.columns;
}

describe('LockLog', () => {
  it('splits an acquisition into waiting, holding and contended from the moment another thread waits', () => {
    const { log } = newLog();
    log.announce(0, false);
    log.event(WAIT, false, A, 0, 10);
    log.event(OBTAIN, false, A, 0, 12);
    log.event(WAIT, false, B, 0, 15);
    log.event(RELEASE, false, 0, 0, 20); // LockRelease has no thread: the holder's
    log.event(OBTAIN, false, B, 0, 21);
    log.event(RELEASE, false, 0, 0, 30);
    expect(rows(track(log, 0, A))).toEqual([{ start: 10, obtain: 12, contended: 15, end: 20, shared: false }]);
    expect(rows(track(log, 0, B))).toEqual([{ start: 15, obtain: 21, contended: null, end: 30, shared: false }]);
  });

  it('marks a hold contended from its obtain when a waiter is already queued, and an obtain without a wait has no waiting part', () => {
    const { log } = newLog();
    log.announce(0, false);
    log.event(OBTAIN, false, A, 0, 5); // try_lock: no wait item
    log.event(WAIT, false, B, 0, 6);
    log.event(WAIT, false, C, 0, 7);
    log.event(RELEASE, false, 0, 0, 8);
    log.event(OBTAIN, false, B, 0, 9); // C still waits
    log.event(RELEASE, false, 0, 0, 12);
    log.event(OBTAIN, false, C, 0, 13);
    log.event(RELEASE, false, 0, 0, 14);
    expect(rows(track(log, 0, A))).toEqual([{ start: 5, obtain: 5, contended: 6, end: 8, shared: false }]);
    expect(rows(track(log, 0, B))).toEqual([{ start: 6, obtain: 9, contended: 9, end: 12, shared: false }]);
    expect(rows(track(log, 0, C))).toEqual([{ start: 7, obtain: 13, contended: null, end: 14, shared: false }]);
  });

  it('keeps shared holds apart, contended only by an exclusive waiter', () => {
    const { log } = newLog();
    log.announce(1, true);
    log.event(WAIT, true, A, 1, 0);
    log.event(OBTAIN, true, A, 1, 1);
    log.event(WAIT, true, B, 1, 2);
    log.event(OBTAIN, true, B, 1, 3); // two readers: no contention
    log.event(WAIT, false, C, 1, 4); // a writer waits for both
    log.event(RELEASE, true, A, 1, 6);
    log.event(RELEASE, true, B, 1, 7);
    log.event(OBTAIN, false, C, 1, 8);
    log.event(WAIT, true, A, 1, 9); // a reader waits for the writer
    log.event(RELEASE, false, 0, 1, 10);
    log.event(OBTAIN, true, A, 1, 11);
    log.event(RELEASE, true, A, 1, 12);
    expect(rows(track(log, 1, A))).toEqual([
      { start: 0, obtain: 1, contended: 4, end: 6, shared: true },
      { start: 9, obtain: 11, contended: null, end: 12, shared: true },
    ]);
    expect(rows(track(log, 1, B))).toEqual([{ start: 2, obtain: 3, contended: 4, end: 7, shared: true }]);
    expect(rows(track(log, 1, C))).toEqual([{ start: 4, obtain: 8, contended: 9, end: 10, shared: false }]);
  });

  it('counts a release with nothing held and ignores it', () => {
    const { log } = newLog();
    log.announce(0, true);
    log.event(RELEASE, false, 0, 0, 5);
    log.event(RELEASE, true, A, 0, 6);
    const lock = log.locks.get(0)!;
    expect(lock.unmatchedReleases).toBe(2);
    expect(lock.exclusive).toBeNull();
    expect(rows(track(log, 0, A))).toEqual([]);
  });

  it('ends a hold at the next thread\'s obtain when the release item comes late, and consumes that release', () => {
    const { log } = newLog();
    log.announce(0, false);
    log.event(WAIT, false, A, 0, 0);
    log.event(OBTAIN, false, A, 0, 1);
    log.event(WAIT, false, B, 0, 2);
    log.event(OBTAIN, false, B, 0, 5); // A unlocked, B got it before A queued its release
    log.event(RELEASE, false, 0, 0, 6); // A's late release
    log.event(RELEASE, false, 0, 0, 9); // B's
    expect(rows(track(log, 0, A))).toEqual([{ start: 0, obtain: 1, contended: 2, end: 5, shared: false }]);
    expect(rows(track(log, 0, B))).toEqual([{ start: 2, obtain: 5, contended: null, end: 9, shared: false }]);
    expect(log.locks.get(0)!.overlaps).toBe(1);
  });

  it('gives the release in doubt back to the new holder when it acts again before the late one arrives', () => {
    const { log } = newLog();
    log.announce(0, false);
    log.event(OBTAIN, false, A, 0, 1);
    log.event(WAIT, false, B, 0, 2);
    log.event(OBTAIN, false, B, 0, 5);
    log.event(RELEASE, false, 0, 0, 6); // B's own (A is still preempted)
    log.event(WAIT, false, B, 0, 7); // B queued its release before this wait: 6 was B's
    log.event(OBTAIN, false, B, 0, 8);
    log.event(RELEASE, false, 0, 0, 9); // A's late release at last
    log.event(RELEASE, false, 0, 0, 10); // B's second
    const lock = log.locks.get(0)!;
    expect(rows(track(log, 0, B))).toEqual([
      { start: 2, obtain: 5, contended: null, end: 6, shared: false },
      { start: 7, obtain: 8, contended: null, end: 10, shared: false },
    ]);
    expect(lock.reattributed).toBe(1);
    expect(lock.reentries).toBe(0);
    expect(lock.exclusive).toBeNull();
  });

  it('folds a recursive obtain into the outer hold', () => {
    const { log } = newLog();
    log.announce(0, false);
    log.event(OBTAIN, false, A, 0, 1);
    log.event(WAIT, false, A, 0, 2);
    log.event(OBTAIN, false, A, 0, 3);
    log.event(RELEASE, false, 0, 0, 4);
    log.event(RELEASE, false, 0, 0, 5);
    expect(rows(track(log, 0, A))).toEqual([{ start: 1, obtain: 1, contended: null, end: 5, shared: false }]);
    expect(log.locks.get(0)!.reentries).toBe(1);
  });

  it('clamps times that go backwards so one thread\'s rows never overlap', () => {
    const { log } = newLog();
    log.announce(0, false);
    log.event(OBTAIN, false, A, 0, 10);
    log.event(RELEASE, false, 0, 0, 20);
    log.event(WAIT, false, A, 0, 15);
    log.event(OBTAIN, false, A, 0, 14);
    log.event(RELEASE, false, 0, 0, 12);
    expect(rows(track(log, 0, A))).toEqual([
      { start: 10, obtain: 10, contended: null, end: 20, shared: false },
      { start: 20, obtain: 20, contended: null, end: 20, shared: false },
    ]);
    expect(log.locks.get(0)!.clamped).toBe(1);
  });

  it('counts and drops events of unannounced locks and of threads past the per-lock limit', () => {
    const { log } = newLog();
    log.event(OBTAIN, false, A, 7, 1);
    expect(log.unknownLockEvents).toBe(1);
    expect(log.locks.size).toBe(0);
    log.announce(0, false);
    for (let t = 0; t < MAX_LOCK_THREADS + 3; t++) log.event(WAIT, false, 1000 + t, 0, t);
    const lock = log.locks.get(0)!;
    expect(lock.threads.size).toBe(MAX_LOCK_THREADS);
    expect(lock.droppedEvents).toBe(3);
  });

  it('charges each lock and thread state to the budget and ends with BudgetError when the tables do not fit', () => {
    const { log, account } = newLog();
    log.announce(0, false);
    log.event(WAIT, false, A, 0, 1);
    expect(account.tableBytes).toBe(LOCK_TIMELINE_BYTES + LOCK_THREAD_BYTES);
    const small = newLog(1000);
    expect(() => small.log.announce(0, false)).not.toThrow();
    const err = (() => {
      try {
        small.log.announce(1, false); // 2 x 320 > half of 1000
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(BudgetError);
    expect((err as BudgetError).code).toBe('ZS_STORE_BUDGET');
    expect((err as BudgetError).message).toMatch(/more than half the memory budget of 1000 bytes/);
    expect(small.log.locks.has(1)).toBe(false);
  });

  it('evicts the oldest segments first under the budget and remembers the time before which acquisitions are gone', () => {
    // room for about two whole segments: older ones go as new ones fill
    const { log, account, budget } = newLog(3 * LOCK_SEGMENT_ROWS * 57 + 64 * 1024);
    log.announce(0, false);
    const n = 5 * LOCK_SEGMENT_ROWS;
    for (let i = 0; i < n; i++) {
      log.event(WAIT, false, A, 0, 10 * i);
      log.event(OBTAIN, false, A, 0, 10 * i + 2);
      log.event(RELEASE, false, 0, 0, 10 * i + 5);
    }
    const cols = track(log, 0, A);
    expect(cols.count).toBe(n);
    expect(cols.firstRow).toBeGreaterThan(0);
    expect(cols.firstRow % LOCK_SEGMENT_ROWS).toBe(0);
    expect(cols.evictedBeforeNs).toBe(10 * (cols.firstRow - 1) + 5);
    expect(budget.used).toBeLessThanOrEqual(budget.limit);
    expect(account.evictedBytes).toBeGreaterThan(0);
    // what is left is the newest rows, in order, with the running sums intact
    const left = rows(cols);
    expect(left.length).toBe(n - cols.firstRow);
    expect(left[0]!.start).toBe(10 * cols.firstRow);
    expect(left.at(-1)!.end).toBe(10 * (n - 1) + 5);
    const lastSeg = cols.segmentOf(n - 1)!;
    expect(lastSeg.sumWait[(n - 1) & LOCK_SEGMENT_MASK]).toBe(2 * n);
    expect(lastSeg.sumHold[(n - 1) & LOCK_SEGMENT_MASK]).toBe(3 * n);
    // deleting the session gives every segment back
    log.release();
    expect(cols.segmentOf(n - 1)).toBeNull();
    expect(account.segments).toBe(0);
  });
});
