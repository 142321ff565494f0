import { describe, expect, it } from 'vitest';
import { pooledArrayBytes } from './array-pool.js';
import { ZoneExtras, type ZoneExtra } from './zone-extras.js';

const none: ZoneExtra = { text: null, name: null, color: -1, valueLo: 0, valueHi: -1 };

describe('ZoneExtras', () => {
  it('gives back every text, name, colour and value exactly, non-ASCII texts and extreme values included', () => {
    const extras = new ZoneExtras();
    const want = new Map<number, ZoneExtra>([
      [0, { ...none, text: 'iter=0' }],
      [3, { ...none, name: 'dyn-0', color: 0 }],
      [4, { text: 'ü → 日本 🙂', name: '', color: 0xffffff, valueLo: 0xffffffff, valueHi: 0xffffffff }],
      [9, { ...none, valueLo: 1000, valueHi: 0, callstack: 7 }],
      [10, { ...none, callstack: 65535 }],
      [16383, { ...none, text: 'x'.repeat(5000), color: 0x123456 }],
    ]);
    for (const [slot, extra] of want) extras.add(slot, extra);
    expect(extras.count).toBe(want.size);
    for (let slot = 0; slot < 16384; slot++) {
      const i = extras.find(slot);
      const expected = want.get(slot);
      if (expected === undefined) {
        if (i !== -1) expect(i, `slot ${slot}`).toBe(-1);
      } else {
        expect(extras.at(i), `slot ${slot}`).toEqual(expected);
      }
    }
  });

  it('grows past its first capacity and counts the bytes it adds', () => {
    const extras = new ZoneExtras();
    let bytes = extras.bytes;
    for (let slot = 0; slot < 1000; slot++) {
      bytes += extras.add(slot, { ...none, text: `text ${slot}` });
      expect(extras.bytes).toBe(bytes);
    }
    expect(extras.at(extras.find(999))).toEqual({ ...none, text: 'text 999' });
    // 34 bytes of columns per extra, plus the texts: no per-extra objects
    expect(extras.bytes).toBeLessThan(1024 * 34 + 16 * 1024 + 4096);
  });

  it('gives its arrays to the array pool when dropped', () => {
    const extras = new ZoneExtras();
    for (let slot = 0; slot < 100; slot++) extras.add(slot, { ...none, text: 'abc' });
    const before = pooledArrayBytes();
    extras.drop();
    expect(pooledArrayBytes()).toBeGreaterThan(before);
    expect(extras.count).toBe(0);
    expect(extras.find(5)).toBe(-1);
  });
});
