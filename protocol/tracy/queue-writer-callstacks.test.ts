/**
 * The callstack writers of QueueWriter, byte for byte against tracy-protocol.md 4.1, 4.9, 4.10
 * (the minimal CallstackFrame answer of 4.10 included), and decodable by QueueDecoder.
 */
import { describe, expect, it } from 'vitest';
import { QueueDecoder } from './queue-decoder.js';
import { QueueType as Q } from './queue-types.js';
import { MAX_CALLSTACK_DEPTH, QueueWriter } from './queue-writer.js';
import { NullVisitor } from './visitor.js';

function bytesOf(write: (w: QueueWriter) => void): number[] {
  const w = new QueueWriter();
  write(w);
  return [...(w.takeFrame() ?? [])];
}

const u64 = (x: number) => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24, 0, 0, 0, 0];
const u32 = (x: number) => u64(x).slice(0, 4);

describe('QueueWriter callstacks', () => {
  it('writes a sample as CallstackPayload then CallstackSample in the compact form of its C delta, thread first', () => {
    const b = bytesOf((w) => {
      w.callstackSample(7, 1000, [0x100, 0x200], 2);
      w.callstackSample(7, 1000 + 70000, [0x100], 1);
    });
    expect(b).toEqual([
      Q.CallstackPayload, ...u64(0), 16, 0, ...u64(0x100), ...u64(0x200),
      Q.CallstackSample16, ...u32(7), 0xe8, 0x03,
      Q.CallstackPayload, ...u64(0), 8, 0, ...u64(0x100),
      Q.CallstackSample32, ...u32(7), ...u32(70000 - 65536),
    ]);
  });

  it('writes an allocation with a callstack in the wire order CallstackPayload, CallstackSerial, MemNamePayload, MemAllocCallstackNamed', () => {
    const b = bytesOf((w) => w.memAllocCallstack(1, 50, 9, 0x10203, 77, [0x300], 1));
    expect(b).toEqual([
      Q.CallstackPayload, ...u64(0), 8, 0, ...u64(0x300),
      Q.CallstackSerial,
      Q.MemNamePayload, ...u64(77),
      Q.MemAllocCallstackNamed, ...u64(50), ...u32(1), ...u64(9), 0x03, 0x02, 0x01, 0, 0, 0,
    ]);
  });

  it('answers a frame query exactly as the minimal answer of tracy-protocol.md 4.10', () => {
    const b = bytesOf((w) => w.callstackFrame(0x1234, '', 'f', 'a.js', 12));
    expect(b).toEqual([
      Q.SingleStringData8, 0,
      Q.CallstackFrameSize, ...u64(0x1234), 1,
      Q.SingleStringData8, 1, 0x66,
      Q.SecondStringData8, 4, 0x61, 0x2e, 0x6a, 0x73,
      Q.CallstackFrame, ...u32(12), ...u64(0), ...u32(0),
    ]);
  });

  it('writes a file name over 255 bytes as SecondStringData with the length minus 256', () => {
    const file = 'x'.repeat(300);
    const b = bytesOf((w) => w.callstackFrame(1, '', 'f', file, 1));
    const at = 2 + 10 + 3;
    expect(b.slice(at, at + 3)).toEqual([Q.SecondStringData, 44, 0]);
  });

  it('rejects a depth of 0 or above MAX_CALLSTACK_DEPTH with a RangeError', () => {
    const w = new QueueWriter();
    expect(() => w.callstackSample(1, 1, [], 0)).toThrow(new RangeError(`callstack depth 0 is not an integer in 1..${MAX_CALLSTACK_DEPTH}`));
    expect(() => w.memAllocCallstack(1, 1, 1, 1, 0, new Float64Array(MAX_CALLSTACK_DEPTH + 1), MAX_CALLSTACK_DEPTH + 1)).toThrow(RangeError);
  });

  it('produces items the decoder walks without error, counted per type', () => {
    const w = new QueueWriter();
    w.callstackSample(1, 10, [5, 6], 2);
    w.memAllocCallstack(1, 20, 3, 64, 0, [5], 1);
    w.memAllocCallstack(1, 30, 4, 64, 9, [6], 1);
    w.callstackFrame(5, 'img', 'fn', 'file.js', 3);
    const d = new QueueDecoder(new NullVisitor());
    d.setClock(1, 0n);
    const f = w.takeFrame()!;
    d.walk(f, 0, f.length);
    expect(d.histogram[Q.CallstackPayload]).toBe(3);
    expect(d.histogram[Q.CallstackSample16]).toBe(1);
    expect(d.histogram[Q.MemAllocCallstack]).toBe(1);
    expect(d.histogram[Q.MemAllocCallstackNamed]).toBe(1);
    expect(d.histogram[Q.CallstackFrame]).toBe(1);
  });
});
