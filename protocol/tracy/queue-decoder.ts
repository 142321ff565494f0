import {
  PROTOCOL_OFFSET_16BIT,
  PROTOCOL_OFFSET_32BIT,
  PROTOCOL_OFFSET_8BIT,
  TWO_POW_32,
} from './constants.js';
import { ItemError, ProtocolErrorCode } from './errors.js';
import { QueryQueue } from './query-queue.js';
import { QUEUE_ITEM_SIZE, QUEUE_TYPE_COUNT, QUEUE_TYPE_NAMES, QueueType, ServerQuery } from './queue-types.js';
import { addressHex, CallstackTable, MAX_FRAMES_PER_ADDRESS, type ResolvedAddress } from './callstack-table.js';
import { SourceLocationTable } from './source-locations.js';
import { CallstackTarget, type TracyVisitor } from './visitor.js';

const utf8 = new TextDecoder('utf-8');
/** Largest staged string: SingleStringData's u16 + 256. */
const STAGING_SIZE = 65535 + PROTOCOL_OFFSET_8BIT;
const NONE = -1;
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
// what release() leaves: shared, so a released decoder holds no arrays of its own
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_I32 = new Int32Array(0);
/** A module-level alias: test runners that wrap imports in getters then read plain constants. */
const Q = QueueType;
const SRCLOC_CACHE_MASK = 1023;

/**
 * Item size by type byte for the fixed-size types; 0 for the variable-length ones (112..115,
 * 119..131), the three that never appear on the wire (65..67) and every byte above 131, which
 * all take the slow path in `variableSize`.
 */
const FIXED_SIZE = new Uint16Array(256);
for (let t = 0; t < QUEUE_TYPE_COUNT; t++) {
  const variable = (t >= Q.SingleStringData && t <= Q.SecondStringData8) || t >= Q.StringData;
  const never = t >= Q.ExternalNameMetadata && t <= Q.SourceCodeMetadata;
  FIXED_SIZE[t] = variable || never ? 0 : QUEUE_ITEM_SIZE[t]!;
}
/** Sizes of the two hottest items, as literals for walk's fast path (checked against the table). */
const ZONE_BEGIN16_SIZE = 11;
const ZONE_END16_SIZE = 3;
if (QUEUE_ITEM_SIZE[Q.ZoneBegin16] !== ZONE_BEGIN16_SIZE || QUEUE_ITEM_SIZE[Q.ZoneEnd16] !== ZONE_END16_SIZE) {
  throw new Error('queue-decoder: the 16-bit zone item sizes disagree with QUEUE_ITEM_SIZE');
}

// Time references (tracy-protocol.md 5.2): thread, serial, context switch.
const REF_T = 0;
const REF_S = 1;
const REF_C = 2;

/** Names the app sent in keyed transfers, by pointer. */
export class NameTables {
  /** StringData (and plot/frame names, which Tracy also records as strings) */
  readonly strings = new Map<number, string>();
  readonly threads = new Map<number, string>();
  readonly plots = new Map<number, string>();
  readonly frames = new Map<number, string>();
  readonly fibers = new Map<number, string>();
  readonly externals = new Map<number, string>();
}

/**
 * Walks decompressed queue items and reports them to a visitor (tracy-protocol.md 4 and 5).
 *
 * It keeps the receiver's state: the current thread, the thread/serial/context-switch time
 * references, the staged single/second strings, source-location payload and memory pool, the
 * source-location table and the names received so far. It also plays the receiver's side of
 * the query protocol: every id a Tracy receiver would query is queued in `queries` (a live
 * session sends them; an offline decode only needs the SourceLocation FIFO that follows from
 * them), and `repliesCounted` counts the replies that return query credit.
 *
 * One `walk` call per frame; an item may not continue in the next frame (Tracy never splits
 * one), but staged state does carry over. No allocation per item on the zone/plot/frame paths.
 */
export class QueueDecoder {
  readonly srclocs = new SourceLocationTable();
  readonly names = new NameTables();
  readonly queries = new QueryQueue();
  /** Callstacks interned by content, and the frames the app answered for their addresses. */
  readonly callstacks = new CallstackTable();
  /** Items seen, per QueueType. */
  readonly histogram = new Float64Array(QUEUE_TYPE_COUNT);
  items = 0;
  /** Replies that return one unit of query credit (tracy-protocol.md 3.3). */
  repliesCounted = 0;
  /** PlotData items with a non-finite value: their delta is applied, the value dropped. */
  droppedNonFinite = 0;
  terminated = false;
  crashed = false;
  /** The current ThreadContext thread (0 before the first). */
  thread = 0;

  private readonly visitor: TracyVisitor;
  /**
   * The clock. Declared with -0, a double: a field's first value fixes its representation, and
   * these take doubles in most sessions (timerMul 0.476, the low half of initBegin past 2^31).
   * Starting as integers, the first such session changed the field to a double, which deprecated
   * the decoder's map and deoptimized walk and srclocIndex ("wrong map") mid-intake, in a fresh
   * process's first real session even after the warm-up (whose initBegin fits 31 bits).
   */
  private timerMul = -0;
  private baseLo = -0;
  private baseHi = -0;
  private readonly refs = new Float64Array(3);
  private readonly refZero = new Uint8Array(3);

  /** Staging buffers, grown to the longest string staged (at most STAGING_SIZE); dropped by release(). */
  private single = EMPTY_BYTES;
  private singleLen = NONE;
  private second = EMPTY_BYTES;
  private secondLen = NONE;
  private stagedPayload = NONE;
  private stagedPoolPtr = NONE;

  private srclocCacheLo = new Uint32Array(SRCLOC_CACHE_MASK + 1);
  private srclocCacheHi = new Uint32Array(SRCLOC_CACHE_MASK + 1);
  private srclocCacheIndex = new Int32Array(SRCLOC_CACHE_MASK + 1).fill(-1);
  private srclocFifo = new Int32Array(256);
  private fifoHead = 0;
  private fifoLength = 0;

  private readonly knownThreads = new Set<number>();
  private threadNoticed = false;
  private readonly queriedStrings = new Set<number>();
  private readonly queriedPlots = new Set<number>();
  private readonly queriedFrames = new Set<number>();
  private lastPlotPtr = -1;

  /** The last CallstackPayload's id (0 = none or not kept), until an item takes it. */
  private stagedCallstack = 0;
  /** CallstackSerial's stack, for the next serial item with a callstack. */
  private serialCallstack = 0;
  /** Callstack (10) items staged per thread, for the thread's next zone or message with a callstack. */
  private readonly threadCallstacks = new Map<number, number>();
  /** A CallstackFrameSize answer whose CallstackFrame items are still coming. */
  private frameReply: { address: string; frames: number; answer: ResolvedAddress } | null = null;
  private readonly knownSymbols = new Set<string>();
  private callstackBytesReported = 0;
  /** Made once: interning a stack calls it for each address to query. */
  private readonly queryFrame = (lo: number, hi: number): void => {
    this.queries.push(ServerQuery.CallstackFrame, lo, hi);
  };

  constructor(visitor: TracyVisitor) {
    this.visitor = visitor;
    this.timerMul = 1; // stays a double field (see above)
    this.baseLo = this.baseHi = 0;
    this.resetReferences();
  }

  /**
   * Sets the clock: `ns = trunc((ticks - initBegin) * timerMul)`, with the subtraction exact
   * (initBegin as two 32-bit halves). Call once, from the WelcomeMessage, before walking.
   */
  setClock(timerMul: number, initBegin: bigint): void {
    this.timerMul = timerMul;
    const u = BigInt.asUintN(64, initBegin);
    this.baseLo = Number(u & 0xffffffffn);
    this.baseHi = Number(BigInt.asIntN(32, u >> 32n));
    this.resetReferences();
  }

  /** Converts absolute ticks (as a bigint) to session nanoseconds, exactly as walk does. */
  ticksToNs(ticks: bigint): number {
    const u = BigInt.asUintN(64, ticks);
    const lo = Number(u & 0xffffffffn);
    const hi = Number(BigInt.asIntN(32, u >> 32n));
    return Math.trunc(((hi - this.baseHi) * TWO_POW_32 + (lo - this.baseLo)) * this.timerMul);
  }

  /** Bytes of scratch this decoder holds (staging, caches, the query FIFO); 0 after release(). */
  get scratchBytes(): number {
    return (
      this.single.byteLength +
      this.second.byteLength +
      this.srclocCacheLo.byteLength +
      this.srclocCacheHi.byteLength +
      this.srclocCacheIndex.byteLength +
      this.srclocFifo.byteLength +
      this.queries.bytes +
      this.srclocs.cacheBytes
    );
  }

  /**
   * Drops the scratch of a finished stream: staging buffers, pointer caches, pending queries and
   * the sets of ids already queried. Keeps the counters and the name and source-location tables
   * (a store resolves names through them). Not for a stream that goes on.
   */
  release(): void {
    this.single = EMPTY_BYTES;
    this.second = EMPTY_BYTES;
    this.singleLen = this.secondLen = NONE;
    this.srclocCacheLo = EMPTY_U32;
    this.srclocCacheHi = EMPTY_U32;
    this.srclocCacheIndex = EMPTY_I32;
    this.srclocFifo = EMPTY_I32;
    this.fifoHead = this.fifoLength = 0;
    this.queries.release();
    this.srclocs.releaseCache();
    this.knownThreads.clear();
    this.queriedStrings.clear();
    this.queriedPlots.clear();
    this.queriedFrames.clear();
    this.threadCallstacks.clear();
    this.knownSymbols.clear();
    this.frameReply = null;
  }

  private resetReferences(): void {
    for (let r = 0; r < 3; r++) {
      this.refs[r] = -(this.baseHi * TWO_POW_32 + this.baseLo);
      this.refZero[r] = 1;
    }
  }

  /**
   * Decodes the items in `buf[start, end)`.
   * @throws ItemError (offsets relative to `start`) for an unknown type, an item cut by the
   *   frame end, a bad length or a consumer without its staged data
   */
  walk(buf: Uint8Array, start: number, end: number): void {
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const visitor = this.visitor;
    const hist = this.histogram;
    let p = start;
    let items = 0;
    // The thread time reference lives in locals while walking (every zone event moves it);
    // it is written back around the cold path and at the end.
    let refT = this.refs[REF_T]!;
    let tZero = this.refZero[REF_T] === 1;
    // the four commonest types are counted in locals, every other type in the histogram
    let begin16 = 0;
    let end16 = 0;
    let begin32 = 0;
    let end32 = 0;
    while (p < end) {
      const t = buf[p]!;
      const q = p + 1; // payload offset
      // The two 16-bit zone forms (nearly every item of a busy stream) first, with their sizes
      // as literals: where the next item starts then follows a predicted branch, and the CPU
      // runs ahead into it; through the size table it waited on two dependent loads (the type
      // byte, then its size) per item, the hottest spot of the walk in `perf annotate`.
      if (t === Q.ZoneEnd16) {
        if (p + ZONE_END16_SIZE > end) throw this.spans(t, p - start, ZONE_END16_SIZE, end - p);
        items++;
        end16++;
        const rel = (refT += v.getUint16(q, true));
        tZero = false;
        visitor.zoneEnd(this.thread, Math.trunc(rel * this.timerMul));
        p += ZONE_END16_SIZE;
        continue;
      }
      if (t === Q.ZoneBegin16) {
        if (p + ZONE_BEGIN16_SIZE > end) throw this.spans(t, p - start, ZONE_BEGIN16_SIZE, end - p);
        items++;
        begin16++;
        const rel = (refT += v.getUint16(q, true));
        tZero = false;
        const srcloc = this.srclocIndex(v, q + 2); // Tracy asks for the location, then the thread
        if (!this.threadNoticed) this.noticeThread();
        visitor.zoneBegin(this.thread, Math.trunc(rel * this.timerMul), srcloc);
        p += ZONE_BEGIN16_SIZE;
        continue;
      }
      let size = FIXED_SIZE[t]!;
      if (size === 0) size = this.variableSize(v, buf, t, p, start, end);
      if (p + size > end) throw this.spans(t, p - start, size, end - p);
      items++;

      switch (t) {
        case Q.ZoneBegin32: {
          begin32++;
          const rel = (refT += v.getUint32(q, true) + PROTOCOL_OFFSET_16BIT);
          tZero = false;
          const srcloc = this.srclocIndex(v, q + 4); // Tracy asks for the location, then the thread
          if (!this.threadNoticed) this.noticeThread();
          visitor.zoneBegin(this.thread, Math.trunc(rel * this.timerMul), srcloc);
          break;
        }
        case Q.ZoneEnd32: {
          end32++;
          const rel = (refT += v.getUint32(q, true) + PROTOCOL_OFFSET_16BIT);
          tZero = false;
          visitor.zoneEnd(this.thread, Math.trunc(rel * this.timerMul));
          break;
        }
        default:
          // every other type: counted here, handled by warm() with the reference in fields
          hist[t]!++;
          this.refs[REF_T] = refT;
          this.refZero[REF_T] = tZero ? 1 : 0;
          this.warm(t, v, buf, p, size, start);
          refT = this.refs[REF_T]!;
          tZero = this.refZero[REF_T] === 1;
      }
      p += size;
    }
    this.refs[REF_T] = refT;
    this.refZero[REF_T] = tZero ? 1 : 0;
    hist[Q.ZoneBegin16]! += begin16;
    hist[Q.ZoneEnd16]! += end16;
    hist[Q.ZoneBegin32]! += begin32;
    hist[Q.ZoneEnd32]! += end32;
    this.items += items;
  }

  /**
   * The item types after the four commonest: 64-bit zone forms, inline source locations,
   * thread context, zone text/name/colour/value, frames and plots; everything else goes on to
   * `other`. Kept out of walk so the hot loop stays small enough for the optimizing compiler
   * to inline the visitor's zone callbacks into it.
   */
  private warm(t: number, v: DataView, buf: Uint8Array, p: number, size: number, start: number): void {
    const q = p + 1;
    const visitor = this.visitor;
    switch (t) {
      case Q.ZoneBeginCallstack16: {
        const rel = (this.refs[REF_T]! += v.getUint16(q, true));
        this.refZero[REF_T] = 0;
        const srcloc = this.srclocIndex(v, q + 2);
        if (!this.threadNoticed) this.noticeThread();
        visitor.zoneBegin(this.thread, Math.trunc(rel * this.timerMul), srcloc);
        this.attachThreadCallstack(CallstackTarget.Zone);
        break;
      }
      case Q.ZoneBeginCallstack32: {
        const rel = (this.refs[REF_T]! += v.getUint32(q, true) + PROTOCOL_OFFSET_16BIT);
        this.refZero[REF_T] = 0;
        const srcloc = this.srclocIndex(v, q + 4);
        if (!this.threadNoticed) this.noticeThread();
        visitor.zoneBegin(this.thread, Math.trunc(rel * this.timerMul), srcloc);
        this.attachThreadCallstack(CallstackTarget.Zone);
        break;
      }
      case Q.ZoneBegin:
      case Q.ZoneBeginCallstack: {
        const rel = this.delta64(REF_T, v, q, true);
        const srcloc = this.srclocIndex(v, q + 8); // Tracy asks for the location, then the thread
        if (!this.threadNoticed) this.noticeThread();
        visitor.zoneBegin(this.thread, Math.trunc(rel * this.timerMul), srcloc);
        if (t === Q.ZoneBeginCallstack) this.attachThreadCallstack(CallstackTarget.Zone);
        break;
      }
      case Q.ZoneEnd: {
        const rel = this.delta64(REF_T, v, q, true);
        visitor.zoneEnd(this.thread, Math.trunc(rel * this.timerMul));
        break;
      }
      case Q.ZoneBeginAllocSrcLoc:
      case Q.ZoneBeginAllocSrcLocCallstack: {
        const rel = this.delta64(REF_T, v, q, false);
        if (this.stagedPayload === NONE) throw this.missing(t, p - start, 'SourceLocationPayload');
        const srcloc = this.stagedPayload;
        this.stagedPayload = NONE;
        if (!this.threadNoticed) this.noticeThread();
        visitor.zoneBegin(this.thread, Math.trunc(rel * this.timerMul), srcloc);
        if (t === Q.ZoneBeginAllocSrcLocCallstack) this.attachThreadCallstack(CallstackTarget.Zone);
        break;
      }
      case Q.ThreadContext: {
        const thread = v.getUint32(q, true);
        this.thread = thread;
        this.refs[REF_T] = -(this.baseHi * TWO_POW_32 + this.baseLo);
        this.refZero[REF_T] = 1;
        this.threadNoticed = this.knownThreads.has(thread);
        visitor.threadContext(thread);
        break;
      }
      case Q.ZoneText:
      case Q.ZoneName: {
        const len = this.takeSingle(t, p - start);
        if (t === Q.ZoneText) visitor.zoneText(this.thread, this.single, 0, len);
        else visitor.zoneName(this.thread, this.single, 0, len);
        break;
      }
      case Q.ZoneColor:
        visitor.zoneColor(this.thread, buf[q]! | (buf[q + 1]! << 8) | (buf[q + 2]! << 16));
        break;
      case Q.ZoneValue:
        visitor.zoneValue(this.thread, v.getUint32(q, true), v.getUint32(q + 4, true));
        break;
      case Q.ZoneValidation:
        break;

      // ---- frames ----
      case Q.FrameMarkMsg:
      case Q.FrameMarkMsgStart:
      case Q.FrameMarkMsgEnd: {
        const namePtr = readPtr(v, q + 8);
        if (namePtr !== 0 && !this.queriedFrames.has(namePtr)) {
          this.queriedFrames.add(namePtr);
          this.queries.push(ServerQuery.FrameName, v.getUint32(q + 8, true), v.getUint32(q + 12, true));
        }
        visitor.frameMark(t - Q.FrameMarkMsg, namePtr, this.absNs(v, q));
        break;
      }

      // ---- plots ----
      case Q.PlotDataInt:
      case Q.PlotDataFloat:
      case Q.PlotDataDouble: {
        const namePtr = readPtr(v, q);
        if (namePtr !== this.lastPlotPtr) this.seePlot(v, q, namePtr);
        const rel = this.delta64(REF_T, v, q + 8, false);
        const value =
          t === Q.PlotDataInt
            ? v.getInt32(q + 20, true) * TWO_POW_32 + v.getUint32(q + 16, true)
            : t === Q.PlotDataFloat
              ? v.getFloat32(q + 16, true)
              : v.getFloat64(q + 16, true);
        if (value - value !== 0) this.droppedNonFinite++;
        else visitor.plot(namePtr, Math.trunc(rel * this.timerMul), value);
        break;
      }
      case Q.PlotConfig: {
        const namePtr = readPtr(v, q);
        if (namePtr !== this.lastPlotPtr) this.seePlot(v, q, namePtr);
        visitor.plotConfig(namePtr, buf[q + 8]!, buf[q + 9] !== 0, buf[q + 10] !== 0, v.getUint32(q + 11, true) & 0xffffff);
        break;
      }

      default:
        this.other(t, v, buf, p, size, start);
    }
  }

  /**
   * Every item type that `warm` does not take. Kept out of the hot path so a rare type seen
   * late costs a recompile of this method only.
   */
  private other(t: number, v: DataView, buf: Uint8Array, p: number, size: number, start: number): void {
    const q = p + 1;
    const visitor = this.visitor;
    switch (t) {
      // ---- messages ----
      case Q.Message:
      case Q.MessageCallstack:
      case Q.MessageColor:
      case Q.MessageColorCallstack: {
        const colored = t === Q.MessageColor || t === Q.MessageColorCallstack;
        const len = this.takeSingle(t, p - start);
        const rgb = colored ? buf[q + 8]! | (buf[q + 9]! << 8) | (buf[q + 10]! << 16) : -1;
        if (!this.threadNoticed) this.noticeThread();
        visitor.message(this.thread, this.absNs(v, q), this.single, 0, len, rgb, buf[q + (colored ? 11 : 8)]!);
        if (t === Q.MessageCallstack || t === Q.MessageColorCallstack) this.attachThreadCallstack(CallstackTarget.Message);
        break;
      }
      case Q.MessageLiteral:
      case Q.MessageLiteralCallstack:
      case Q.MessageLiteralColor:
      case Q.MessageLiteralColorCallstack: {
        const colored = t === Q.MessageLiteralColor || t === Q.MessageLiteralColorCallstack;
        const at = q + (colored ? 11 : 8);
        const lo = v.getUint32(at, true);
        const hi = v.getUint32(at + 4, true);
        // text id = value >> 8 (logical), metadata = the low byte
        const idLo = ((lo >>> 8) | (hi << 24)) >>> 0;
        const idHi = hi >>> 8;
        const textPtr = idHi * TWO_POW_32 + idLo;
        if (!this.threadNoticed) this.noticeThread(); // Tracy asks for the thread, then the text
        this.queryString(textPtr, idLo, idHi);
        const rgb = colored ? buf[q + 8]! | (buf[q + 9]! << 8) | (buf[q + 10]! << 16) : -1;
        visitor.messageLiteral(this.thread, this.absNs(v, q), textPtr, rgb, lo & 0xff);
        if (t === Q.MessageLiteralCallstack || t === Q.MessageLiteralColorCallstack) this.attachThreadCallstack(CallstackTarget.Message);
        break;
      }
      case Q.MessageAppInfo: {
        const len = this.takeSingle(t, p - start);
        visitor.appInfo(this.absNs(v, q), this.single, 0, len);
        break;
      }

      // ---- locks (serial queue) ----
      case Q.LockAnnounce: {
        const srcloc = this.srclocIndex(v, q + 12);
        visitor.lockAnnounce(v.getUint32(q, true), this.absNs(v, q + 4), srcloc, buf[q + 20] === 1);
        break;
      }
      case Q.LockTerminate:
        visitor.lockTerminate(v.getUint32(q, true), this.absNs(v, q + 4));
        break;
      case Q.LockWait:
      case Q.LockObtain:
      case Q.LockSharedWait:
      case Q.LockSharedObtain: {
        const thread = v.getUint32(q, true);
        if (!this.knownThreads.has(thread)) this.newThread(thread);
        const rel = this.delta64(REF_S, v, q + 8, false);
        const shared = t === Q.LockSharedWait || t === Q.LockSharedObtain;
        const kind = t === Q.LockWait || t === Q.LockSharedWait ? 0 : 1;
        visitor.lockEvent(kind, shared, thread, v.getUint32(q + 4, true), Math.trunc(rel * this.timerMul));
        break;
      }
      case Q.LockRelease: {
        const rel = this.delta64(REF_S, v, q + 4, false);
        visitor.lockEvent(2, false, 0, v.getUint32(q, true), Math.trunc(rel * this.timerMul));
        break;
      }
      case Q.LockSharedRelease: {
        const rel = this.delta64(REF_S, v, q + 4, false);
        const thread = v.getUint32(q + 12, true);
        if (!this.knownThreads.has(thread)) this.newThread(thread);
        visitor.lockEvent(2, true, thread, v.getUint32(q, true), Math.trunc(rel * this.timerMul));
        break;
      }
      case Q.LockMark:
        this.srclocIndex(v, q + 8);
        break;
      case Q.LockName: {
        const len = this.takeSingle(t, p - start);
        visitor.lockName(v.getUint32(q, true), this.single, 0, len);
        break;
      }

      // ---- memory (serial queue) ----
      case Q.MemAlloc:
      case Q.MemAllocNamed:
      case Q.MemAllocCallstack:
      case Q.MemAllocCallstackNamed:
      case Q.MemFree:
      case Q.MemFreeNamed:
      case Q.MemFreeCallstack:
      case Q.MemFreeCallstackNamed: {
        const rel = this.delta64(REF_S, v, q, false);
        const thread = v.getUint32(q + 8, true);
        if (!this.knownThreads.has(thread)) this.newThread(thread);
        const named = t === Q.MemAllocNamed || t === Q.MemAllocCallstackNamed || t === Q.MemFreeNamed || t === Q.MemFreeCallstackNamed;
        let pool = 0;
        if (named) {
          if (this.stagedPoolPtr === NONE) throw this.missing(t, p - start, 'MemNamePayload');
          pool = this.stagedPoolPtr;
          this.stagedPoolPtr = NONE;
        }
        const ptr = readPtr(v, q + 12);
        const ns = Math.trunc(rel * this.timerMul);
        const alloc = t <= Q.MemAllocNamed || t === Q.MemAllocCallstack || t === Q.MemAllocCallstackNamed;
        if (alloc) {
          const size = v.getUint16(q + 24, true) * TWO_POW_32 + v.getUint32(q + 20, true);
          visitor.memAlloc(thread, ns, ptr, size, pool);
        } else {
          visitor.memFree(thread, ns, ptr, pool);
        }
        if (t >= Q.MemAllocCallstack && t <= Q.MemFreeCallstackNamed) {
          const cs = this.serialCallstack;
          this.serialCallstack = 0;
          if (cs !== 0) visitor.callstack?.(alloc ? CallstackTarget.Alloc : CallstackTarget.Free, thread, cs);
        }
        break;
      }
      case Q.MemDiscard:
      case Q.MemDiscardCallstack: {
        const rel = this.delta64(REF_S, v, q, false);
        const thread = v.getUint32(q + 8, true);
        if (!this.knownThreads.has(thread)) this.newThread(thread);
        const pool = readPtr(v, q + 12);
        this.queryString(pool, v.getUint32(q + 12, true), v.getUint32(q + 16, true));
        visitor.memDiscard(thread, Math.trunc(rel * this.timerMul), pool);
        if (t === Q.MemDiscardCallstack) this.serialCallstack = 0;
        break;
      }
      case Q.MemNamePayload: {
        const pool = readPtr(v, q);
        this.queryString(pool, v.getUint32(q, true), v.getUint32(q + 4, true));
        this.stagedPoolPtr = pool;
        break;
      }

      // ---- staging strings and keyed transfers ----
      case Q.SingleStringData:
      case Q.SingleStringData8:
      case Q.SecondStringData:
      case Q.SecondStringData8: {
        const head = t === Q.SingleStringData || t === Q.SecondStringData ? 3 : 2;
        const len = size - head;
        if (t === Q.SingleStringData || t === Q.SingleStringData8) {
          if (this.single.length < len) this.single = stagingFor(len);
          this.single.set(buf.subarray(p + head, p + size), 0);
          this.singleLen = len;
        } else {
          if (this.second.length < len) this.second = stagingFor(len);
          this.second.set(buf.subarray(p + head, p + size), 0);
          this.secondLen = len;
        }
        break;
      }
      case Q.StringData:
      case Q.ThreadName:
      case Q.PlotName:
      case Q.FrameName:
      case Q.FiberName:
      case Q.ExternalName:
      case Q.ExternalThreadName: {
        const ptr = readPtr(v, q);
        const text = utf8.decode(buf.subarray(p + 11, p + size));
        const names = this.names;
        if (t === Q.StringData) names.strings.set(ptr, text);
        else if (t === Q.ThreadName) names.threads.set(ptr, text);
        else if (t === Q.PlotName) {
          names.plots.set(ptr, text);
          names.strings.set(ptr, text);
        } else if (t === Q.FrameName) {
          names.frames.set(ptr, text);
          names.strings.set(ptr, text);
        } else if (t === Q.FiberName) names.fibers.set(ptr, text);
        else if (t === Q.ExternalName) names.externals.set(ptr, text);
        if (t !== Q.ExternalThreadName) this.repliesCounted++;
        visitor.stringData(t, ptr, buf, p + 11, size - 11);
        break;
      }
      case Q.SourceLocationPayload: {
        const index = this.srclocs.internPayload(buf, p + 11, size - 11);
        if (index < 0) {
          throw new ItemError(ProtocolErrorCode.BadLength, `malformed SourceLocationPayload of ${size - 11} bytes`, p - start, t);
        }
        this.stagedPayload = index;
        break;
      }
      case Q.SymbolCode:
      case Q.SourceCode:
        this.repliesCounted++;
        break;
      case Q.CallstackPayload: {
        const length = size - 11;
        if ((length & 7) !== 0) throw new ItemError(ProtocolErrorCode.BadLength, `CallstackPayload of ${length} bytes is not a whole number of u64 addresses`, p - start, t);
        this.stagedCallstack = this.callstacks.intern(v, p + 11, length, this.queryFrame);
        this.reportCallstackBytes();
        break;
      }
      case Q.CallstackAllocPayload:
      case Q.FrameImageData:
        break;
      case Q.SourceLocation: {
        if (this.fifoLength === 0) {
          throw new ItemError(ProtocolErrorCode.BadState, 'SourceLocation reply with no source-location query outstanding', p - start, t);
        }
        const index = this.srclocFifo[this.fifoHead]!;
        this.fifoHead = (this.fifoHead + 1) & (this.srclocFifo.length - 1);
        this.fifoLength--;
        const namePtr = readPtr(v, q);
        const functionPtr = readPtr(v, q + 8);
        const filePtr = readPtr(v, q + 16);
        const rgb = (buf[q + 30]! << 16) | (buf[q + 29]! << 8) | buf[q + 28]!;
        this.srclocs.resolveStatic(index, namePtr, functionPtr, filePtr, v.getUint32(q + 24, true), rgb);
        // Tracy queries the texts in the order name, file, function.
        if (namePtr !== 0) this.queryString(namePtr, v.getUint32(q, true), v.getUint32(q + 4, true));
        this.queryString(filePtr, v.getUint32(q + 16, true), v.getUint32(q + 20, true));
        this.queryString(functionPtr, v.getUint32(q + 8, true), v.getUint32(q + 12, true));
        this.repliesCounted++;
        visitor.sourceLocation(index);
        break;
      }
      case Q.CallstackFrameSize: {
        const image = this.stagedText(true);
        const frames = buf[q + 8]!;
        if (frames > MAX_FRAMES_PER_ADDRESS) throw new ItemError(ProtocolErrorCode.BadLength, `CallstackFrameSize of ${frames} frames > ${MAX_FRAMES_PER_ADDRESS}`, p - start, t);
        this.frameReply = { address: addressHex(v.getUint32(q, true), v.getUint32(q + 4, true)), frames, answer: { image, frames: [] } };
        if (frames === 0) this.finishFrameReply();
        this.repliesCounted++;
        break;
      }
      case Q.SymbolInformation:
        this.singleLen = NONE;
        this.repliesCounted++;
        break;
      case Q.CallstackFrame: {
        const fn = this.stagedText(true);
        const file = this.stagedText(false);
        const reply = this.frameReply;
        if (reply === null) throw this.missing(t, p - start, 'CallstackFrameSize');
        const symLo = v.getUint32(q + 4, true);
        const symHi = v.getUint32(q + 8, true);
        const symbol = symLo === 0 && symHi === 0 ? '' : addressHex(symLo, symHi);
        reply.answer.frames.push({ function: fn, file, line: v.getUint32(q, true), symbol });
        // Tracy asks for each symbol it has not seen, as its frames arrive
        if (symbol !== '' && !this.knownSymbols.has(symbol)) {
          this.knownSymbols.add(symbol);
          this.queries.push(ServerQuery.Symbol, symLo, symHi);
        }
        if (reply.answer.frames.length === reply.frames) this.finishFrameReply();
        break;
      }
      case Q.AckServerQueryNoop:
      case Q.AckSourceCodeNotAvailable:
      case Q.AckSymbolCodeNotAvailable:
        this.repliesCounted++;
        break;

      // ---- control and system ----
      case Q.Terminate:
        this.terminated = true;
        visitor.terminate();
        break;
      case Q.Crash:
        this.crashed = true;
        visitor.crash();
        break;
      case Q.KeepAlive:
        break;
      case Q.SysTimeReport:
        visitor.sysTime(this.absNs(v, q), v.getFloat32(q + 8, true));
        break;
      case Q.CrashReport:
        this.queryString(readPtr(v, q + 8), v.getUint32(q + 8, true), v.getUint32(q + 12, true));
        break;
      case Q.SysPowerReport:
        this.queryString(readPtr(v, q + 16), v.getUint32(q + 16, true), v.getUint32(q + 20, true));
        break;
      case Q.ParamSetup:
        this.queryString(readPtr(v, q + 4), v.getUint32(q + 4, true), v.getUint32(q + 8, true));
        break;

      // ---- items that consume staged data we do not keep ----
      case Q.GpuContextName:
      case Q.GpuAnnotationName:
      case Q.SectionSetup:
        this.takeSingle(t, p - start);
        break;
      case Q.Callstack:
        this.threadCallstacks.set(this.thread, this.stagedCallstack);
        this.stagedCallstack = 0;
        break;
      case Q.CallstackSerial:
        this.serialCallstack = this.stagedCallstack;
        this.stagedCallstack = 0;
        break;
      case Q.CallstackAlloc:
      case Q.FrameImage:
        break;

      // ---- CPU samples (context-switch samples only move the reference and take their stack) ----
      case Q.CallstackSample:
      case Q.CallstackSampleContextSwitch:
      case Q.CallstackSample32:
      case Q.CallstackSampleContextSwitch32:
      case Q.CallstackSample16:
      case Q.CallstackSampleContextSwitch16: {
        let rel: number;
        if (t === Q.CallstackSample || t === Q.CallstackSampleContextSwitch) rel = this.delta64(REF_C, v, q + 4, true);
        else {
          rel = this.refs[REF_C]! += t === Q.CallstackSample32 || t === Q.CallstackSampleContextSwitch32 ? v.getUint32(q + 4, true) + PROTOCOL_OFFSET_16BIT : v.getUint16(q + 4, true);
          this.refZero[REF_C] = 0;
        }
        const thread = v.getUint32(q, true);
        if (!this.knownThreads.has(thread)) this.newThread(thread);
        const cs = this.stagedCallstack;
        this.stagedCallstack = 0;
        const plain = t === Q.CallstackSample || t === Q.CallstackSample32 || t === Q.CallstackSample16;
        if (plain && cs !== 0) visitor.cpuSample?.(thread, Math.trunc(rel * this.timerMul), cs);
        break;
      }
      case Q.ContextSwitch:
      case Q.ThreadWakeup:
        this.delta64(REF_C, v, q, false);
        break;
      case Q.GpuZoneBegin:
      case Q.GpuZoneBeginCallstack:
        this.delta64(REF_T, v, q, false);
        this.srclocIndex(v, q + 15); // a receiver queries it, so it takes a place in the FIFO
        break;
      case Q.GpuZoneEnd:
      case Q.FiberEnter:
      case Q.FiberLeave:
      case Q.SectionLeave:
        this.delta64(REF_T, v, q, false);
        break;
      case Q.SectionEnter:
        this.delta64(REF_T, v, q, false);
        this.takeSingle(t, p - start);
        break;
      case Q.GpuZoneBeginAllocSrcLoc:
      case Q.GpuZoneBeginAllocSrcLocCallstack:
        this.delta64(REF_T, v, q, false);
        this.stagedPayload = NONE;
        break;
      case Q.GpuZoneBeginSerial:
      case Q.GpuZoneBeginCallstackSerial:
        this.delta64(REF_S, v, q, false);
        this.srclocIndex(v, q + 15);
        break;
      case Q.GpuZoneEndSerial:
        this.delta64(REF_S, v, q, false);
        break;
      case Q.GpuZoneBeginAllocSrcLocSerial:
      case Q.GpuZoneBeginAllocSrcLocCallstackSerial:
        this.delta64(REF_S, v, q, false);
        this.stagedPayload = NONE;
        break;
      case Q.GpuTime:
      case Q.GpuNewContext:
      case Q.GpuCalibration:
      case Q.GpuTimeSync:
      case Q.GpuZoneAnnotation:
      case Q.FrameVsync:
      case Q.TidToPid:
      case Q.HwSampleCpuCycle:
      case Q.HwSampleInstructionRetired:
      case Q.HwSampleCacheReference:
      case Q.HwSampleCacheMiss:
      case Q.HwSampleBranchRetired:
      case Q.HwSampleBranchMiss:
      case Q.CpuTopology:
      case Q.ThreadGroupHint:
        break;
      default:
        // Only 65..67 and > 131 reach here, and walk rejected both already.
        throw this.unknown(t, p - start);
    }
  }

  /** Size of a variable-length item at `p` (or throws for a type that never appears). */
  private variableSize(v: DataView, buf: Uint8Array, t: number, p: number, start: number, end: number): number {
    if (t >= Q.StringData) {
      if (t >= QUEUE_TYPE_COUNT) throw this.unknown(t, p - start);
      const wide = t === Q.FrameImageData || t === Q.SymbolCode || t === Q.SourceCode;
      const head = wide ? 13 : 11;
      if (p + head > end) throw this.spans(t, p - start, head, end - p);
      return head + (wide ? v.getUint32(p + 9, true) : v.getUint16(p + 9, true));
    }
    if (t === Q.SingleStringData || t === Q.SecondStringData) {
      if (p + 3 > end) throw this.spans(t, p - start, 3, end - p);
      return 3 + v.getUint16(p + 1, true) + PROTOCOL_OFFSET_8BIT;
    }
    if (t === Q.SingleStringData8 || t === Q.SecondStringData8) {
      if (p + 2 > end) throw this.spans(t, p - start, 2, end - p);
      return 2 + buf[p + 1]!;
    }
    throw this.unknown(t, p - start);
  }

  // ---- helpers ----

  /**
   * Applies a 64-bit delta to reference `r`. `compact`: the zone/sample form, which adds
   * 2^32 + 2^16 to non-negative values. Right after a reset the reference is absolute 0, so
   * the value is the absolute tick count: subtract initBegin in 32-bit halves to stay exact.
   */
  private delta64(r: number, v: DataView, at: number, compact: boolean): number {
    const lo = v.getUint32(at, true);
    const hi = v.getInt32(at + 4, true);
    let rel: number;
    if (this.refZero[r] === 1) {
      rel = (hi - this.baseHi) * TWO_POW_32 + (lo - this.baseLo);
      this.refZero[r] = 0;
    } else {
      rel = this.refs[r]! + (hi * TWO_POW_32 + lo);
    }
    if (compact && hi >= 0) rel += PROTOCOL_OFFSET_32BIT;
    this.refs[r] = rel;
    return rel;
  }

  /** Absolute ticks at `at` to session nanoseconds. */
  private absNs(v: DataView, at: number): number {
    const rel = (v.getInt32(at + 4, true) - this.baseHi) * TWO_POW_32 + (v.getUint32(at, true) - this.baseLo);
    return Math.trunc(rel * this.timerMul);
  }

  /**
   * The dense index of the static source location whose pointer is at `at`; queries new ones.
   * Runs once per zone begin: a direct-mapped cache on the pointer's two 32-bit halves answers
   * without building the float64 key or touching the Map.
   */
  private srclocIndex(v: DataView, at: number): number {
    const lo = v.getUint32(at, true);
    const hi = v.getUint32(at + 4, true);
    const slot = (lo ^ (lo >>> 9) ^ (lo >>> 19) ^ hi) & SRCLOC_CACHE_MASK;
    if (this.srclocCacheLo[slot] === lo && this.srclocCacheHi[slot] === hi) {
      const cached = this.srclocCacheIndex[slot]!;
      if (cached >= 0) return cached;
    }
    // out of line: this function is inlined into walk per zone begin; the miss is rare
    return this.srclocMiss(lo, hi, slot);
  }

  /** srclocIndex's cache miss: the table lookup, a new location (queried), the cache refill. */
  private srclocMiss(lo: number, hi: number, slot: number): number {
    const ptr = hi * TWO_POW_32 + lo;
    let index = this.srclocs.lookup(ptr);
    if (index < 0) index = this.addSrcloc(ptr, lo, hi);
    this.srclocCacheLo[slot] = lo;
    this.srclocCacheHi[slot] = hi;
    this.srclocCacheIndex[slot] = index;
    return index;
  }

  private addSrcloc(ptr: number, lo: number, hi: number): number {
    const index = this.srclocs.addStatic(ptr);
    this.queries.push(ServerQuery.SourceLocation, lo, hi);
    if (this.fifoLength === this.srclocFifo.length) {
      const grown = new Int32Array(this.srclocFifo.length * 2);
      for (let k = 0; k < this.fifoLength; k++) grown[k] = this.srclocFifo[(this.fifoHead + k) & (this.srclocFifo.length - 1)]!;
      this.srclocFifo = grown;
      this.fifoHead = 0;
    }
    this.srclocFifo[(this.fifoHead + this.fifoLength) & (this.srclocFifo.length - 1)] = index;
    this.fifoLength++;
    return index;
  }

  private seePlot(v: DataView, at: number, namePtr: number): void {
    this.lastPlotPtr = namePtr;
    if (!this.queriedPlots.has(namePtr)) {
      this.queriedPlots.add(namePtr);
      this.queries.push(ServerQuery.PlotName, v.getUint32(at, true), v.getUint32(at + 4, true));
    }
  }

  private queryString(ptr: number, lo: number, hi: number): void {
    if (ptr === 0 || this.queriedStrings.has(ptr)) return;
    this.queriedStrings.add(ptr);
    if (this.names.strings.has(ptr)) return;
    this.queries.push(ServerQuery.String, lo, hi);
  }

  /**
   * A Tracy receiver asks for a thread's name the first time an item needs the thread (a zone
   * or a message on the current context, or an item's explicit thread field), not on
   * ThreadContext itself: the profiler's own thread only sends SysTimeReport and is never asked.
   */
  private noticeThread(): void {
    this.threadNoticed = true;
    if (!this.knownThreads.has(this.thread)) this.newThread(this.thread);
  }

  private newThread(thread: number): void {
    this.knownThreads.add(thread);
    this.queries.push(ServerQuery.ThreadString, thread, 0);
  }

  /** The thread's staged Callstack (10), if any, goes to the item just reported. */
  private attachThreadCallstack(target: number): void {
    const cs = this.threadCallstacks.get(this.thread);
    if (cs === undefined) return;
    this.threadCallstacks.delete(this.thread);
    if (cs !== 0) this.visitor.callstack?.(target, this.thread, cs);
  }

  /** The staged single (or second) string as text, consumed; '' when none was staged. */
  private stagedText(single: boolean): string {
    const len = single ? this.singleLen : this.secondLen;
    if (single) this.singleLen = NONE;
    else this.secondLen = NONE;
    if (len === NONE || len === 0) return '';
    return utf8.decode((single ? this.single : this.second).subarray(0, len));
  }

  private finishFrameReply(): void {
    const reply = this.frameReply!;
    this.frameReply = null;
    this.callstacks.resolve(reply.address, reply.answer);
    this.reportCallstackBytes();
  }

  private reportCallstackBytes(): void {
    const bytes = this.callstacks.bytes;
    if (bytes === this.callstackBytesReported) return;
    const added = bytes - this.callstackBytesReported;
    this.callstackBytesReported = bytes;
    this.visitor.callstackBytes?.(added);
  }

  private takeSingle(t: number, at: number): number {
    const len = this.singleLen;
    if (len === NONE) throw this.missing(t, at, 'a staged string (SingleStringData)');
    this.singleLen = NONE;
    return len;
  }

  private unknown(t: number, at: number): ItemError {
    const what = t >= QUEUE_TYPE_COUNT ? `unknown queue type ${t}` : `queue type ${t} (${QUEUE_TYPE_NAMES[t]}) never appears on the wire`;
    return new ItemError(ProtocolErrorCode.UnknownQueueType, what, at, t);
  }

  private spans(t: number, at: number, need: number, have: number): ItemError {
    return new ItemError(
      ProtocolErrorCode.ItemSpansFrame,
      `${QUEUE_TYPE_NAMES[t]} item needs ${need} bytes but the frame has ${have} left`,
      at,
      t,
    );
  }

  private missing(t: number, at: number, what: string): ItemError {
    return new ItemError(ProtocolErrorCode.BadState, `${QUEUE_TYPE_NAMES[t]} without ${what} before it`, at, t);
  }
}

/** A u64 pointer as a number (exact below 2^53). */
export function readPtr(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * TWO_POW_32 + v.getUint32(at, true);
}

/** A staging buffer for a string of `len` bytes: a power of two from 256, at most STAGING_SIZE. */
function stagingFor(len: number): Uint8Array {
  let size = 256;
  while (size < len) size *= 2;
  return new Uint8Array(Math.min(size, STAGING_SIZE));
}
