import { PROTOCOL_OFFSET_16BIT, PROTOCOL_OFFSET_32BIT, PROTOCOL_OFFSET_8BIT, TARGET_FRAME_SIZE, TWO_POW_32 } from './constants.js';
import { QueueType as Q } from './queue-types.js';

/** Value type of a plot point: PlotDataInt (i64), PlotDataFloat (f32) or PlotDataDouble (f64). */
export const PlotKind = { Int: 0, Float: 1, Double: 2 } as const;
/** FrameMarkMsg, FrameMarkMsgStart, FrameMarkMsgEnd: the `kind` of TracyVisitor.frameMark. */
export const FrameMarkKind = { Continuous: 0, Start: 1, End: 2 } as const;

/** Largest staged string: SingleStringData's u16 holds length - 256 (tracy-protocol.md 4.1). */
export const MAX_STAGED_STRING = 65535 + PROTOCOL_OFFSET_8BIT;
/** Largest keyed transfer text (plain u16 length) and SourceLocationPayload. */
export const MAX_TRANSFER_STRING = 65535;
/** Most addresses in one CallstackPayload: its u16 length holds 8 bytes per address. */
export const MAX_CALLSTACK_DEPTH = 8191;

/**
 * Receives one frame's worth of complete items: `items[start, start + length)`, 1..262144
 * bytes (see QueueWriterOptions.maxFrameSize). The bytes are the writer's own buffer: consume
 * or copy them before returning, and do not write to the writer from inside the sink.
 */
export type FrameSink = (items: Uint8Array, start: number, length: number) => void;

export interface QueueWriterOptions {
  /** Initial buffer size in bytes; the buffer doubles when needed. Default 65536. */
  initialCapacity?: number;
  /**
   * Most item bytes in one frame, 64..262144 (TARGET_FRAME_SIZE, the default). A group of items
   * that must stay together and is bigger than this (a 65791-byte string and its consumer) gets
   * a frame of its own; no group ever exceeds TARGET_FRAME_SIZE.
   */
  maxFrameSize?: number;
  /**
   * Where closed frames go. Without a sink they queue up inside the writer until `takeFrame`.
   */
  onFrame?: FrameSink | null;
}

const NO_THREAD = -1;
/** Strings up to this many UTF-16 units go through the inline encoder (no allocation at all). */
const INLINE_UTF8_UNITS = 256;
/** Keyed transfers written by `stringData` (u16 length; 122..124 carry binary payloads). */
const TEXT_TRANSFER = new Set<number>([Q.StringData, Q.ThreadName, Q.PlotName, Q.FrameName, Q.ExternalName, Q.ExternalThreadName, Q.FiberName]);

const utf8Encoder = new TextEncoder();

/**
 * Writes Tracy queue items the way the C++ client serialises them (tracy-protocol.md 4 and 5):
 *
 * - per-thread items (zones, zone text/name/colour/value, plots, messages) are preceded by a
 *   `ThreadContext` whenever their thread differs from the previous per-thread item's, and the
 *   thread time reference T restarts at 0 there;
 * - zone begins/ends use the 16-, 32- or 64-bit compact form picked by the delta's range (4.3);
 *   AllocSrcLoc zone begins and plot points use plain i64 T deltas;
 * - memory and lock wait/obtain/release items use the serial reference S;
 * - frame marks, messages, app info, LockAnnounce/LockTerminate and SysTimeReport carry
 *   absolute ticks.
 *
 * Times are absolute client ticks (integers, |ticks| < 2^53); pointers/ids are u64 values as
 * numbers (exact below 2^53). Colours are 0xRRGGBB. Text is written as UTF-8 and cut at a
 * character boundary when it exceeds the field's limit.
 *
 * Items accumulate in one growable buffer. Frames are cut only between items, and an item is
 * kept in the same frame as its ThreadContext and staged string (or inline source location); a
 * frame holds at most maxFrameSize bytes, never more than TARGET_FRAME_SIZE. No allocation per
 * item (strings longer than 256 UTF-16 units go through TextEncoder.encodeInto, which allocates
 * a small result object).
 */
export class QueueWriter {
  /** PlotData points not written because their value was NaN or infinite (tracy-protocol.md P10). */
  droppedNonFinite = 0;

  private buf: Uint8Array;
  private view: DataView;
  /** Write position. */
  private end = 0;
  /** Start of the open frame. */
  private frameStart = 0;
  /** Start of the oldest frame not yet taken (no-sink mode). */
  private readPos = 0;
  /** Ends of closed frames not yet taken (no-sink mode); `closedHead` is the next to take. */
  private readonly closed: number[] = [];
  private closedHead = 0;
  private readonly maxFrame: number;
  private readonly sink: FrameSink | null;

  /** Thread of the last ThreadContext written (NO_THREAD before the first). */
  private thread = NO_THREAD;
  /** Thread reference T and serial reference S, as absolute ticks (0 = just reset). */
  private refT = 0;
  private refS = 0;
  /** Context-switch reference C (CallstackSample*), absolute ticks; like S it restarts only with the connection. */
  private refC = 0;

  /** @throws RangeError if initialCapacity or maxFrameSize is out of range */
  constructor(options: QueueWriterOptions = {}) {
    const capacity = options.initialCapacity ?? 65536;
    const maxFrame = options.maxFrameSize ?? TARGET_FRAME_SIZE;
    if (!Number.isInteger(capacity) || capacity < 64 || capacity > 1 << 30) {
      throw new RangeError(`initialCapacity ${capacity} is not an integer in 64..${1 << 30}`);
    }
    if (!Number.isInteger(maxFrame) || maxFrame < 64 || maxFrame > TARGET_FRAME_SIZE) {
      throw new RangeError(`maxFrameSize ${maxFrame} is not an integer in 64..${TARGET_FRAME_SIZE} (TargetFrameSize)`);
    }
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.maxFrame = maxFrame;
    this.sink = options.onFrame ?? null;
  }

  /** Bytes held: the open frame plus closed frames not yet taken. */
  get length(): number {
    return this.end - this.readPos;
  }

  /** Bytes in the open frame. */
  get frameLength(): number {
    return this.end - this.frameStart;
  }

  /** Starts a new connection: drops every held byte and resets T, S and the current thread. */
  reset(): void {
    this.end = 0;
    this.frameStart = 0;
    this.readPos = 0;
    this.closed.length = 0;
    this.closedHead = 0;
    this.thread = NO_THREAD;
    this.refT = 0;
    this.refS = 0;
    this.refC = 0;
  }

  /** Closes the open frame if it holds anything: hands it to the sink, or queues it for takeFrame. */
  flush(): void {
    if (this.end > this.frameStart) this.closeFrame();
  }

  /**
   * The next frame, oldest first: a closed one, else the open one (which this closes).
   * @returns a view into the writer's buffer, valid until the next write; null when empty
   * @throws Error when the writer has a sink (frames then go there)
   */
  takeFrame(): Uint8Array | null {
    if (this.sink !== null) throw new Error('takeFrame: this QueueWriter hands its frames to its onFrame sink');
    if (this.closedHead === this.closed.length) {
      if (this.end === this.frameStart) return null;
      this.closeFrame();
    }
    const start = this.readPos;
    const end = this.closed[this.closedHead++]!;
    this.readPos = end;
    if (this.closedHead === this.closed.length && this.end === this.frameStart) {
      // Everything was taken: the next write starts over at 0 (the view stays valid until then).
      this.closed.length = 0;
      this.closedHead = 0;
      this.end = this.frameStart = this.readPos = 0;
    }
    return this.buf.subarray(start, end);
  }

  // ---- threads and zones ----

  /** Writes ThreadContext(thread) (always, even for the current thread) and resets T. */
  threadContext(thread: number): void {
    this.reserve(5);
    this.writeThreadContext(thread);
  }

  /** ZoneBegin16/32/64 with the static source location `srcloc` (an id the app answers queries for). */
  zoneBegin(thread: number, ticks: number, srcloc: number): void {
    this.reserve(5 + 17);
    if (thread !== this.thread) this.writeThreadContext(thread);
    const dt = ticks - this.refT;
    this.refT = ticks;
    const b = this.buf;
    let p = this.end;
    if (dt >= 0 && dt < PROTOCOL_OFFSET_16BIT && srcloc >= 0 && srcloc < TWO_POW_32) {
      // The common case (a zone begun within 65 us of the previous item, a u32 source
      // location), without the generic paths: 4 stores instead of 11 byte stores.
      const v = this.view;
      b[p] = Q.ZoneBegin16;
      v.setUint16(p + 1, dt, true);
      v.setUint32(p + 3, srcloc, true);
      v.setUint32(p + 7, 0, true);
      this.end = p + 11;
      return;
    }
    p = this.compactTime(Q.ZoneBegin, dt);
    writeU64(this.view, p, srcloc);
    this.end = p + 8;
  }

  /** ZoneEnd16/32/64: ends the innermost open zone of `thread`. */
  zoneEnd(thread: number, ticks: number): void {
    this.reserve(5 + 9);
    if (thread !== this.thread) this.writeThreadContext(thread);
    const dt = ticks - this.refT;
    this.refT = ticks;
    if (dt >= 0 && dt < PROTOCOL_OFFSET_16BIT) {
      const b = this.buf;
      const p = this.end;
      b[p] = Q.ZoneEnd16;
      this.view.setUint16(p + 1, dt, true);
      this.end = p + 3;
      return;
    }
    this.end = this.compactTime(Q.ZoneEnd, dt);
  }

  /**
   * A zone with an inline source location: SourceLocationPayload (u32 colour 0x00RRGGBB, u32 line,
   * function NUL, file NUL, name; tracy-protocol.md 4.4) then ZoneBeginAllocSrcLoc (plain i64 T
   * delta). `name` "" = unnamed. Function and file end at their first NUL (they are C strings).
   * The payload holds at most 65535 bytes: past that the name is cut first, then the file.
   */
  zoneBeginAllocSrcLoc(thread: number, ticks: number, rgb: number, line: number, fn: string, file: string, name: string): void {
    const textBound = 3 * (fn.length + file.length + name.length) + 10;
    this.reserve(5 + 11 + Math.min(textBound, MAX_TRANSFER_STRING) + 9);
    if (thread !== this.thread) this.writeThreadContext(thread);
    const b = this.buf;
    const v = this.view;
    const p = this.end;
    b[p] = Q.SourceLocationPayload;
    v.setUint32(p + 1, 0, true); // ptr: ignored by receivers
    v.setUint32(p + 5, 0, true);
    const data = p + 11;
    v.setUint32(data, rgb & 0xffffff, true);
    v.setUint32(data + 4, line >>> 0, true);
    let q = data + 8;
    let budget = MAX_TRANSFER_STRING - 10;
    let n = cStringLength(b, q, this.writeUtf8(fn, q, budget));
    q += n;
    b[q++] = 0;
    budget -= n;
    n = cStringLength(b, q, this.writeUtf8(file, q, budget));
    q += n;
    b[q++] = 0;
    budget -= n;
    q += this.writeUtf8(name, q, budget);
    v.setUint16(p + 9, q - data, true);
    b[q] = Q.ZoneBeginAllocSrcLoc;
    writeI64(v, q + 1, ticks - this.refT);
    this.refT = ticks;
    this.end = q + 9;
  }

  /** SingleStringData(8) + ZoneText: appends text to the innermost open zone of `thread`. */
  zoneText(thread: number, text: string): void {
    this.stagedThreadItem(thread, text, Q.ZoneText);
  }

  /** SingleStringData(8) + ZoneName: overrides the displayed name of the innermost open zone. */
  zoneName(thread: number, text: string): void {
    this.stagedThreadItem(thread, text, Q.ZoneName);
  }

  /** ZoneColor: colour 0xRRGGBB, written as the bytes b, g, r. */
  zoneColor(thread: number, rgb: number): void {
    this.reserve(5 + 4);
    if (thread !== this.thread) this.writeThreadContext(thread);
    const b = this.buf;
    const p = this.end;
    b[p] = Q.ZoneColor;
    b[p + 1] = rgb & 0xff;
    b[p + 2] = (rgb >>> 8) & 0xff;
    b[p + 3] = (rgb >>> 16) & 0xff;
    this.end = p + 4;
  }

  /** ZoneValue of an integer 0 <= value < 2^53 (a negative one is written as its u64 two's complement). */
  zoneValue(thread: number, value: number): void {
    this.zoneValueParts(thread, value >>> 0, Math.floor(value / TWO_POW_32) >>> 0);
  }

  /** ZoneValue of any u64, as two u32 halves. */
  zoneValueParts(thread: number, lo: number, hi: number): void {
    this.reserve(5 + 9);
    if (thread !== this.thread) this.writeThreadContext(thread);
    const p = this.end;
    this.buf[p] = Q.ZoneValue;
    this.view.setUint32(p + 1, lo >>> 0, true);
    this.view.setUint32(p + 5, hi >>> 0, true);
    this.end = p + 9;
  }

  // ---- frames, plots, messages ----

  /** FrameMarkMsg (kind 0), FrameMarkMsgStart (1) or FrameMarkMsgEnd (2); namePtr 0 = the default set. */
  frameMark(kind: number, namePtr: number, ticks: number): void {
    this.reserve(17);
    const p = this.end;
    this.buf[p] = Q.FrameMarkMsg + kind;
    writeI64(this.view, p + 1, ticks);
    writeU64(this.view, p + 9, namePtr);
    this.end = p + 17;
  }

  /**
   * PlotDataInt/Float/Double (`kind`, see PlotKind) with a plain T delta. Int values are
   * truncated (exact below 2^53). NaN and infinities (also doubles that overflow a Float's f32)
   * are not written, because Tracy's server would drop them without applying the delta and
   * desync T (P10): they are counted in droppedNonFinite.
   */
  plot(thread: number, namePtr: number, ticks: number, value: number, kind: number): void {
    // NaN - NaN and Inf - Inf are NaN; a double beyond the f32 range becomes an infinite float.
    if (value - value !== 0 || (kind === PlotKind.Float && Math.fround(value) - Math.fround(value) !== 0)) {
      this.droppedNonFinite++;
      return;
    }
    this.reserve(5 + 25);
    if (thread !== this.thread) this.writeThreadContext(thread);
    const v = this.view;
    const p = this.end;
    this.buf[p] = Q.PlotDataInt + kind;
    writeU64(v, p + 1, namePtr);
    writeI64(v, p + 9, ticks - this.refT);
    this.refT = ticks;
    if (kind === PlotKind.Int) {
      writeI64(v, p + 17, Math.trunc(value));
      this.end = p + 25;
    } else if (kind === PlotKind.Float) {
      v.setFloat32(p + 17, value, true);
      this.end = p + 21;
    } else {
      v.setFloat64(p + 17, value, true);
      this.end = p + 25;
    }
  }

  /** PlotConfig: format (PlotFormat), step and fill flags, colour 0xRRGGBB (0 = default). No time. */
  plotConfig(namePtr: number, format: number, step: boolean, fill: boolean, rgb: number): void {
    this.reserve(16);
    const b = this.buf;
    const p = this.end;
    b[p] = Q.PlotConfig;
    writeU64(this.view, p + 1, namePtr);
    b[p + 9] = format;
    b[p + 10] = step ? 1 : 0;
    b[p + 11] = fill ? 1 : 0;
    this.view.setUint32(p + 12, rgb & 0xffffff, true);
    this.end = p + 16;
  }

  /**
   * SingleStringData(8) + Message (rgb < 0) or MessageColor (rgb 0xRRGGBB), absolute time.
   * metadata = severity << 4 | source (MESSAGE_METADATA_DEFAULT = Info/User).
   */
  message(thread: number, ticks: number, text: string, rgb: number, metadata: number): void {
    this.reserve(5 + 3 + Math.min(3 * text.length, MAX_STAGED_STRING) + 13);
    if (thread !== this.thread) this.writeThreadContext(thread);
    this.writeSingleString(text);
    const b = this.buf;
    const p = this.end;
    if (rgb < 0) {
      b[p] = Q.Message;
      writeI64(this.view, p + 1, ticks);
      b[p + 9] = metadata;
      this.end = p + 10;
    } else {
      b[p] = Q.MessageColor;
      writeI64(this.view, p + 1, ticks);
      b[p + 9] = rgb & 0xff;
      b[p + 10] = (rgb >>> 8) & 0xff;
      b[p + 11] = (rgb >>> 16) & 0xff;
      b[p + 12] = metadata;
      this.end = p + 13;
    }
  }

  /**
   * MessageLiteral (rgb < 0) or MessageLiteralColor: the text is the string `textPtr` (< 2^53,
   * Tracy allows 2^56), which the app sends later as StringData when the receiver asks.
   */
  messageLiteral(thread: number, ticks: number, textPtr: number, rgb: number, metadata: number): void {
    this.reserve(5 + 20);
    if (thread !== this.thread) this.writeThreadContext(thread);
    const b = this.buf;
    const v = this.view;
    let p = this.end;
    if (rgb < 0) {
      b[p] = Q.MessageLiteral;
      writeI64(v, p + 1, ticks);
      p += 9;
    } else {
      b[p] = Q.MessageLiteralColor;
      writeI64(v, p + 1, ticks);
      b[p + 9] = rgb & 0xff;
      b[p + 10] = (rgb >>> 8) & 0xff;
      b[p + 11] = (rgb >>> 16) & 0xff;
      p += 12;
    }
    // u64 (textPtr << 8) | metadata, from the pointer's 32-bit halves
    const lo = textPtr >>> 0;
    const hi = (textPtr - lo) / TWO_POW_32;
    v.setUint32(p, ((lo << 8) | (metadata & 0xff)) >>> 0, true);
    v.setUint32(p + 4, ((hi << 8) | (lo >>> 24)) >>> 0, true);
    this.end = p + 8;
  }

  /** SingleStringData(8) + MessageAppInfo, absolute time. */
  appInfo(ticks: number, text: string): void {
    this.reserve(3 + Math.min(3 * text.length, MAX_STAGED_STRING) + 9);
    this.writeSingleString(text);
    const p = this.end;
    this.buf[p] = Q.MessageAppInfo;
    writeI64(this.view, p + 1, ticks);
    this.end = p + 9;
  }

  /** SysTimeReport: CPU usage in percent, absolute time. */
  sysTime(ticks: number, percent: number): void {
    this.reserve(13);
    const p = this.end;
    this.buf[p] = Q.SysTimeReport;
    writeI64(this.view, p + 1, ticks);
    this.view.setFloat32(p + 9, percent, true);
    this.end = p + 13;
  }

  // ---- memory (serial reference S) ----

  /** MemAlloc, or MemNamePayload + MemAllocNamed when poolPtr != 0. size: u48 bytes. */
  memAlloc(thread: number, ticks: number, ptr: number, size: number, poolPtr = 0): void {
    this.reserve(9 + 27);
    const v = this.view;
    let p = this.end;
    let type: number = Q.MemAlloc;
    if (poolPtr !== 0) {
      p = this.writeMemName(p, poolPtr);
      type = Q.MemAllocNamed;
    }
    this.buf[p] = type;
    writeI64(v, p + 1, ticks - this.refS);
    this.refS = ticks;
    v.setUint32(p + 9, thread, true);
    writeU64(v, p + 13, ptr);
    const lo = size >>> 0;
    v.setUint32(p + 21, lo, true);
    v.setUint16(p + 25, (size - lo) / TWO_POW_32, true);
    this.end = p + 27;
  }

  /** MemFree, or MemNamePayload + MemFreeNamed when poolPtr != 0. */
  memFree(thread: number, ticks: number, ptr: number, poolPtr = 0): void {
    this.reserve(9 + 21);
    let p = this.end;
    let type: number = Q.MemFree;
    if (poolPtr !== 0) {
      p = this.writeMemName(p, poolPtr);
      type = Q.MemFreeNamed;
    }
    this.writeSerial21(p, type, thread, ticks, ptr);
  }

  /** MemDiscard: frees everything still allocated in pool `poolPtr` (only discard pools you used: P10). */
  memDiscard(thread: number, ticks: number, poolPtr: number): void {
    this.reserve(21);
    this.writeSerial21(this.end, Q.MemDiscard, thread, ticks, poolPtr);
  }

  // ---- callstacks (tracy-protocol.md 4.10) ----

  /**
   * CallstackPayload (123: u8 type, u64 ptr 0, u16 8n, n x u64 address, innermost first), then
   * CallstackSample16/32/64 (u32 thread, C delta in the compact form of 4.3): one sampled stack
   * of `thread` at `ticks`. Addresses are `addrs[0, n)`, non-negative integers below 2^53.
   * @throws RangeError when n is not in 1..MAX_CALLSTACK_DEPTH
   */
  callstackSample(thread: number, ticks: number, addrs: ArrayLike<number>, n: number): void {
    this.reserve(11 + 8 * checkDepth(n) + 13);
    this.writeCallstackPayload(addrs, n);
    const dt = ticks - this.refC;
    this.refC = ticks;
    const p = this.compactTime(Q.CallstackSample, dt);
    // compactTime put the time right after the type byte; the thread comes first: shift it.
    const timeBytes = p - this.end - 1;
    this.buf.copyWithin(this.end + 5, this.end + 1, p);
    this.view.setUint32(this.end + 1, thread, true);
    this.end += 5 + timeBytes;
  }

  /**
   * An allocation with its callstack: CallstackPayload, CallstackSerial, [MemNamePayload,]
   * MemAllocCallstack(Named) (the wire order of 4.9). size: u48 bytes; poolPtr 0 = the default pool.
   * @throws RangeError when n is not in 1..MAX_CALLSTACK_DEPTH
   */
  memAllocCallstack(thread: number, ticks: number, ptr: number, size: number, poolPtr: number, addrs: ArrayLike<number>, n: number): void {
    this.reserve(11 + 8 * checkDepth(n) + 1 + 9 + 27);
    this.writeCallstackPayload(addrs, n);
    this.buf[this.end++] = Q.CallstackSerial;
    const v = this.view;
    let p = this.end;
    let type: number = Q.MemAllocCallstack;
    if (poolPtr !== 0) {
      p = this.writeMemName(p, poolPtr);
      type = Q.MemAllocCallstackNamed;
    }
    this.buf[p] = type;
    writeI64(v, p + 1, ticks - this.refS);
    this.refS = ticks;
    v.setUint32(p + 9, thread, true);
    writeU64(v, p + 13, ptr);
    const lo = size >>> 0;
    v.setUint32(p + 21, lo, true);
    v.setUint16(p + 25, (size - lo) / TWO_POW_32, true);
    this.end = p + 27;
  }

  /**
   * The reply to ServerQueryCallstackFrame(ptr) for a code address that resolves to one frame:
   * single string `image`, CallstackFrameSize {ptr, n = 1}, single string `fn`, second string
   * `file`, CallstackFrame {line, symAddr 0, symLen 0} (3.2 and 4.10; symAddr 0 asks for no
   * symbol query). Strings are cut at MAX_STAGED_STRING bytes; one group, never split.
   */
  callstackFrame(ptr: number, image: string, fn: string, file: string, line: number): void {
    const bound = (s: string) => 3 + Math.min(3 * s.length, MAX_STAGED_STRING);
    this.reserve(bound(image) + 10 + bound(fn) + bound(file) + 17);
    this.writeSingleString(image);
    const v = this.view;
    let p = this.end;
    this.buf[p] = Q.CallstackFrameSize;
    writeU64(v, p + 1, ptr);
    this.buf[p + 9] = 1;
    this.end = p + 10;
    this.writeSingleString(fn);
    this.writeStagedString(file, Q.SecondStringData8, Q.SecondStringData);
    p = this.end;
    this.buf[p] = Q.CallstackFrame;
    v.setUint32(p + 1, line >>> 0, true);
    writeU64(v, p + 5, 0);
    v.setUint32(p + 13, 0, true);
    this.end = p + 17;
  }

  // ---- locks ----

  /** LockAnnounce (absolute time): lock `id` (a 0-based counter) declared at static srcloc `srclocPtr`. */
  lockAnnounce(id: number, ticks: number, srclocPtr: number, shared: boolean): void {
    this.reserve(22);
    const p = this.end;
    this.buf[p] = Q.LockAnnounce;
    this.view.setUint32(p + 1, id, true);
    writeI64(this.view, p + 5, ticks);
    writeU64(this.view, p + 13, srclocPtr);
    this.buf[p + 21] = shared ? 1 : 0;
    this.end = p + 22;
  }

  /** LockTerminate (absolute time). */
  lockTerminate(id: number, ticks: number): void {
    this.reserve(13);
    const p = this.end;
    this.buf[p] = Q.LockTerminate;
    this.view.setUint32(p + 1, id, true);
    writeI64(this.view, p + 5, ticks);
    this.end = p + 13;
  }

  /** LockWait or LockSharedWait (S delta). */
  lockWait(thread: number, id: number, ticks: number, shared = false): void {
    this.writeLockThreadItem(shared ? Q.LockSharedWait : Q.LockWait, thread, id, ticks);
  }

  /** LockObtain or LockSharedObtain (S delta). */
  lockObtain(thread: number, id: number, ticks: number, shared = false): void {
    this.writeLockThreadItem(shared ? Q.LockSharedObtain : Q.LockObtain, thread, id, ticks);
  }

  /** LockRelease (S delta): the releasing thread is the lock's last obtaining thread. */
  lockRelease(id: number, ticks: number): void {
    this.reserve(13);
    const p = this.end;
    this.buf[p] = Q.LockRelease;
    this.view.setUint32(p + 1, id, true);
    writeI64(this.view, p + 5, ticks - this.refS);
    this.refS = ticks;
    this.end = p + 13;
  }

  /** LockSharedRelease (S delta). */
  lockSharedRelease(thread: number, id: number, ticks: number): void {
    this.reserve(17);
    const v = this.view;
    const p = this.end;
    this.buf[p] = Q.LockSharedRelease;
    v.setUint32(p + 1, id, true);
    writeI64(v, p + 5, ticks - this.refS);
    this.refS = ticks;
    v.setUint32(p + 13, thread, true);
    this.end = p + 17;
  }

  /** LockMark: attaches static srcloc `srclocPtr` to the thread's last wait/obtain. */
  lockMark(thread: number, id: number, srclocPtr: number): void {
    this.reserve(17);
    const p = this.end;
    this.buf[p] = Q.LockMark;
    this.view.setUint32(p + 1, thread, true);
    this.view.setUint32(p + 5, id, true);
    writeU64(this.view, p + 9, srclocPtr);
    this.end = p + 17;
  }

  /** SingleStringData(8) + LockName. */
  lockName(id: number, text: string): void {
    this.reserve(3 + Math.min(3 * text.length, MAX_STAGED_STRING) + 5);
    this.writeSingleString(text);
    const p = this.end;
    this.buf[p] = Q.LockName;
    this.view.setUint32(p + 1, id, true);
    this.end = p + 5;
  }

  // ---- query replies and control ----

  /**
   * A keyed text transfer `type` (StringData, ThreadName, PlotName, FrameName, ExternalName,
   * ExternalThreadName, FiberName) for id `ptr`: u64 ptr, u16 length, UTF-8 text cut to 65535 bytes.
   * @throws TypeError for any other type
   */
  stringData(type: number, ptr: number, text: string): void {
    if (!TEXT_TRANSFER.has(type)) throw new TypeError(`stringData: queue type ${type} is not a keyed text transfer`);
    this.reserve(11 + Math.min(3 * text.length, MAX_TRANSFER_STRING));
    const p = this.end;
    this.buf[p] = type;
    writeU64(this.view, p + 1, ptr);
    const n = this.writeUtf8(text, p + 11, MAX_TRANSFER_STRING);
    this.view.setUint16(p + 9, n, true);
    this.end = p + 11 + n;
  }

  /** ThreadName(thread, text): the reply to ServerQueryThreadString. */
  threadName(thread: number, text: string): void {
    this.stringData(Q.ThreadName, thread, text);
  }

  /**
   * SourceLocation: the reply to ServerQuerySourceLocation (matched FIFO, it carries no id).
   * Field order name, function, file (string ids; namePtr 0 = unnamed), line, colour as b, g, r.
   */
  sourceLocation(namePtr: number, functionPtr: number, filePtr: number, line: number, rgb: number): void {
    this.reserve(32);
    const b = this.buf;
    const v = this.view;
    const p = this.end;
    b[p] = Q.SourceLocation;
    writeU64(v, p + 1, namePtr);
    writeU64(v, p + 9, functionPtr);
    writeU64(v, p + 17, filePtr);
    v.setUint32(p + 25, line >>> 0, true);
    b[p + 29] = rgb & 0xff;
    b[p + 30] = (rgb >>> 8) & 0xff;
    b[p + 31] = (rgb >>> 16) & 0xff;
    this.end = p + 32;
  }

  /** AckServerQueryNoop: the counted reply to queries the app has nothing for. */
  ackServerQueryNoop(): void {
    this.writeByteItem(Q.AckServerQueryNoop);
  }

  /** AckSourceCodeNotAvailable(id): the reply to ServerQuerySourceCode. */
  ackSourceCodeNotAvailable(id: number): void {
    this.reserve(5);
    const p = this.end;
    this.buf[p] = Q.AckSourceCodeNotAvailable;
    this.view.setUint32(p + 1, id, true);
    this.end = p + 5;
  }

  /** AckSymbolCodeNotAvailable: the reply to ServerQuerySymbolCode. */
  ackSymbolCodeNotAvailable(): void {
    this.writeByteItem(Q.AckSymbolCodeNotAvailable);
  }

  /** KeepAlive: a one-byte item receivers ignore. */
  keepAlive(): void {
    this.writeByteItem(Q.KeepAlive);
  }

  /** Terminate: the app is done (close every zone first; Tracy's client sends it in a frame of its own). */
  terminate(): void {
    this.writeByteItem(Q.Terminate);
  }

  // ---- internals ----

  /**
   * Makes room for an item group of at most `n` bytes: closes the open frame first if the group
   * would push it past maxFrameSize, then grows the buffer if needed.
   */
  private reserve(n: number): void {
    if (this.end - this.frameStart + n > this.maxFrame && this.end > this.frameStart) this.closeFrame();
    if (this.end + n > this.buf.length) this.grow(this.end + n);
  }

  private closeFrame(): void {
    if (this.sink !== null) {
      this.sink(this.buf, this.frameStart, this.end - this.frameStart);
      this.end = this.frameStart = this.readPos = 0;
    } else {
      this.closed.push(this.end);
      this.frameStart = this.end;
    }
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.end), 0);
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  private writeThreadContext(thread: number): void {
    const p = this.end;
    this.buf[p] = Q.ThreadContext;
    this.view.setUint32(p + 1, thread, true);
    this.end = p + 5;
    this.thread = thread;
    this.refT = 0;
  }

  /**
   * Writes the type byte and time field of a compact zone item (tracy-protocol.md 4.3); `base`
   * is the 64-bit type (ZoneBegin or ZoneEnd), base + 1 the 32-bit and base + 2 the 16-bit one.
   *   0 <= dt < 2^16             16-bit  u16 dt
   *   2^16 <= dt < 2^32 + 2^16   32-bit  u32 (dt - 2^16)
   *   dt >= 2^32 + 2^16          64-bit  i64 (dt - (2^32 + 2^16))
   *   dt < 0                     64-bit  i64 dt
   * @returns the position after the time field
   */
  private compactTime(base: number, dt: number): number {
    const b = this.buf;
    const p = this.end;
    if (dt >= 0 && dt < PROTOCOL_OFFSET_16BIT) {
      b[p] = base + 2;
      b[p + 1] = dt & 0xff;
      b[p + 2] = dt >>> 8;
      return p + 3;
    }
    if (dt >= 0 && dt < PROTOCOL_OFFSET_32BIT) {
      b[p] = base + 1;
      this.view.setUint32(p + 1, dt - PROTOCOL_OFFSET_16BIT, true);
      return p + 5;
    }
    b[p] = base;
    writeI64(this.view, p + 1, dt >= 0 ? dt - PROTOCOL_OFFSET_32BIT : dt);
    return p + 9;
  }

  /** A staged string and its one-byte consumer, on `thread`. */
  private stagedThreadItem(thread: number, text: string, type: number): void {
    this.reserve(5 + 3 + Math.min(3 * text.length, MAX_STAGED_STRING) + 1);
    if (thread !== this.thread) this.writeThreadContext(thread);
    this.writeSingleString(text);
    this.buf[this.end++] = type;
  }

  /**
   * SingleStringData8 (`72 len bytes`) for up to 255 bytes, else SingleStringData
   * (`70 u16(len - 256) bytes`), cut at MAX_STAGED_STRING bytes. The caller reserved the room.
   */
  private writeSingleString(text: string): void {
    this.writeStagedString(text, Q.SingleStringData8, Q.SingleStringData);
  }

  /** A staged string of the single or the second slot (`short`: the 8-bit form's type, `long`: the 16-bit one's). */
  private writeStagedString(text: string, short: number, long: number): void {
    const b = this.buf;
    const p = this.end;
    if (text.length * 3 <= 255) {
      const n = this.writeUtf8(text, p + 2, 255);
      b[p] = short;
      b[p + 1] = n;
      this.end = p + 2 + n;
      return;
    }
    const n = this.writeUtf8(text, p + 3, MAX_STAGED_STRING);
    if (n <= 255) {
      b.copyWithin(p + 2, p + 3, p + 3 + n);
      b[p] = short;
      b[p + 1] = n;
      this.end = p + 2 + n;
    } else {
      b[p] = long;
      this.view.setUint16(p + 1, n - PROTOCOL_OFFSET_8BIT, true);
      this.end = p + 3 + n;
    }
  }

  /** CallstackPayload: keyed transfer 123, ptr 0, u16 length 8n, the addresses as u64. The caller reserved the room. */
  private writeCallstackPayload(addrs: ArrayLike<number>, n: number): void {
    const v = this.view;
    const p = this.end;
    this.buf[p] = Q.CallstackPayload;
    writeU64(v, p + 1, 0);
    v.setUint16(p + 9, 8 * n, true);
    for (let i = 0; i < n; i++) writeU64(v, p + 11 + 8 * i, addrs[i]!);
    this.end = p + 11 + 8 * n;
  }

  private writeMemName(p: number, poolPtr: number): number {
    this.buf[p] = Q.MemNamePayload;
    writeU64(this.view, p + 1, poolPtr);
    return p + 9;
  }

  /** MemFree*, MemDiscard: i64 S delta, u32 thread, u64 ptr-or-pool. */
  private writeSerial21(p: number, type: number, thread: number, ticks: number, ptr: number): void {
    const v = this.view;
    this.buf[p] = type;
    writeI64(v, p + 1, ticks - this.refS);
    this.refS = ticks;
    v.setUint32(p + 9, thread, true);
    writeU64(v, p + 13, ptr);
    this.end = p + 21;
  }

  /** LockWait/Obtain and their shared variants: u32 thread, u32 id, i64 S delta. */
  private writeLockThreadItem(type: number, thread: number, id: number, ticks: number): void {
    this.reserve(17);
    const v = this.view;
    const p = this.end;
    this.buf[p] = type;
    v.setUint32(p + 1, thread, true);
    v.setUint32(p + 5, id, true);
    writeI64(v, p + 9, ticks - this.refS);
    this.refS = ticks;
    this.end = p + 17;
  }

  private writeByteItem(type: number): void {
    this.reserve(1);
    this.buf[this.end++] = type;
  }

  /**
   * Encodes `text` as UTF-8 at `at`, at most `maxBytes` bytes, stopping before the first
   * character that does not fit (so the output never ends inside a character). Lone surrogates
   * become U+FFFD, as with TextEncoder. The caller reserved min(maxBytes, 3 * text.length) bytes.
   * @returns the bytes written
   */
  private writeUtf8(text: string, at: number, maxBytes: number): number {
    const n = text.length;
    if (n > INLINE_UTF8_UNITS) {
      const room = Math.min(maxBytes, 3 * n);
      return utf8Encoder.encodeInto(text, this.buf.subarray(at, at + room)).written;
    }
    const b = this.buf;
    const limit = at + maxBytes;
    let p = at;
    for (let i = 0; i < n; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        if (p >= limit) break;
        b[p++] = c;
        continue;
      }
      if (c < 0x800) {
        if (p + 2 > limit) break;
        b[p++] = 0xc0 | (c >>> 6);
        b[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = c <= 0xdbff && i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          if (p + 4 > limit) break;
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          b[p++] = 0xf0 | (cp >>> 18);
          b[p++] = 0x80 | ((cp >>> 12) & 0x3f);
          b[p++] = 0x80 | ((cp >>> 6) & 0x3f);
          b[p++] = 0x80 | (cp & 0x3f);
          i++;
          continue;
        }
        c = 0xfffd; // lone surrogate
      }
      if (p + 3 > limit) break;
      b[p++] = 0xe0 | (c >>> 12);
      b[p++] = 0x80 | ((c >>> 6) & 0x3f);
      b[p++] = 0x80 | (c & 0x3f);
    }
    return p - at;
  }
}

/** @returns n, when it is a valid callstack depth */
function checkDepth(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CALLSTACK_DEPTH) throw new RangeError(`callstack depth ${n} is not an integer in 1..${MAX_CALLSTACK_DEPTH}`);
  return n;
}

/** Length of the C string in `b[at, at + n)`: up to its first NUL. */
function cStringLength(b: Uint8Array, at: number, n: number): number {
  for (let i = 0; i < n; i++) if (b[at + i] === 0) return i;
  return n;
}

/** i64 from an integer number (|x| < 2^53), little-endian, two's complement. */
function writeI64(v: DataView, at: number, x: number): void {
  v.setUint32(at, x >>> 0, true);
  v.setInt32(at + 4, Math.floor(x / TWO_POW_32), true);
}

/** u64 from a non-negative integer number (< 2^53), little-endian. */
function writeU64(v: DataView, at: number, x: number): void {
  const lo = x >>> 0;
  v.setUint32(at, lo, true);
  v.setUint32(at + 4, (x - lo) / TWO_POW_32, true);
}
