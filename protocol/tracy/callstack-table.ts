/**
 * The callstacks of one stream, as a Tracy receiver keeps them (tracy-protocol.md 4.10): every
 * CallstackPayload is interned by content (the client sends the full payload before every
 * Callstack item, with no deduplication of its own), so a stack is one small id (1, 2, ...; 0 is
 * "no callstack"); every return address seen in a new stack is resolved once through a
 * CallstackFrame query, and the answer (image, then one frame per inlined function, innermost
 * first) is kept by address.
 *
 * Bounded: at most MAX_CALLSTACKS distinct stacks, MAX_CALLSTACK_ADDRESSES addresses over all of
 * them and MAX_FRAME_ADDRESSES distinct addresses (a payload's u16 length holds at most 8,191); a stack past a limit is not kept (id 0,
 * counted in `dropped`) and none of its addresses is queried. Addresses are u64 kept as two u32
 * halves; interning allocates nothing for a stack seen before.
 */

/** Distinct stacks kept per stream. */
export const MAX_CALLSTACKS = 65_536;
/** Return addresses kept over all distinct stacks (two u32 words each: 8 MiB). */
export const MAX_CALLSTACK_ADDRESSES = 1 << 20;
/** Distinct return addresses resolved per stream. */
export const MAX_FRAME_ADDRESSES = 65_536;
/** Frames one address may resolve to (Tracy's receiver asserts 64). */
export const MAX_FRAMES_PER_ADDRESS = 64;

/** One frame of a resolved address (an inlined function or the containing one). */
export interface ResolvedFrame {
  function: string;
  file: string;
  line: number;
  /** The symbol's start address as hex ('0x...'), or '' when the client did not know it. */
  symbol: string;
}

/** What the client answered for one return address. */
export interface ResolvedAddress {
  image: string;
  /** innermost first: every frame but the last was inlined into the one after it */
  frames: ResolvedFrame[];
}

/** u64 halves to '0x...' (exact; kernel addresses have bit 63 set). */
export function addressHex(lo: number, hi: number): string {
  return hi === 0 ? `0x${lo.toString(16)}` : `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

/** Estimated heap bytes of one JS string of `n` UTF-16 units. */
function stringBytes(n: number): number {
  return 24 + 2 * n;
}

export class CallstackTable {
  /** Distinct stacks kept; ids run 1..count. */
  count = 0;
  /** Payloads that were not kept (a limit was reached). */
  dropped = 0;
  /** Payloads interned, kept or not (one per CallstackPayload item). */
  payloads = 0;
  /** Distinct addresses seen in kept stacks (queried or resolved). */
  addressCount = 0;
  /** Bytes this table holds (arrays and resolved frames); grows only. */
  bytes = 0;

  /** Return addresses of all stacks, (lo, hi) per address. */
  private words = new Uint32Array(2 * 1024);
  private wordsUsed = 0;
  /** Per id: first word and address count (index 0 unused). */
  private start = new Uint32Array(256);
  private depth = new Uint16Array(256);
  /** Per id: the next id with the same hash (0: none). */
  private nextSameHash = new Uint32Array(256);
  private readonly byHash = new Map<number, number>();
  /** Per stored address (word / 2): its distinct address index, so reading a stack needs no key. */
  private slots = new Uint32Array(1024);
  /** Distinct addresses: addressHex string -> index; by index, the string and the answer (null while asked for). */
  private readonly addressIndex = new Map<string, number>();
  private readonly hexes: string[] = [];
  private readonly answers: (ResolvedAddress | null)[] = [];

  constructor() {
    this.bytes = this.words.byteLength + this.slots.byteLength + this.start.byteLength + this.depth.byteLength + this.nextSameHash.byteLength;
  }

  /**
   * Interns the payload at `v`'s bytes [at, at + length) (u64 addresses, little endian).
   * @param onNewAddress called with each address not seen before, in payload order, when the
   *   stack is new (the receiver queries it)
   * @returns the stack id, or 0 when a limit is reached
   */
  intern(v: DataView, at: number, length: number, onNewAddress: (lo: number, hi: number) => void): number {
    this.payloads++;
    const n = length >>> 3;
    let h = 0x811c9dc5 ^ n;
    for (let i = 0; i < 2 * n; i++) h = Math.imul(h ^ v.getUint32(at + 4 * i, true), 0x01000193);
    for (let id = this.byHash.get(h) ?? 0; id !== 0; id = this.nextSameHash[id]!) {
      if (this.depth[id] !== n) continue;
      const w = this.start[id]!;
      let same = true;
      for (let i = 0; i < 2 * n && same; i++) same = this.words[w + i] === v.getUint32(at + 4 * i, true);
      if (same) return id;
    }
    if (this.count + 1 >= MAX_CALLSTACKS || (this.wordsUsed >>> 1) + n > MAX_CALLSTACK_ADDRESSES) {
      this.dropped++;
      return 0;
    }
    // the new addresses first: a stack whose addresses would pass the limit is not kept
    let fresh = 0;
    for (let i = 0; i < n; i++) {
      const key = addressHex(v.getUint32(at + 8 * i, true), v.getUint32(at + 8 * i + 4, true));
      if (!this.addressIndex.has(key)) fresh++;
    }
    if (this.addressCount + fresh > MAX_FRAME_ADDRESSES) {
      this.dropped++;
      return 0;
    }
    const id = ++this.count;
    this.ensureIds(id + 1);
    this.ensureWords(this.wordsUsed + 2 * n);
    const w = this.wordsUsed;
    for (let i = 0; i < 2 * n; i++) this.words[w + i] = v.getUint32(at + 4 * i, true);
    this.wordsUsed += 2 * n;
    this.start[id] = w;
    this.depth[id] = n;
    this.nextSameHash[id] = this.byHash.get(h) ?? 0;
    this.byHash.set(h, id);
    this.bytes += 64; // the Map entry
    for (let i = 0; i < n; i++) {
      const lo = this.words[w + 2 * i]!;
      const hi = this.words[w + 2 * i + 1]!;
      const key = addressHex(lo, hi);
      let index = this.addressIndex.get(key);
      if (index === undefined) {
        index = this.hexes.length;
        this.addressIndex.set(key, index);
        this.hexes.push(key);
        this.answers.push(null);
        this.addressCount++;
        this.bytes += 80 + stringBytes(key.length);
        onNewAddress(lo, hi);
      }
      this.slots[(w >>> 1) + i] = index;
    }
    return id;
  }

  /** The distinct address index of address `i` of stack `id` (see addressAt, answerAt). */
  addressIndexAt(id: number, i: number): number {
    return this.slots[(this.start[id]! >>> 1) + i]!;
  }

  /** The address of index `index` as '0x...'. */
  addressAt(index: number): string {
    return this.hexes[index]!;
  }

  /** The answer for address index `index` (null while unanswered). */
  answerAt(index: number): ResolvedAddress | null {
    return this.answers[index] ?? null;
  }

  /** Addresses of stack `id`, innermost first. */
  depthOf(id: number): number {
    return id > 0 && id <= this.count ? this.depth[id]! : 0;
  }

  addressLo(id: number, i: number): number {
    return this.words[this.start[id]! + 2 * i]!;
  }

  addressHi(id: number, i: number): number {
    return this.words[this.start[id]! + 2 * i + 1]!;
  }

  /** The answer for an address ('0x...'): undefined when never seen, null while unanswered. */
  resolved(address: string): ResolvedAddress | null | undefined {
    const index = this.addressIndex.get(address);
    return index === undefined ? undefined : this.answers[index];
  }

  /**
   * Records the client's answer for an address. Answers for addresses nobody asked for are
   * ignored (a well-behaved client sends none). @returns the bytes it added
   */
  resolve(address: string, answer: ResolvedAddress): number {
    const index = this.addressIndex.get(address);
    if (index === undefined || this.answers[index] !== null) return 0;
    this.answers[index] = answer;
    let added = 64 + stringBytes(answer.image.length);
    for (const f of answer.frames) added += 48 + stringBytes(f.function.length) + stringBytes(f.file.length) + stringBytes(f.symbol.length);
    this.bytes += added;
    return added;
  }

  /** Addresses asked for and not answered yet. */
  get unresolved(): number {
    let n = 0;
    for (const a of this.answers) if (a === null) n++;
    return n;
  }

  private ensureIds(need: number): void {
    if (need <= this.start.length) return;
    const cap = Math.min(MAX_CALLSTACKS, this.start.length * 2);
    const grow = <T extends Uint32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.bytes -= this.start.byteLength + this.depth.byteLength + this.nextSameHash.byteLength;
    this.start = grow(this.start, (k) => new Uint32Array(k));
    this.depth = grow(this.depth, (k) => new Uint16Array(k));
    this.nextSameHash = grow(this.nextSameHash, (k) => new Uint32Array(k));
    this.bytes += this.start.byteLength + this.depth.byteLength + this.nextSameHash.byteLength;
  }

  private ensureWords(need: number): void {
    if (need <= this.words.length) return;
    let cap = this.words.length * 2;
    while (cap < need) cap *= 2;
    const b = new Uint32Array(cap);
    b.set(this.words.subarray(0, this.wordsUsed));
    const slots = new Uint32Array(cap >>> 1);
    slots.set(this.slots.subarray(0, this.wordsUsed >>> 1));
    this.bytes += b.byteLength - this.words.byteLength + slots.byteLength - this.slots.byteLength;
    this.words = b;
    this.slots = slots;
  }
}
