import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_OFFSET_32BIT, TARGET_FRAME_SIZE } from './constants.js';
import { concatChunks } from './frame-encoder.js';
import { QueueDecoder } from './queue-decoder.js';
import { QueueType as Q } from './queue-types.js';
import { MAX_STAGED_STRING, MAX_TRANSFER_STRING, PlotKind, QueueWriter } from './queue-writer.js';
import { NullVisitor } from './visitor.js';

/** Bytes from a hex dump; anything that is not a hex digit is ignored. */
function hex(dump: string): Uint8Array {
  const digits = dump.replace(/[^0-9a-f]/gi, '');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Everything the writer holds, as one array (all frames taken in order). */
function takeAll(w: QueueWriter): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let f = w.takeFrame(); f !== null; f = w.takeFrame()) frames.push(f.slice());
  return concatChunks(frames);
}

/** Records zone/thread events with their nanosecond times. */
class ZoneRecorder extends NullVisitor {
  events: unknown[][] = [];
  override threadContext(thread: number): void {
    this.events.push(['ctx', thread]);
  }
  override zoneBegin(thread: number, timeNs: number, srcloc: number): void {
    this.events.push(['begin', thread, timeNs, srcloc]);
  }
  override zoneEnd(thread: number, timeNs: number): void {
    this.events.push(['end', thread, timeNs]);
  }
  override plot(namePtr: number, timeNs: number, value: number): void {
    this.events.push(['plot', namePtr, timeNs, value]);
  }
}

function decode(items: Uint8Array, initBegin = 0n, timerMul = 1): { decoder: QueueDecoder; events: unknown[][] } {
  const recorder = new ZoneRecorder();
  const decoder = new QueueDecoder(recorder);
  decoder.setClock(timerMul, initBegin);
  decoder.walk(items, 0, items.length);
  return { decoder, events: recorder.events };
}

describe('QueueWriter: byte-exact items', () => {
  it('writes the items of the minimal session of tracy-protocol.md 6.2 byte for byte', () => {
    const w = new QueueWriter();
    w.zoneBegin(42, 5000, 0x1000);
    w.zoneText(42, 'hello');
    w.plot(42, 0x2000, 5100, 60, PlotKind.Int);
    w.message(42, 5200, 'msg one', -1, 0x20);
    w.messageLiteral(42, 5250, 0x4000, -1, 0x40);
    w.zoneEnd(42, 6000);
    w.frameMark(0, 0, 6000);
    w.frameMark(0, 0x3000, 6100);
    w.frameMark(0, 0x3000, 7000);
    expect(w.length).toBe(139);
    expect(toHex(w.takeFrame()!)).toBe(
      toHex(
        hex(`
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
      ),
    );
    expect(w.takeFrame()).toBeNull();

    w.sourceLocation(0x1300, 0x1100, 0x1200, 17, 0x112233);
    w.threadName(42, 'main thread');
    w.stringData(Q.PlotName, 0x2000, 'fps');
    w.stringData(Q.StringData, 0x4000, 'literal hello');
    w.stringData(Q.FrameName, 0x3000, 'render');
    expect(toHex(w.takeFrame()!)).toBe(
      toHex(
        hex(`
          57 00 13 00 00 00 00 00 00 00 11 00 00 00 00 00 00 00 12 00 00 00 00 00 00 11 00 00 00 33 22 11
          78 2a 00 00 00 00 00 00 00 0b 00 6d 61 69 6e 20 74 68 72 65 61 64
          79 00 20 00 00 00 00 00 00 03 00 66 70 73
          77 00 40 00 00 00 00 00 00 0d 00 6c 69 74 65 72 61 6c 20 68 65 6c 6c 6f
          7d 00 30 00 00 00 00 00 00 06 00 72 65 6e 64 65 72`),
      ),
    );

    w.stringData(Q.StringData, 0x1300, 'my zone');
    w.stringData(Q.StringData, 0x1200, 'demo.ts');
    w.stringData(Q.StringData, 0x1100, 'main');
    expect(toHex(w.takeFrame()!)).toBe(
      toHex(
        hex(`
          77 00 13 00 00 00 00 00 00 07 00 6d 79 20 7a 6f 6e 65
          77 00 12 00 00 00 00 00 00 07 00 64 65 6d 6f 2e 74 73
          77 00 11 00 00 00 00 00 00 04 00 6d 61 69 6e`),
      ),
    );
    w.terminate();
    expect(toHex(w.takeFrame()!)).toBe('49');
  });

  it('encodes the compact-form table of 6.2 with the wire values and nanoseconds Tracy reported', () => {
    const w = new QueueWriter();
    const src = 0x1000;
    w.zoneBegin(1, 20000, src); //     ZoneBegin16 20000
    w.zoneEnd(1, 30000); //            ZoneEnd16 10000
    w.zoneBegin(1, 29990, src); //     ZoneBegin (64-bit) -10
    w.zoneEnd(1, 129990); //           ZoneEnd32 34464
    w.zoneBegin(1, 199990, src); //    ZoneBegin32 4464
    w.zoneEnd(1, 5000199990); //       ZoneEnd (64-bit) 704967168
    w.zoneBegin(2, 65535 + 0, src); // new ThreadContext: ZoneBegin16 65535
    w.zoneEnd(2, 70000);
    const items = takeAll(w);
    expect(toHex(items)).toBe(
      toHex(
        hex(`
          4b 01 00 00 00
          15 20 4e  00 10 00 00 00 00 00 00
          1b 10 27
          13 f6 ff ff ff ff ff ff ff  00 10 00 00 00 00 00 00
          1a a0 86 00 00
          14 70 11 00 00  00 10 00 00 00 00 00 00
          19 00 f2 04 2a 00 00 00 00
          4b 02 00 00 00
          15 ff ff  00 10 00 00 00 00 00 00
          1b 71 11`),
      ),
    );
    const view = new DataView(items.buffer);
    expect(view.getUint16(6, true)).toBe(20000);
    expect(view.getUint16(17, true)).toBe(10000);
    expect(view.getBigInt64(20, true)).toBe(-10n);
    expect(view.getUint32(37, true)).toBe(34464);
    expect(view.getUint32(42, true)).toBe(4464);
    expect(view.getBigInt64(55, true)).toBe(704967168n);

    const { events } = decode(items, 1000n);
    expect(events).toEqual([
      ['ctx', 1],
      ['begin', 1, 19000, 0],
      ['end', 1, 29000],
      ['begin', 1, 28990, 0],
      ['end', 1, 128990],
      ['begin', 1, 198990, 0],
      ['end', 1, 5000198990],
      ['ctx', 2],
      ['begin', 2, 64535, 0],
      ['end', 2, 69000],
    ]);
  });

  it("reproduces the real C++ client's items quoted in 6.1", () => {
    const w = new QueueWriter();
    const thread = 11251;
    const plot = 0x55e622339294;
    const lockWaitTicks = 0x01068ad4f9e8;
    w.threadContext(thread);
    w.appInfo(1127610638350, 'appinfo text');
    w.zoneBegin(thread, 1127610639806, 0x55e622341cc0);
    w.zoneBegin(thread, 1127610639864, 0x55e622341ce0);
    w.zoneText(thread, 'hello');
    w.zoneValue(thread, 42);
    w.zoneColor(thread, 0x112233);
    w.zoneEnd(thread, 1127610640138);
    w.zoneEnd(thread, 1127610640182);
    w.plot(thread, plot, 1127610640226, 7, PlotKind.Int);
    // 6.1 annotates this colour as 0xff8000, but its bytes `80 ff 00 00` (u32 at payload offset 11,
    // the layout compiled from TracyQueue.hpp and confirmed by the fixtures) encode 0x00ff80.
    w.plotConfig(plot, 1, true, false, 0x00ff80);
    w.messageLiteral(thread, 1127610640390, 0x55e6223392a7, -1, 0x20);
    w.message(thread, 1127610640456, 'dynamic message', -1, 0x20);
    w.zoneBegin(thread, 1127610640226 + 4893412, 0x55e622341c40);
    w.frameMark(0, 0, 1127610642670);
    w.lockWait(thread, 0, lockWaitTicks);
    w.memAlloc(thread, lockWaitTicks + 6640, 0x55e6510c8780, 100);
    expect(toHex(takeAll(w))).toBe(
      toHex(
        hex(`
          4b f3 2b 00 00
          72 0c 61 70 70 69 6e 66 6f 20 74 65 78 74
          06 0e e0 d4 8a 06 01 00 00
          13 be e5 d3 8a 05 01 00 00 c0 1c 34 22 e6 55 00 00
          15 3a 00 e0 1c 34 22 e6 55 00 00
          72 05 68 65 6c 6c 6f  00
          52 2a 00 00 00 00 00 00 00
          51 33 22 11
          1b 12 01
          1b 2c 00
          37 94 92 33 22 e6 55 00 00 2c 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00
          6a 94 92 33 22 e6 55 00 00 01 01 00 80 ff 00 00
          5b 06 e8 d4 8a 06 01 00 00 20 a7 92 33 22 e6 55 00
          72 0f 64 79 6e 61 6d 69 63 20 6d 65 73 73 61 67 65
          02 48 e8 d4 8a 06 01 00 00 20
          14 e4 aa 49 00 40 1c 34 22 e6 55 00 00
          53 ee f0 d4 8a 06 01 00 00 00 00 00 00 00 00 00 00
          1c f3 2b 00 00 00 00 00 00 e8 f9 d4 8a 06 01 00 00
          23 f0 19 00 00 00 00 00 00 f3 2b 00 00 80 87 0c 51 e6 55 00 00 64 00 00 00 00 00`),
      ),
    );
  });

  it('writes a SourceLocationPayload and its ZoneBeginAllocSrcLoc like the real client (4.4)', () => {
    const w = new QueueWriter();
    w.threadContext(7);
    w.zoneBeginAllocSrcLoc(7, 0x55a2, 0, 51, 'main', 'app.cpp', 'transient');
    const items = takeAll(w);
    // The payload's ptr (bytes 6..13) is ours (0); the real client sent an address there.
    expect(toHex(items.subarray(0, 6))).toBe('4b 07 00 00 00 7a');
    expect(toHex(items.subarray(14))).toBe(
      toHex(
        hex(`
          1e 00 | 00 00 00 00 | 33 00 00 00 | 6d 61 69 6e 00 | 61 70 70 2e 63 70 70 00 | 74 72 61 6e 73 69 65 6e 74
          07 a2 55 00 00 00 00 00 00`),
      ),
    );
  });

  it('stages a 300-byte string with SingleStringData and a length field of 44', () => {
    const w = new QueueWriter();
    const text = 'abc'.repeat(100);
    w.message(1, 10, text, -1, 0x20);
    const items = takeAll(w);
    expect(toHex(items.subarray(5, 8))).toBe('70 2c 00');
    expect(new TextDecoder().decode(items.subarray(8, 308))).toBe(text);
    expect(items[308]).toBe(Q.Message);
  });

  it('switches between the 8-bit and 16-bit staging forms at 255/256 bytes', () => {
    const w = new QueueWriter();
    w.zoneText(1, 'x'.repeat(255));
    w.zoneText(1, 'x'.repeat(256));
    w.zoneText(1, 'é'.repeat(128)); // 256 bytes from 128 UTF-16 units
    const items = takeAll(w);
    expect(toHex(items.subarray(5, 7))).toBe('72 ff');
    expect(items[5 + 2 + 255]).toBe(Q.ZoneText);
    const second = 5 + 2 + 255 + 1;
    expect(toHex(items.subarray(second, second + 3))).toBe('70 00 00');
    const third = second + 3 + 256 + 1;
    expect(toHex(items.subarray(third, third + 3))).toBe('70 00 00');
    expect(items.length).toBe(third + 3 + 256 + 1);
  });

  it('emits ThreadContext only when the thread changes, and restarts T after each one', () => {
    const w = new QueueWriter();
    w.zoneBegin(1, 100, 0x10);
    w.zoneBegin(1, 150, 0x10); // same thread: no context, dt 50
    w.zoneBegin(2, 300, 0x10); // context 2, dt = absolute 300
    w.zoneEnd(1, 400); //         context 1 again, dt = absolute 400
    w.frameMark(0, 0, 500); //    serial items never need a context
    w.memAlloc(2, 600, 0x99, 8);
    w.zoneEnd(1, 410); //         still thread 1: dt 10
    expect(toHex(takeAll(w))).toBe(
      toHex(
        hex(`
          4b 01 00 00 00  15 64 00 10 00 00 00 00 00 00 00
          15 32 00 10 00 00 00 00 00 00 00
          4b 02 00 00 00  15 2c 01 10 00 00 00 00 00 00 00
          4b 01 00 00 00  1b 90 01
          53 f4 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00
          23 58 02 00 00 00 00 00 00 02 00 00 00 99 00 00 00 00 00 00 00 08 00 00 00 00 00
          1b 0a 00`),
      ),
    );
  });

  it('uses plain i64 T deltas for plots and AllocSrcLoc zones, negative ones included', () => {
    const w = new QueueWriter();
    w.plot(3, 0x20, 1000, 1.5, PlotKind.Double);
    w.plot(3, 0x20, 990, 2.5, PlotKind.Float);
    w.zoneBeginAllocSrcLoc(3, 980, 0, 1, 'f', 'g', '');
    const items = takeAll(w);
    const v = new DataView(items.buffer);
    expect(items[5]).toBe(Q.PlotDataDouble);
    expect(v.getBigInt64(5 + 9, true)).toBe(1000n);
    expect(v.getFloat64(5 + 17, true)).toBe(1.5);
    expect(items[30]).toBe(Q.PlotDataFloat);
    expect(v.getBigInt64(30 + 9, true)).toBe(-10n);
    expect(v.getFloat32(30 + 17, true)).toBe(2.5);
    const zone = items.length - 9;
    expect(items[zone]).toBe(Q.ZoneBeginAllocSrcLoc);
    expect(v.getBigInt64(zone + 1, true)).toBe(-10n);
  });

  it('uses the serial reference for memory and lock items and absolute time for lock announce/terminate', () => {
    const w = new QueueWriter();
    w.lockAnnounce(0, 5000, 0x40, true);
    w.lockWait(9, 0, 1000, true);
    w.lockObtain(9, 0, 1200, true);
    w.lockSharedRelease(9, 0, 1100);
    w.memFree(9, 1150, 0x77, 0x500);
    w.lockTerminate(0, 6000);
    expect(toHex(takeAll(w))).toBe(
      toHex(
        hex(`
          58 00 00 00 00 88 13 00 00 00 00 00 00 40 00 00 00 00 00 00 00 01
          1f 09 00 00 00 00 00 00 00 e8 03 00 00 00 00 00 00
          20 09 00 00 00 00 00 00 00 c8 00 00 00 00 00 00 00
          21 00 00 00 00 9c ff ff ff ff ff ff ff 09 00 00 00
          74 00 05 00 00 00 00 00 00
          26 32 00 00 00 00 00 00 00 09 00 00 00 77 00 00 00 00 00 00 00
          59 00 00 00 00 70 17 00 00 00 00 00 00`),
      ),
    );
  });

  it('writes (ptr << 8) | metadata for literal messages with ids above 2^32', () => {
    const w = new QueueWriter();
    w.messageLiteral(1, 0, 0x1234_5678_9abc, 0x0a0b0c, 0x45);
    const items = takeAll(w);
    expect(items[5]).toBe(Q.MessageLiteralColor);
    expect(toHex(items.subarray(14, 17))).toBe('0c 0b 0a');
    expect(new DataView(items.buffer).getBigUint64(17, true)).toBe((0x1234_5678_9abcn << 8n) | 0x45n);
  });

  it('drops non-finite plot values without writing a ThreadContext or moving T', () => {
    const w = new QueueWriter();
    w.plot(1, 0x20, 100, 1, PlotKind.Int);
    w.plot(2, 0x20, 200, NaN, PlotKind.Double);
    w.plot(2, 0x20, 200, Infinity, PlotKind.Int);
    w.plot(2, 0x20, 200, 1e39, PlotKind.Float); // finite double, infinite f32
    w.plot(1, 0x20, 130, 2, PlotKind.Int);
    expect(w.droppedNonFinite).toBe(3);
    const items = takeAll(w);
    expect(items.length).toBe(5 + 25 + 25);
    expect(new DataView(items.buffer).getBigInt64(30 + 9, true)).toBe(30n);
  });

  it('starts over for a new connection: references, current thread and held bytes', () => {
    const w = new QueueWriter();
    w.zoneBegin(1, 100, 0x10);
    w.memAlloc(1, 100, 0x10, 1);
    w.reset();
    expect(w.length).toBe(0);
    w.zoneBegin(1, 100, 0x10);
    w.memAlloc(1, 100, 0x10, 1);
    const items = takeAll(w);
    expect(toHex(items.subarray(0, 6))).toBe('4b 01 00 00 00 15');
    expect(new DataView(items.buffer).getBigInt64(16 + 1, true)).toBe(100n);
  });

  it('rejects transfer types that do not carry text, and out-of-range options', () => {
    const w = new QueueWriter();
    expect(() => w.stringData(Q.SourceLocationPayload, 1, 'x')).toThrow(TypeError);
    expect(() => w.stringData(Q.ZoneText, 1, 'x')).toThrow(/not a keyed text transfer/);
    expect(() => new QueueWriter({ maxFrameSize: TARGET_FRAME_SIZE + 1 })).toThrow(RangeError);
    expect(() => new QueueWriter({ initialCapacity: 10 })).toThrow(/initialCapacity 10/);
    expect(() => new QueueWriter({ onFrame: () => {} }).takeFrame()).toThrow(/onFrame/);
  });
});

describe('QueueWriter: time encoding', () => {
  const delta = fc.oneof(
    fc.integer({ min: 0, max: 65535 }),
    fc.bigInt({ min: 65536n, max: BigInt(PROTOCOL_OFFSET_32BIT) - 1n }).map(Number),
    fc.bigInt({ min: BigInt(PROTOCOL_OFFSET_32BIT), max: 2n ** 46n }).map(Number),
    fc.bigInt({ min: -(2n ** 46n), max: -1n }).map(Number),
    fc.constantFrom(0, 65535, 65536, PROTOCOL_OFFSET_32BIT - 1, PROTOCOL_OFFSET_32BIT, -1),
  );

  it('picks the zone form strictly by delta range, never a small non-negative delta in the 64-bit form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 50n }).map(Number), delta, delta, (start, d1, d2) => {
        const w = new QueueWriter();
        w.zoneBegin(5, start, 0x10);
        w.zoneBegin(5, start + d1, 0x10);
        w.zoneEnd(5, start + d1 + d2);
        const items = takeAll(w);
        const v = new DataView(items.buffer);
        let p = 5;
        p += items[p] === Q.ZoneBegin16 ? 11 : items[p] === Q.ZoneBegin32 ? 13 : 17;
        const expectForm = (dt: number, base: number): void => {
          const t = items[p]!;
          if (dt >= 0 && dt < 65536) expect(t).toBe(base + 2);
          else if (dt >= 0 && dt < PROTOCOL_OFFSET_32BIT) expect(t).toBe(base + 1);
          else {
            expect(t).toBe(base);
            expect(v.getBigInt64(p + 1, true)).toBe(BigInt(dt >= 0 ? dt - PROTOCOL_OFFSET_32BIT : dt));
          }
        };
        expectForm(d1, Q.ZoneBegin);
        p += items[p] === Q.ZoneBegin16 ? 11 : items[p] === Q.ZoneBegin32 ? 13 : 17;
        expectForm(d2, Q.ZoneEnd);
        const { events } = decode(items);
        expect(events).toEqual([
          ['ctx', 5],
          ['begin', 5, start, 0],
          ['begin', 5, start + d1, 0],
          ['end', 5, start + d1 + d2],
        ]);
      }),
      { numRuns: 500 },
    );
  });

  it('reconstructs exact nanoseconds for huge tick values, any initBegin and any timerMul', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 50n), max: 2n ** 50n }),
        fc.oneof(fc.constant(1), fc.double({ min: 1e-3, max: 1e3, noNaN: true })),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), delta), { minLength: 1, maxLength: 40 }),
        (initBegin, timerMul, steps) => {
          const w = new QueueWriter();
          let ticks = Number(initBegin) + 2 ** 42;
          const expected: unknown[][] = [];
          let current = -1;
          for (const [thread, d] of steps) {
            ticks += d;
            if (thread !== current) expected.push(['ctx', thread]);
            current = thread;
            const ns = Math.trunc((ticks - Number(initBegin)) * timerMul);
            if (d % 3 === 0) {
              w.plot(thread, 0x20, ticks, d, PlotKind.Int);
              expected.push(['plot', 0x20, ns, d]);
            } else {
              w.zoneBegin(thread, ticks, 0x10);
              expected.push(['begin', thread, ns, 0]);
            }
          }
          expect(decode(takeAll(w), initBegin, timerMul).events).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('QueueWriter: text', () => {
  const encoder = new TextEncoder();
  const loneSurrogates = fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
  const anyText = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'binary', minLength: 257, maxLength: 2000 }),
    loneSurrogates,
    fc.tuple(fc.string({ unit: 'binary', maxLength: 100 }), loneSurrogates).map(([a, b]) => a + b + a),
  );

  it('encodes text exactly as TextEncoder does, astral characters and lone surrogates included', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const w = new QueueWriter();
        w.stringData(Q.StringData, 0x55, text);
        const items = takeAll(w);
        const expected = encoder.encode(text);
        expect(new DataView(items.buffer).getUint16(9, true)).toBe(expected.length);
        expect(toHex(items.subarray(11))).toBe(toHex(expected));
      }),
      { numRuns: 400 },
    );
  });

  it('cuts text longer than the field at a UTF-8 character boundary', () => {
    const w = new QueueWriter();
    w.zoneText(1, 'é'.repeat(40000)); //             80000 bytes -> 65790 (65791 would split a character)
    w.stringData(Q.StringData, 2, '😀'.repeat(20000)); // 80000 bytes -> 65532
    w.zoneName(1, 'a'.repeat(70000)); //             -> exactly 65791
    const items = takeAll(w);
    const v = new DataView(items.buffer);
    expect(items[5]).toBe(Q.SingleStringData);
    expect(v.getUint16(6, true) + 256).toBe(65790);
    let p = 5 + 3 + 65790;
    expect(items[p]).toBe(Q.ZoneText);
    p++;
    expect(items[p]).toBe(Q.StringData);
    expect(v.getUint16(p + 9, true)).toBe(65532);
    expect(new TextDecoder('utf-8', { fatal: true }).decode(items.subarray(p + 11, p + 11 + 65532))).toBe('😀'.repeat(16383));
    p += 11 + 65532;
    expect(v.getUint16(p + 1, true) + 256).toBe(MAX_STAGED_STRING);
    expect(items[p + 3 + MAX_STAGED_STRING]).toBe(Q.ZoneName);
    expect(MAX_TRANSFER_STRING).toBe(65535);
  });

  it('keeps an inline source location within 65535 bytes, cutting the name first, then the file', () => {
    const w = new QueueWriter();
    w.zoneBeginAllocSrcLoc(1, 10, 0, 1, 'f'.repeat(30000), 'é'.repeat(20000), 'n'.repeat(10000));
    const items = takeAll(w);
    const v = new DataView(items.buffer);
    expect(v.getUint16(5 + 9, true)).toBe(65535);
    const data = items.subarray(5 + 11, 5 + 11 + 65535);
    expect(data.indexOf(0, 8)).toBe(8 + 30000);
    // 65535 - 8 - 2 - 30000 = 35525 bytes left for the file: 17762 two-byte characters
    expect(data.indexOf(0, 8 + 30001)).toBe(8 + 30001 + 35524);
    expect(items[5 + 11 + 65535]).toBe(Q.ZoneBeginAllocSrcLoc);
    const decoder = decode(items).decoder;
    expect(decoder.srclocs.file[0]).toBe('é'.repeat(17762));
    expect(decoder.srclocs.name[0]).toBe('n'); // the one byte the file's last character left
  });

  it('ends the function and file of an inline source location at their first NUL', () => {
    const w = new QueueWriter();
    w.zoneBeginAllocSrcLoc(1, 10, 0x123456, 9, 'fn\0tail', 'file\0.ts', 'name\0kept');
    const items = takeAll(w);
    const length = new DataView(items.buffer).getUint16(5 + 9, true);
    const data = items.subarray(5 + 11, 5 + 11 + length);
    expect(toHex(data)).toBe(toHex(hex('56 34 12 00 09 00 00 00 66 6e 00 66 69 6c 65 00 6e 61 6d 65 00 6b 65 70 74')));
  });
});

describe('QueueWriter: frames', () => {
  /** One random item group, written through the public API. */
  const op = fc.oneof(
    fc.record({ k: fc.constant('zone'), thread: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ k: fc.constant('text'), thread: fc.integer({ min: 1, max: 3 }), text: fc.string({ unit: 'binary', maxLength: 3000 }) }),
    fc.record({ k: fc.constant('transfer'), text: fc.string({ maxLength: 600 }) }),
    fc.record({ k: fc.constant('mem'), thread: fc.integer({ min: 1, max: 3 }) }),
  );

  it('cuts frames only between items, keeps each group together and never passes maxFrameSize', () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 20000 }), fc.array(op, { maxLength: 300 }), (maxFrameSize, ops) => {
        const w = new QueueWriter({ maxFrameSize, initialCapacity: 64 });
        let ticks = 1000;
        let written = 0;
        let biggestGroup = 0;
        for (const o of ops) {
          const before = w.length;
          if (o.k === 'zone') w.zoneBegin(o.thread, (ticks += 70000), 0x10);
          else if (o.k === 'text') w.zoneText(o.thread, o.text);
          else if (o.k === 'transfer') w.stringData(Q.StringData, 0x99, o.text);
          else w.memAlloc(o.thread, (ticks += 3), 0x10, 4);
          // No frame is taken during the loop, so held bytes only grow.
          const group = w.length - before;
          written += group;
          biggestGroup = Math.max(biggestGroup, group);
        }
        const decoder = new QueueDecoder(new NullVisitor());
        let total = 0;
        for (let f = w.takeFrame(); f !== null; f = w.takeFrame()) {
          expect(f.length).toBeGreaterThan(0);
          expect(f.length).toBeLessThanOrEqual(Math.max(maxFrameSize, biggestGroup));
          // Throws ZS_PROTOCOL_ITEM_SPANS_FRAME if an item was split; ZoneText needs its string.
          decoder.walk(f, 0, f.length);
          total += f.length;
        }
        expect(total).toBe(written);
        expect(w.length).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('hands each full frame to the onFrame sink before the item that would overflow it', () => {
    const frames: number[] = [];
    const w = new QueueWriter({ onFrame: (_items, _start, length) => frames.push(length) });
    // 11-byte ZoneBegin16 items after one 5-byte ThreadContext
    const n = 50000;
    for (let i = 0; i < n; i++) w.zoneBegin(1, i, 0x10);
    w.flush();
    w.flush(); // nothing left: no empty frame
    expect(frames.reduce((a, b) => a + b, 0)).toBe(5 + 11 * n);
    expect(frames.length).toBe(3);
    // zoneBegin reserves 22 bytes (a possible ThreadContext + the 64-bit form): a frame is cut
    // when that bound would pass 262144, so every full frame is within 22 bytes of the limit.
    for (const length of frames.slice(0, -1)) {
      expect(length).toBeLessThanOrEqual(TARGET_FRAME_SIZE);
      expect(length + 22).toBeGreaterThan(TARGET_FRAME_SIZE);
    }
    expect(frames[0]).toBe(5 + 11 * 23829);
    expect(frames[1]).toBe(11 * 23830);
    expect(w.length).toBe(0);
  });

  it('keeps a staged string in the same frame as its consumer and ThreadContext', () => {
    const frames: Uint8Array[] = [];
    const w = new QueueWriter({ maxFrameSize: 1000, onFrame: (items, start, length) => frames.push(items.slice(start, start + length)) });
    w.zoneBegin(1, 10, 0x10);
    w.zoneText(2, 'y'.repeat(985)); // 5 + 3 + 985 + 1 = 994 bytes: does not fit after the 16 already there
    w.flush();
    expect(frames.map((f) => f.length)).toEqual([16, 994]);
    expect(toHex(frames[1]!.subarray(0, 8))).toBe('4b 02 00 00 00 70 d9 02');
  });
});
