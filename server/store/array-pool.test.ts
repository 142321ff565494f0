import { describe, expect, it } from 'vitest';
import { giveArray, noteFreed, POOL_BYTES, pooledArrayBytes, RECLAIM_ALLOCATED_BYTES, RECLAIM_FREED_BYTES, reclaimState, takeArray } from './array-pool.js';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** A shared array nothing but the returned WeakRef refers to. */
function droppedArray(): WeakRef<Float64Array> {
  return new WeakRef(takeArray(Float64Array, 4096));
}

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

  it('puts numeric columns on SharedArrayBuffers (not counted by V8 as external memory) and bytes on ordinary ones', () => {
    expect(takeArray(Float64Array, 64).buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(takeArray(Int32Array, 64).buffer).toBeInstanceOf(SharedArrayBuffer);
    // TextDecoder refuses shared memory, and zone texts are decoded from Uint8Array columns
    const bytes = takeArray(Uint8Array, 64);
    expect(bytes.buffer).toBeInstanceOf(ArrayBuffer);
    expect(new TextDecoder().decode(bytes.subarray(0, 0))).toBe('');
  });

  it(`runs a GC in the next turn once ${RECLAIM_FREED_BYTES} bytes were dropped, and it returns dropped shared arrays`, async () => {
    await nextTurn(); // a GC due from earlier tests runs first
    const ref = droppedArray();
    const before = reclaimState().gcRuns;
    noteFreed(RECLAIM_FREED_BYTES - 1);
    await nextTurn();
    await nextTurn();
    expect(reclaimState().gcRuns).toBe(before);
    expect(ref.deref()).toBeInstanceOf(Float64Array); // nothing collected it yet
    noteFreed(1);
    expect(reclaimState().gcRuns).toBe(before); // not inside the caller's work
    await nextTurn();
    await nextTurn();
    expect(reclaimState().gcRuns).toBe(before + 1);
    expect(reclaimState().freedSinceGc).toBe(0);
    expect(ref.deref()).toBeUndefined();
  });

  it('counts shared arrays the pool cannot keep as dropped, and allocations towards a GC', async () => {
    await nextTurn();
    const start = reclaimState();
    const a = takeArray(Float64Array, 1 << 20); // 8 MiB: more than the pool keeps beside what it holds
    expect(reclaimState().allocatedSinceGc).toBe(start.allocatedSinceGc + 8 * 2 ** 20);
    for (let i = 0; pooledArrayBytes() + a.byteLength <= POOL_BYTES; i++) giveArray(takeArray(Uint32Array, 1024 + i));
    giveArray(a);
    expect(reclaimState().freedSinceGc).toBe(start.freedSinceGc + 8 * 2 ** 20);
    expect(RECLAIM_ALLOCATED_BYTES).toBeGreaterThan(RECLAIM_FREED_BYTES);
  });
});
