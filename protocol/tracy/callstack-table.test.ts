import { describe, expect, it } from 'vitest';
import { addressHex, CallstackTable, MAX_FRAME_ADDRESSES } from './callstack-table.js';

/** A payload of u64 addresses given as [lo, hi] pairs. */
function payload(addresses: [number, number][]): DataView {
  const v = new DataView(new ArrayBuffer(3 + 8 * addresses.length));
  addresses.forEach(([lo, hi], i) => {
    v.setUint32(3 + 8 * i, lo, true);
    v.setUint32(3 + 8 * i + 4, hi, true);
  });
  return v;
}

describe('CallstackTable', () => {
  it('interns stacks by content and asks for each new address once, in payload order', () => {
    const t = new CallstackTable();
    const asked: string[] = [];
    const ask = (lo: number, hi: number) => asked.push(addressHex(lo, hi));
    const a = payload([[0x1000, 0x5600], [0x2000, 0x5600]]);
    const b = payload([[0x3000, 0x5600], [0x2000, 0x5600]]);
    expect(t.intern(a, 3, 16, ask)).toBe(1);
    expect(t.intern(a, 3, 16, ask)).toBe(1);
    expect(t.intern(b, 3, 16, ask)).toBe(2);
    expect(t.intern(payload([[0x1000, 0x5600]]), 3, 8, ask)).toBe(3); // a prefix is another stack
    expect(asked).toEqual(['0x560000001000', '0x560000002000', '0x560000003000']);
    expect([t.count, t.payloads, t.addressCount, t.unresolved]).toEqual([3, 4, 3, 3]);
    expect([t.depthOf(2), t.addressLo(2, 0), t.addressHi(2, 0), t.depthOf(4)]).toEqual([2, 0x3000, 0x5600, 0]);
  });

  it('keeps answers for addresses it asked for only, and counts their bytes', () => {
    const t = new CallstackTable();
    t.intern(payload([[0x10, 0]]), 3, 8, () => {});
    expect(t.resolved('0x10')).toBeNull();
    const before = t.bytes;
    const added = t.resolve('0x10', { image: 'app', frames: [{ function: 'f', file: 'f.c', line: 3, symbol: '0x8' }] });
    expect(added).toBeGreaterThan(0);
    expect(t.bytes).toBe(before + added);
    expect(t.resolved('0x10')!.frames[0]!.function).toBe('f');
    expect(t.resolve('0x10', { image: 'again', frames: [] })).toBe(0);
    expect(t.resolve('0x99', { image: 'x', frames: [] })).toBe(0);
    expect(t.resolved('0x99')).toBeUndefined();
    expect(t.unresolved).toBe(0);
  });

  it('drops a stack whose new addresses would pass the address limit, and asks for none of them', () => {
    const t = new CallstackTable();
    let asked = 0;
    const n = 4096;
    for (let k = 0; k < MAX_FRAME_ADDRESSES / n; k++) {
      const addrs: [number, number][] = [];
      for (let i = 0; i < n; i++) addrs.push([k * n + i + 1, 1]);
      expect(t.intern(payload(addrs), 3, 8 * n, () => asked++)).toBe(k + 1);
    }
    expect(asked).toBe(MAX_FRAME_ADDRESSES);
    expect(t.intern(payload([[7, 7]]), 3, 8, () => asked++)).toBe(0);
    expect(t.dropped).toBe(1);
    expect(asked).toBe(MAX_FRAME_ADDRESSES);
    // a stack of known addresses still fits
    expect(t.intern(payload([[1, 1], [2, 1]]), 3, 16, () => asked++)).toBe(MAX_FRAME_ADDRESSES / n + 1);
  });

  it('writes kernel addresses (bit 63) exactly', () => {
    expect(addressHex(0x10, 0xffffffff)).toBe('0xffffffff00000010');
    expect(addressHex(0xabc, 0)).toBe('0xabc');
  });
});
