import { ARRAY_OVERHEAD_BYTES, EMPTY_F64, giveArray, takeArray } from './array-pool.js';
import type { Evictable } from './memory-budget.js';
import { SortedSegments } from './sorted-segments.js';

/**
 * A series of (timeNs, value) pairs (plot samples, frame marks, frame start/end pairs, memory
 * usage) in segments of SERIES_ROWS rows. The wire is not time-ordered across Tracy's queues,
 * so each segment keeps itself sorted by time (an insertion from the back: arrivals are almost
 * in order) and knows its time range; queries visit the segments whose range overlaps. A late
 * sample that belongs before the end of an earlier segment is put there, and each full segment
 * on the way hands its latest sample to the next: segments never overlap, so walking them one
 * after another visits every sample in time order.
 */
export const SERIES_ROWS = 8192;
const FIRST_CAPACITY = 64;
/** What a segment costs besides its samples: the object and its two typed arrays. */
export const SERIES_SEGMENT_OBJECT_BYTES = 112 + 2 * ARRAY_OVERHEAD_BYTES;

export class SeriesSegment implements Evictable {
  budgetSlot = -1;
  count = 0;
  time: Float64Array;
  value: Float64Array;
  minTime = Infinity;
  maxTime = -Infinity;
  evicted = false;

  constructor(
    private readonly owner: TimeSeries,
    capacity: number,
  ) {
    this.time = takeArray(Float64Array, capacity);
    this.value = takeArray(Float64Array, capacity);
  }

  /** The newest segment of its series is still being filled. */
  active(): boolean {
    const segs = this.owner.segments;
    return segs[segs.length - 1] === this;
  }

  get bytes(): number {
    return SERIES_SEGMENT_OBJECT_BYTES + this.time.byteLength + this.value.byteLength;
  }

  grow(): number {
    const before = this.bytes;
    const cap = Math.min(SERIES_ROWS, this.time.length * 2);
    const time = takeArray(Float64Array, cap);
    time.set(this.time);
    const value = takeArray(Float64Array, cap);
    value.set(this.value);
    giveArray(this.time);
    giveArray(this.value);
    this.time = time;
    this.value = value;
    return this.bytes - before;
  }

  /**
   * Inserts in time order, after equal times (or before them: `first`, for a sample handed on
   * from the previous segment, which arrived before these). The segment must have room.
   */
  insert(timeNs: number, value: number, first = false): void {
    const time = this.time;
    const values = this.value;
    let i = this.count;
    while (i > 0 && (time[i - 1]! > timeNs || (first && time[i - 1] === timeNs))) {
      time[i] = time[i - 1]!;
      values[i] = values[i - 1]!;
      i--;
    }
    time[i] = timeNs;
    values[i] = value;
    this.count++;
    this.minTime = time[0]!;
    this.maxTime = time[this.count - 1]!;
  }

  /** Index of the first row with time >= t. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    const time = this.time;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (time[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  evict(): void {
    this.owner.onEvicted(this);
    this.drop();
  }

  drop(): void {
    this.evicted = true;
    giveArray(this.time);
    giveArray(this.value);
    this.time = EMPTY_F64;
    this.value = EMPTY_F64;
    this.count = 0;
  }
}

export class TimeSeries extends SortedSegments<SeriesSegment> {
  /** Samples ever added. */
  total = 0;
  min = Infinity;
  max = -Infinity;
  last = NaN;
  lastTime = -Infinity;

  add(timeNs: number, value: number): void {
    let seg = this.segments[this.segments.length - 1];
    if (seg === undefined || seg.count === SERIES_ROWS || seg.evicted) {
      // a series that filled a segment is busy: its next ones are allocated whole
      seg = new SeriesSegment(this, seg !== undefined && seg.count === SERIES_ROWS ? SERIES_ROWS : FIRST_CAPACITY);
      this.segments.push(seg);
      this.budget.register(seg);
    } else if (seg.count === seg.time.length) {
      this.budget.resize(seg, seg.grow());
    }
    // the segment the sample belongs to: the tail, unless it is older than an earlier one's end
    const segments = this.segments;
    let k = segments.length - 1;
    while (k > 0 && segments[k - 1]!.maxTime > timeNs) k--;
    let t = timeNs;
    let v = value;
    for (let i = k; ; i++) {
      const s = segments[i]!;
      if (s.count < s.time.length) {
        s.insert(t, v, i > k); // the tail always has room
        break;
      }
      // full: the sample goes in, the segment's latest moves on to the front of the next one
      const lastT = s.time[s.count - 1]!;
      const lastV = s.value[s.count - 1]!;
      s.count--;
      s.insert(t, v, i > k);
      t = lastT;
      v = lastV;
    }
    this.total++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (timeNs >= this.lastTime) {
      this.lastTime = timeNs;
      this.last = value;
    }
  }

  /** Calls fn for every stored sample with t0 <= time <= t1, in time order. */
  forEachInRange(t0: number, t1: number, fn: (timeNs: number, value: number) => void): void {
    for (const seg of this.segments) {
      if (seg.count === 0 || seg.maxTime < t0 || seg.minTime > t1) continue;
      for (let i = seg.lowerBound(t0); i < seg.count; i++) {
        const t = seg.time[i]!;
        if (t > t1) break;
        fn(t, seg.value[i]!);
      }
    }
  }

  /** Samples stored (not evicted). */
  get stored(): number {
    let n = 0;
    for (const seg of this.segments) n += seg.count;
    return n;
  }

}
