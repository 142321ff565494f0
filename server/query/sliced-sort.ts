import { ChunkedList, type NumberArray } from './growable.js';

/**
 * An ascending numeric sort of a ChunkedList done in steps (a bottom-up merge sort), so the
 * durations of a source location with millions of zones can be sorted for its percentiles
 * without one multi-hundred-millisecond call. Runs of RUN values are copied out of the list's
 * chunks (each chunk dropped once copied) and sorted natively, then merged pairwise, width
 * doubling, between two buffers:
 *
 *   runs:   [sorted 4096][sorted 4096][sorted 4096][...]      (src)
 *   pass 1: [   sorted 8192          ][   sorted 8192  ...]   (dst, then src <-> dst)
 *   ...     until one run covers the array; the result is whichever buffer was written last.
 *
 * Each step's cost is counted in values copied, sorted or moved (one unit each). Memory: two
 * arrays of the list's length (one when it fits in a run).
 */
const RUN = 4096; // divides ChunkedList.CHUNK: a run never spans two chunks

export class SlicedSort<A extends NumberArray> {
  private src: A;
  private dst: A;
  private readonly n: number;
  /** next run to copy and sort (phase 1), or -1 once the runs are sorted */
  private runAt = 0;
  private width = RUN;
  /** merge state: the pair [lo, mid) + [mid, hi) being merged, read heads i, j, write head k */
  private mid = 0;
  private hi = 0;
  private i = 0;
  private j = 0;
  private k = 0;
  private done = false;

  constructor(
    private readonly list: ChunkedList<A>,
    make: (n: number) => A,
  ) {
    this.n = list.length;
    this.src = make(this.n);
    this.dst = this.n > RUN ? make(this.n) : this.src;
    if (this.n === 0) this.done = true;
  }

  /** The sorted values; only once step() returned true. */
  sorted(): A {
    return this.src;
  }

  /** Sorts or merges about `units` values; true when the whole array is sorted. */
  step(units: number): boolean {
    let left = units;
    while (!this.done && left > 0) {
      if (this.runAt >= 0) {
        left -= this.copyRun();
        continue;
      }
      left -= this.merge(left);
    }
    return this.done;
  }

  private copyRun(): number {
    const at = this.runAt;
    const end = Math.min(this.n, at + RUN);
    const c = Math.floor(at / ChunkedList.CHUNK);
    const chunk = this.list.chunks[c]!;
    const off = at - c * ChunkedList.CHUNK;
    this.src.set(chunk.subarray(off, off + (end - at)), at);
    this.src.subarray(at, end).sort();
    // the chunk is copied out: let it go
    if (end - c * ChunkedList.CHUNK >= chunk.length) this.list.chunks[c] = this.list.chunks[c]!.subarray(0, 0) as A;
    this.runAt = end >= this.n ? -1 : end;
    if (this.runAt < 0) {
      if (this.n <= RUN) this.done = true;
      else this.startPair(0);
    }
    return end - at;
  }

  private startPair(lo: number): void {
    this.i = this.k = lo;
    this.mid = this.j = Math.min(this.n, lo + this.width);
    this.hi = Math.min(this.n, lo + 2 * this.width);
  }

  /** Merges up to `units` values of the current pass; returns the values written (at least 1). */
  private merge(units: number): number {
    const src = this.src;
    const dst = this.dst;
    let { i, j, k } = this;
    const { mid, hi } = this;
    const stop = Math.min(hi, k + units);
    const from = k;
    while (k < stop) {
      if (i < mid && (j >= hi || src[i]! <= src[j]!)) dst[k++] = src[i++]!;
      else dst[k++] = src[j++]!;
    }
    this.i = i;
    this.j = j;
    this.k = k;
    if (k === hi) {
      if (hi < this.n) this.startPair(hi);
      else {
        // pass complete: what was written is the new source
        this.src = dst;
        this.dst = src;
        this.width *= 2;
        if (this.width >= this.n) this.done = true;
        else this.startPair(0);
      }
    }
    return Math.max(1, k - from);
  }
}
