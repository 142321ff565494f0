import { ARRAY_OVERHEAD_BYTES, EMPTY_F64, EMPTY_I32, EMPTY_U32, EMPTY_U8, giveArray, takeArray } from './array-pool.js';
import type { Evictable } from './memory-budget.js';
import { SortedSegments } from './sorted-segments.js';

/**
 * Messages (time, thread, colour, severity/source, text) in time-sorted segments of up to
 * MESSAGE_ROWS rows. A segment's columns start at FIRST_CAPACITY rows and double: a session
 * with a few hundred messages holds a few KiB, not a whole segment (100 KiB).
 */
export const MESSAGE_ROWS = 4096;
const FIRST_CAPACITY = 256;
const ROW_BYTES = 8 + 4 + 4 + 1 + 8 + 4 + 16; // columns + the text slot; text bytes counted apart
/** What a segment costs besides its rows: the object, its text array and six typed arrays. */
export const MESSAGE_SEGMENT_OBJECT_BYTES = 192 + 6 * ARRAY_OVERHEAD_BYTES;

export interface StoredMessage {
  timeNs: number;
  thread: number;
  /** 0xRRGGBB or -1 */
  color: number;
  /** severity << 4 | source */
  metadata: number;
  text: string;
  /** callstack id (the session's CallstackTable), 0 = none */
  callstack: number;
}

/** Resolves the text of a literal message (a string id the app answers later). */
export type TextResolver = (ptr: number) => string | undefined;

export class MessageSegment implements Evictable {
  budgetSlot = -1;
  count = 0;
  time: Float64Array;
  thread: Uint32Array;
  color: Int32Array;
  metadata: Uint8Array;
  /** The text, or null for a literal message whose text is the string `textPtr[i]`. */
  text: (string | null)[] = [];
  textPtr: Float64Array;
  /** callstack id, 0 = none */
  callstack: Uint32Array;
  minTime = Infinity;
  maxTime = -Infinity;
  textBytes = 0;
  evicted = false;

  constructor(
    private readonly owner: MessageLog,
    capacity: number,
  ) {
    this.time = takeArray(Float64Array, capacity);
    this.thread = takeArray(Uint32Array, capacity);
    this.color = takeArray(Int32Array, capacity);
    this.metadata = takeArray(Uint8Array, capacity);
    this.textPtr = takeArray(Float64Array, capacity);
    this.callstack = takeArray(Uint32Array, capacity);
  }

  get capacity(): number {
    return this.time.length;
  }

  /** The newest segment of its series is still being filled. */
  active(): boolean {
    const segs = this.owner.segments;
    return segs[segs.length - 1] === this;
  }

  get bytes(): number {
    return MESSAGE_SEGMENT_OBJECT_BYTES + this.capacity * ROW_BYTES + this.textBytes;
  }

  /** Doubles the columns (at most MESSAGE_ROWS); returns the bytes added. */
  grow(): number {
    const cap = Math.min(MESSAGE_ROWS, this.capacity * 2);
    const added = (cap - this.capacity) * ROW_BYTES;
    this.time = regrow(this.time, takeArray(Float64Array, cap));
    this.thread = regrow(this.thread, takeArray(Uint32Array, cap));
    this.color = regrow(this.color, takeArray(Int32Array, cap));
    this.metadata = regrow(this.metadata, takeArray(Uint8Array, cap));
    this.textPtr = regrow(this.textPtr, takeArray(Float64Array, cap));
    this.callstack = regrow(this.callstack, takeArray(Uint32Array, cap));
    return added;
  }

  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  evict(): void {
    this.owner.onEvicted(this);
    this.drop();
  }

  /** Gives the columns back to the array pool (evicted or released: nothing reads them again). */
  drop(): void {
    this.evicted = true;
    giveArray(this.time);
    giveArray(this.thread);
    giveArray(this.color);
    giveArray(this.metadata);
    giveArray(this.textPtr);
    giveArray(this.callstack);
    this.callstack = EMPTY_U32;
    this.time = EMPTY_F64;
    this.thread = EMPTY_U32;
    this.color = EMPTY_I32;
    this.metadata = EMPTY_U8;
    this.textPtr = EMPTY_F64;
    this.text = [];
    this.count = 0;
  }
}

/** `to` with `from` copied in; `from` goes back to the pool. */
function regrow<T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  giveArray(from);
  return to;
}

export class MessageLog extends SortedSegments<MessageSegment> {
  total = 0;
  /** Where the last message went (add keeps segments sorted, so not always at the end). */
  private lastSegment: MessageSegment | null = null;
  private lastRow = 0;

  /** `text` null: a literal message, its text is the string `textPtr`. */
  add(timeNs: number, thread: number, color: number, metadata: number, text: string | null, textPtr = 0): void {
    let seg = this.segments[this.segments.length - 1];
    if (seg === undefined || seg.count === MESSAGE_ROWS || seg.evicted) {
      // a log that filled a segment is busy: its next ones are allocated whole
      seg = new MessageSegment(this, seg !== undefined && seg.count === MESSAGE_ROWS ? MESSAGE_ROWS : FIRST_CAPACITY);
      this.segments.push(seg);
      this.budget.register(seg);
    } else if (seg.count === seg.capacity) {
      this.budget.resize(seg, seg.grow());
    }
    let i = seg.count;
    while (i > 0 && seg.time[i - 1]! > timeNs) {
      seg.time[i] = seg.time[i - 1]!;
      seg.thread[i] = seg.thread[i - 1]!;
      seg.color[i] = seg.color[i - 1]!;
      seg.metadata[i] = seg.metadata[i - 1]!;
      seg.text[i] = seg.text[i - 1]!;
      seg.textPtr[i] = seg.textPtr[i - 1]!;
      seg.callstack[i] = seg.callstack[i - 1]!;
      i--;
    }
    seg.time[i] = timeNs;
    seg.thread[i] = thread;
    seg.color[i] = color;
    seg.metadata[i] = metadata;
    seg.text[i] = text;
    seg.textPtr[i] = textPtr;
    seg.callstack[i] = 0;
    seg.count++;
    this.lastSegment = seg;
    this.lastRow = i;
    if (timeNs < seg.minTime) seg.minTime = timeNs;
    if (timeNs > seg.maxTime) seg.maxTime = timeNs;
    const textBytes = 2 * (text?.length ?? 0);
    seg.textBytes += textBytes;
    this.budget.resize(seg, textBytes);
    this.total++;
  }

  /** The message added last carries callstack `id` (reported right after it). */
  setLastCallstack(id: number): void {
    const seg = this.lastSegment;
    if (seg !== null && !seg.evicted && this.lastRow < seg.count) seg.callstack[this.lastRow] = id;
  }

  /** Stored messages with t0 <= time <= t1 in time order (equal times: arrival order), the first `limit`. */
  inRange(t0: number, t1: number, resolve: TextResolver, limit = Infinity): StoredMessage[] {
    // Each segment is sorted, but a late message (threads flush their queues in turns) can
    // land in the next segment, before the previous one's end: then sort the whole range.
    let ordered = true;
    let prevMax = -Infinity;
    for (const seg of this.segments) {
      if (seg.count === 0 || seg.maxTime < t0 || seg.minTime > t1) continue;
      if (seg.minTime < prevMax) ordered = false;
      if (seg.maxTime > prevMax) prevMax = seg.maxTime;
    }
    const cap = ordered ? limit : Infinity;
    const out: StoredMessage[] = [];
    for (const seg of this.segments) {
      if (seg.count === 0 || seg.maxTime < t0 || seg.minTime > t1) continue;
      for (let i = seg.lowerBound(t0); i < seg.count && out.length < cap; i++) {
        const t = seg.time[i]!;
        if (t > t1) break;
        out.push({ timeNs: t, thread: seg.thread[i]!, color: seg.color[i]!, metadata: seg.metadata[i]!, text: seg.text[i] ?? resolve(seg.textPtr[i]!) ?? '', callstack: seg.callstack[i]! });
      }
    }
    if (ordered) return out;
    out.sort((a, b) => a.timeNs - b.timeNs); // stable: segments are visited in arrival order
    return out.length > limit ? out.slice(0, limit) : out;
  }

}
