import { ARRAY_OVERHEAD_BYTES, EMPTY_I32, EMPTY_U16, EMPTY_U32, EMPTY_U8, giveArray, takeArray } from './array-pool.js';

/** Text, name, colour and value of one zone (only zones that have any). */
export interface ZoneExtra {
  text: string | null;
  name: string | null;
  /** 0xRRGGBB, or -1 */
  color: number;
  /** ZoneValue as u32 halves of the u64, or valueHi = -1 when none */
  valueLo: number;
  valueHi: number;
  /** callstack id (the session's CallstackTable), 0 = none; absent counts as 0 */
  callstack?: number;
}

const FIRST_CAPACITY = 16;
const FIRST_CHARS = 256;
const COLOR_MASK = 0x1ffffff;
const HAS_VALUE = 1 << 25;
/** What the columns cost besides their elements: this object and five typed arrays. */
const OBJECT_BYTES = 96 + 6 * ARRAY_OVERHEAD_BYTES;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/**
 * The extras of one zone segment as columns instead of one object and two strings per zone:
 * an ended session keeps its extras as a few typed arrays (bytes the budget counts exactly, and
 * that go back to the array pool when the segment is evicted or released) rather than
 * thousands of small heap objects that only a major GC frees. Texts and names are kept as UTF-8
 * (decoded again when read: they came out of a TextDecoder, so the round trip is exact).
 *
 * Per extra (34 bytes): slot u16, colour + 1 with a has-value bit (i32), value u32 x2, text and
 * name spans u32 x4 (start, length + 1; 0 = none), callstack id u32, plus the UTF-8 bytes. Extras are added in ascending slot order (zones end in order
 * within a segment), so a lookup is a binary search.
 */
export class ZoneExtras {
  count = 0;
  private rows: Uint16Array;
  /** Per extra: colour + 1 (0 = none) in bits 0-24, HAS_VALUE. */
  private meta: Int32Array;
  /** Per extra: value lo, value hi. */
  private values: Uint32Array;
  /** Per extra: text start, text length + 1, name start, name length + 1 (length + 1 = 0: none). */
  private spans: Uint32Array;
  /** Per extra: callstack id (0 = none). */
  private stacks: Uint32Array;
  private chars: Uint8Array;
  private charsUsed = 0;

  constructor() {
    this.rows = takeArray(Uint16Array, FIRST_CAPACITY);
    this.meta = takeArray(Int32Array, FIRST_CAPACITY);
    this.values = takeArray(Uint32Array, 2 * FIRST_CAPACITY);
    this.spans = takeArray(Uint32Array, 4 * FIRST_CAPACITY);
    this.stacks = takeArray(Uint32Array, FIRST_CAPACITY);
    this.chars = takeArray(Uint8Array, FIRST_CHARS);
  }

  /** Bytes held: the arrays' capacity and the objects around them. */
  get bytes(): number {
    return this.rows.byteLength + this.meta.byteLength + this.values.byteLength + this.spans.byteLength + this.stacks.byteLength + this.chars.byteLength + OBJECT_BYTES;
  }

  /**
   * Appends the extra of `slot` (greater than every slot added before).
   * @returns the bytes this added (array growth)
   */
  add(slot: number, extra: ZoneExtra): number {
    const before = this.bytes;
    const i = this.count;
    if (i === this.rows.length) this.growRecords();
    this.rows[i] = slot;
    const hasValue = extra.valueHi !== -1;
    this.meta[i] = ((extra.color + 1) & COLOR_MASK) | (hasValue ? HAS_VALUE : 0);
    this.values[2 * i] = extra.valueLo;
    this.values[2 * i + 1] = hasValue ? extra.valueHi : 0;
    this.putText(extra.text, 4 * i);
    this.putText(extra.name, 4 * i + 2);
    this.stacks[i] = extra.callstack ?? 0;
    this.count = i + 1;
    return this.bytes - before;
  }

  /** Index of `slot`'s extra, or -1. */
  find(slot: number): number {
    const rows = this.rows;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rows[mid]! < slot) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count && rows[lo] === slot ? lo : -1;
  }

  /** The extra at index `i` (0 <= i < count), as a new object. */
  at(i: number): ZoneExtra {
    const meta = this.meta[i]!;
    const hasValue = (meta & HAS_VALUE) !== 0;
    const extra: ZoneExtra = {
      text: this.text(4 * i),
      name: this.text(4 * i + 2),
      color: (meta & COLOR_MASK) - 1,
      valueLo: this.values[2 * i]!,
      valueHi: hasValue ? this.values[2 * i + 1]! : -1,
    };
    const callstack = this.stacks[i]!;
    if (callstack !== 0) extra.callstack = callstack;
    return extra;
  }

  /** The ZoneName override of the extra at index `i`, or null (no object made for the rest). */
  nameAt(i: number): string | null {
    return this.text(4 * i + 2);
  }

  /** Gives the arrays back to the array pool; the extras are gone. */
  drop(): void {
    giveArray(this.rows);
    giveArray(this.meta);
    giveArray(this.values);
    giveArray(this.spans);
    giveArray(this.stacks);
    giveArray(this.chars);
    this.rows = EMPTY_U16;
    this.meta = EMPTY_I32;
    this.values = EMPTY_U32;
    this.spans = EMPTY_U32;
    this.stacks = EMPTY_U32;
    this.chars = EMPTY_U8;
    this.count = 0;
    this.charsUsed = 0;
  }

  private text(at: number): string | null {
    const length = this.spans[at + 1]!;
    if (length === 0) return null;
    const start = this.spans[at]!;
    return decoder.decode(this.chars.subarray(start, start + length - 1));
  }

  private putText(text: string | null, at: number): void {
    if (text === null) {
      this.spans[at] = 0;
      this.spans[at + 1] = 0;
      return;
    }
    // room for ASCII first; UTF-8 takes at most 3 bytes per UTF-16 unit, made room for if needed
    this.reserve(this.charsUsed + text.length);
    let { read, written } = encoder.encodeInto(text, this.chars.subarray(this.charsUsed));
    if (read < text.length) {
      this.reserve(this.charsUsed + 3 * text.length);
      ({ read, written } = encoder.encodeInto(text, this.chars.subarray(this.charsUsed)));
    }
    this.spans[at] = this.charsUsed;
    this.spans[at + 1] = written + 1;
    this.charsUsed += written;
  }

  private reserve(bytes: number): void {
    if (bytes <= this.chars.length) return;
    let size = Math.max(FIRST_CHARS, this.chars.length * 2);
    while (size < bytes) size *= 2;
    const grown = takeArray(Uint8Array, size);
    grown.set(this.chars.subarray(0, this.charsUsed));
    giveArray(this.chars);
    this.chars = grown;
  }

  private growRecords(): void {
    const cap = Math.max(FIRST_CAPACITY, this.rows.length * 2);
    const rows = takeArray(Uint16Array, cap);
    rows.set(this.rows);
    const meta = takeArray(Int32Array, cap);
    meta.set(this.meta);
    const values = takeArray(Uint32Array, 2 * cap);
    values.set(this.values);
    const spans = takeArray(Uint32Array, 4 * cap);
    spans.set(this.spans);
    const stacks = takeArray(Uint32Array, cap);
    stacks.set(this.stacks);
    giveArray(this.stacks);
    this.stacks = stacks;
    giveArray(this.rows);
    giveArray(this.meta);
    giveArray(this.values);
    giveArray(this.spans);
    this.rows = rows;
    this.meta = meta;
    this.values = values;
    this.spans = spans;
  }
}
