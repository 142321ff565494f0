import { describe, expect, it } from 'vitest';
import { giveArray, POOL_BYTES, pooledArrayBytes, takeArray } from './array-pool.js';

describe('array pool', () => {
  it('hands a given-back array out again for the same type and length, cleared', () => {
    const a = takeArray(Float64Array, 1024);
    a.fill(7);
    giveArray(a);
    const before = pooledArrayBytes();
    const b = takeArray(Float64Array, 1024);
    expect(b).toBe(a);
    expect(b.every((x) => x === 0)).toBe(true);
    expect(pooledArrayBytes()).toBe(before - 8192);
    expect(takeArray(Uint32Array, 1024)).not.toBe(a); // another type is another size class
  });

  it(`keeps at most ${POOL_BYTES} bytes, leaving the rest to the garbage collector`, () => {
    const big = Array.from({ length: 2 * (POOL_BYTES / (16384 * 8)) }, () => new Float64Array(16384));
    for (const a of big) giveArray(a);
    expect(pooledArrayBytes()).toBeLessThanOrEqual(POOL_BYTES);
    expect(pooledArrayBytes()).toBeGreaterThan(POOL_BYTES - 16384 * 8);
  });
});
