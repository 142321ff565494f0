import { NullVisitor, type NameTables, type SourceLocationTable } from '../../protocol/tracy/index.js';
import type { PassZoneExtra } from './capture-names-pass.js';
import type { ChromeTraceWriter } from './chrome-writer.js';
import type { StoreExportResult } from './store-to-chrome.js';

const utf8 = new TextDecoder('utf-8');

/** Per thread in pass 2: begin ordinal, names of the open zones (null: left out), extras, open-forever zones. */
interface OutThread {
  begins: number;
  stack: (string | null)[];
  extras: Map<number, PassZoneExtra> | null;
  open: Set<number> | null;
}

interface OutFrameSet {
  continuous: boolean;
  openStartNs: number;
  name: string;
  markName: string;
  args: Record<string, unknown> | null;
}

interface OutPool {
  name: string;
  usedBytes: number;
  live: Map<number, number>;
}

/**
 * Pass 2: writes each event as the decoder reports it, with pass 1's tables for names. Zones
 * that never end are left out with everything that began inside them (counted as orphans, as
 * the store export counts the stored children of a zone it cannot write).
 */
export class ChromePass extends NullVisitor {
  readonly result: StoreExportResult = { events: 0, zones: 0, orphanZones: 0, frames: 0, plotSamples: 0, messages: 0 };
  private readonly threads = new Map<number, OutThread>();
  private cur: OutThread | null = null;
  private curId = -1;
  /** Per source location index: display name and "file:line" (or null), made on first use. */
  private readonly srclocName: (string | undefined)[] = [];
  private readonly srclocLoc: (string | null | undefined)[] = [];
  private readonly frameSets = new Map<number, OutFrameSet>();
  private readonly plotNames = new Map<number, string>();
  private readonly pools = new Map<number, OutPool>();

  constructor(
    private readonly w: ChromeTraceWriter,
    private readonly pid: number,
    private readonly framesTid: number,
    private readonly srclocs: SourceLocationTable,
    private readonly names: NameTables,
    private readonly extras: Map<number, Map<number, PassZoneExtra>>,
    private readonly openAtEnd: Map<number, Set<number>>,
  ) {
    super();
  }

  private thread(id: number): OutThread {
    if (id === this.curId) return this.cur!;
    let t = this.threads.get(id);
    if (t === undefined) {
      t = { begins: 0, stack: [], extras: this.extras.get(id) ?? null, open: this.openAtEnd.get(id) ?? null };
      this.threads.set(id, t);
    }
    this.cur = t;
    this.curId = id;
    return t;
  }

  override zoneBegin(thread: number, timeNs: number, srcloc: number): void {
    const t = this.thread(thread);
    const ordinal = t.begins++;
    const stack = t.stack;
    // inside a zone that never ends (or that one itself): left out
    if ((stack.length > 0 && stack[stack.length - 1] === null) || (t.open !== null && t.open.has(ordinal))) {
      stack.push(null);
      return;
    }
    let name = this.srclocName[srcloc];
    let loc = this.srclocLoc[srcloc];
    if (name === undefined || loc === undefined) {
      const strings = this.names.strings;
      name = this.srclocs.displayName(srcloc, strings);
      const file = this.srclocs.fileName(srcloc, strings);
      loc = file ? `${file}:${this.srclocs.line[srcloc] ?? 0}` : null;
      this.srclocName[srcloc] = name;
      this.srclocLoc[srcloc] = loc;
    }
    let args: Record<string, unknown> | null = null;
    const extra = t.extras !== null ? t.extras.get(ordinal) : undefined;
    if (extra !== undefined) {
      if (extra.name !== null) name = extra.name;
      args = {};
      if (extra.text !== null) args.text = extra.text;
      if (extra.valueHi >= 0) args.value = extra.valueHi * 2 ** 32 + extra.valueLo;
      if (extra.color >= 0) args.color = hexColor(extra.color);
      if (Object.keys(args).length === 0) args = null;
    }
    this.w.begin(name, 'zone', this.pid, thread, timeNs, args, loc);
    stack.push(name);
    this.result.zones++;
  }

  override zoneEnd(thread: number, timeNs: number): void {
    const t = this.thread(thread);
    if (t.stack.length === 0) return; // an end with nothing open: ignored, as the store does
    const name = t.stack.pop()!;
    if (name === null) {
      // a finished zone inside one that never ends (the open one itself never gets here)
      this.result.orphanZones++;
      return;
    }
    this.w.end(name, 'zone', this.pid, thread, timeNs);
  }

  override frameMark(kind: number, namePtr: number, timeNs: number): void {
    let set = this.frameSets.get(namePtr);
    if (set === undefined) {
      const name = namePtr === 0 ? '' : this.names.frames.get(namePtr) ?? this.names.strings.get(namePtr) ?? `frame@${namePtr.toString(16)}`;
      // Tracy's importer makes frame marks of instants whose name contains "frame"
      const markName = name === '' ? 'Frame' : /frame/i.test(name) ? name : `${name} frame`;
      set = { continuous: kind === 0, openStartNs: NaN, name, markName, args: name === '' ? null : { frameSet: name } };
      this.frameSets.set(namePtr, set);
    }
    // As the store: a set is continuous or not by its first mark; marks of the other kind are not exported.
    if (set.continuous) {
      if (kind !== 0) return;
      this.w.instant(set.markName, 'frame', this.pid, this.framesTid, timeNs, set.args, true);
      this.result.frames++;
    } else if (kind === 1) {
      set.openStartNs = timeNs;
    } else if (kind === 2 && !Number.isNaN(set.openStartNs)) {
      this.w.begin(set.name, 'frame', this.pid, this.framesTid, set.openStartNs, null, null);
      this.w.end(set.name, 'frame', this.pid, this.framesTid, timeNs);
      set.openStartNs = NaN;
      this.result.frames++;
    }
  }

  override plot(namePtr: number, timeNs: number, value: number): void {
    if (!Number.isFinite(value)) return;
    let name = this.plotNames.get(namePtr);
    if (name === undefined) {
      name = this.names.plots.get(namePtr) ?? this.names.strings.get(namePtr) ?? `plot@${namePtr.toString(16)}`;
      this.plotNames.set(namePtr, name);
    }
    this.w.counter(name, this.pid, 0, timeNs, value);
    this.result.plotSamples++;
  }

  override message(thread: number, timeNs: number, bytes: Uint8Array, start: number, length: number, rgb: number, _metadata: number): void {
    this.writeMessage(thread, timeNs, utf8.decode(bytes.subarray(start, start + length)), rgb);
  }

  override messageLiteral(thread: number, timeNs: number, textPtr: number, rgb: number, _metadata: number): void {
    this.writeMessage(thread, timeNs, this.names.strings.get(textPtr) ?? '', rgb);
  }

  private writeMessage(thread: number, timeNs: number, text: string, rgb: number): void {
    const args: Record<string, unknown> = { text };
    if (rgb >= 0) args.color = hexColor(rgb);
    this.w.instant(text, 'message', this.pid, thread, timeNs, args);
    this.result.messages++;
  }

  // Memory usage per pool, as SessionStore computes it (bytes in use after every event).
  override memAlloc(_thread: number, timeNs: number, ptr: number, size: number, poolPtr: number): void {
    const pool = this.pool(poolPtr);
    const prev = pool.live.get(ptr);
    if (prev !== undefined) pool.usedBytes -= prev;
    pool.live.set(ptr, size);
    pool.usedBytes += size;
    this.usage(pool, timeNs);
  }

  override memFree(_thread: number, timeNs: number, ptr: number, poolPtr: number): void {
    if (ptr === 0) return;
    const pool = this.pool(poolPtr);
    const size = pool.live.get(ptr);
    if (size === undefined) return;
    pool.live.delete(ptr);
    pool.usedBytes -= size;
    this.usage(pool, timeNs);
  }

  override memDiscard(_thread: number, timeNs: number, poolPtr: number): void {
    const pool = this.pool(poolPtr);
    pool.live.clear();
    pool.usedBytes = 0;
    this.usage(pool, timeNs);
  }

  private usage(pool: OutPool, timeNs: number): void {
    this.w.counter(pool.name, this.pid, 0, timeNs, pool.usedBytes);
    this.result.plotSamples++;
  }

  private pool(poolPtr: number): OutPool {
    let pool = this.pools.get(poolPtr);
    if (pool === undefined) {
      // memoryPlotName's rule
      const name = poolPtr === 0 ? 'Memory usage' : `Memory usage: ${this.names.strings.get(poolPtr) ?? poolPtr}`;
      pool = { name, usedBytes: 0, live: new Map() };
      this.pools.set(poolPtr, pool);
    }
    return pool;
  }
}

function hexColor(rgb: number): string {
  return `#${rgb.toString(16).padStart(6, '0')}`;
}

