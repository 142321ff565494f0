import { describe, expect, it } from 'vitest';
import { halves, RowBinaryBuffer } from './row-binary.js';

describe('RowBinaryBuffer', () => {
  it('writes integers little-endian, 64-bit values exactly beyond 2^53 through halves', () => {
    const w = new RowBinaryBuffer(64);
    w.u8(7);
    w.u16(0x1234);
    w.u32(0xdeadbeef);
    w.i64(2 ** 40 + 5);
    const base = 1_795_874_336n * 1_000_000_000n; // an abs ns base > 2^53
    const { lo, hi } = halves(base);
    w.i64Sum(lo, hi, 4_294_967_295 + 17);
    w.i64(-3);
    const b = w.take().bytes;
    expect(b[0]).toBe(7);
    expect(b.readUInt16LE(1)).toBe(0x1234);
    expect(b.readUInt32LE(3)).toBe(0xdeadbeef);
    expect(b.readBigInt64LE(7)).toBe(2n ** 40n + 5n);
    expect(b.readBigInt64LE(15)).toBe(base + 4_294_967_295n + 17n);
    expect(b.readBigInt64LE(23)).toBe(-3n);
  });

  it('writes strings as LEB128 length + UTF-8, growing past its chunk for a long one and keeping room after it', () => {
    const w = new RowBinaryBuffer(16);
    const long = 'é'.repeat(200); // 400 bytes: a two-byte length
    w.string('');
    w.string(long);
    w.i64(1); // the row's next column after the grown string
    const b = w.take().bytes;
    expect(b[0]).toBe(0);
    expect(b[1]).toBe((400 & 0x7f) | 0x80);
    expect(b[2]).toBe(400 >> 7);
    expect(b.subarray(3, 403).toString('utf8')).toBe(long);
    expect(b.readBigInt64LE(403)).toBe(1n);
    expect(b.length).toBe(411);
  });

  it('a short string near the end of a chunk leaves room for the fixed columns after it', () => {
    const w = new RowBinaryBuffer(32);
    for (let i = 0; i < 20; i++) w.u8(i);
    w.string('dyn-0');
    w.string('');
    w.u8(1);
    w.i64(123);
    const b = w.take().bytes;
    expect(b.length).toBe(20 + 6 + 1 + 1 + 8);
    expect(b.readBigInt64LE(28)).toBe(123n);
  });
});
