import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LZ4_SIZE, TARGET_FRAME_SIZE, WELCOME_SIZE, WelcomeFlag } from './constants.js';
import { concatChunks, encodeClientStream, FrameEncoder, TracyStreamWriter } from './frame-encoder.js';
import type { WelcomeMessage } from './handshake.js';
import { compressBound, decompressBlock } from './lz4-block.js';
import type { QueueDecoder } from './queue-decoder.js';
import { QueueType as Q, ServerQuery } from './queue-types.js';
import { FrameMarkKind, MAX_STAGED_STRING, PlotKind, type QueueWriter } from './queue-writer.js';
import { SrclocKind } from './source-locations.js';
import { TracyStreamReader } from './stream-reader.js';
import { NullVisitor } from './visitor.js';

// ---------------------------------------------------------------------------------------------
// helpers

function hex(dump: string): Uint8Array {
  const digits = dump.replace(/[^0-9a-f]/gi, '');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Index of the first byte where a and b differ, or -1 (vitest's deep equality is slow on 256 KiB). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function makeWelcome(timerMul: number, initBegin: bigint, flags = 0): WelcomeMessage {
  return {
    timerMul,
    initBegin,
    initEnd: initBegin + 1000n,
    resolution: 1n,
    epoch: 0x6b0ade33n,
    exectime: 0n,
    pid: 1234n,
    samplingPeriod: 0n,
    flags,
    cpuArch: 0,
    cpuManufacturer: '',
    cpuId: 0,
    programName: 'pyclient',
    hostInfo: 'synthetic client',
  };
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** What the receiver gets for `text`: its UTF-8 (lone surrogates -> U+FFFD), cut at a character boundary. */
function received(text: string, maxBytes = MAX_STAGED_STRING): string {
  const bytes = utf8Encoder.encode(text);
  let n = Math.min(bytes.length, maxBytes);
  while (n < bytes.length && n > 0 && (bytes[n]! & 0xc0) === 0x80) n--;
  return utf8Decoder.decode(bytes.subarray(0, n));
}

type Event = (string | number | boolean)[];

/** Records every decoded event with primitives; replies are only counted. */
class Recorder extends NullVisitor {
  events: Event[] = [];
  replies = 0;
  private text(bytes: Uint8Array, start: number, length: number): string {
    return utf8Decoder.decode(bytes.subarray(start, start + length));
  }
  override threadContext(thread: number): void {
    this.events.push(['ctx', thread]);
  }
  override zoneBegin(thread: number, timeNs: number, srcloc: number): void {
    this.events.push(['zb', thread, timeNs, srcloc]);
  }
  override zoneEnd(thread: number, timeNs: number): void {
    this.events.push(['ze', thread, timeNs]);
  }
  override zoneText(thread: number, bytes: Uint8Array, start: number, length: number): void {
    this.events.push(['zt', thread, this.text(bytes, start, length)]);
  }
  override zoneName(thread: number, bytes: Uint8Array, start: number, length: number): void {
    this.events.push(['zn', thread, this.text(bytes, start, length)]);
  }
  override zoneColor(thread: number, rgb: number): void {
    this.events.push(['zc', thread, rgb]);
  }
  override zoneValue(thread: number, lo: number, hi: number): void {
    this.events.push(['zv', thread, lo, hi]);
  }
  override frameMark(kind: number, namePtr: number, timeNs: number): void {
    this.events.push(['fm', kind, namePtr, timeNs]);
  }
  override plot(namePtr: number, timeNs: number, value: number): void {
    this.events.push(['plot', namePtr, timeNs, value]);
  }
  override plotConfig(namePtr: number, format: number, step: boolean, fill: boolean, rgb: number): void {
    this.events.push(['pc', namePtr, format, step, fill, rgb]);
  }
  override message(thread: number, timeNs: number, bytes: Uint8Array, start: number, length: number, rgb: number, metadata: number): void {
    this.events.push(['msg', thread, timeNs, this.text(bytes, start, length), rgb, metadata]);
  }
  override messageLiteral(thread: number, timeNs: number, textPtr: number, rgb: number, metadata: number): void {
    this.events.push(['lit', thread, timeNs, textPtr, rgb, metadata]);
  }
  override appInfo(timeNs: number, bytes: Uint8Array, start: number, length: number): void {
    this.events.push(['app', timeNs, this.text(bytes, start, length)]);
  }
  override memAlloc(thread: number, timeNs: number, ptr: number, size: number, poolPtr: number): void {
    this.events.push(['ma', thread, timeNs, ptr, size, poolPtr]);
  }
  override memFree(thread: number, timeNs: number, ptr: number, poolPtr: number): void {
    this.events.push(['mf', thread, timeNs, ptr, poolPtr]);
  }
  override memDiscard(thread: number, timeNs: number, poolPtr: number): void {
    this.events.push(['md', thread, timeNs, poolPtr]);
  }
  override lockAnnounce(id: number, timeNs: number, srcloc: number, shared: boolean): void {
    this.events.push(['la', id, timeNs, srcloc, shared]);
  }
  override lockTerminate(id: number, timeNs: number): void {
    this.events.push(['lt', id, timeNs]);
  }
  override lockEvent(kind: number, shared: boolean, thread: number, id: number, timeNs: number): void {
    this.events.push(['le', kind, shared, thread, id, timeNs]);
  }
  override lockName(id: number, bytes: Uint8Array, start: number, length: number): void {
    this.events.push(['ln', id, this.text(bytes, start, length)]);
  }
  override stringData(): void {
    this.replies++;
  }
  override sourceLocation(): void {
    this.replies++;
  }
  override sysTime(timeNs: number, percent: number): void {
    this.events.push(['sys', timeNs, percent]);
  }
  override terminate(): void {
    this.events.push(['term']);
  }
}

/** A comparable key for the decoder's dense source-location index. */
function srclocKey(decoder: QueueDecoder, index: number): string {
  const s = decoder.srclocs;
  if (s.kind[index] === SrclocKind.Static) return `static:${s.ptr[index]}`;
  return `alloc:${JSON.stringify([s.function[index], s.file[index], s.name[index] ?? '', s.line[index], s.color[index]])}`;
}

/** The recorder's events with source-location indices replaced by keys. */
function resolvedEvents(recorder: Recorder, decoder: QueueDecoder): Event[] {
  return recorder.events.map((e) => (e[0] === 'zb' || e[0] === 'la' ? e.map((x, i) => (i === 3 ? srclocKey(decoder, x as number) : x)) : e));
}

// ---------------------------------------------------------------------------------------------
// byte-exact and unit behaviour

describe('TracyStreamWriter: byte-exact streams', () => {
  it('produces the complete minimal session of tracy-protocol.md 6.2 byte for byte with literal-only blocks', () => {
    const chunks: Uint8Array[] = [];
    const stream = new TracyStreamWriter((chunk) => chunks.push(chunk), { compress: false });
    stream.welcome({ ...makeWelcome(1, 1000n), initEnd: 2000n });
    const q = stream.queue;
    q.zoneBegin(42, 5000, 0x1000);
    q.zoneText(42, 'hello');
    q.plot(42, 0x2000, 5100, 60, PlotKind.Int);
    q.message(42, 5200, 'msg one', -1, 0x20);
    q.messageLiteral(42, 5250, 0x4000, -1, 0x40);
    q.zoneEnd(42, 6000);
    q.frameMark(FrameMarkKind.Continuous, 0, 6000);
    q.frameMark(FrameMarkKind.Continuous, 0x3000, 6100);
    q.frameMark(FrameMarkKind.Continuous, 0x3000, 7000);
    stream.flush();
    q.sourceLocation(0x1300, 0x1100, 0x1200, 17, 0x112233);
    q.threadName(42, 'main thread');
    q.stringData(Q.PlotName, 0x2000, 'fps');
    q.stringData(Q.StringData, 0x4000, 'literal hello');
    q.stringData(Q.FrameName, 0x3000, 'render');
    stream.flush();
    q.stringData(Q.StringData, 0x1300, 'my zone');
    q.stringData(Q.StringData, 0x1200, 'demo.ts');
    q.stringData(Q.StringData, 0x1100, 'main');
    stream.flush();
    stream.terminate();

    const welcome = new Uint8Array(WELCOME_SIZE);
    welcome.set(hex('00 00 00 00 00 00 f0 3f  e8 03 00 00 00 00 00 00  d0 07 00 00 00 00 00 00  01 00 00 00 00 00 00 00'), 0);
    welcome.set(hex('33 de 0a 6b 00 00 00 00  00 00 00 00 00 00 00 00  d2 04 00 00 00 00 00 00'), 32);
    welcome.set(utf8Encoder.encode('pyclient'), 82);
    welcome.set(utf8Encoder.encode('synthetic client'), 146);
    const expected = concatChunks([
      hex('01'),
      welcome,
      hex(`8d 00 00 00  f0 7c
        4b 2a 00 00 00
        15 88 13 00 10 00 00 00 00 00 00
        72 05 68 65 6c 6c 6f
        00
        37 00 20 00 00 00 00 00 00 64 00 00 00 00 00 00 00 3c 00 00 00 00 00 00 00
        72 07 6d 73 67 20 6f 6e 65
        02 50 14 00 00 00 00 00 00 20
        5b 82 14 00 00 00 00 00 00 40 00 40 00 00 00 00 00
        1b 84 03
        53 70 17 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        53 d4 17 00 00 00 00 00 00 00 30 00 00 00 00 00 00
        53 58 1b 00 00 00 00 00 00 00 30 00 00 00 00 00 00`),
      hex(`6f 00 00 00  f0 5e
        57 00 13 00 00 00 00 00 00 00 11 00 00 00 00 00 00 00 12 00 00 00 00 00 00 11 00 00 00 33 22 11
        78 2a 00 00 00 00 00 00 00 0b 00 6d 61 69 6e 20 74 68 72 65 61 64
        79 00 20 00 00 00 00 00 00 03 00 66 70 73
        77 00 40 00 00 00 00 00 00 0d 00 6c 69 74 65 72 61 6c 20 68 65 6c 6c 6f
        7d 00 30 00 00 00 00 00 00 06 00 72 65 6e 64 65 72`),
      hex(`35 00 00 00  f0 24
        77 00 13 00 00 00 00 00 00 07 00 6d 79 20 7a 6f 6e 65
        77 00 12 00 00 00 00 00 00 07 00 64 65 6d 6f 2e 74 73
        77 00 11 00 00 00 00 00 00 04 00 6d 61 69 6e`),
      hex('02 00 00 00  10 49'),
    ]);
    const stream62 = concatChunks(chunks);
    expect(toHex(stream62)).toBe(toHex(expected));
    expect(chunks.length).toBe(5);
    expect(stream.frames).toBe(4);
    expect(stream.bytes).toBe(expected.length);

    // Our reader asks the queries Tracy asked, in the same order, and gets Tracy's nanoseconds.
    const recorder = new Recorder();
    const queries: string[] = [];
    const reader = new TracyStreamReader(recorder, {
      onFrame: () => {
        const packets = new Uint8Array(13 * 16);
        const n = reader.decoder.queries.drainInto(packets, 0, 16);
        for (let i = 0; i < n; i++) queries.push(toHex(packets.subarray(13 * i, 13 * i + 13)));
      },
    });
    reader.push(stream62);
    expect(reader.truncation()).toBeNull();
    const tracyQueries = [
      '03 00 10 00 00 00 00 00 00 00 00 00 00',
      '02 2a 00 00 00 00 00 00 00 00 00 00 00',
      '04 00 20 00 00 00 00 00 00 00 00 00 00',
      '01 00 40 00 00 00 00 00 00 00 00 00 00',
      '05 00 30 00 00 00 00 00 00 00 00 00 00',
      '01 00 13 00 00 00 00 00 00 00 00 00 00',
      '01 00 12 00 00 00 00 00 00 00 00 00 00',
      '01 00 11 00 00 00 00 00 00 00 00 00 00',
    ];
    // Our decoder asks for a thread's name at its ThreadContext, Tracy at the first item that
    // needs the thread (here after the zone's source location); every other query comes in
    // Tracy's order.
    expect([...queries].sort()).toEqual([...tracyQueries].sort());
    const notThread = (packet: string): boolean => !packet.startsWith('02');
    expect(queries.filter(notThread)).toEqual(tracyQueries.filter(notThread));
    expect(resolvedEvents(recorder, reader.decoder)).toEqual([
      ['ctx', 42],
      ['zb', 42, 4000, 'static:4096'],
      ['zt', 42, 'hello'],
      ['plot', 0x2000, 4100, 60],
      ['msg', 42, 4200, 'msg one', -1, 0x20],
      ['lit', 42, 4250, 0x4000, -1, 0x40],
      ['ze', 42, 5000],
      ['fm', 0, 0, 5000],
      ['fm', 0, 0x3000, 5100],
      ['fm', 0, 0x3000, 6000],
      ['term'],
    ]);
    const decoder = reader.decoder;
    expect(decoder.repliesCounted).toBe(8);
    expect(decoder.srclocs.displayName(0, decoder.names.strings)).toBe('my zone');
    expect(decoder.srclocs.fileName(0, decoder.names.strings)).toBe('demo.ts');
    expect(decoder.srclocs.functionName(0, decoder.names.strings)).toBe('main');
    expect(decoder.srclocs.color[0]).toBe(0x112233);
    expect(decoder.names.threads.get(42)).toBe('main thread');
    expect(decoder.names.frames.get(0x3000)).toBe('render');
  });

  it('sends Terminate alone in the frame 02 00 00 00 10 49, compressed or not', () => {
    for (const compress of [true, false]) {
      const chunks: Uint8Array[] = [];
      const stream = new TracyStreamWriter((chunk) => chunks.push(chunk), { compress });
      stream.welcome(makeWelcome(1, 0n));
      stream.queue.zoneBegin(1, 10, 0x10);
      stream.queue.zoneEnd(1, 20);
      stream.terminate();
      expect(chunks.length).toBe(3);
      expect(toHex(chunks[2]!)).toBe('02 00 00 00 10 49');
    }
  });

  it('writes the OnDemandPayloadMessage after the welcome only when the OnDemand flag is set', () => {
    const chunks: Uint8Array[] = [];
    const stream = new TracyStreamWriter((chunk) => chunks.push(chunk));
    stream.welcome(makeWelcome(1, 0n, WelcomeFlag.OnDemand), { frames: 7n, currentTime: 0x0102n });
    expect(chunks[0]!.length).toBe(1 + WELCOME_SIZE + 16);
    expect(toHex(chunks[0]!.subarray(1 + WELCOME_SIZE))).toBe('07 00 00 00 00 00 00 00 02 01 00 00 00 00 00 00');
    expect(() => stream.welcome(makeWelcome(1, 0n, WelcomeFlag.OnDemand))).toThrow(TypeError);
    expect(() => stream.welcome(makeWelcome(1, 0n), { frames: 0n, currentTime: 0n })).toThrow(/lacks OnDemand/);

    const reader = new TracyStreamReader(new NullVisitor());
    reader.push(encodeClientStream(makeWelcome(1, 0n, WelcomeFlag.OnDemand), (q) => q.keepAlive(), { onDemand: { frames: 3n, currentTime: 99n } }));
    expect(reader.onDemand).toEqual({ frames: 3n, currentTime: 99n });
    expect(reader.decoder.terminated).toBe(true);
  });

  it('starts every connection with fresh time references and a fresh current thread', () => {
    const chunks: Uint8Array[] = [];
    const stream = new TracyStreamWriter((chunk) => chunks.push(chunk), { compress: false });
    for (let session = 0; session < 2; session++) {
      stream.welcome(makeWelcome(1, 0n));
      stream.queue.zoneBegin(1, 100, 0x10);
      stream.queue.memAlloc(1, 100, 0x20, 1);
      stream.queue.zoneEnd(1, 200);
      stream.terminate();
    }
    expect(chunks.length).toBe(6);
    expect(toHex(chunks[4]!)).toBe(toHex(chunks[1]!));
  });
});

describe('FrameEncoder', () => {
  it('compresses repetitive items into a smaller block that decodes to the same bytes', () => {
    const items = new Uint8Array(TARGET_FRAME_SIZE);
    for (let i = 0; i < items.length; i++) items[i] = (i % 11) * 7;
    const frame = new FrameEncoder().encode(items, 0, items.length);
    const size = new DataView(frame.buffer).getUint32(0, true);
    expect(frame.length).toBe(4 + size);
    expect(size).toBeLessThan(items.length / 10);
    const out = new Uint8Array(TARGET_FRAME_SIZE);
    expect(decompressBlock(frame, 4, size, out, 0, out.length, 0)).toBe(items.length);
    expect(firstDifference(out, items)).toBe(-1);
  });

  it('falls back to a literal-only block within LZ4Size for incompressible items', () => {
    const items = new Uint8Array(TARGET_FRAME_SIZE);
    let x = 12345;
    for (let i = 0; i < items.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      items[i] = x >>> 24;
    }
    const dst = new Uint8Array(FrameEncoder.bound(items.length) + 10);
    const n = new FrameEncoder().encodeInto(items, 0, items.length, dst, 10);
    expect(n).toBeLessThanOrEqual(4 + LZ4_SIZE);
    expect(n).toBeLessThanOrEqual(4 + compressBound(items.length));
    const out = new Uint8Array(TARGET_FRAME_SIZE);
    expect(decompressBlock(dst, 14, n - 4, out, 0, out.length, 0)).toBe(items.length);
    expect(firstDifference(out, items)).toBe(-1);
  });

  it('refuses empty frames and frames larger than TargetFrameSize', () => {
    const encoder = new FrameEncoder();
    const items = new Uint8Array(TARGET_FRAME_SIZE + 1);
    expect(() => encoder.encode(items, 0, 0)).toThrow(RangeError);
    expect(() => encoder.encode(items, 0, TARGET_FRAME_SIZE + 1)).toThrow(/1\.\.262144 item bytes, got 262145/);
  });
});

// ---------------------------------------------------------------------------------------------
// round trip: workload -> writer -> stream bytes -> TracyStreamReader -> the same events

type Op =
  | { k: 'zoneBegin'; t: number; step: number; srcloc: number }
  | { k: 'zoneAlloc'; t: number; step: number; fn: string; file: string; name: string; line: number; rgb: number }
  | { k: 'zoneEnd'; t: number; step: number }
  | { k: 'zoneText' | 'zoneName'; t: number; text: string }
  | { k: 'zoneColor'; t: number; rgb: number }
  | { k: 'zoneValue'; t: number; lo: number; hi: number; asNumber: boolean }
  | { k: 'plot'; t: number; step: number; plot: number; kind: number; value: number }
  | { k: 'plotConfig'; plot: number; format: number; step: boolean; fill: boolean; rgb: number }
  | { k: 'frame'; step: number; set: number }
  | { k: 'message'; t: number; step: number; text: string; rgb: number; meta: number }
  | { k: 'literal'; t: number; step: number; text: number; rgb: number; meta: number }
  | { k: 'appInfo'; step: number; text: string }
  | { k: 'alloc'; t: number; step: number; size: number; pool: number }
  | { k: 'free'; t: number; step: number; pick: number }
  | { k: 'discard'; t: number; step: number; pool: number }
  | { k: 'lock'; t: number; lock: number; mark: number; steps: [number, number, number] }
  | { k: 'sysTime'; step: number; percent: number }
  | { k: 'sync' };

interface Workload {
  initBegin: number;
  timerMul: number;
  threads: number[];
  start: number;
  maxFrameSize: number;
  compress: boolean;
  /** Texts for the app's string table: source-location names, thread/plot/frame names, literals. */
  names: string[];
  ops: Op[];
}

const SRCLOCS = 6;
const PLOTS = 3;
const LITERALS = 4;
const POOLS = 2;
const LOCKS = 2;

/** The app's id tables: every id is unique in one space, above 2^44 (so both u32 halves matter). */
class AppTables {
  readonly strings = new Map<number, string>();
  readonly threadNames = new Map<number, string>();
  readonly plotNames = new Map<number, string>();
  readonly frameNames = new Map<number, string>();
  readonly srclocs = new Map<number, { name: number; fn: number; file: number; line: number; rgb: number }>();
  readonly srclocPtrs: number[] = [];
  readonly lockSrclocPtrs: number[] = [];
  readonly plotPtrs: number[] = [];
  readonly literalPtrs: number[] = [];
  readonly poolPtrs: number[] = [0];
  readonly frameSets: number[] = [0];
  private nextId = 2 ** 44 + 0x1230;

  constructor(w: Workload) {
    let k = 0;
    const name = (): string => w.names[k++ % w.names.length]!;
    const string = (): number => {
      const id = this.id();
      this.strings.set(id, name());
      return id;
    };
    const file = string();
    for (let i = 0; i < SRCLOCS + LOCKS; i++) {
      const ptr = this.id();
      this.srclocs.set(ptr, { name: i % 3 === 0 ? 0 : string(), fn: string(), file: i % 2 === 0 ? file : string(), line: 7 * i + 1, rgb: (i * 0x3a5f17) & 0xffffff });
      (i < SRCLOCS ? this.srclocPtrs : this.lockSrclocPtrs).push(ptr);
    }
    for (let i = 0; i < PLOTS; i++) {
      const ptr = this.id();
      this.plotNames.set(ptr, name());
      this.plotPtrs.push(ptr);
    }
    for (let i = 0; i < LITERALS; i++) this.literalPtrs.push(string());
    for (let i = 0; i < POOLS; i++) this.poolPtrs.push(string());
    for (let i = 0; i < 2; i++) {
      const ptr = this.id();
      this.frameNames.set(ptr, name());
      this.frameSets.push(ptr);
    }
    for (const thread of w.threads) this.threadNames.set(thread, name());
  }

  id(): number {
    this.nextId += 0x10 + (this.nextId % 7);
    return this.nextId;
  }

  /** Answers every query the reader's decoder has queued, as a client must (3.2). */
  answer(decoder: QueueDecoder, q: QueueWriter): number {
    const packet = new Uint8Array(13);
    const v = new DataView(packet.buffer);
    let n = 0;
    while (decoder.queries.length > 0) {
      decoder.queries.drainInto(packet, 0, 1);
      const ptr = v.getUint32(5, true) * 2 ** 32 + v.getUint32(1, true);
      const known = <T>(value: T | undefined): T => {
        if (value === undefined) throw new Error(`query type ${packet[0]} for unknown id ${ptr}`);
        return value;
      };
      switch (packet[0]) {
        case ServerQuery.String:
          q.stringData(Q.StringData, ptr, known(this.strings.get(ptr)));
          break;
        case ServerQuery.ThreadString:
          q.threadName(ptr, known(this.threadNames.get(ptr)));
          break;
        case ServerQuery.SourceLocation: {
          const s = known(this.srclocs.get(ptr));
          q.sourceLocation(s.name, s.fn, s.file, s.line, s.rgb);
          break;
        }
        case ServerQuery.PlotName:
          q.stringData(Q.PlotName, ptr, known(this.plotNames.get(ptr)));
          break;
        case ServerQuery.FrameName:
          q.stringData(Q.FrameName, ptr, known(this.frameNames.get(ptr)));
          break;
        default:
          q.ackServerQueryNoop();
      }
      n++;
    }
    return n;
  }
}

interface SessionResult {
  expected: Event[];
  events: Event[];
  stream: Uint8Array;
  chunks: Uint8Array[];
  reader: TracyStreamReader;
  tables: AppTables;
  answered: number;
  dropped: number;
  droppedByWriter: number;
  frameSizes: number[];
}

/**
 * Plays a workload as a live session: the writer's chunks go to a reader as they are emitted,
 * and at every `sync` op (and at the end) the app answers the reader's queries. Returns the
 * events the model expects and the ones the reader decoded.
 */
function runSession(w: Workload): SessionResult {
  const tables = new AppTables(w);
  const chunks: Uint8Array[] = [];
  const stream = new TracyStreamWriter((chunk) => chunks.push(chunk), { compress: w.compress, maxFrameSize: w.maxFrameSize, initialCapacity: 256 });
  const q = stream.queue;
  const recorder = new Recorder();
  const frameSizes: number[] = [];
  let lastDecompressed = 0;
  const reader = new TracyStreamReader(recorder, {
    onFrame: () => {
      frameSizes.push(reader.decompressedBytes - lastDecompressed);
      lastDecompressed = reader.decompressedBytes;
    },
  });
  let fed = 0;
  let answered = 0;
  const sync = (): void => {
    for (;;) {
      stream.flush();
      while (fed < chunks.length) reader.push(chunks[fed++]!);
      if (reader.decoder.queries.length === 0) return;
      answered += tables.answer(reader.decoder, q);
    }
  };

  const expected: Event[] = [];
  const ns = (ticks: number): number => Math.trunc((ticks - w.initBegin) * w.timerMul);
  const threads = w.threads;
  const now = threads.map((_, i) => w.initBegin + w.start + i * 1000);
  let serialNow = w.initBegin + w.start;
  let absNow = w.initBegin + w.start;
  const depth = threads.map(() => 0);
  let current = -1;
  let dropped = 0;
  const onThread = (thread: number): void => {
    if (thread !== current) expected.push(['ctx', thread]);
    current = thread;
  };
  const live: { ptr: number; pool: number }[] = [];
  const usedPools = new Set<number>();
  const frameOpen = new Set<number>();

  stream.welcome(makeWelcome(w.timerMul, BigInt(w.initBegin)));
  // Long-lived state first, as an on-demand client replays it.
  q.appInfo(absNow, w.names[0]!);
  expected.push(['app', ns(absNow), received(w.names[0]!)]);
  for (let id = 0; id < LOCKS; id++) {
    const ptr = tables.lockSrclocPtrs[id]!;
    q.lockAnnounce(id, absNow, ptr, id === 1);
    expected.push(['la', id, ns(absNow), `static:${ptr}`, id === 1]);
    q.lockName(id, w.names[id + 1]!);
    expected.push(['ln', id, received(w.names[id + 1]!)]);
  }

  for (const op of w.ops) {
    switch (op.k) {
      case 'zoneBegin': {
        const thread = threads[op.t % threads.length]!;
        const ticks = (now[op.t % threads.length]! += op.step);
        const ptr = tables.srclocPtrs[op.srcloc % SRCLOCS]!;
        q.zoneBegin(thread, ticks, ptr);
        onThread(thread);
        expected.push(['zb', thread, ns(ticks), `static:${ptr}`]);
        depth[op.t % threads.length]!++;
        break;
      }
      case 'zoneAlloc': {
        const thread = threads[op.t % threads.length]!;
        const ticks = (now[op.t % threads.length]! += op.step);
        q.zoneBeginAllocSrcLoc(thread, ticks, op.rgb, op.line, op.fn, op.file, op.name);
        onThread(thread);
        const key = [received(op.fn).split('\0')[0], received(op.file).split('\0')[0], received(op.name), op.line, op.rgb];
        expected.push(['zb', thread, ns(ticks), `alloc:${JSON.stringify(key)}`]);
        depth[op.t % threads.length]!++;
        break;
      }
      case 'zoneEnd': {
        if (depth[op.t % threads.length] === 0) break;
        const thread = threads[op.t % threads.length]!;
        const ticks = (now[op.t % threads.length]! += op.step);
        q.zoneEnd(thread, ticks);
        onThread(thread);
        expected.push(['ze', thread, ns(ticks)]);
        depth[op.t % threads.length]!--;
        break;
      }
      case 'zoneText':
      case 'zoneName': {
        if (depth[op.t % threads.length] === 0) break;
        const thread = threads[op.t % threads.length]!;
        if (op.k === 'zoneText') q.zoneText(thread, op.text);
        else q.zoneName(thread, op.text);
        onThread(thread);
        expected.push([op.k === 'zoneText' ? 'zt' : 'zn', thread, received(op.text)]);
        break;
      }
      case 'zoneColor': {
        if (depth[op.t % threads.length] === 0) break;
        const thread = threads[op.t % threads.length]!;
        q.zoneColor(thread, op.rgb);
        onThread(thread);
        expected.push(['zc', thread, op.rgb]);
        break;
      }
      case 'zoneValue': {
        if (depth[op.t % threads.length] === 0) break;
        const thread = threads[op.t % threads.length]!;
        onThread(thread);
        if (op.asNumber) {
          const hi = op.hi & 0x1fffff; // value < 2^53
          q.zoneValue(thread, hi * 2 ** 32 + op.lo);
          expected.push(['zv', thread, op.lo, hi]);
        } else {
          q.zoneValueParts(thread, op.lo, op.hi);
          expected.push(['zv', thread, op.lo, op.hi]);
        }
        break;
      }
      case 'plot': {
        const i = op.t % threads.length;
        const thread = threads[i]!;
        const ticks = (now[i]! += op.step);
        const ptr = tables.plotPtrs[op.plot % PLOTS]!;
        q.plot(thread, ptr, ticks, op.value, op.kind);
        const value = op.kind === PlotKind.Float ? Math.fround(op.value) : op.value;
        if (!Number.isFinite(value)) {
          dropped++;
          break;
        }
        onThread(thread);
        expected.push(['plot', ptr, ns(ticks), op.kind === PlotKind.Int ? Math.trunc(value) + 0 : value]);
        break;
      }
      case 'plotConfig': {
        const ptr = tables.plotPtrs[op.plot % PLOTS]!;
        q.plotConfig(ptr, op.format, op.step, op.fill, op.rgb);
        expected.push(['pc', ptr, op.format, op.step, op.fill, op.rgb]);
        break;
      }
      case 'frame': {
        const set = op.set % tables.frameSets.length;
        const ptr = tables.frameSets[set]!;
        const ticks = (absNow += op.step);
        let kind: number = FrameMarkKind.Continuous;
        if (set === 2) {
          kind = frameOpen.has(ptr) ? FrameMarkKind.End : FrameMarkKind.Start;
          if (kind === FrameMarkKind.End) frameOpen.delete(ptr);
          else frameOpen.add(ptr);
        }
        q.frameMark(kind, ptr, ticks);
        expected.push(['fm', kind, ptr, ns(ticks)]);
        break;
      }
      case 'message': {
        const i = op.t % threads.length;
        const thread = threads[i]!;
        const ticks = (now[i]! += op.step);
        q.message(thread, ticks, op.text, op.rgb, op.meta);
        onThread(thread);
        expected.push(['msg', thread, ns(ticks), received(op.text), op.rgb, op.meta]);
        break;
      }
      case 'literal': {
        const i = op.t % threads.length;
        const thread = threads[i]!;
        const ticks = (now[i]! += op.step);
        const ptr = tables.literalPtrs[op.text % LITERALS]!;
        q.messageLiteral(thread, ticks, ptr, op.rgb, op.meta);
        onThread(thread);
        expected.push(['lit', thread, ns(ticks), ptr, op.rgb, op.meta]);
        break;
      }
      case 'appInfo': {
        const ticks = (absNow += op.step);
        q.appInfo(ticks, op.text);
        expected.push(['app', ns(ticks), received(op.text)]);
        break;
      }
      case 'alloc': {
        const thread = threads[op.t % threads.length]!;
        const ticks = (serialNow += op.step);
        const ptr = tables.id();
        const pool = tables.poolPtrs[op.pool % tables.poolPtrs.length]!;
        q.memAlloc(thread, ticks, ptr, op.size, pool);
        expected.push(['ma', thread, ns(ticks), ptr, op.size, pool]);
        live.push({ ptr, pool });
        usedPools.add(pool);
        break;
      }
      case 'free': {
        if (live.length === 0) break;
        const thread = threads[op.t % threads.length]!;
        const ticks = (serialNow += op.step);
        const [{ ptr, pool }] = live.splice(op.pick % live.length, 1) as [{ ptr: number; pool: number }];
        q.memFree(thread, ticks, ptr, pool);
        expected.push(['mf', thread, ns(ticks), ptr, pool]);
        break;
      }
      case 'discard': {
        const pool = tables.poolPtrs[1 + (op.pool % POOLS)]!;
        if (!usedPools.has(pool)) break; // never discard a pool that was not used (P10)
        const thread = threads[op.t % threads.length]!;
        const ticks = (serialNow += op.step);
        q.memDiscard(thread, ticks, pool);
        expected.push(['md', thread, ns(ticks), pool]);
        for (let i = live.length - 1; i >= 0; i--) if (live[i]!.pool === pool) live.splice(i, 1);
        break;
      }
      case 'lock': {
        const thread = threads[op.t % threads.length]!;
        const id = op.lock % LOCKS;
        const shared = id === 1;
        const wait = (serialNow += op.steps[0]);
        q.lockWait(thread, id, wait, shared);
        const obtain = (serialNow += op.steps[1]);
        q.lockObtain(thread, id, obtain, shared);
        // LockMark reports nothing, but its source location takes a place in the query FIFO.
        if (op.mark % 2 === 0) q.lockMark(thread, id, tables.srclocPtrs[op.mark % SRCLOCS]!);
        const release = (serialNow += op.steps[2]);
        if (shared) q.lockSharedRelease(thread, id, release);
        else q.lockRelease(id, release);
        expected.push(
          ['le', 0, shared, thread, id, ns(wait)],
          ['le', 1, shared, thread, id, ns(obtain)],
          ['le', 2, shared, shared ? thread : 0, id, ns(release)],
        );
        break;
      }
      case 'sysTime': {
        const ticks = (absNow += op.step);
        q.sysTime(ticks, op.percent);
        expected.push(['sys', ns(ticks), Math.fround(op.percent)]);
        break;
      }
      case 'sync':
        sync();
        break;
    }
  }

  // Close every zone (Tracy waits for them before it ends a capture), answer, then terminate.
  for (let i = 0; i < threads.length; i++) {
    while (depth[i]! > 0) {
      const ticks = (now[i]! += 10);
      q.zoneEnd(threads[i]!, ticks);
      onThread(threads[i]!);
      expected.push(['ze', threads[i]!, ns(ticks)]);
      depth[i]!--;
    }
  }
  for (let id = 0; id < LOCKS; id++) {
    q.lockTerminate(id, absNow);
    expected.push(['lt', id, ns(absNow)]);
  }
  sync();
  stream.terminate();
  while (fed < chunks.length) reader.push(chunks[fed++]!);
  expected.push(['term']);

  return {
    expected,
    events: resolvedEvents(recorder, reader.decoder),
    stream: concatChunks(chunks),
    chunks,
    reader,
    tables,
    answered,
    dropped,
    droppedByWriter: q.droppedNonFinite,
    frameSizes,
  };
}

/** The checks every session must pass besides the event list itself. */
function checkSession(w: Workload, r: SessionResult): void {
  const { reader, tables } = r;
  const decoder = reader.decoder;
  expect(reader.error).toBeNull();
  expect(reader.truncation()).toBeNull();
  expect(decoder.terminated).toBe(true);
  expect(decoder.queries.length).toBe(0);
  expect(decoder.repliesCounted).toBe(r.answered);
  expect(r.droppedByWriter).toBe(r.dropped);
  // Frames: whole items, at most maxFrameSize decompressed bytes (or one oversized group),
  // never more than TargetFrameSize / LZ4Size.
  for (const size of r.frameSizes) expect(size).toBeLessThanOrEqual(TARGET_FRAME_SIZE);
  if (w.maxFrameSize === TARGET_FRAME_SIZE) expect(Math.max(0, ...r.frameSizes)).toBeLessThanOrEqual(TARGET_FRAME_SIZE);
  for (let i = 1; i < r.chunks.length; i++) {
    const chunk = r.chunks[i]!;
    const size = new DataView(chunk.buffer, chunk.byteOffset).getUint32(0, true);
    expect(chunk.length).toBe(4 + size);
    expect(size).toBeLessThanOrEqual(LZ4_SIZE);
  }
  // Names resolved through the replies, as a receiver shows them.
  const strings = decoder.names.strings;
  for (const [ptr, s] of tables.srclocs) {
    const index = decoder.srclocs.lookup(ptr);
    if (index < 0) continue; // never used
    expect(decoder.srclocs.resolved[index]).toBe(true);
    expect(decoder.srclocs.displayName(index, strings)).toBe(received(tables.strings.get(s.name !== 0 ? s.name : s.fn)!, 65535));
    expect(decoder.srclocs.functionName(index, strings)).toBe(received(tables.strings.get(s.fn)!, 65535));
    expect(decoder.srclocs.fileName(index, strings)).toBe(received(tables.strings.get(s.file)!, 65535));
    expect(decoder.srclocs.line[index]).toBe(s.line);
    expect(decoder.srclocs.color[index]).toBe(s.rgb);
  }
  for (const [thread, name] of decoder.names.threads) expect(name).toBe(received(tables.threadNames.get(thread)!, 65535));
  for (const [ptr, name] of decoder.names.plots) expect(name).toBe(received(tables.plotNames.get(ptr)!, 65535));
  for (const [ptr, name] of decoder.names.frames) expect(name).toBe(received(tables.frameNames.get(ptr)!, 65535));
  for (const ptr of tables.literalPtrs) {
    if (strings.has(ptr)) expect(strings.get(ptr)).toBe(received(tables.strings.get(ptr)!, 65535));
  }
  for (const e of r.events) if (e[0] === 'lit') expect(strings.has(e[3] as number)).toBe(true);
}

/** Decodes `stream` again, fed in chunks of the given sizes (cycled). */
function decodeInChunks(stream: Uint8Array, sizes: number[]): Event[] {
  const recorder = new Recorder();
  const reader = new TracyStreamReader(recorder);
  let at = 0;
  for (let i = 0; at < stream.length; i++) {
    const n = sizes[i % sizes.length]!;
    reader.push(stream, at, Math.min(stream.length, at + n));
    at += n;
  }
  expect(reader.truncation()).toBeNull();
  return resolvedEvents(recorder, reader.decoder);
}

// ---- arbitraries ----

const u32 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((x) => x >>> 0), fc.constantFrom(0, 1, 0xffffffff));
const rgb = fc.integer({ min: 0, max: 0xffffff });
const step = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 65535 }) },
  { weight: 3, arbitrary: fc.bigInt({ min: 65536n, max: 4295032831n }).map(Number) },
  { weight: 1, arbitrary: fc.bigInt({ min: 4295032832n, max: 2n ** 40n }).map(Number) },
  { weight: 2, arbitrary: fc.integer({ min: -100000, max: -1 }) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 36n), max: -1n }).map(Number) },
  { weight: 1, arbitrary: fc.constantFrom(0, 65535, 65536, 4295032831, 4295032832, -1) },
);
const loneSurrogates = fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)), maxLength: 12 });
const text = fc.oneof(
  { weight: 10, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 5, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 256, maxLength: 600 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 4097, maxLength: 5000 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1100, maxLength: 1400 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'binary', maxLength: 10 }), loneSurrogates).map(([a, b]) => a + b + a) },
);
const t = fc.nat({ max: 7 });
const plotValue = (kind: number): fc.Arbitrary<number> =>
  kind === PlotKind.Int
    ? fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n }).map(Number))
    : kind === PlotKind.Float
      ? fc.oneof(fc.float(), fc.double({ min: -1e40, max: 1e40, noNaN: true }))
      : fc.double();

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ k: fc.constant('zoneBegin' as const), t, step, srcloc: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('zoneAlloc' as const),
      t,
      step,
      fn: fc.string({ unit: 'binary', maxLength: 20 }),
      file: fc.string({ maxLength: 20 }),
      name: fc.oneof(fc.constant(''), fc.string({ unit: 'binary', maxLength: 30 })),
      line: fc.oneof(fc.nat(), fc.constant(0xffffffff)),
      rgb,
    }),
  },
  { weight: 10, arbitrary: fc.record({ k: fc.constant('zoneEnd' as const), t, step }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('zoneText' as const, 'zoneName' as const), t, text }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('zoneColor' as const), t, rgb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('zoneValue' as const), t, lo: u32, hi: u32, asNumber: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(PlotKind.Int, PlotKind.Float, PlotKind.Double)
      .chain((kind) => fc.record({ k: fc.constant('plot' as const), t, step, plot: fc.nat(), kind: fc.constant(kind), value: plotValue(kind) })),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('plotConfig' as const), plot: fc.nat(), format: fc.nat({ max: 3 }), step: fc.boolean(), fill: fc.boolean(), rgb }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('frame' as const), step, set: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('message' as const), t, step, text, rgb: fc.oneof(fc.constant(-1), rgb), meta: fc.nat({ max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('literal' as const), t, step, text: fc.nat(), rgb: fc.oneof(fc.constant(-1), rgb), meta: fc.nat({ max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('appInfo' as const), step, text }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('alloc' as const),
      t,
      step,
      size: fc.oneof(fc.nat({ max: 1 << 20 }), fc.bigInt({ min: 0n, max: 2n ** 48n - 1n }).map(Number)),
      pool: fc.nat(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('free' as const), t, step, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('discard' as const), t, step, pool: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('lock' as const), t, lock: fc.nat(), mark: fc.nat(), steps: fc.tuple(step, step, step) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('sysTime' as const), step, percent: fc.double({ min: 0, max: 100, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.constant({ k: 'sync' as const }) },
);

const workload: fc.Arbitrary<Workload> = fc.record({
  initBegin: fc.oneof(fc.constant(0), fc.constant(1000), fc.bigInt({ min: 0n, max: 2n ** 50n }).map(Number), fc.bigInt({ min: -(2n ** 40n), max: 0n }).map(Number)),
  timerMul: fc.oneof(fc.constant(1), fc.constant(0.4761904552304252), fc.double({ min: 0.01, max: 100, noNaN: true })),
  threads: fc.uniqueArray(u32, { minLength: 1, maxLength: 4 }),
  start: fc.bigInt({ min: 0n, max: 2n ** 42n }).map(Number),
  maxFrameSize: fc.oneof(fc.constant(TARGET_FRAME_SIZE), fc.integer({ min: 64, max: 4096 })),
  compress: fc.boolean(),
  names: fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 30 })), { minLength: 8, maxLength: 30 }),
  ops: fc.array(op, { maxLength: 200 }),
});

describe('round trip: QueueWriter -> TracyStreamWriter -> TracyStreamReader', () => {
  it('decodes random workloads to the same events with the same nanoseconds, in the same order', () => {
    fc.assert(
      fc.property(workload, (w) => {
        const r = runSession(w);
        expect(r.events).toEqual(r.expected);
        checkSession(w, r);
      }),
      { numRuns: 200 },
    );
  });

  it('decodes the same events when the stream arrives in random chunk sizes', () => {
    fc.assert(
      fc.property(workload, fc.array(fc.oneof(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5000 })), { minLength: 1, maxLength: 20 }), (w, sizes) => {
        const r = runSession(w);
        expect(decodeInChunks(r.stream, sizes)).toEqual(r.expected);
      }),
      { numRuns: 60 },
    );
  });

  it('splits a large workload into several frames of at most 262144 bytes and still decodes it exactly', () => {
    // A deterministic large workload: ~1.5 MB of items, long strings beyond both length limits.
    const ops = fc.sample(op, { seed: 42, numRuns: 20000 });
    const heavy: Op[] = [];
    for (let i = 0; i < ops.length; i++) {
      heavy.push(ops[i]!);
      if (i % 5000 === 100) {
        heavy.push({ k: 'zoneBegin', t: 0, step: 5, srcloc: 1 });
        heavy.push({ k: 'zoneText', t: 0, text: 'é'.repeat(40000) }); // 80000 bytes, cut to 65790
        heavy.push({ k: 'message', t: 1, step: 5, text: 'a'.repeat(70000), rgb: -1, meta: 0x20 }); // cut to 65791
        heavy.push({ k: 'zoneName', t: 0, text: '😀'.repeat(16448) }); // 65792 bytes, cut to 65788
      }
    }
    for (const compress of [true, false]) {
      const w: Workload = {
        initBegin: 2 ** 45 + 12345,
        timerMul: 0.4761904552304252,
        threads: [11251, 11253, 1, 0xfffffffe],
        start: 2 ** 41,
        maxFrameSize: TARGET_FRAME_SIZE,
        compress,
        names: ['main', 'app.cpp', 'work', 'render', 'myplot', 'Main thread', 'ümlaut 😀', 'x'.repeat(300)],
        ops: heavy,
      };
      const r = runSession(w);
      expect(r.events.length).toBeGreaterThan(20000);
      expect(r.events).toEqual(r.expected);
      checkSession(w, r);
      expect(r.reader.decompressedBytes).toBeGreaterThan(4 * TARGET_FRAME_SIZE);
      const full = r.frameSizes.filter((n) => n > TARGET_FRAME_SIZE - 70000);
      expect(full.length).toBeGreaterThan(2);
      expect(Math.max(...r.frameSizes)).toBeLessThanOrEqual(TARGET_FRAME_SIZE);
      expect(r.events.some((e) => e[0] === 'zt' && e[2] === 'é'.repeat(32895))).toBe(true);
      expect(r.events.some((e) => e[0] === 'zn' && e[2] === '😀'.repeat(16447))).toBe(true);
      expect(decodeInChunks(r.stream, [65536, 3, 100000, 1])).toEqual(r.expected);
    }
  });
});
