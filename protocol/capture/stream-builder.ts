import { MESSAGE_METADATA_DEFAULT } from '../tracy/constants.js';
import { TracyStreamWriter, type ChunkSink } from '../tracy/frame-encoder.js';
import type { WelcomeMessage } from '../tracy/handshake.js';
import { FrameMarkKind, MAX_STAGED_STRING, PlotKind, type QueueWriter } from '../tracy/queue-writer.js';
import { QueueType } from '../tracy/queue-types.js';

/** The app facts of a built stream (the rest of the WelcomeMessage is fixed, see below). */
export interface BuilderWelcome {
  /** programName (at most 63 bytes are kept) */
  app: string;
  pid: number;
  /** free text, at most 1023 bytes are kept */
  hostInfo: string;
  /** Unix seconds when the app started (the welcome's epoch) */
  epochS: number;
  /** Timer resolution in ns. Default 1. */
  resolutionNs?: number;
  /** CpuArchitecture value. Default 0 (unknown). */
  cpuArch?: number;
  /** CPUID vendor, at most 12 bytes. Default ''. */
  cpuManufacturer?: string;
  /** Default 0. */
  cpuId?: number;
}

export interface BuilderOptions {
  /** LZ4-compress each frame (default true); false: literal-only blocks, byte-predictable. */
  compress?: boolean;
  /** Most item bytes per frame, 64..262144 (default 262144, Tracy's TargetFrameSize). */
  maxFrameSize?: number;
}

/**
 * Source location ids are `SRCLOC_BASE + index`: dense (an array lookup per zone) and apart
 * from the string ids (1, 2, 3...), so no id is ever both (tracy-protocol.md P13).
 */
const SRCLOC_BASE = 2 ** 40;
const MAX_TICKS = Number.MAX_SAFE_INTEGER;
const NO_THREAD = -1;

interface ThreadState {
  tid: number;
  /** zones open */
  depth: number;
  /** latest zone begin/end time (ns): where finish() ends zones left open */
  lastNs: number;
  /** the receiver has asked (will ask) for this thread's name */
  noticed: boolean;
  name: string | null;
  nameAnswered: boolean;
}

/** The WelcomeMessage of a built stream: nanosecond ticks (timerMul 1), time zero at tick 0. */
export function builderWelcomeMessage(w: BuilderWelcome): WelcomeMessage {
  return {
    timerMul: 1,
    initBegin: 0n,
    initEnd: 0n,
    resolution: BigInt(Math.max(1, Math.round(w.resolutionNs ?? 1))),
    epoch: BigInt(Math.max(0, Math.floor(w.epochS))),
    exectime: 0n, // with flags 0: no source-code queries
    pid: BigInt(Math.max(0, Math.floor(w.pid))),
    samplingPeriod: 0n,
    flags: 0,
    cpuArch: w.cpuArch ?? 0,
    cpuManufacturer: w.cpuManufacturer ?? '',
    cpuId: w.cpuId ?? 0,
    programName: w.app,
    hostInfo: w.hostInfo,
  };
}

/**
 * Builds a complete Tracy client stream from high-level calls: the status byte + WelcomeMessage
 * (the sink's first chunk, 1 + 1170 bytes), then LZ4 frames of queue items (one chunk each),
 * ending with the Terminate frame at `finish()`. Nothing outside the stream is needed to decode
 * it: every query a receiver sends (ours or Tracy's, tracy-protocol.md 3.2) is answered inside
 * it, once, right after the item that makes the receiver ask:
 * - a zone's first use of a source location -> the SourceLocation reply (they carry no id: the
 *   receiver matches them FIFO, and first-use order is the order it asked in), then StringData
 *   for its name, file and function texts not sent before;
 * - the first zone or message of a thread -> ThreadName (the name given by `threadName`; if none
 *   was given yet, it is sent when it is, or as '' at `finish()`);
 * - the first point or PlotConfig of a plot -> PlotName; the first mark of a named frame set ->
 *   FrameName.
 * A reply never precedes its question (Tracy asserts on a reply nobody asked for) and nothing
 * is answered twice (a second counted reply would skew the receiver's query credit).
 *
 * Time: `ns` arguments are integer nanoseconds since the capture's start (non-integers are
 * rounded); the stream's ticks are those nanoseconds (timerMul 1, initBegin 0), so a receiver
 * decodes exactly the same numbers.
 *
 * What the caller must guarantee (a receiver's timeline assumes it, the builder does not sort):
 * - per thread, zoneBegin/zoneEnd in time order (non-decreasing ns) and properly nested: an end
 *   ends the innermost open zone of its thread; zoneText/Name/Value/Color apply to it too, so
 *   they need an open zone (else RangeError);
 * - per frame set, marks in time order; start/end sets alternate start, end (an end without a
 *   start, a start while one is open, or one name used both ways throws, as Tracy would fail);
 * - messages, plot points and frame marks may come in any order relative to zones and to other
 *   threads (receivers insert them by time), but time order gives the best timelines.
 * Zones still open at `finish()` are ended there at their thread's latest zone time (Tracy
 * would otherwise wait for them forever), and counted in `zonesEndedAtFinish`.
 *
 * Not re-entrant; pure (no I/O, no timers).
 */
export class CaptureStreamBuilder {
  /** Zones ended by finish() because the caller left them open. */
  zonesEndedAtFinish = 0;
  /** Plot points not written: NaN or infinite (they would desync Tracy's time reference). */
  droppedNonFinite = 0;

  private readonly writer: TracyStreamWriter;
  private readonly q: QueueWriter;
  private finished = false;

  private readonly threads = new Map<number, ThreadState>();
  private current: ThreadState | null = null;
  /** Thread of the last per-thread item: plot points (which have no thread of their own) go there. */
  private lastTid = NO_THREAD;

  private nextStringId = 1;
  /** Source-location texts, plot names and frame names each have their own ids. */
  private readonly stringIds = new Map<string, number>();
  private readonly plotIds = new Map<string, number>();
  private readonly frameIds = new Map<string, number>();
  /** Texts by string id - 1, and whether their StringData went out. */
  private readonly texts: string[] = [];
  private readonly textSent: boolean[] = [];
  private readonly plotAnswered = new Set<number>();
  /** Frame name id -> 0 continuous, 1 start/end with none open, 2 start/end with one open. */
  private readonly frameState = new Map<number, number>();
  private defaultFrameState = -1;

  private readonly srclocKeys = new Map<string, number>();
  private readonly srclocName: number[] = [];
  private readonly srclocFn: number[] = [];
  private readonly srclocFile: number[] = [];
  private readonly srclocLine: number[] = [];
  private readonly srclocRgb: number[] = [];
  private readonly srclocAnswered: boolean[] = [];

  /** Writes the status byte and welcome to `sink` at once. */
  constructor(welcome: BuilderWelcome, sink: (chunk: Uint8Array) => void, options: BuilderOptions = {}) {
    this.writer = new TracyStreamWriter(sink as ChunkSink, { compress: options.compress, maxFrameSize: options.maxFrameSize });
    this.writer.welcome(builderWelcomeMessage(welcome));
    this.q = this.writer.queue;
  }

  /** Frames emitted so far (the Terminate frame included after finish). */
  get frames(): number {
    return this.writer.frames;
  }

  /** Bytes emitted so far (status byte and welcome included). */
  get bytes(): number {
    return this.writer.bytes;
  }

  /**
   * Names thread `tid` (a u32). The name is sent when the receiver asks, at the thread's first
   * zone or message; a later call for the same thread does not rename it once sent.
   */
  threadName(tid: number, name: string): void {
    this.live();
    const t = this.thread(tid);
    if (t.nameAnswered) return;
    t.name = name;
    if (t.noticed) this.answerThread(t);
  }

  /**
   * Interns a source location (same five values, same id). `name` '' = unnamed (receivers show
   * the function then); `rgb` 0xRRGGBB, 0 = default colour.
   * @returns the id to pass to zoneBegin
   */
  srcloc(name: string, fn: string, file: string, line: number, rgb: number): number {
    this.live();
    const lineU32 = line >>> 0;
    const colour = rgb & 0xffffff;
    const key = `${name}\u0000${fn}\u0000${file}\u0000${lineU32}\u0000${colour}`;
    let index = this.srclocKeys.get(key);
    if (index === undefined) {
      index = this.srclocName.length;
      this.srclocKeys.set(key, index);
      this.srclocName.push(name === '' ? 0 : this.stringId(name));
      this.srclocFn.push(this.stringId(fn));
      this.srclocFile.push(this.stringId(file));
      this.srclocLine.push(lineU32);
      this.srclocRgb.push(colour);
      this.srclocAnswered.push(false);
    }
    return SRCLOC_BASE + index;
  }

  /** A zone begins on `tid` at `ns`, at source location `srcloc` (from `srcloc()`). */
  zoneBegin(tid: number, ns: number, srcloc: number): void {
    this.live();
    const index = srcloc - SRCLOC_BASE;
    if (!(index >= 0 && index < this.srclocName.length && Number.isInteger(index))) {
      throw new RangeError(`zoneBegin: ${srcloc} is not a source location id of this builder`);
    }
    const ticks = toTicks(ns, 'zoneBegin');
    const t = this.thread(tid);
    this.q.zoneBegin(tid, ticks, srcloc);
    this.lastTid = tid;
    t.depth++;
    if (ticks > t.lastNs) t.lastNs = ticks;
    if (!this.srclocAnswered[index]) this.answerSrcloc(index);
    if (!t.noticed) this.notice(t);
  }

  /** The innermost open zone of `tid` ends at `ns`. @throws RangeError when none is open */
  zoneEnd(tid: number, ns: number): void {
    this.live();
    const ticks = toTicks(ns, 'zoneEnd');
    const t = this.openZoneThread(tid, 'zoneEnd');
    this.q.zoneEnd(tid, ticks);
    this.lastTid = tid;
    t.depth--;
    if (ticks > t.lastNs) t.lastNs = ticks;
  }

  /**
   * Appends text to the innermost open zone of `tid` (receivers join several texts with '\n').
   * A text longer than one staged string (65791 UTF-8 bytes) is sent in pieces cut at its
   * newlines, which the receiver joins back; a single line longer than that is cut.
   */
  zoneText(tid: number, text: string): void {
    this.live();
    this.openZoneThread(tid, 'zoneText');
    if (text.length * 3 <= MAX_STAGED_STRING) this.q.zoneText(tid, text);
    else for (const piece of splitAtNewlines(text, MAX_STAGED_STRING)) this.q.zoneText(tid, piece);
    this.lastTid = tid;
  }

  /** Overrides the displayed name of the innermost open zone of `tid` (cut at 65791 bytes). */
  zoneName(tid: number, name: string): void {
    this.live();
    this.openZoneThread(tid, 'zoneName');
    this.q.zoneName(tid, name);
    this.lastTid = tid;
  }

  /** ZoneValue of an integer 0 <= value < 2^53 (see zoneValueParts for any u64). */
  zoneValue(tid: number, value: number): void {
    this.live();
    this.openZoneThread(tid, 'zoneValue');
    this.q.zoneValue(tid, value);
    this.lastTid = tid;
  }

  /** ZoneValue of any u64, as its two u32 halves (exact where a number is not). */
  zoneValueParts(tid: number, lo: number, hi: number): void {
    this.live();
    this.openZoneThread(tid, 'zoneValue');
    this.q.zoneValueParts(tid, lo, hi);
    this.lastTid = tid;
  }

  /** Colour 0xRRGGBB of the innermost open zone of `tid`. */
  zoneColor(tid: number, rgb: number): void {
    this.live();
    this.openZoneThread(tid, 'zoneColor');
    this.q.zoneColor(tid, rgb & 0xffffff);
    this.lastTid = tid;
  }

  /**
   * A message on `tid` at `ns`. `rgb` 0xRRGGBB, or -1 for none; `metadata` severity << 4 |
   * source (default Info/User, 0x20). Texts over 65791 UTF-8 bytes are cut.
   */
  message(tid: number, ns: number, text: string, rgb: number, metadata: number = MESSAGE_METADATA_DEFAULT): void {
    this.live();
    const ticks = toTicks(ns, 'message');
    const t = this.thread(tid);
    this.q.message(tid, ticks, text, rgb < 0 ? -1 : rgb & 0xffffff, metadata & 0xff);
    this.lastTid = tid;
    if (!t.noticed) this.notice(t);
  }

  /** A point of plot `name` (a float64, sent exactly). NaN and infinities are counted, not sent. */
  plot(name: string, ns: number, value: number): void {
    this.live();
    const ticks = toTicks(ns, 'plot');
    if (value - value !== 0) {
      this.droppedNonFinite++;
      return;
    }
    const id = this.plotId(name);
    // Plot points carry no thread, but use the thread time reference: any thread will do, and
    // the last one used needs no ThreadContext.
    this.q.plot(this.lastTid === NO_THREAD ? 0 : this.lastTid, id, ticks, value, PlotKind.Double);
    if (!this.plotAnswered.has(id)) this.answerPlot(id, name);
  }

  /** PlotConfig of plot `name`: format (PlotFormat: 0 number, 1 memory, 2 percentage, 3 watt), step, fill, colour 0xRRGGBB (0 default). */
  plotConfig(name: string, format: number, step: boolean, fill: boolean, rgb: number): void {
    this.live();
    const id = this.plotId(name);
    this.q.plotConfig(id, format & 0xff, step, fill, rgb & 0xffffff);
    if (!this.plotAnswered.has(id)) this.answerPlot(id, name);
  }

  /** A continuous frame mark of set `name` ('' = the default "Frame" set): it ends the previous frame and starts the next. */
  frameMark(name: string, ns: number): void {
    this.frameItem(FrameMarkKind.Continuous, name, ns, 'frameMark');
  }

  /** A discontinuous frame of set `name` starts. @throws RangeError if one is open in that set */
  frameStart(name: string, ns: number): void {
    this.frameItem(FrameMarkKind.Start, name, ns, 'frameStart');
  }

  /** The open frame of set `name` ends. @throws RangeError if none is open */
  frameEnd(name: string, ns: number): void {
    this.frameItem(FrameMarkKind.End, name, ns, 'frameEnd');
  }

  /** App info text (shown with the capture's details, not in the message list). */
  appInfo(text: string): void {
    this.live();
    this.q.appInfo(0, text);
  }

  /** Emits the items written so far as a frame now (a live stream; finish() flushes anyway). */
  flush(): void {
    this.live();
    this.writer.flush();
  }

  /**
   * Ends zones still open (at their thread's latest zone time), answers the names of threads
   * that never got one (''), flushes and sends Terminate in a frame of its own. Idempotent;
   * every other call throws after it.
   */
  finish(): void {
    if (this.finished) return;
    for (const t of this.threads.values()) {
      while (t.depth > 0) {
        this.q.zoneEnd(t.tid, t.lastNs);
        t.depth--;
        this.zonesEndedAtFinish++;
      }
      if (t.noticed && !t.nameAnswered) {
        t.name ??= '';
        this.answerThread(t);
      }
    }
    this.finished = true;
    this.writer.terminate();
  }

  // ---- internals ----

  private live(): void {
    if (this.finished) throw new Error('CaptureStreamBuilder: the stream is finished');
  }

  private thread(tid: number): ThreadState {
    const cur = this.current;
    if (cur !== null && cur.tid === tid) return cur;
    if (!(Number.isInteger(tid) && tid >= 0 && tid <= 0xffffffff)) throw new RangeError(`thread id ${tid} is not a u32`);
    let t = this.threads.get(tid);
    if (t === undefined) {
      t = { tid, depth: 0, lastNs: -Infinity, noticed: false, name: null, nameAnswered: false };
      this.threads.set(tid, t);
    }
    this.current = t;
    return t;
  }

  private openZoneThread(tid: number, what: string): ThreadState {
    const t = this.thread(tid);
    if (t.depth === 0) throw new RangeError(`${what} on thread ${tid}, which has no open zone`);
    return t;
  }

  /** The receiver now asks for the thread's name: answer at once if it is known. */
  private notice(t: ThreadState): void {
    t.noticed = true;
    if (t.name !== null) this.answerThread(t);
  }

  private answerThread(t: ThreadState): void {
    this.q.threadName(t.tid, t.name ?? '');
    t.nameAnswered = true;
  }

  /** SourceLocation (name, function, file, line, colour), then the texts not sent yet. */
  private answerSrcloc(index: number): void {
    const name = this.srclocName[index]!;
    const fn = this.srclocFn[index]!;
    const file = this.srclocFile[index]!;
    this.q.sourceLocation(name, fn, file, this.srclocLine[index]!, this.srclocRgb[index]!);
    this.srclocAnswered[index] = true;
    // the receiver asks for name, file, function (unknown non-zero ids only)
    if (name !== 0) this.sendText(name);
    this.sendText(file);
    this.sendText(fn);
  }

  private sendText(id: number): void {
    if (this.textSent[id - 1]) return;
    this.q.stringData(QueueType.StringData, id, this.texts[id - 1]!);
    this.textSent[id - 1] = true;
  }

  private answerPlot(id: number, name: string): void {
    this.q.stringData(QueueType.PlotName, id, name);
    this.plotAnswered.add(id);
  }

  private stringId(text: string): number {
    let id = this.stringIds.get(text);
    if (id === undefined) {
      id = this.newText(text);
      this.stringIds.set(text, id);
    }
    return id;
  }

  private plotId(name: string): number {
    let id = this.plotIds.get(name);
    if (id === undefined) {
      id = this.newText(name);
      this.plotIds.set(name, id);
    }
    return id;
  }

  private newText(text: string): number {
    const id = this.nextStringId++;
    this.texts.push(text);
    this.textSent.push(false);
    return id;
  }

  private frameItem(kind: number, name: string, ns: number, what: string): void {
    this.live();
    const ticks = toTicks(ns, what);
    let id = 0;
    let state: number;
    if (name === '') {
      state = this.defaultFrameState;
    } else {
      id = this.frameIds.get(name) ?? 0;
      state = id === 0 ? -1 : this.frameState.get(id)!;
    }
    const label = name === '' ? 'the default frame set' : `frame set "${name}"`;
    let next: number;
    if (kind === FrameMarkKind.Continuous) {
      if (state > 0) throw new TypeError(`frameMark on ${label}, which has start/end frames (Tracy fails the capture)`);
      next = 0;
    } else {
      if (state === 0) throw new TypeError(`${what} on ${label}, which has continuous frame marks (Tracy fails the capture)`);
      if (kind === FrameMarkKind.Start && state === 2) throw new RangeError(`frameStart on ${label}, which has a frame open`);
      if (kind === FrameMarkKind.End && state !== 2) throw new RangeError(`frameEnd on ${label}, which has no frame open`);
      next = kind === FrameMarkKind.Start ? 2 : 1;
    }
    const first = name !== '' && id === 0;
    if (first) {
      id = this.newText(name);
      this.frameIds.set(name, id);
    }
    this.q.frameMark(kind, id, ticks);
    if (name === '') this.defaultFrameState = next;
    else this.frameState.set(id, next);
    if (first) this.q.stringData(QueueType.FrameName, id, name);
  }
}

/** Integer nanoseconds (ticks) from `ns`. @throws RangeError for NaN, infinities, |ns| >= 2^53 */
function toTicks(ns: number, what: string): number {
  const n = Math.round(ns);
  if (!(n >= -MAX_TICKS && n <= MAX_TICKS)) throw new RangeError(`${what}: time ${ns} ns is not a finite number below 2^53`);
  return n;
}

/** UTF-8 length of `s` (lone surrogates count 3, as TextEncoder writes U+FFFD). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Pieces of `text` cut at newlines (dropped: the receiver joins pieces with one), each <= maxBytes where a line allows. */
function splitAtNewlines(text: string, maxBytes: number): string[] {
  const out: string[] = [];
  let piece: string | null = null;
  let pieceBytes = 0;
  for (const line of text.split('\n')) {
    const bytes = utf8Length(line);
    if (piece !== null && pieceBytes + 1 + bytes <= maxBytes) {
      piece += `\n${line}`;
      pieceBytes += 1 + bytes;
    } else {
      if (piece !== null) out.push(piece);
      piece = line;
      pieceBytes = bytes;
    }
  }
  if (piece !== null) out.push(piece);
  return out;
}
