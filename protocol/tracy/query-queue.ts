import { SERVER_QUERY_PRIO_LIMIT } from './queue-types.js';

/** What release() leaves: shared, so a released queue holds no array of its own. */
const EMPTY_WORDS = new Uint32Array(0);

/**
 * The ServerQuery packets a Tracy receiver owes the app, in the order it would send them:
 * two FIFOs (priority types 0..8, then normal 9..15), as tracy-protocol.md 3.3 describes.
 * Pointers are kept as exact u32 halves so the packet carries the app's id bit for bit.
 */
export class QueryQueue {
  private readonly prio = new Fifo();
  private readonly normal = new Fifo();

  get length(): number {
    return this.prio.length + this.normal.length;
  }

  push(type: number, lo: number, hi: number, extra = 0): void {
    (type < SERVER_QUERY_PRIO_LIMIT ? this.prio : this.normal).push(type, lo, hi, extra);
  }

  /**
   * Writes up to `max` 13-byte packets into `out` at `offset` (prio first).
   * @returns the number of packets written
   */
  drainInto(out: Uint8Array, offset: number, max: number): number {
    const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let n = 0;
    while (n < max && this.prio.length > 0) {
      this.prio.shiftInto(v, offset + n * 13);
      n++;
    }
    while (n < max && this.normal.length > 0) {
      this.normal.shiftInto(v, offset + n * 13);
      n++;
    }
    return n;
  }

  clear(): void {
    this.prio.clear();
    this.normal.clear();
  }

  /** Bytes the two FIFOs hold. */
  get bytes(): number {
    return this.prio.bytes + this.normal.bytes;
  }

  /** Empties both FIFOs and drops their storage (a finished stream); they grow again if used. */
  release(): void {
    this.prio.release();
    this.normal.release();
  }
}

/** A growable ring of (type, ptrLo, ptrHi, extra). */
class Fifo {
  private cap = 64;
  private head = 0;
  length = 0;
  private words = new Uint32Array(this.cap * 4);

  push(type: number, lo: number, hi: number, extra: number): void {
    if (this.length === this.cap) this.grow();
    const i = ((this.head + this.length) & (this.cap - 1)) * 4;
    this.words[i] = type;
    this.words[i + 1] = lo;
    this.words[i + 2] = hi;
    this.words[i + 3] = extra;
    this.length++;
  }

  shiftInto(v: DataView, at: number): void {
    const i = this.head * 4;
    v.setUint8(at, this.words[i]!);
    v.setUint32(at + 1, this.words[i + 1]!, true);
    v.setUint32(at + 5, this.words[i + 2]!, true);
    v.setUint32(at + 9, this.words[i + 3]!, true);
    this.head = (this.head + 1) & (this.cap - 1);
    this.length--;
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
  }

  get bytes(): number {
    return this.words.byteLength;
  }

  release(): void {
    this.clear();
    this.cap = 0;
    this.words = EMPTY_WORDS;
  }

  private grow(): void {
    if (this.cap === 0) {
      this.cap = 64;
      this.words = new Uint32Array(this.cap * 4);
      return;
    }
    const words = new Uint32Array(this.cap * 8);
    for (let k = 0; k < this.length; k++) {
      const from = ((this.head + k) & (this.cap - 1)) * 4;
      words.set(this.words.subarray(from, from + 4), k * 4);
    }
    this.words = words;
    this.head = 0;
    this.cap *= 2;
  }
}
