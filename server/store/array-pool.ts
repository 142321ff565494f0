/**
 * Typed arrays of evicted and outgrown store segments, kept for the next segments of the same
 * size instead of being left to the garbage collector. V8 frees an ArrayBuffer's memory only
 * when a GC runs, and it waits for tens of MiB of external-memory growth before running one for
 * that reason: a store that evicts and grows continuously at its budget would otherwise carry
 * that much dead memory on top of the budget. Reused arrays are cleared before they are handed
 * out. At most POOL_BYTES are kept, across all sizes; what does not fit is left to the GC.
 * Not charged to the budget: it is free memory, bounded here.
 */
type Ctor<T> = { new (length: number): T; readonly name: string };
type Pooled = Float64Array | Uint32Array | Uint16Array | Int32Array | Uint8Array;

export const POOL_BYTES = 8 * 2 ** 20;

/**
 * Memory one typed array costs besides its elements: its JSTypedArray and JSArrayBuffer on the
 * V8 heap (192 bytes) and the native backing-store record and allocator overhead (~350 bytes),
 * measured on Node 20 x64 over 200,000 small arrays (RSS 669 bytes each for 128 of data). Store
 * segments charge it per array they hold, so many small tracks are charged what they take.
 */
export const ARRAY_OVERHEAD_BYTES = 544;

/** Shared empty arrays: what a dropped segment is left with (it holds no array of its own). */
export const EMPTY_F64 = new Float64Array(0);
export const EMPTY_U32 = new Uint32Array(0);
export const EMPTY_U16 = new Uint16Array(0);
export const EMPTY_I32 = new Int32Array(0);
export const EMPTY_U8 = new Uint8Array(0);

const free = new Map<string, Pooled[]>();
let pooledBytes = 0;

/** A zero-filled array of `length` elements, reused when one was given back. */
export function takeArray<T extends Pooled>(ctor: Ctor<T>, length: number): T {
  const list = free.get(`${ctor.name}:${length}`);
  const reused = list?.pop() as T | undefined;
  if (reused === undefined) return new ctor(length);
  pooledBytes -= reused.byteLength;
  reused.fill(0);
  return reused;
}

/** Gives back an array nothing reads any more (an evicted or outgrown segment's). */
export function giveArray(array: Pooled): void {
  if (array.length === 0 || pooledBytes + array.byteLength > POOL_BYTES) return;
  const key = `${array.constructor.name}:${array.length}`;
  let list = free.get(key);
  if (list === undefined) free.set(key, (list = []));
  list.push(array);
  pooledBytes += array.byteLength;
}

/** Bytes held by the pool now. */
export function pooledArrayBytes(): number {
  return pooledBytes;
}
