import { describe, expect, it } from 'vitest';
import { LZ4_SIZE, TARGET_FRAME_SIZE } from './constants.js';
import {
  compressBound,
  decompressBlock,
  LZ4_ERR_BAD_OFFSET,
  LZ4_ERR_LITERALS_PAST_INPUT,
  LZ4_ERR_OUTPUT_OVERFLOW,
  LZ4_ERR_TRUNCATED,
  LZ4_ERROR_TEXT,
  Lz4BlockEncoder,
  writeLiteralBlock,
} from './lz4-block.js';

/** mulberry32: a tiny seeded PRNG, so every random case can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
  return out;
}

/** Text-like data with many repeats, as queue items are. */
function compressibleBytes(rand: () => number, n: number): Uint8Array {
  const words = ['ZoneBegin', 'ZoneEnd', 'Update', 'Inner', 'plot_int', '\x15\x00\x00', '\x1b\x10\x00'];
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const w = words[(rand() * words.length) | 0]!;
    for (let k = 0; k < w.length && i < n; k++) out[i++] = w.charCodeAt(k);
    if (i < n && rand() < 0.2) out[i++] = (rand() * 256) | 0;
  }
  return out;
}

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const encoder = new Lz4BlockEncoder();

function compress(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(compressBound(data.length));
  const n = encoder.compress(data, 0, data.length, out, 0);
  return out.subarray(0, n);
}

function decompress(block: Uint8Array, capacity: number): Uint8Array {
  const out = new Uint8Array(capacity);
  const end = decompressBlock(block, 0, block.length, out, 0, capacity, 0);
  expect(end).toBeGreaterThanOrEqual(0);
  return out.subarray(0, end);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('Lz4BlockEncoder + decompressBlock round trips', () => {
  it('round-trips random (incompressible) data of many sizes', () => {
    const rand = mulberry32(1);
    for (const n of [1, 4, 5, 12, 13, 14, 15, 16, 17, 100, 254, 255, 256, 269, 270, 271, 1000, 65536, 100_000]) {
      const data = randomBytes(rand, n);
      const block = compress(data);
      expect(block.length).toBeLessThanOrEqual(compressBound(n));
      expect(equalBytes(decompress(block, n), data), `n = ${n}`).toBe(true);
    }
  });

  it('round-trips compressible data and actually compresses it', () => {
    const rand = mulberry32(2);
    for (const n of [20, 64, 1000, 10_000, 100_000, TARGET_FRAME_SIZE]) {
      const data = compressibleBytes(rand, n);
      const block = compress(data);
      if (n >= 1000) expect(block.length).toBeLessThan(n * 0.6);
      expect(equalBytes(decompress(block, n), data), `n = ${n}`).toBe(true);
    }
  });

  it('round-trips runs of one byte (matches that overlap their own output)', () => {
    const data = new Uint8Array(5000).fill(0x4b);
    const block = compress(data);
    expect(block.length).toBeLessThan(50);
    expect(equalBytes(decompress(block, data.length), data)).toBe(true);
  });

  it('round-trips the empty block', () => {
    const block = compress(new Uint8Array(0));
    expect(Array.from(block)).toEqual([0x00]);
    expect(decompress(block, 16)).toHaveLength(0);
    // an empty source decodes to nothing as well
    expect(decompressBlock(new Uint8Array(0), 0, 0, new Uint8Array(4), 2, 4, 0)).toBe(2);
  });

  it('round-trips a full 262144-byte frame of random data within LZ4Size', () => {
    const data = randomBytes(mulberry32(3), TARGET_FRAME_SIZE);
    const block = compress(data);
    expect(block.length).toBeLessThanOrEqual(LZ4_SIZE);
    expect(equalBytes(decompress(block, TARGET_FRAME_SIZE), data)).toBe(true);
  });

  it('compresses from an offset in the source into an offset in the destination', () => {
    const data = compressibleBytes(mulberry32(4), 3000);
    const dst = new Uint8Array(7 + compressBound(2000));
    const n = encoder.compress(data, 500, 2000, dst, 7);
    const out = new Uint8Array(2000);
    expect(decompressBlock(dst, 7, n, out, 0, out.length, 0)).toBe(2000);
    expect(equalBytes(out, data.subarray(500, 2500))).toBe(true);
  });

  it('refuses to compress more than one frame', () => {
    const big = new Uint8Array(TARGET_FRAME_SIZE + 1);
    expect(() => encoder.compress(big, 0, big.length, new Uint8Array(compressBound(big.length)), 0)).toThrow(RangeError);
  });
});

describe('literal-only blocks (tracy-protocol.md 2.3)', () => {
  function literal(n: number, fill = 0x61): Uint8Array {
    const src = new Uint8Array(n).fill(fill);
    const out = new Uint8Array(compressBound(n));
    return out.subarray(0, writeLiteralBlock(src, 0, n, out, 0));
  }

  it('writes one token byte n << 4 for n < 15', () => {
    expect(Array.from(literal(0))).toEqual([0x00]);
    expect(Array.from(literal(1))).toEqual([0x10, 0x61]);
    expect(Array.from(literal(5))).toEqual([0x50, 0x61, 0x61, 0x61, 0x61, 0x61]);
    expect(Array.from(literal(14)).slice(0, 2)).toEqual([0xe0, 0x61]);
    expect(literal(14)).toHaveLength(15);
  });

  it('writes token 0xF0 and n - 15 as 0xFF bytes plus a final byte < 255 for n >= 15', () => {
    expect(Array.from(literal(15)).slice(0, 3)).toEqual([0xf0, 0x00, 0x61]);
    expect(literal(15)).toHaveLength(17);
    expect(Array.from(literal(16)).slice(0, 2)).toEqual([0xf0, 0x01]);
    expect(Array.from(literal(269)).slice(0, 3)).toEqual([0xf0, 0xfe, 0x61]);
    expect(Array.from(literal(270)).slice(0, 4)).toEqual([0xf0, 0xff, 0x00, 0x61]);
    expect(Array.from(literal(271)).slice(0, 4)).toEqual([0xf0, 0xff, 0x01, 0x61]);
    expect(literal(270)).toHaveLength(3 + 270);
  });

  it('fits a full frame in LZ4Size: 262144 bytes give 263173', () => {
    const block = literal(TARGET_FRAME_SIZE);
    expect(block.length).toBe(263173);
    expect(block.length).toBeLessThanOrEqual(LZ4_SIZE);
    expect(block[0]).toBe(0xf0);
    expect(block[1 + 1027]).toBe((TARGET_FRAME_SIZE - 15) % 255); // after 1027 x 0xFF
    expect(decompress(block, TARGET_FRAME_SIZE)).toHaveLength(TARGET_FRAME_SIZE);
  });

  it('decodes the Terminate frame body of tracy-protocol.md 1.7 (10 49)', () => {
    expect(Array.from(decompress(hex('10 49'), 16))).toEqual([73]);
  });

  it('decodes literal blocks of every length 0..600 back to their input', () => {
    const rand = mulberry32(5);
    for (let n = 0; n <= 600; n++) {
      const src = randomBytes(rand, n);
      const out = new Uint8Array(compressBound(n));
      const size = writeLiteralBlock(src, 0, n, out, 0);
      expect(equalBytes(decompress(out.subarray(0, size), n), src), `n = ${n}`).toBe(true);
    }
  });
});

describe('back-references into the history window', () => {
  // dst = [guard x 8 | history "0123456789abcdef" | output ... | guard]
  const HISTORY = new TextEncoder().encode('0123456789abcdef');
  function setup(): { dst: Uint8Array; dIndex: number; dMin: number } {
    const dst = new Uint8Array(8 + HISTORY.length + 64).fill(0xee);
    dst.set(HISTORY, 8);
    return { dst, dIndex: 8 + HISTORY.length, dMin: 8 };
  }
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);

  it('copies a match that starts at the first byte of the history (offset = history length)', () => {
    const { dst, dIndex, dMin } = setup();
    // token 0x04: 0 literals, match 4 + 4 = 8; offset 16; then 5 literals "VWXYZ"
    const block = hex('04 1000  50 565758595a');
    const end = decompressBlock(block, 0, block.length, dst, dIndex, dIndex + 64, dMin);
    expect(end).toBe(dIndex + 13);
    expect(text(dst.subarray(dIndex, end))).toBe('01234567VWXYZ');
  });

  it('mixes literals and a match that reaches back across the block start', () => {
    const { dst, dIndex, dMin } = setup();
    // 2 literals "XY", match 4 + 2 = 6 from offset 6 -> "cdefXY", then literal "!"
    const block = hex('22 5859 0600  10 21');
    const end = decompressBlock(block, 0, block.length, dst, dIndex, dIndex + 64, dMin);
    expect(text(dst.subarray(dIndex, end))).toBe('XYcdefXY!');
  });

  it('repeats one byte with offset 1 (overlapping copy)', () => {
    const { dst, dIndex, dMin } = setup();
    // 1 literal "z", match 4 + 11 = 15 at offset 1
    const block = hex('1b 7a 0100');
    const end = decompressBlock(block, 0, block.length, dst, dIndex, dIndex + 64, dMin);
    expect(text(dst.subarray(dIndex, end))).toBe('z'.repeat(16));
  });

  it('copies a long non-overlapping match (the copyWithin path) from the history', () => {
    const dst = new Uint8Array(300).fill(0xee);
    const hist = compressibleBytes(mulberry32(6), 100);
    dst.set(hist, 0);
    // 0 literals, match 4 + 15 + 21 = 40 at offset 100 -> hist[0, 40)
    const block = hex('0f 6400 15');
    const end = decompressBlock(block, 0, block.length, dst, 100, 300, 0);
    expect(end).toBe(140);
    expect(equalBytes(dst.subarray(100, 140), hist.subarray(0, 40))).toBe(true);
  });

  it('decodes an independent block after a history and leaves the history untouched', () => {
    const { dst, dIndex, dMin } = setup();
    const block = compress(new TextEncoder().encode('hello hello hello hello!'));
    const end = decompressBlock(block, 0, block.length, dst, dIndex, dIndex + 64, dMin);
    expect(text(dst.subarray(dIndex, end))).toBe('hello hello hello hello!');
    expect(equalBytes(dst.subarray(8, dIndex), HISTORY)).toBe(true);
  });
});

describe('bad blocks', () => {
  const GUARD = 0xa5;
  const LEFT = 32; // bytes before dMin (not history: must never be read into the output or written)
  const HIST = 16;

  /**
   * Decodes `block` into a destination laid out as [guard x LEFT | history x HIST | room | guard]
   * and checks that nothing outside [dIndex, dLimit) changed.
   */
  function decodeGuarded(block: Uint8Array, room = 64): number {
    const dIndex = LEFT + HIST;
    const dLimit = dIndex + room;
    const dst = new Uint8Array(dLimit + 32).fill(GUARD);
    for (let i = 0; i < HIST; i++) dst[LEFT + i] = i + 1;
    const before = dst.slice();
    const end = decompressBlock(block, 0, block.length, dst, dIndex, dLimit, LEFT);
    for (let i = 0; i < dst.length; i++) {
      if (i >= dIndex && i < dLimit) continue;
      if (dst[i] !== before[i]) throw new Error(`byte ${i} outside [${dIndex}, ${dLimit}) was written`);
    }
    if (end >= 0) {
      expect(end).toBeGreaterThanOrEqual(dIndex);
      expect(end).toBeLessThanOrEqual(dLimit);
    }
    return end;
  }

  it('rejects offset 0 with LZ4_ERR_BAD_OFFSET', () => {
    expect(decodeGuarded(hex('10 41 0000 50 4142434445'))).toBe(LZ4_ERR_BAD_OFFSET);
  });

  it('rejects an offset that reaches before the history window (dMin) with LZ4_ERR_BAD_OFFSET', () => {
    // 1 literal, then offset HIST + 2: one byte before dMin
    expect(decodeGuarded(hex('10 41 1200 50 4142434445'))).toBe(LZ4_ERR_BAD_OFFSET);
    // offset HIST + 1 reaches exactly dMin and is fine
    expect(decodeGuarded(hex('10 41 1100 50 4142434445'))).toBeGreaterThan(0);
  });

  it('rejects any match when there is no history and no output yet', () => {
    const dst = new Uint8Array(32).fill(GUARD);
    expect(decompressBlock(hex('00 0100 50 4142434445'), 0, 8, dst, 0, 32, 0)).toBe(LZ4_ERR_BAD_OFFSET);
    expect(dst.every((b) => b === GUARD)).toBe(true);
  });

  it('rejects a literal run that reaches past the end of the input with LZ4_ERR_LITERALS_PAST_INPUT', () => {
    expect(decodeGuarded(hex('50 414243'))).toBe(LZ4_ERR_LITERALS_PAST_INPUT);
    // a long run: 15 + 255 + 10 = 280 literals announced, 3 present
    expect(decodeGuarded(hex('f0 ff 0a 414243'))).toBe(LZ4_ERR_LITERALS_PAST_INPUT);
  });

  it('rejects output past the limit with LZ4_ERR_OUTPUT_OVERFLOW (literals and matches)', () => {
    const lits = new Uint8Array(65);
    const out = new Uint8Array(compressBound(65));
    const n = writeLiteralBlock(lits, 0, 65, out, 0);
    expect(decodeGuarded(out.subarray(0, n), 64)).toBe(LZ4_ERR_OUTPUT_OVERFLOW);
    expect(decodeGuarded(out.subarray(0, n), 65)).toBe(LEFT + HIST + 65); // exactly fits
    // 1 literal then a match of 4 + 15 + 255 + 0 bytes into 64 bytes of room
    expect(decodeGuarded(hex('1f 41 0100 ff 00'))).toBe(LZ4_ERR_OUTPUT_OVERFLOW);
  });

  it('rejects a block that ends inside a sequence header with LZ4_ERR_TRUNCATED', () => {
    expect(decodeGuarded(hex('f0'))).toBe(LZ4_ERR_TRUNCATED); // literal length extension missing
    expect(decodeGuarded(hex('f0 ff'))).toBe(LZ4_ERR_TRUNCATED);
    expect(decodeGuarded(hex('10 41 01'))).toBe(LZ4_ERR_TRUNCATED); // half an offset
    expect(decodeGuarded(hex('1f 41 0100'))).toBe(LZ4_ERR_TRUNCATED); // match length extension missing
    expect(decodeGuarded(hex('1f 41 0100 ff'))).toBe(LZ4_ERR_TRUNCATED);
  });

  it('has a message for every error code', () => {
    for (const code of [LZ4_ERR_LITERALS_PAST_INPUT, LZ4_ERR_OUTPUT_OVERFLOW, LZ4_ERR_BAD_OFFSET, LZ4_ERR_TRUNCATED]) {
      expect(code).toBeLessThan(0);
      expect(LZ4_ERROR_TEXT[code]).toMatch(/\w/);
    }
  });

  it('never writes outside its window or loops forever on random and mutated blocks', () => {
    const rand = mulberry32(7);
    const valid = compress(compressibleBytes(rand, 200));
    const codes = new Set([LZ4_ERR_LITERALS_PAST_INPUT, LZ4_ERR_OUTPUT_OVERFLOW, LZ4_ERR_BAD_OFFSET, LZ4_ERR_TRUNCATED]);
    const seen = new Map<number, number>();
    const started = performance.now();
    for (let run = 0; run < 20_000; run++) {
      let block: Uint8Array;
      if (run % 2 === 0) {
        block = randomBytes(rand, 1 + ((rand() * 40) | 0));
      } else {
        block = valid.slice(0, 1 + ((rand() * valid.length) | 0));
        const flips = 1 + ((rand() * 4) | 0);
        for (let f = 0; f < flips; f++) block[(rand() * block.length) | 0] = (rand() * 256) | 0;
      }
      const runStart = performance.now();
      let end: number;
      try {
        end = decodeGuarded(block, 1 + ((rand() * 300) | 0));
      } catch (err) {
        throw new Error(`run ${run} (seed 7), block ${Buffer.from(block).toString('hex')}: ${String(err)}`);
      }
      if (performance.now() - runStart > 1000) throw new Error(`run ${run}: decoding took over 1 s`);
      if (end < 0 && !codes.has(end)) throw new Error(`run ${run}: unknown result ${end}`);
      seen.set(end < 0 ? end : 0, (seen.get(end < 0 ? end : 0) ?? 0) + 1);
    }
    // every outcome was exercised
    for (const code of [0, ...codes]) expect(seen.get(code) ?? 0, `result ${code}`).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
