import lz4 from 'lz4js';
import { TARGET_FRAME_SIZE } from './constants.js';

/**
 * LZ4 block codec (the raw block format, no frame header) with the bounds checks that
 * lz4js's decoder leaves out. Decoding is our own single pass: every literal run, match offset
 * and match length is checked against the input end, the output limit and the start of the
 * history window before a byte is copied, so a corrupt block can neither read nor write outside
 * its buffers nor loop forever (each sequence consumes at least one input byte).
 *
 * Encoding uses lz4js's compressBlock with a fresh hash table per block: every block is
 * independent (valid for any Tracy receiver, tracy-protocol.md 2.3).
 */

/** Result codes of decompressBlock below (negative = error). */
export const LZ4_ERR_LITERALS_PAST_INPUT = -1;
export const LZ4_ERR_OUTPUT_OVERFLOW = -2;
export const LZ4_ERR_BAD_OFFSET = -3;
export const LZ4_ERR_TRUNCATED = -4;

export const LZ4_ERROR_TEXT: Record<number, string> = {
  [LZ4_ERR_LITERALS_PAST_INPUT]: 'a literal run reaches past the end of the block',
  [LZ4_ERR_OUTPUT_OVERFLOW]: 'the decompressed output exceeds its limit',
  [LZ4_ERR_BAD_OFFSET]: 'a match offset is 0 or reaches before the history window',
  [LZ4_ERR_TRUNCATED]: 'the block ends inside a sequence header',
};

/**
 * Decodes the block `src[sIndex, sIndex + sLength)` into `dst` starting at `dIndex`.
 * Matches may reach back to `dMin` (the start of the history kept in front of `dIndex`).
 * Output may not pass `dLimit`. `dstView`, a DataView over exactly `dst`, lets a caller that
 * decodes many blocks into one buffer reuse it.
 * @returns the new end index in `dst`, or a negative LZ4_ERR_* code.
 */
export function decompressBlock(
  src: Uint8Array,
  sIndex: number,
  sLength: number,
  dst: Uint8Array,
  dIndex: number,
  dLimit: number,
  dMin: number,
  dstView: DataView = new DataView(dst.buffer, dst.byteOffset, dst.byteLength),
): number {
  const sEnd = sIndex + sLength;
  let s = sIndex;
  let d = dIndex;
  while (s < sEnd) {
    const token = src[s++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b = 255;
      while (b === 255) {
        if (s >= sEnd) return LZ4_ERR_TRUNCATED;
        b = src[s++]!;
        lit += b;
      }
    }
    if (lit > 0) {
      if (s + lit > sEnd) return LZ4_ERR_LITERALS_PAST_INPUT;
      if (d + lit > dLimit) return LZ4_ERR_OUTPUT_OVERFLOW;
      if (lit > 32) {
        dst.set(src.subarray(s, s + lit), d);
        s += lit;
        d += lit;
      } else {
        const e = s + lit;
        while (s < e) dst[d++] = src[s++]!;
      }
    }
    if (s >= sEnd) break; // the last sequence has literals only
    if (s + 2 > sEnd) return LZ4_ERR_TRUNCATED;
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    let len = token & 15;
    if (len === 15) {
      let b = 255;
      while (b === 255) {
        if (s >= sEnd) return LZ4_ERR_TRUNCATED;
        b = src[s++]!;
        len += b;
      }
    }
    len += 4;
    let m = d - offset;
    if (offset === 0 || m < dMin) return LZ4_ERR_BAD_OFFSET;
    if (d + len > dLimit) return LZ4_ERR_OUTPUT_OVERFLOW;
    // Tracy's streams are mostly short matches (5-25 bytes) at offsets >= 8: copy four bytes at
    // a time where the source is at least four bytes behind (each read sees finished output).
    const e = d + len;
    if (offset >= 4) {
      const e4 = e - 3;
      while (d < e4) {
        dstView.setUint32(d, dstView.getUint32(m, true), true);
        d += 4;
        m += 4;
      }
    }
    while (d < e) dst[d++] = dst[m++]!;
  }
  return d;
}

/** Worst-case compressed size of n bytes: LZ4_compressBound. */
export function compressBound(n: number): number {
  return n + ((n / 255) | 0) + 16;
}

/**
 * Compresses blocks independently. One instance owns a hash table and is reused; not
 * re-entrant.
 */
export class Lz4BlockEncoder {
  private readonly hashTable = new Uint32Array(1 << 16);

  /**
   * Compresses `src[start, start + length)` into `dst` at `dIndex` (dst must have
   * compressBound(length) bytes free there). Returns the compressed size.
   */
  compress(src: Uint8Array, start: number, length: number, dst: Uint8Array, dIndex: number): number {
    if (length > TARGET_FRAME_SIZE) throw new RangeError(`block of ${length} bytes > ${TARGET_FRAME_SIZE}`);
    this.hashTable.fill(0);
    const out = dIndex === 0 ? dst : dst.subarray(dIndex);
    const n = length > 0 ? lz4.compressBlock(src, out, start, length, this.hashTable) : 0;
    if (n > 0 && n <= length) return n;
    return writeLiteralBlock(src, start, length, dst, dIndex);
  }
}

/** Writes a block made of one literal run (tracy-protocol.md 2.3); returns its size. */
export function writeLiteralBlock(src: Uint8Array, start: number, length: number, dst: Uint8Array, dIndex: number): number {
  let d = dIndex;
  if (length < 15) {
    dst[d++] = length << 4;
  } else {
    dst[d++] = 0xf0;
    let rest = length - 15;
    while (rest >= 255) {
      dst[d++] = 255;
      rest -= 255;
    }
    dst[d++] = rest;
  }
  dst.set(src.subarray(start, start + length), d);
  return d + length - dIndex;
}
