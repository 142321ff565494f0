import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Typed arrays of evicted and outgrown store segments, kept for the next segments of the same
 * size instead of being left to the garbage collector. Reused arrays are cleared before they are
 * handed out. At most POOL_BYTES are kept, across all sizes; what does not fit is left to the GC.
 * Not charged to the budget: it is free memory, bounded here.
 *
 * **Where the memory comes from, and when it is given back.** V8 counts the memory of ordinary
 * ArrayBuffers allocated since its last full GC against the old generation's room, so a store
 * growing by ~60 MB a stress session made it run about 4 full GCs a session (each freeing almost
 * nothing: the JS heap is ~12 MiB), whose pauses were in most of the slow API requests during
 * an intake (docs/PERFORMANCE.md, "Seventh pass"). Numeric columns therefore live on
 * SharedArrayBuffers, which V8 does not count that way (never shared with another thread: only
 * the accounting differs; Uint8Array columns stay ordinary, as TextDecoder refuses shared memory
 * and zone texts are decoded from them). The other side of that: V8 no longer runs a GC because
 * such memory became garbage either, so this module does. It counts the bytes of shared arrays
 * given back and not pooled (evicted, outgrown, or a deleted session's: every segment's drop()
 * gives its arrays back) and allocated since its last GC, and runs a full GC in the next turn
 * once RECLAIM_FREED_BYTES were dropped or RECLAIM_ALLOCATED_BYTES allocated: dead store memory
 * stays below those bounds, as it stayed below V8's own threshold before.
 */
type Ctor<T> = { new (length: number): T; new (buffer: SharedArrayBuffer): T; readonly name: string; readonly BYTES_PER_ELEMENT: number };
type Pooled = Float64Array | Uint32Array | Uint16Array | Int32Array | Uint8Array;

export const POOL_BYTES = 8 * 2 ** 20;
/** Shared-array bytes dropped (not pooled) that make this module run a GC to give them back. */
export const RECLAIM_FREED_BYTES = 64 * 2 ** 20;
/** Shared-array bytes allocated that make it run one anyway (a bound for garbage it was not told of). */
export const RECLAIM_ALLOCATED_BYTES = 256 * 2 ** 20;
/** Wire bytes a session takes in between two young-generation GCs (reclaimYoungSoon). */
export const RECLAIM_WIRE_BYTES = 8 * 2 ** 20;

let freedSinceGc = 0;
let allocatedSinceGc = 0;
let gcScheduled = false;
let youngScheduled = false;
/** V8's gc(): a full GC, or a young-generation one with { type: 'minor' }. */
type Gc = (options?: { type: 'minor' | 'major' }) => void;
let collect: Gc | null | undefined;
let gcRuns = 0;
let youngRuns = 0;

/** The full GC V8 exposes with --expose-gc, taken without the flag on the command line (null if refused). */
function collector(): Gc | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as Gc;
    } catch {
      collect = null;
    }
  }
  return collect;
}

function reclaimIfDue(): void {
  if (freedSinceGc >= RECLAIM_FREED_BYTES || allocatedSinceGc >= RECLAIM_ALLOCATED_BYTES) reclaimSoon();
}

/**
 * Runs a young-generation GC (a scavenge, ~1 ms) in the next turn. Sessions ask for one every
 * RECLAIM_WIRE_BYTES of wire they take in: their socket reads are 64 KiB ordinary ArrayBuffers
 * that die young, but the walk allocates almost nothing on the JS heap, so V8 scavenges rarely
 * and, with no full GCs during an intake any more, that memory would pile up (and stay in the
 * process: ~15 MiB more RSS after a stress session) until the session's end.
 */
export function reclaimYoungSoon(): void {
  if (youngScheduled || gcScheduled) return;
  youngScheduled = true;
  setImmediate(() => {
    youngScheduled = false;
    youngRuns++;
    collector()?.({ type: 'minor' });
  });
}

/** Runs a full GC now (the decoder warm-up's end, before any session: its ~20 MB of garbage back before the first one). */
export function reclaimNow(): void {
  freedSinceGc = 0;
  allocatedSinceGc = 0;
  gcRuns++;
  collector()?.();
}

/**
 * Runs a full GC in the next turn (once, however often asked before it runs). For what became
 * garbage in bulk at a known moment and that V8, no longer collecting during intakes, would
 * otherwise keep until much later: Session.end asks for one after a large stream (its socket
 * reads, ~20 MB for a stress session, were ordinary ArrayBuffers that its decoding kept long
 * enough to reach the old generation).
 */
export function reclaimSoon(): void {
  if (gcScheduled) return;
  gcScheduled = true;
  // not inside the caller's work (a decode slice, an eviction): the next turn
  setImmediate(() => {
    gcScheduled = false;
    reclaimNow();
  });
}

/** `bytes` of shared arrays became garbage (the arrays giveArray cannot pool): counted towards the next GC. */
export function noteFreed(bytes: number): void {
  freedSinceGc += bytes;
  reclaimIfDue();
}

/** GCs this module ran, and the bytes counted towards the next one (for tests and metrics). */
export function reclaimState(): { gcRuns: number; youngRuns: number; freedSinceGc: number; allocatedSinceGc: number } {
  return { gcRuns, youngRuns, freedSinceGc, allocatedSinceGc };
}

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
  if (reused === undefined) {
    // without a GC to ask for (V8 refused the flag), ordinary memory, which V8 collects itself
    if (ctor === (Uint8Array as unknown) || collector() === null) return new ctor(length);
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    allocatedSinceGc += bytes;
    reclaimIfDue();
    return new ctor(new SharedArrayBuffer(bytes));
  }
  pooledBytes -= reused.byteLength;
  reused.fill(0);
  return reused;
}

/** Gives back an array nothing reads any more (an evicted or outgrown segment's). */
export function giveArray(array: Pooled): void {
  if (array.length === 0) return;
  if (pooledBytes + array.byteLength > POOL_BYTES) {
    if (array.buffer instanceof SharedArrayBuffer) noteFreed(array.byteLength);
    return;
  }
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
