import { NullVisitor } from '../../protocol/tracy/index.js';

const utf8 = new TextDecoder('utf-8');
const INITIAL_STACK = 64;
const INITIAL_SRCLOCS = 256;

/** Receives every zone when it ends (for per-zone output such as `--csv zones`). */
export interface ZoneSink {
  /**
   * @param srcloc dense source-location index (QueueDecoder.srclocs)
   * @param text the zone's ZoneText lines and ZoneValue values joined by "\n" as Tracy stores
   *   them, or null when it has none
   */
  zone(thread: number, srcloc: number, startNs: number, endNs: number, text: string | null): void;
}

/** Receives every message; `text` is null for a literal message (its text is `textPtr`). */
export interface MessageSink {
  message(timeNs: number, text: string | null, textPtr: number): void;
}

export interface PlotSink {
  plot(namePtr: number, timeNs: number, value: number): void;
}

/** Per-thread state: the stack of open zones as parallel columns. */
export interface ThreadZones {
  readonly id: number;
  /** Zones begun on this thread. */
  zones: number;
  depth: number;
  srclocs: Int32Array;
  startsNs: Float64Array;
  /** Text of each open zone (only kept when a ZoneSink wants it). */
  texts: (string | null)[];
}

export interface FrameSetStats {
  /** FrameMark (continuous) marks. */
  marks: number;
  /** FrameMarkStart / FrameMarkEnd of a discontinuous set. */
  starts: number;
  ends: number;
}

export interface PlotStats {
  count: number;
  min: number;
  max: number;
}

export interface LockStats {
  /** Source location of the LockAnnounce, -1 if the lock was never announced. */
  srcloc: number;
  /** LockName text, if the app named the lock. */
  name: string | null;
  obtains: number;
}

/**
 * A TracyVisitor that aggregates a whole stream: zones per thread and per source location
 * (count, ended, total/min/max duration in ns), frame sets, plots (samples, min, max),
 * messages, memory events, locks, app info, and the protocol anomalies a receiver would
 * complain about (a ZoneEnd with no open zone, zone text with no open zone).
 *
 * Zone events allocate nothing: per-thread stacks and per-location statistics are typed
 * arrays grown by doubling, and the current thread is cached between events. Names stay as
 * ids here; resolve them at the end with a NameLookup over the decoder's tables.
 */
export class StreamSummary extends NullVisitor {
  /**
   * Threads in order of first appearance, for zones or messages (like Tracy, not for a bare
   * ThreadContext: the client's own worker thread only sends SysTimeReport and stays out).
   */
  readonly threads: ThreadZones[] = [];
  /** Per source-location index; `srclocCapacity` entries are valid. */
  zoneCount = new Float64Array(INITIAL_SRCLOCS);
  zoneEnded = new Float64Array(INITIAL_SRCLOCS);
  zoneTotalNs = new Float64Array(INITIAL_SRCLOCS);
  zoneMinNs = new Float64Array(INITIAL_SRCLOCS).fill(Infinity);
  zoneMaxNs = new Float64Array(INITIAL_SRCLOCS).fill(-Infinity);
  /** Highest source-location index seen + 1. */
  srclocLimit = 0;
  zonesBegun = 0;
  zonesEnded = 0;

  zoneTexts = 0;
  zoneValues = 0;
  zoneNames = 0;
  zoneColors = 0;
  /** ZoneEnd items that found no open zone on their thread. */
  unmatchedZoneEnds = 0;
  /** ZoneText/Name/Value/Color items that found no open zone on their thread. */
  orphanZoneExtras = 0;

  /** Frame sets by name pointer (0 = the default set). */
  readonly frames = new Map<number, FrameSetStats>();
  readonly plots = new Map<number, PlotStats>();
  messages = 0;
  /** Messages per severity (0 trace .. 5 fatal; 6, 7 unused) and per source (0 user, 1 Tracy). */
  readonly messagesBySeverity = new Float64Array(8);
  readonly messagesBySource = new Float64Array(16);
  /** MessageAppInfo texts, in order. */
  readonly appInfoTexts: string[] = [];
  memAllocs = 0;
  memFrees = 0;
  memAllocatedBytes = 0;
  readonly locks = new Map<number, LockStats>();
  /** The latest event time seen (ns since the session's start). */
  lastTimeNs = 0;
  terminated = false;
  crashed = false;

  zoneSink: ZoneSink | null = null;
  messageSink: MessageSink | null = null;
  plotSink: PlotSink | null = null;

  private readonly threadById = new Map<number, ThreadZones>();
  private current: ThreadZones | null = null;

  // ---- zones ----


  override zoneBegin(thread: number, timeNs: number, srcloc: number): void {
    const t = this.thread(thread);
    if (srcloc >= this.srclocLimit) this.growSrclocs(srcloc);
    const d = t.depth;
    if (d === t.srclocs.length) this.growStack(t);
    t.srclocs[d] = srcloc;
    t.startsNs[d] = timeNs;
    t.texts[d] = null;
    t.depth = d + 1;
    t.zones++;
    this.zoneCount[srcloc]!++;
    this.zonesBegun++;
    if (timeNs > this.lastTimeNs) this.lastTimeNs = timeNs;
  }

  override zoneEnd(thread: number, timeNs: number): void {
    const t = this.thread(thread);
    const d = t.depth - 1;
    if (d < 0) {
      this.unmatchedZoneEnds++;
      return;
    }
    t.depth = d;
    const srcloc = t.srclocs[d]!;
    const duration = timeNs - t.startsNs[d]!;
    this.zoneEnded[srcloc]!++;
    this.zoneTotalNs[srcloc]! += duration;
    if (duration < this.zoneMinNs[srcloc]!) this.zoneMinNs[srcloc] = duration;
    if (duration > this.zoneMaxNs[srcloc]!) this.zoneMaxNs[srcloc] = duration;
    this.zonesEnded++;
    if (timeNs > this.lastTimeNs) this.lastTimeNs = timeNs;
    if (this.zoneSink !== null) {
      this.zoneSink.zone(thread, srcloc, t.startsNs[d]!, timeNs, t.texts[d]!);
      t.texts[d] = null;
    }
  }

  override zoneText(thread: number, bytes: Uint8Array, start: number, length: number): void {
    this.zoneTexts++;
    if (this.zoneSink === null) {
      if (this.thread(thread).depth === 0) this.orphanZoneExtras++;
      return;
    }
    this.appendText(thread, utf8.decode(bytes.subarray(start, start + length)));
  }

  override zoneValue(thread: number, lo: number, hi: number): void {
    this.zoneValues++;
    if (this.zoneSink === null) {
      if (this.thread(thread).depth === 0) this.orphanZoneExtras++;
      return;
    }
    // Tracy stores a value as the text "%llu [0x%llx]", after any text, on its own line.
    const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    this.appendText(thread, `${value} [0x${value.toString(16)}]`);
  }

  override zoneName(thread: number, _bytes: Uint8Array, _start: number, _length: number): void {
    this.zoneNames++;
    if (this.thread(thread).depth === 0) this.orphanZoneExtras++;
  }

  override zoneColor(thread: number, _rgb: number): void {
    this.zoneColors++;
    if (this.thread(thread).depth === 0) this.orphanZoneExtras++;
  }

  // ---- frames, plots, messages ----

  override frameMark(kind: number, namePtr: number, timeNs: number): void {
    let f = this.frames.get(namePtr);
    if (f === undefined) {
      f = { marks: 0, starts: 0, ends: 0 };
      this.frames.set(namePtr, f);
    }
    if (kind === 0) f.marks++;
    else if (kind === 1) f.starts++;
    else f.ends++;
    if (timeNs > this.lastTimeNs) this.lastTimeNs = timeNs;
  }

  override plot(namePtr: number, timeNs: number, value: number): void {
    let p = this.plots.get(namePtr);
    if (p === undefined) {
      p = { count: 0, min: value, max: value };
      this.plots.set(namePtr, p);
    }
    p.count++;
    if (value < p.min) p.min = value;
    if (value > p.max) p.max = value;
    if (timeNs > this.lastTimeNs) this.lastTimeNs = timeNs;
    this.plotSink?.plot(namePtr, timeNs, value);
  }

  override message(thread: number, timeNs: number, bytes: Uint8Array, start: number, length: number, _rgb: number, metadata: number): void {
    this.thread(thread);
    this.countMessage(timeNs, metadata);
    this.messageSink?.message(timeNs, utf8.decode(bytes.subarray(start, start + length)), 0);
  }

  override messageLiteral(thread: number, timeNs: number, textPtr: number, _rgb: number, metadata: number): void {
    this.thread(thread);
    this.countMessage(timeNs, metadata);
    this.messageSink?.message(timeNs, null, textPtr);
  }

  override appInfo(_timeNs: number, bytes: Uint8Array, start: number, length: number): void {
    this.appInfoTexts.push(utf8.decode(bytes.subarray(start, start + length)));
  }

  // ---- memory and locks ----

  override memAlloc(_thread: number, timeNs: number, _ptr: number, size: number, _poolPtr: number): void {
    this.memAllocs++;
    this.memAllocatedBytes += size;
    if (timeNs > this.lastTimeNs) this.lastTimeNs = timeNs;
  }

  override memFree(_thread: number, timeNs: number, _ptr: number, _poolPtr: number): void {
    this.memFrees++;
    if (timeNs > this.lastTimeNs) this.lastTimeNs = timeNs;
  }

  override lockAnnounce(id: number, _timeNs: number, srcloc: number, _shared: boolean): void {
    this.lock(id).srcloc = srcloc;
  }

  override lockName(id: number, bytes: Uint8Array, start: number, length: number): void {
    this.lock(id).name = utf8.decode(bytes.subarray(start, start + length));
  }

  override lockEvent(kind: number, _shared: boolean, _thread: number, id: number, timeNs: number): void {
    if (kind === 1) this.lock(id).obtains++;
    if (timeNs > this.lastTimeNs) this.lastTimeNs = timeNs;
  }

  override terminate(): void {
    this.terminated = true;
  }

  override crash(): void {
    this.crashed = true;
  }

  // ---- results ----

  /** Zones still open at the end, per source-location index. */
  openZonesBySrcloc(): Map<number, number> {
    const open = new Map<number, number>();
    for (const t of this.threads) {
      for (let d = 0; d < t.depth; d++) {
        const s = t.srclocs[d]!;
        open.set(s, (open.get(s) ?? 0) + 1);
      }
    }
    return open;
  }

  // ---- helpers ----

  private thread(id: number): ThreadZones {
    const c = this.current;
    if (c !== null && c.id === id) return c;
    let t = this.threadById.get(id);
    if (t === undefined) {
      t = {
        id,
        zones: 0,
        depth: 0,
        srclocs: new Int32Array(INITIAL_STACK),
        startsNs: new Float64Array(INITIAL_STACK),
        texts: new Array<string | null>(INITIAL_STACK).fill(null),
      };
      this.threadById.set(id, t);
      this.threads.push(t);
    }
    this.current = t;
    return t;
  }

  private countMessage(timeNs: number, metadata: number): void {
    this.messages++;
    this.messagesBySeverity[(metadata >> 4) & 7]!++;
    this.messagesBySource[metadata & 15]!++;
    if (timeNs > this.lastTimeNs) this.lastTimeNs = timeNs;
  }

  /** ZoneText lines and ZoneValue values of one zone are joined with "\n", like Tracy does. */
  private appendText(thread: number, text: string): void {
    const t = this.thread(thread);
    const d = t.depth - 1;
    if (d < 0) {
      this.orphanZoneExtras++;
      return;
    }
    const before = t.texts[d];
    t.texts[d] = before == null ? text : `${before}\n${text}`;
  }

  private lock(id: number): LockStats {
    let l = this.locks.get(id);
    if (l === undefined) {
      l = { srcloc: -1, name: null, obtains: 0 };
      this.locks.set(id, l);
    }
    return l;
  }

  private growStack(t: ThreadZones): void {
    const n = t.srclocs.length * 2;
    const srclocs = new Int32Array(n);
    srclocs.set(t.srclocs);
    const starts = new Float64Array(n);
    starts.set(t.startsNs);
    t.srclocs = srclocs;
    t.startsNs = starts;
    for (let i = t.texts.length; i < n; i++) t.texts.push(null);
  }

  private growSrclocs(index: number): void {
    this.srclocLimit = index + 1;
    let n = this.zoneCount.length;
    if (index < n) return;
    while (n <= index) n *= 2;
    this.zoneCount = grow(this.zoneCount, n, 0);
    this.zoneEnded = grow(this.zoneEnded, n, 0);
    this.zoneTotalNs = grow(this.zoneTotalNs, n, 0);
    this.zoneMinNs = grow(this.zoneMinNs, n, Infinity);
    this.zoneMaxNs = grow(this.zoneMaxNs, n, -Infinity);
  }
}

function grow(a: Float64Array, n: number, fill: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}
