import type { Evictable } from './memory-budget.js';
import { SortedSegments } from './sorted-segments.js';

/** Messages (time, thread, colour, severity/source, text) in time-sorted segments. */
export const MESSAGE_ROWS = 4096;
const ROW_BYTES = 8 + 4 + 4 + 1 + 8 + 16; // columns + the text slot; text bytes counted apart

export interface StoredMessage {
  timeNs: number;
  thread: number;
  /** 0xRRGGBB or -1 */
  color: number;
  /** severity << 4 | source */
  metadata: number;
  text: string;
}

/** Resolves the text of a literal message (a string id the app answers later). */
export type TextResolver = (ptr: number) => string | undefined;

export class MessageSegment implements Evictable {
  budgetSlot = -1;
  count = 0;
  readonly time = new Float64Array(MESSAGE_ROWS);
  readonly thread = new Uint32Array(MESSAGE_ROWS);
  readonly color = new Int32Array(MESSAGE_ROWS);
  readonly metadata = new Uint8Array(MESSAGE_ROWS);
  /** The text, or null for a literal message whose text is the string `textPtr[i]`. */
  text: (string | null)[] = [];
  readonly textPtr = new Float64Array(MESSAGE_ROWS);
  minTime = Infinity;
  maxTime = -Infinity;
  textBytes = 0;
  evicted = false;

  constructor(private readonly owner: MessageLog) {}

  /** The newest segment of its series is still being filled. */
  active(): boolean {
    const segs = this.owner.segments;
    return segs[segs.length - 1] === this;
  }

  get bytes(): number {
    return MESSAGE_ROWS * ROW_BYTES + this.textBytes;
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
    this.evicted = true;
    this.owner.onEvicted(this);
    this.text = [];
  }
}

export class MessageLog extends SortedSegments<MessageSegment> {
  total = 0;

  /** `text` null: a literal message, its text is the string `textPtr`. */
  add(timeNs: number, thread: number, color: number, metadata: number, text: string | null, textPtr = 0): void {
    let seg = this.segments[this.segments.length - 1];
    if (seg === undefined || seg.count === MESSAGE_ROWS || seg.evicted) {
      seg = new MessageSegment(this);
      this.segments.push(seg);
      this.budget.register(seg);
    }
    let i = seg.count;
    while (i > 0 && seg.time[i - 1]! > timeNs) {
      seg.time[i] = seg.time[i - 1]!;
      seg.thread[i] = seg.thread[i - 1]!;
      seg.color[i] = seg.color[i - 1]!;
      seg.metadata[i] = seg.metadata[i - 1]!;
      seg.text[i] = seg.text[i - 1]!;
      seg.textPtr[i] = seg.textPtr[i - 1]!;
      i--;
    }
    seg.time[i] = timeNs;
    seg.thread[i] = thread;
    seg.color[i] = color;
    seg.metadata[i] = metadata;
    seg.text[i] = text;
    seg.textPtr[i] = textPtr;
    seg.count++;
    if (timeNs < seg.minTime) seg.minTime = timeNs;
    if (timeNs > seg.maxTime) seg.maxTime = timeNs;
    const textBytes = 2 * (text?.length ?? 0);
    seg.textBytes += textBytes;
    this.budget.resize(seg, textBytes);
    this.total++;
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
        out.push({ timeNs: t, thread: seg.thread[i]!, color: seg.color[i]!, metadata: seg.metadata[i]!, text: seg.text[i] ?? resolve(seg.textPtr[i]!) ?? '' });
      }
    }
    if (ordered) return out;
    out.sort((a, b) => a.timeNs - b.timeNs); // stable: segments are visited in arrival order
    return out.length > limit ? out.slice(0, limit) : out;
  }

}
