import { CallstackTable, CallstackTarget, NameTables, QueueType, SourceLocationTable, TracyStreamReader, type QueueDecoder, type StreamReaderHooks, type TracyVisitor } from '../../protocol/tracy/index.js';
import { AllocLog } from './alloc-log.js';
import type { BudgetAccount } from './memory-budget.js';
import { LockLog } from './lock-log.js';
import { MessageLog } from './message-log.js';
import { THREAD_BYTES, ThreadTimeline } from './thread-timeline.js';
import { TimeSeries } from './time-series.js';
import { MAX_SRCLOC } from './zone-columns.js';
import { FRAME_SET_BYTES, LOCK_BYTES, PLOT_BYTES, POOL_BYTES, type FrameSet, type LockInfo, type MemoryPool, type PlotTrack } from './store-records.js';

export type { FrameSet, LockInfo, MemoryPool, PlotTrack } from './store-records.js';

const utf8 = new TextDecoder('utf-8');

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Everything one session has stored: a TracyVisitor that the session's decoder feeds directly.
 * Zones go to per-thread, per-depth columns; frames, plots, memory usage and messages to
 * segmented series; all segments count against one shared MemoryBudget.
 */
export class SessionStore implements TracyVisitor {
  readonly threads = new Map<number, ThreadTimeline>();
  readonly frames = new Map<number, FrameSet>();
  readonly plots = new Map<number, PlotTrack>();
  readonly memory = new Map<number, MemoryPool>();
  readonly locks = new Map<number, LockInfo>();
  readonly messages: MessageLog;
  /** CPU usage % of the app's process (SysTimeReport). */
  readonly cpuUsage: TimeSeries;
  readonly appInfoTexts: string[] = [];
  /** Set by the session once its decoder exists: resolves source locations and names. */
  srclocs = new SourceLocationTable();
  names = new NameTables();
  /** Set by the session once its decoder exists: callstack ids to return addresses and frames. */
  callstacks = new CallstackTable();
  /** CPU samples (CallstackSample items) per thread: time -> callstack id. */
  readonly samples = new Map<number, TimeSeries>();
  /** CPU samples received, all threads. */
  samplesTotal = 0;
  /**
   * Latest event time seen (ns since the session's start). Declared as -0 and set to 0 in the
   * constructor: a field's first value fixes its representation, and an integer 0 would turn
   * into a double the first time an event passes 2^31 ns (2.1 s into the app). That change
   * deprecates the store's map and deoptimizes every optimized zone, frame and plot path that
   * holds it, mid-stream, once per process (seen with --trace-deopt in a fresh server).
   */
  lastNs = -0;
  terminated = false;
  crashed = false;
  /**
   * Bumped when something a live viewer shows changed. Zones do not bump it one by one (the
   * hot path): the session bumps it once per decoded frame.
   */
  version = 0;

  protected current: ThreadTimeline | null = null;
  /** The pool of the last allocation or free: a callstack reported right after it goes there. */
  private lastMemPool: MemoryPool | null = null;
  /** release() ran: nothing is charged any more. */
  private released = false;
  /** Lock zones per lock and thread (lock-log.ts); `locks` keeps the announcements. */
  readonly lockLog: LockLog;

  constructor(readonly budget: BudgetAccount) {
    this.lastNs = 0; // +0 for readers; the field stays a double
    this.messages = new MessageLog(budget);
    this.cpuUsage = new TimeSeries(budget);
    this.lockLog = new LockLog(budget);
  }

  /** Zones begun, all threads (summed on demand: the hot path keeps one counter per thread). */
  get zonesBegun(): number {
    let n = 0;
    for (const t of this.threads.values()) n += t.zonesBegun;
    return n;
  }

  /** Zones finished, all threads. */
  get zonesEnded(): number {
    let n = 0;
    for (const t of this.threads.values()) n += t.zonesEnded;
    return n;
  }

  thread(id: number): ThreadTimeline {
    const cur = this.current;
    if (cur !== null && cur.id === id) return cur;
    let t = this.threads.get(id);
    if (t === undefined) {
      t = new ThreadTimeline(id, this.budget);
      this.threads.set(id, t);
      this.budget.charge(THREAD_BYTES);
    }
    this.current = t;
    return t;
  }

  /** Threads sorted by id, with names resolved from the app's answers. */
  threadList(): ThreadTimeline[] {
    const list = [...this.threads.values()].sort((a, b) => a.id - b.id);
    for (const t of list) t.name ??= this.names.threads.get(t.id) ?? null;
    return list;
  }

  /** The stream is over: threads give back their open-zone stacks (uncharged). */
  compact(): void {
    if (this.released) return; // everything was given back already (discardAll)
    let freed = 0;
    for (const t of this.threads.values()) freed += t.compact();
    this.budget.charge(-freed);
  }

  /** Every store segment leaves the budget (the session is deleted). */
  release(): void {
    this.released = true;
    for (const t of this.threads.values()) t.release();
    for (const f of this.frames.values()) {
      f.marks.release();
      f.spans.release();
    }
    for (const p of this.plots.values()) p.series.release();
    for (const m of this.memory.values()) {
      m.usage.release();
      m.records.release();
    }
    this.messages.release();
    this.cpuUsage.release();
    for (const s of this.samples.values()) s.release();
    this.lockLog.release();
    this.budget.close();
  }

  /**
   * Gives everything back after the session's tables did not fit the budget (ZS_STORE_BUDGET):
   * every segment and charge leaves the budget and the tables that grew past it (live
   * allocations, names) are emptied, so a hostile session cannot keep the budget full after it
   * ended. Counters (zones, allocations) stay for the list.
   */
  discardAll(): void {
    this.release();
    for (const pool of this.memory.values()) pool.live.clear();
    this.names.strings.clear();
    this.names.threads.clear();
    this.names.plots.clear();
    this.names.frames.clear();
    this.names.fibers.clear();
    this.names.externals.clear();
  }

  // ---- TracyVisitor ----

  threadContext(thread: number): void {
    // Timelines are made on first use, so a thread that only reports CPU usage is not listed.
    this.current = this.threads.get(thread) ?? null;
  }

  zoneBegin(thread: number, timeNs: number, srcloc: number): void {
    if (srcloc > MAX_SRCLOC) tooManySrclocs();
    const t = this.current !== null && this.current.id === thread ? this.current : this.thread(thread);
    t.begin(timeNs, srcloc);
  }

  zoneEnd(thread: number, timeNs: number): void {
    const t = this.current !== null && this.current.id === thread ? this.current : this.thread(thread);
    t.end(timeNs);
    if (timeNs > this.lastNs) this.lastNs = timeNs;
  }

  zoneText(thread: number, bytes: Uint8Array, start: number, length: number): void {
    const extra = this.thread(thread).openZoneExtra();
    if (extra === null) return;
    const text = utf8.decode(bytes.subarray(start, start + length));
    extra.text = extra.text === null ? text : `${extra.text}\n${text}`;
  }

  zoneName(thread: number, bytes: Uint8Array, start: number, length: number): void {
    const extra = this.thread(thread).openZoneExtra();
    if (extra !== null) extra.name = utf8.decode(bytes.subarray(start, start + length));
  }

  zoneColor(thread: number, rgb: number): void {
    const extra = this.thread(thread).openZoneExtra();
    if (extra !== null) extra.color = rgb;
  }

  zoneValue(thread: number, lo: number, hi: number): void {
    const extra = this.thread(thread).openZoneExtra();
    if (extra === null) return;
    extra.valueLo = lo;
    extra.valueHi = hi;
  }

  frameMark(kind: number, namePtr: number, timeNs: number): void {
    let set = this.frames.get(namePtr);
    if (set === undefined) {
      set = {
        namePtr,
        continuous: kind === 0,
        marks: new TimeSeries(this.budget),
        spans: new TimeSeries(this.budget),
        openStartNs: NaN,
        count: 0,
        unmatchedEnds: 0,
      };
      this.frames.set(namePtr, set);
      this.budget.charge(FRAME_SET_BYTES);
    }
    if (kind === 0) {
      set.marks.add(timeNs, 0);
      set.count++;
    } else if (kind === 1) {
      set.openStartNs = timeNs;
    } else if (Number.isNaN(set.openStartNs)) {
      set.unmatchedEnds++;
    } else {
      set.spans.add(set.openStartNs, timeNs);
      set.openStartNs = NaN;
      set.count++;
    }
    if (timeNs > this.lastNs) this.lastNs = timeNs;
    this.version++;
  }

  plot(namePtr: number, timeNs: number, value: number): void {
    this.plotTrack(namePtr).series.add(timeNs, value);
    if (timeNs > this.lastNs) this.lastNs = timeNs;
    this.version++;
  }

  plotConfig(namePtr: number, format: number, step: boolean, fill: boolean, rgb: number): void {
    const track = this.plotTrack(namePtr);
    track.format = format;
    track.step = step;
    track.fill = fill;
    track.color = rgb;
  }

  message(thread: number, timeNs: number, bytes: Uint8Array, start: number, length: number, rgb: number, metadata: number): void {
    this.messages.add(timeNs, thread, rgb, metadata, utf8.decode(bytes.subarray(start, start + length)));
    this.version++;
  }

  messageLiteral(thread: number, timeNs: number, textPtr: number, rgb: number, metadata: number): void {
    this.messages.add(timeNs, thread, rgb, metadata, null, textPtr);
    this.version++;
  }

  appInfo(_timeNs: number, bytes: Uint8Array, start: number, length: number): void {
    const text = utf8.decode(bytes.subarray(start, start + length));
    this.appInfoTexts.push(text);
    this.budget.charge(2 * text.length + 32);
  }

  memAlloc(thread: number, timeNs: number, ptr: number, size: number, poolPtr: number): void {
    const pool = this.pool(poolPtr);
    this.lastMemPool = pool;
    const prev = pool.records.alloc(thread, timeNs, ptr, size);
    if (prev >= 0) pool.usedBytes -= prev; // allocating a live pointer again replaces it
    pool.usedBytes += size;
    pool.allocs++;
    pool.allocatedBytes += size;
    pool.usage.add(timeNs, pool.usedBytes);
  }

  memFree(_thread: number, timeNs: number, ptr: number, poolPtr: number): void {
    if (ptr === 0) {
      this.lastMemPool = null;
      return;
    }
    const pool = this.pool(poolPtr);
    this.lastMemPool = pool;
    pool.frees++;
    const size = pool.records.free(ptr, timeNs);
    if (size < 0) {
      pool.unknownFrees++;
      return;
    }
    pool.usedBytes -= size;
    pool.usage.add(timeNs, pool.usedBytes);
  }

  memDiscard(_thread: number, timeNs: number, poolPtr: number): void {
    const pool = this.pool(poolPtr);
    pool.records.discard(timeNs);
    pool.usedBytes = 0;
    pool.usage.add(timeNs, 0);
  }

  lockAnnounce(id: number, timeNs: number, srcloc: number, shared: boolean): void {
    const known = this.locks.get(id);
    if (known === undefined) this.budget.charge(LOCK_BYTES);
    // announcing an id again keeps its name and count (its zones are kept by lockLog too)
    this.locks.set(id, { id, srcloc, name: known?.name ?? null, shared, obtains: known?.obtains ?? 0, announcedNs: timeNs, terminatedNs: NaN });
    this.lockLog.announce(id, shared);
  }

  lockTerminate(id: number, timeNs: number): void {
    const lock = this.locks.get(id);
    if (lock) lock.terminatedNs = timeNs;
  }

  lockEvent(kind: number, shared: boolean, thread: number, id: number, timeNs: number): void {
    this.lockLog.event(kind, shared, thread, id, timeNs);
    if (timeNs > this.lastNs) this.lastNs = timeNs;
    if (kind !== 1) return;
    const lock = this.locks.get(id);
    if (lock) lock.obtains++;
  }

  lockName(id: number, bytes: Uint8Array, start: number, length: number): void {
    const lock = this.locks.get(id);
    if (lock) lock.name = utf8.decode(bytes.subarray(start, start + length));
  }

  sysTime(timeNs: number, percent: number): void {
    if (Number.isFinite(percent)) this.cpuUsage.add(timeNs, percent);
  }

  stringData(type: number, ptr: number, _bytes: Uint8Array, _start: number, length: number): void {
    this.budget.charge(2 * length + 48);
    if (type === QueueType.ThreadName) {
      const t = this.threads.get(ptr);
      if (t) t.name = this.names.threads.get(ptr) ?? null;
    }
    this.version++;
  }

  sourceLocation(_srcloc: number): void {
    this.budget.charge(160);
  }

  terminate(): void {
    this.terminated = true;
    this.version++;
  }

  crash(): void {
    this.crashed = true;
  }

  callstack(target: number, thread: number, callstack: number): void {
    if (target === CallstackTarget.Zone) {
      const extra = this.thread(thread).openZoneExtra();
      if (extra !== null) extra.callstack = callstack;
    } else if (target === CallstackTarget.Message) {
      this.messages.setLastCallstack(callstack);
    } else {
      const pool = this.lastMemPool;
      if (pool === null) return;
      const free = target === CallstackTarget.Free;
      const row = free ? pool.records.lastFreeRow : pool.records.lastAllocRow;
      if (row >= 0) pool.records.setCallstack(row, callstack, free);
    }
  }

  cpuSample(thread: number, timeNs: number, callstack: number): void {
    let series = this.samples.get(thread);
    if (series === undefined) {
      series = new TimeSeries(this.budget);
      this.samples.set(thread, series);
      this.budget.charge(PLOT_BYTES);
    }
    series.add(timeNs, callstack);
    this.samplesTotal++;
    if (timeNs > this.lastNs) this.lastNs = timeNs;
  }

  callstackBytes(bytes: number): void {
    this.budget.charge(bytes);
  }

  private plotTrack(namePtr: number): PlotTrack {
    let track = this.plots.get(namePtr);
    if (track === undefined) {
      track = { namePtr, series: new TimeSeries(this.budget), format: 0, step: false, fill: true, color: 0 };
      this.plots.set(namePtr, track);
      this.budget.charge(PLOT_BYTES);
    }
    return track;
  }

  private pool(namePtr: number): MemoryPool {
    let pool = this.memory.get(namePtr);
    if (pool === undefined) {
      const records = new AllocLog(this.budget);
      pool = { namePtr, usedBytes: 0, allocs: 0, frees: 0, allocatedBytes: 0, live: records.live, records, usage: new TimeSeries(this.budget), unknownFrees: 0 };
      this.memory.set(namePtr, pool);
      this.budget.charge(POOL_BYTES);
    }
    return pool;
  }
}

/**
 * A stream reader that feeds `store`, with the store resolving names through the reader's
 * tables (source locations, strings, threads, plots, frames): how a session, a benchmark or a
 * test connects the two.
 */
export function readerForStore(store: SessionStore, hooks: StreamReaderHooks = {}): TracyStreamReader {
  const reader = new TracyStreamReader(store, hooks);
  useDecoderTables(store, reader.decoder);
  return reader;
}

/** Makes `store` resolve names through `decoder`'s tables (source locations, strings, threads, callstacks). */
export function useDecoderTables(store: SessionStore, decoder: QueueDecoder): void {
  store.srclocs = decoder.srclocs;
  store.names = decoder.names;
  store.callstacks = decoder.callstacks;
}

/** Out of line: zoneBegin is inlined into the decoder's walk per zone. */
export function tooManySrclocs(): never {
  throw new StoreError('ZS_STORE_SRCLOC_LIMIT', `more than ${MAX_SRCLOC + 1} source locations in one session`);
}
