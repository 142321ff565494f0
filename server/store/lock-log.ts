import { LOCK_FLAG_SHARED, LockColumns } from './lock-columns.js';
import type { BudgetAccount } from './memory-budget.js';

/**
 * Lock zones: per lock and per thread, the intervals Tracy's lock tracks show, rebuilt from
 * the lock events as they arrive (Tracy's manual, "Locks"; its server tracks the same state in
 * UpdateLockCount*). Each acquisition becomes one row when it is released (lock-columns.ts):
 *
 *   wait ........ obtain ============ contended ######## release
 *   |  waiting   |  holding (nobody waits) | held while another thread waits |
 *
 * Rules (the wire's lock items come through Tracy's serial queue, time-ordered):
 * - a hold is contended from the first moment another thread waits for a mode that conflicts
 *   with it (any wait against an exclusive hold; an exclusive wait against a shared hold) until
 *   its release: a conflicting waiter cannot obtain before then;
 * - an obtain without a wait (try_lock) has no waiting part;
 * - LockRelease carries no thread (protocol 82): it is the exclusive holder's. Tracy's client
 *   unlocks before it queues the release, so the next thread's obtain can come first: an
 *   obtain while another thread holds the lock ends that hold at the obtain (counted in
 *   `overlaps`) and the late release that follows is consumed silently. Which of the next two
 *   releases is the late one cannot be told from the wire; when the new holder waits or
 *   obtains again before the second arrives, the first was its own (a thread queues its
 *   release before its next wait), and its hold is ended there (`reattributed`);
 * - a thread obtaining again what it holds (recursive mutex) deepens its hold: one row
 *   (counted in `reentries`); a release with nothing held is counted (`unmatchedReleases`)
 *   and ignored; times that go backwards are clamped so a thread's rows never overlap
 *   (`clamped`);
 * - events of a lock never announced are dropped and counted (`unknownLockEvents`), as are
 *   events of a thread past MAX_LOCK_THREADS on one lock (Tracy's own limit, `droppedEvents`).
 */

/** Threads one lock may be used from (Tracy's limit is 64 too); events of more are dropped and counted. */
export const MAX_LOCK_THREADS = 64;
/** Table charge of one lock's state (object, maps, holder list). */
export const LOCK_TIMELINE_BYTES = 320;
/** Table charge of one thread's state on one lock, its columns object and map entry. */
export const LOCK_THREAD_BYTES = 288;

export const HOLD_NONE = 0;
export const HOLD_EXCLUSIVE = 1;
export const HOLD_SHARED = 2;

/** One thread's use of one lock: its finished acquisitions and what it waits for or holds now. */
export class LockThread {
  readonly columns: LockColumns;
  /** wait started (ns), NaN when not waiting */
  waitStartNs = NaN;
  waitShared = false;
  /** HOLD_NONE, HOLD_EXCLUSIVE or HOLD_SHARED */
  holdMode = HOLD_NONE;
  /** the current hold's wait start, obtain and contention start (NaN: none yet) */
  holdStartNs = NaN;
  obtainNs = NaN;
  contendedNs = NaN;
  /** re-entries of the current hold not released yet */
  depth = 0;
  /** shared holds ended early by another thread's exclusive obtain, whose releases are still to come */
  owedSharedReleases = 0;

  constructor(
    readonly thread: number,
    budget: BudgetAccount,
  ) {
    this.columns = new LockColumns(budget);
  }
}

export class LockTimeline {
  /** threads in first-use order */
  readonly threads = new Map<number, LockThread>();
  exclusive: LockThread | null = null;
  readonly sharedHolders: LockThread[] = [];
  waitingExclusive = 0;
  waitingShared = 0;
  /** exclusive holds ended by another thread's obtain whose (threadless) releases are still to come */
  owedExclusiveReleases = 0;
  /**
   * The time of a release consumed as owed while `ambiguousHolder` held the lock: it may have
   * been that holder's own (see the rules above); NaN when none is in doubt.
   */
  ambiguousReleaseNs = NaN;
  ambiguousHolder: LockThread | null = null;
  /** lock events accepted */
  events = 0;
  droppedEvents = 0;
  unmatchedReleases = 0;
  overlaps = 0;
  reentries = 0;
  clamped = 0;
  reattributed = 0;

  constructor(
    readonly id: number,
    /** a SharedLockable (announced with type 1) */
    readonly shared: boolean,
  ) {}
}

export class LockLog {
  readonly locks = new Map<number, LockTimeline>();
  /** events of a lock id never announced */
  unknownLockEvents = 0;

  constructor(private readonly budget: BudgetAccount) {}

  /** LockAnnounce: a lock exists (announcing an id again keeps what it has). */
  announce(id: number, shared: boolean): void {
    if (this.locks.has(id)) return;
    this.budget.charge(LOCK_TIMELINE_BYTES);
    this.locks.set(id, new LockTimeline(id, shared));
  }

  /**
   * One lock event (the visitor's lockEvent).
   * @param kind 0 wait, 1 obtain, 2 release
   * @param shared the shared (read) variant
   * @param thread app thread id (ignored for an exclusive release: the holder's)
   * @throws BudgetError when a new thread's state does not fit the budget's table share
   */
  event(kind: number, shared: boolean, thread: number, id: number, timeNs: number): void {
    const lock = this.locks.get(id);
    if (lock === undefined) {
      this.unknownLockEvents++;
      return;
    }
    if (kind === 2 && !shared) {
      lock.events++;
      this.releaseExclusive(lock, timeNs);
      return;
    }
    const lt = this.threadOf(lock, thread);
    if (lt === null) return;
    lock.events++;
    if (lock.ambiguousHolder === lt && kind !== 2) this.reattribute(lock, lt);
    if (kind === 0) this.wait(lock, lt, shared, timeNs);
    else if (kind === 1) this.obtain(lock, lt, shared, timeNs);
    else this.releaseShared(lock, lt, timeNs);
  }

  /** Every segment leaves the budget (the session is deleted). */
  release(): void {
    for (const lock of this.locks.values()) for (const lt of lock.threads.values()) lt.columns.release();
  }

  private threadOf(lock: LockTimeline, thread: number): LockThread | null {
    let lt = lock.threads.get(thread);
    if (lt !== undefined) return lt;
    if (lock.threads.size >= MAX_LOCK_THREADS) {
      lock.droppedEvents++;
      return null;
    }
    this.budget.charge(LOCK_THREAD_BYTES);
    lt = new LockThread(thread, this.budget);
    lock.threads.set(thread, lt);
    return lt;
  }

  private wait(lock: LockTimeline, lt: LockThread, shared: boolean, t: number): void {
    if (!Number.isNaN(lt.waitStartNs)) return; // already waiting: the first wait counts
    lt.waitStartNs = t;
    lt.waitShared = shared;
    if (shared) lock.waitingShared++;
    else lock.waitingExclusive++;
    const x = lock.exclusive;
    if (x !== null && x !== lt && Number.isNaN(x.contendedNs)) x.contendedNs = t;
    if (!shared) {
      for (const s of lock.sharedHolders) if (s !== lt && Number.isNaN(s.contendedNs)) s.contendedNs = t;
    }
  }

  private obtain(lock: LockTimeline, lt: LockThread, shared: boolean, t: number): void {
    let start = t;
    if (!Number.isNaN(lt.waitStartNs)) {
      start = lt.waitStartNs;
      if (lt.waitShared) lock.waitingShared--;
      else lock.waitingExclusive--;
      lt.waitStartNs = NaN;
    }
    const mode = shared ? HOLD_SHARED : HOLD_EXCLUSIVE;
    if (lt.holdMode === mode) {
      lt.depth++;
      lock.reentries++;
      return;
    }
    if (lt.holdMode !== HOLD_NONE) {
      // the other mode while holding one: the old hold ends here
      lock.overlaps++;
      this.endHold(lock, lt, t);
    }
    const x = lock.exclusive;
    if (x !== null && x !== lt) {
      // the holder released before this obtain; its release item is still to come
      lock.overlaps++;
      lock.owedExclusiveReleases++;
      this.endHold(lock, x, t);
    }
    if (!shared) {
      for (let i = lock.sharedHolders.length - 1; i >= 0; i--) {
        const s = lock.sharedHolders[i]!;
        if (s === lt) continue;
        lock.overlaps++;
        s.owedSharedReleases++;
        this.endHold(lock, s, t);
      }
    }
    lt.holdMode = mode;
    lt.holdStartNs = start;
    lt.obtainNs = t;
    lt.depth = 0;
    // contended from the start when a conflicting waiter is already queued
    const conflicting = shared ? lock.waitingExclusive : lock.waitingExclusive + lock.waitingShared;
    lt.contendedNs = conflicting > 0 ? t : NaN;
    if (shared) lock.sharedHolders.push(lt);
    else lock.exclusive = lt;
  }

  /** lt holds the lock and acts again: the release in doubt was its own. */
  private reattribute(lock: LockTimeline, lt: LockThread): void {
    const t = lock.ambiguousReleaseNs;
    lock.ambiguousHolder = null;
    lock.ambiguousReleaseNs = NaN;
    if (lock.exclusive !== lt || lt.depth > 0) return;
    lock.reattributed++;
    lock.owedExclusiveReleases++;
    this.endHold(lock, lt, t);
  }

  private releaseExclusive(lock: LockTimeline, t: number): void {
    if (lock.owedExclusiveReleases > 0) {
      lock.owedExclusiveReleases--;
      lock.ambiguousHolder = lock.exclusive;
      lock.ambiguousReleaseNs = t;
      return;
    }
    lock.ambiguousHolder = null;
    lock.ambiguousReleaseNs = NaN;
    const x = lock.exclusive;
    if (x === null) {
      lock.unmatchedReleases++;
      return;
    }
    if (x.depth > 0) {
      x.depth--;
      return;
    }
    this.endHold(lock, x, t);
  }

  private releaseShared(lock: LockTimeline, lt: LockThread, t: number): void {
    if (lt.holdMode !== HOLD_SHARED) {
      if (lt.owedSharedReleases > 0) lt.owedSharedReleases--;
      else lock.unmatchedReleases++;
      return;
    }
    if (lt.depth > 0) {
      lt.depth--;
      return;
    }
    this.endHold(lock, lt, t);
  }

  /** Ends lt's hold at t: one row, clamped so the thread's rows stay ordered. */
  private endHold(lock: LockTimeline, lt: LockThread, t: number): void {
    const cols = lt.columns;
    let start = lt.holdStartNs;
    let obtain = lt.obtainNs;
    let end = t;
    const prevEnd = cols.lastEnd();
    if (start < prevEnd || obtain < start || end < obtain) {
      lock.clamped++;
      if (start < prevEnd) start = prevEnd;
      if (obtain < start) obtain = start;
      if (end < obtain) end = obtain;
    }
    let contended = lt.contendedNs;
    if (contended < obtain) contended = obtain;
    else if (contended > end) contended = end;
    cols.append(start, obtain, contended, end, lt.holdMode === HOLD_SHARED ? LOCK_FLAG_SHARED : 0);
    if (lt.holdMode === HOLD_SHARED) {
      const i = lock.sharedHolders.indexOf(lt);
      if (i >= 0) lock.sharedHolders.splice(i, 1);
    } else if (lock.exclusive === lt) {
      lock.exclusive = null;
    }
    lt.holdMode = HOLD_NONE;
    lt.holdStartNs = NaN;
    lt.obtainNs = NaN;
    lt.contendedNs = NaN;
    lt.depth = 0;
  }
}
