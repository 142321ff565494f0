/**
 * What the queue decoder reports. Every callback takes primitives (or a view into a buffer the
 * decoder owns and reuses: copy what you keep before returning). Times are nanoseconds since
 * the session's start (WelcomeMessage.initBegin), exact integers as float64.
 *
 * Ids: `thread` is the app's u32 thread id. `srcloc` is a dense index into the decoder's
 * SourceLocationTable (static pointers and inline payloads share it). String-like ids (`ptr`:
 * plot names, frame names, literal message texts, memory pools) are the app's u64 pointers as
 * numbers (exact below 2^53, which covers every user-space address).
 */
export interface TracyVisitor {
  threadContext(thread: number): void;
  zoneBegin(thread: number, timeNs: number, srcloc: number): void;
  zoneEnd(thread: number, timeNs: number): void;
  /** ZoneText: text bytes are `bytes[start, start + length)` (UTF-8). */
  zoneText(thread: number, bytes: Uint8Array, start: number, length: number): void;
  zoneName(thread: number, bytes: Uint8Array, start: number, length: number): void;
  /** colour 0xRRGGBB */
  zoneColor(thread: number, rgb: number): void;
  /** u64 value as two u32 halves (exact for any value) */
  zoneValue(thread: number, lo: number, hi: number): void;
  /** kind: 0 continuous mark, 1 start, 2 end. namePtr 0 = the default frame set. */
  frameMark(kind: number, namePtr: number, timeNs: number): void;
  plot(namePtr: number, timeNs: number, value: number): void;
  plotConfig(namePtr: number, format: number, step: boolean, fill: boolean, rgb: number): void;
  /** rgb -1 = no colour; metadata = severity << 4 | source */
  message(thread: number, timeNs: number, bytes: Uint8Array, start: number, length: number, rgb: number, metadata: number): void;
  /** A literal message: its text is the string `textPtr`, resolved later (StringData). */
  messageLiteral(thread: number, timeNs: number, textPtr: number, rgb: number, metadata: number): void;
  appInfo(timeNs: number, bytes: Uint8Array, start: number, length: number): void;
  /** poolPtr 0 = the default pool. size in bytes (u48). */
  memAlloc(thread: number, timeNs: number, ptr: number, size: number, poolPtr: number): void;
  memFree(thread: number, timeNs: number, ptr: number, poolPtr: number): void;
  memDiscard(thread: number, timeNs: number, poolPtr: number): void;
  lockAnnounce(id: number, timeNs: number, srcloc: number, shared: boolean): void;
  lockTerminate(id: number, timeNs: number): void;
  /** kind: 0 wait, 1 obtain, 2 release; shared = the shared-lock variant */
  lockEvent(kind: number, shared: boolean, thread: number, id: number, timeNs: number): void;
  lockName(id: number, bytes: Uint8Array, start: number, length: number): void;
  /** CPU usage % reported every ~100 ms by the client. */
  sysTime(timeNs: number, percent: number): void;
  /**
   * A keyed string transfer arrived: `type` is its QueueType (StringData, ThreadName, PlotName,
   * FrameName, FiberName, ExternalName, ExternalThreadName). The decoder has already recorded it
   * in its name tables.
   */
  stringData(type: number, ptr: number, bytes: Uint8Array, start: number, length: number): void;
  /** A SourceLocation reply resolved source location `srcloc`. */
  sourceLocation(srcloc: number): void;
  /** The app sent Terminate: it is done, but may still answer queries. */
  terminate(): void;
  crash(): void;
  /**
   * The item just reported carries callstack `callstack` (an id of the decoder's
   * CallstackTable, never 0). `target`: CallstackTarget (the zone `thread` just began, the
   * message just reported, the allocation or the free just reported). Optional: a visitor that
   * keeps no callstacks leaves it out.
   */
  callstack?(target: number, thread: number, callstack: number): void;
  /** A sampled callstack of `thread` at `timeNs` (CallstackSample*): the app's CPU samples. */
  cpuSample?(thread: number, timeNs: number, callstack: number): void;
  /** The decoder's callstack table grew by `bytes` (new stacks, addresses, answers): for budgets. */
  callstackBytes?(bytes: number): void;
}

/** What a `callstack` report applies to. */
export const CallstackTarget = {
  Zone: 0,
  Message: 1,
  Alloc: 2,
  Free: 3,
} as const;

/** A visitor that ignores everything: extend it and override what you need. */
export class NullVisitor implements TracyVisitor {
  threadContext(_thread: number): void {}
  zoneBegin(_thread: number, _timeNs: number, _srcloc: number): void {}
  zoneEnd(_thread: number, _timeNs: number): void {}
  zoneText(_thread: number, _bytes: Uint8Array, _start: number, _length: number): void {}
  zoneName(_thread: number, _bytes: Uint8Array, _start: number, _length: number): void {}
  zoneColor(_thread: number, _rgb: number): void {}
  zoneValue(_thread: number, _lo: number, _hi: number): void {}
  frameMark(_kind: number, _namePtr: number, _timeNs: number): void {}
  plot(_namePtr: number, _timeNs: number, _value: number): void {}
  plotConfig(_namePtr: number, _format: number, _step: boolean, _fill: boolean, _rgb: number): void {}
  message(_thread: number, _timeNs: number, _bytes: Uint8Array, _start: number, _length: number, _rgb: number, _metadata: number): void {}
  messageLiteral(_thread: number, _timeNs: number, _textPtr: number, _rgb: number, _metadata: number): void {}
  appInfo(_timeNs: number, _bytes: Uint8Array, _start: number, _length: number): void {}
  memAlloc(_thread: number, _timeNs: number, _ptr: number, _size: number, _poolPtr: number): void {}
  memFree(_thread: number, _timeNs: number, _ptr: number, _poolPtr: number): void {}
  memDiscard(_thread: number, _timeNs: number, _poolPtr: number): void {}
  lockAnnounce(_id: number, _timeNs: number, _srcloc: number, _shared: boolean): void {}
  lockTerminate(_id: number, _timeNs: number): void {}
  lockEvent(_kind: number, _shared: boolean, _thread: number, _id: number, _timeNs: number): void {}
  lockName(_id: number, _bytes: Uint8Array, _start: number, _length: number): void {}
  sysTime(_timeNs: number, _percent: number): void {}
  stringData(_type: number, _ptr: number, _bytes: Uint8Array, _start: number, _length: number): void {}
  sourceLocation(_srcloc: number): void {}
  terminate(): void {}
  crash(): void {}
}
