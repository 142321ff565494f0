/** A Float64Array that grows by doubling; `view()` is the filled part (no copy). */
export class F64List {
  data: Float64Array;
  length = 0;
  constructor(capacity = 256) {
    this.data = new Float64Array(capacity);
  }
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** An Int32Array that grows by doubling. */
export class I32List {
  data: Int32Array;
  length = 0;
  constructor(capacity = 256) {
    this.data = new Int32Array(capacity);
  }
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** The typed arrays a ChunkedList can hold. */
export type NumberArray = Float64Array | Uint32Array;

/**
 * A list of numbers in fixed chunks of CHUNK values: it grows without copying what it holds (a
 * doubling array of millions of values would copy tens of MiB in one go). Only the first chunk
 * starts small and grows (x8) to CHUNK, since most lists stay short.
 */
export class ChunkedList<A extends NumberArray> {
  static readonly CHUNK = 65_536;
  readonly chunks: A[] = [];
  length = 0;
  private tail: A | null = null;
  private at = ChunkedList.CHUNK;

  constructor(private readonly make: (n: number) => A) {}

  push(x: number): void {
    if (this.at === ChunkedList.CHUNK) {
      this.tail = this.make(this.chunks.length === 0 ? 64 : ChunkedList.CHUNK);
      this.chunks.push(this.tail);
      this.at = 0;
    } else if (this.at === this.tail!.length) {
      const grown = this.make(Math.min(ChunkedList.CHUNK, this.tail!.length * 8));
      grown.set(this.tail!);
      this.tail = grown;
      this.chunks[this.chunks.length - 1] = grown;
    }
    this.tail![this.at++] = x;
    this.length++;
  }
}

/**
 * Zone durations (ns) for exact percentiles in 4 bytes each: whole ns below 2^32 - 1 (what the
 * store keeps inline, nearly all) as u32, any other (long, negative or fractional) as f64 apart.
 * Sorted, the u32 ones all come before the others.
 */
export class DurationList {
  readonly short = new ChunkedList((n) => new Uint32Array(n));
  readonly long = new ChunkedList((n) => new Float64Array(n));
  min = Infinity;
  max = -Infinity;

  get length(): number {
    return this.short.length + this.long.length;
  }

  push(ns: number): void {
    if (ns >= 0 && ns < 0xffffffff && ns === Math.floor(ns)) this.short.push(ns);
    else this.long.push(ns);
    if (ns < this.min) this.min = ns;
    if (ns > this.max) this.max = ns;
  }
}
