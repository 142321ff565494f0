/**
 * ClickHouse's RowBinary input format, written straight into a reused Buffer: a row is its
 * columns' bytes back to back (integers little-endian, String = LEB128 length + UTF-8 bytes).
 * The zone writer uses it because it is the cheapest format for both sides: no number is turned
 * into digits, constant parts (a session's labels, a source location's strings) are encoded once
 * and copied, and ClickHouse parses it with no escaping (measured in docs/PERFORMANCE.md).
 */
/** Bytes of room string() keeps after a string: more than the fixed columns after a row's strings. */
export const STRING_SLACK = 64;

export class RowBinaryBuffer {
  buf: Buffer;
  /** over buf: DataView's setters are inlined by the optimizing compiler, Buffer's write* are calls with checks */
  private view: DataView;
  pos = 0;
  rows = 0;

  constructor(readonly chunkBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  private use(buf: Buffer): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Room for `n` more bytes (grows only for a row larger than a chunk). */
  room(n: number): boolean {
    return this.pos + n <= this.buf.length;
  }

  /** The rows written so far (the caller keeps the bytes), and a fresh buffer. */
  take(): { bytes: Buffer; rows: number } {
    const out = { bytes: this.buf.subarray(0, this.pos), rows: this.rows };
    this.use(Buffer.allocUnsafe(Math.max(this.chunkBytes, this.pos > this.chunkBytes ? this.pos : 0)));
    this.pos = 0;
    this.rows = 0;
    return out;
  }

  /** Makes the buffer at least `n` bytes (after a take(), for a row larger than a chunk). */
  reserve(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    // room for the rest of the row too: a row's fixed columns follow its strings
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 1024));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.use(bigger);
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number): void {
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  /** An Int64/UInt64 from a double that is an integer in [0, 2^53); others through BigInt. */
  i64(v: number): void {
    if (v >= 0 && v < 9007199254740992) {
      const hi = Math.floor(v / 4294967296);
      this.view.setUint32(this.pos, v - hi * 4294967296, true);
      this.view.setUint32(this.pos + 4, hi, true);
    } else this.view.setBigInt64(this.pos, BigInt(Math.trunc(v)), true);
    this.pos += 8;
  }

  /** base (as u32 halves) + v (an integer in [0, 2^53)): a 64-bit sum without BigInt. */
  i64Sum(baseLo: number, baseHi: number, v: number): void {
    if (!(v >= 0 && v < 9007199254740992)) {
      this.view.setBigInt64(this.pos, ((BigInt(baseHi) << 32n) | BigInt(baseLo)) + BigInt(Math.trunc(v)), true);
      this.pos += 8;
      return;
    }
    const vHi = Math.floor(v / 4294967296);
    let lo = baseLo + (v - vHi * 4294967296);
    let hi = baseHi + vHi;
    if (lo >= 4294967296) {
      lo -= 4294967296;
      hi++;
    }
    this.view.setUint32(this.pos, lo, true);
    this.view.setUint32(this.pos + 4, hi >>> 0, true);
    this.pos += 8;
  }

  /** A String column; leaves at least STRING_SLACK bytes of room after it (for the row's fixed columns that follow). */
  string(s: string): void {
    if (s.length === 0) {
      this.buf[this.pos++] = 0;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.reserve(n + 5 + STRING_SLACK);
    this.varint(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
}

/** RowBinary bytes of constant columns (encoded once, copied per row). */
export function encodeConstant(write: (w: RowBinaryBuffer) => void): Buffer {
  const w = new RowBinaryBuffer(1024);
  write(w);
  return Buffer.from(w.take().bytes);
}

/** 64-bit value as unsigned 32-bit halves. */
export function halves(v: bigint): { lo: number; hi: number } {
  const u = BigInt.asUintN(64, v);
  return { lo: Number(u & 0xffffffffn), hi: Number(u >> 32n) };
}
