import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOCAL_TRACY_FIXTURES } from '../../test/support/fixture-paths.js';
import { hex, mulberry32, randInt } from '../../test/support/tracy-streams.js';
import { LZ4_HISTORY_SIZE, LZ4_SIZE, ON_DEMAND_PAYLOAD_SIZE, TARGET_FRAME_SIZE, WELCOME_SIZE, WelcomeFlag } from './constants.js';
import { FrameInflater, INFLATE_WINDOW_SIZE } from './frame-inflater.js';
import {
  compressBound,
  decompressBlock,
  LZ4_ERR_BAD_OFFSET,
  LZ4_ERR_LITERALS_PAST_INPUT,
  LZ4_ERR_OUTPUT_OVERFLOW,
  LZ4_ERR_TRUNCATED,
  Lz4BlockEncoder,
} from './lz4-block.js';
import { LZ4_WASM_SLACK, lz4WasmBytes, Lz4WasmDecoder } from './lz4-wasm.js';

/** What the decoder may write past dLimit (lz4-block.wat: 16-byte wild copies). */
const WILD = 16;
const SENTINEL = 0xa5;

// ---- the committed bytes are the assembled .wat ----

const WAT = fileURLToPath(new URL('./lz4-block.wat', import.meta.url));
const WAT2WASM_MISSING = spawnSync('wat2wasm', ['--version']).error ? 'wat2wasm (wabt) is not on PATH' : null;
if (WAT2WASM_MISSING) console.warn(`lz4-wasm: skipping the check of the committed module against lz4-block.wat: ${WAT2WASM_MISSING}`);

describe('the committed module', () => {
  it.skipIf(WAT2WASM_MISSING !== null)('is lz4-block.wat assembled by wat2wasm (run npm run build:lz4-wasm after editing the .wat)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lz4-wasm-'));
    try {
      const out = join(dir, 'lz4-block.wasm');
      const run = spawnSync('wat2wasm', [WAT, '-o', out], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(Buffer.from(lz4WasmBytes()).equals(readFileSync(out))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- a harness: the same block through both decoders, with sentinels around the regions ----

interface Case {
  block: Uint8Array;
  history: Uint8Array;
  /** output room after the history: dLimit = dIndex + room */
  room: number;
  /** bytes of the window before dMin (never read nor written) */
  left?: number;
}

const small = new Lz4WasmDecoder(32768, 16384);
const large = new Lz4WasmDecoder(LZ4_SIZE, INFLATE_WINDOW_SIZE);

/**
 * Decodes `c.block` with decompressBlock into a plain array and with `wasm` into its window
 * (same indices), checks both agree (code, and output bytes when it succeeded) and that the
 * WASM decoder wrote nothing outside [dIndex, dLimit + 16) of its memory. Returns the code.
 */
function both(c: Case, wasm = small): number {
  const left = c.left ?? 8;
  const dMin = left;
  const dIndex = left + c.history.length;
  const dLimit = dIndex + c.room;
  if (dLimit > wasm.window.length || c.block.length > wasm.block.length) throw new Error('case too large for the decoder');
  const jsDst = new Uint8Array(wasm.window.length).fill(SENTINEL);
  jsDst.set(c.history, dIndex - c.history.length);
  const jsEnd = decompressBlock(c.block, 0, c.block.length, jsDst, dIndex, dLimit, dMin);

  wasm.memory.fill(SENTINEL);
  wasm.block.set(c.block);
  wasm.window.set(c.history, dIndex - c.history.length);
  const before = wasm.memory.slice();
  const end = wasm.decode(c.block.length, dIndex, dLimit, dMin);
  const writeFrom = wasm.windowOffset + dIndex;
  const writeTo = wasm.windowOffset + dLimit + WILD;
  if (!sameBytes(wasm.memory.subarray(0, writeFrom), before.subarray(0, writeFrom))) {
    throw new Error(`the WASM decoder wrote before ${writeFrom} (window + dIndex ${dIndex})`);
  }
  if (!sameBytes(wasm.memory.subarray(writeTo), before.subarray(writeTo))) {
    throw new Error(`the WASM decoder wrote at or after ${writeTo} (window + dLimit ${dLimit} + ${WILD})`);
  }
  expect(end).toBe(jsEnd);
  if (end >= 0) {
    expect(end).toBeGreaterThanOrEqual(dIndex);
    expect(end).toBeLessThanOrEqual(dLimit);
    expect(sameBytes(wasm.window.subarray(dIndex, end), jsDst.subarray(dIndex, end))).toBe(true);
  }
  return end;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const encoder = new Lz4BlockEncoder();
function compress(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(compressBound(data.length));
  return out.slice(0, encoder.compress(data, 0, data.length, out, 0));
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = randInt(rand, 256);
  return out;
}

/** Queue-item-like data: a few words repeated, some noise, some runs. */
function compressibleBytes(rand: () => number, n: number): Uint8Array {
  const words = [[0x15, 0, 0, 1], [0x1b, 0x10, 0], [0x0f, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 7], [0x5a, 0x5a]];
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const r = rand();
    if (r < 0.05) {
      const run = randInt(rand, 300);
      const b = randInt(rand, 256);
      for (let k = 0; k < run && i < n; k++) out[i++] = b;
    } else if (r < 0.25) {
      out[i++] = randInt(rand, 256);
    } else {
      const w = words[randInt(rand, words.length)]!;
      for (let k = 0; k < w.length && i < n; k++) out[i++] = w[k]!;
    }
  }
  return out;
}

/** The length field bytes after a token nibble of 15 (`extra` = length - 15). */
function lengthBytes(extra: number): number[] {
  const out: number[] = [];
  while (extra >= 255) {
    out.push(255);
    extra -= 255;
  }
  out.push(extra);
  return out;
}

/** One sequence: `literals`, then a match of `len` (>= 4) at `offset` (omitted for the last). */
function sequence(literals: ArrayLike<number>, match?: { offset: number; len: number }): number[] {
  const lit = literals.length;
  const ml = match ? match.len - 4 : 0;
  const out = [(Math.min(lit, 15) << 4) | Math.min(ml, 15)];
  if (lit >= 15) out.push(...lengthBytes(lit - 15));
  out.push(...Array.from(literals));
  if (match) {
    out.push(match.offset & 255, match.offset >> 8);
    if (ml >= 15) out.push(...lengthBytes(ml - 15));
  }
  return out;
}

/**
 * A valid block of random sequences that reference the history and earlier output: short and
 * long literal runs, offsets 1..history, lengths 4..`maxMatch`; at most `room` bytes of output.
 */
function randomValidBlock(rand: () => number, historyLength: number, room: number, maxMatch = 300): Uint8Array {
  const bytes: number[] = [];
  let produced = 0;
  for (;;) {
    const lit = rand() < 0.3 ? 0 : rand() < 0.8 ? randInt(rand, 20) : randInt(rand, 400);
    const len = 4 + (rand() < 0.7 ? randInt(rand, 30) : randInt(rand, maxMatch));
    const reach = historyLength + produced + lit;
    if (produced + lit + len + 5 > room || reach === 0) {
      const last = Math.max(0, Math.min(room - produced, randInt(rand, 40)));
      bytes.push(...sequence(randomBytes(rand, last)));
      return Uint8Array.from(bytes);
    }
    const offset = rand() < 0.3 ? 1 + randInt(rand, Math.min(reach, 9)) : 1 + randInt(rand, Math.min(reach, 65535));
    bytes.push(...sequence(randomBytes(rand, lit), { offset, len }));
    produced += lit + len;
  }
}

describe('Lz4WasmDecoder against decompressBlock', () => {
  it('decodes blocks of Lz4BlockEncoder exactly as decompressBlock does (random and compressible data, many sizes)', () => {
    const rand = mulberry32(1);
    const sizes = [0, 1, 4, 5, 12, 13, 15, 16, 17, 31, 32, 33, 64, 65, 100, 255, 256, 1000, 4095, 4096, 65536, TARGET_FRAME_SIZE];
    for (let i = 0; i < 40; i++) sizes.push(randInt(rand, 20000));
    for (const n of sizes) {
      for (const data of [randomBytes(rand, n), compressibleBytes(rand, n)]) {
        const block = compress(data);
        const wasm = block.length <= small.block.length && n + 64 <= small.window.length - 8 ? small : large;
        const end = both({ block, history: new Uint8Array(0), room: n + 64 }, wasm);
        expect(end).toBe(8 + n);
        expect(sameBytes(wasm.window.subarray(8, end), data)).toBe(true);
      }
    }
  });

  it('decodes random valid blocks that reach into the history and overlap their own output, exactly as decompressBlock does', () => {
    const rand = mulberry32(2);
    for (let i = 0; i < 400; i++) {
      const history = randomBytes(rand, randInt(rand, 3) === 0 ? 0 : randInt(rand, 2000));
      const room = 64 + randInt(rand, 8000);
      const block = randomValidBlock(rand, history.length, room);
      expect(both({ block, history, room })).toBeGreaterThanOrEqual(0);
    }
  });

  it('decodes exactly up to dLimit at the very end of the window (the wild copies land in the slack)', () => {
    const rand = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const history = randomBytes(rand, 100);
      const room = small.window.length - 8 - history.length;
      const data = compressibleBytes(rand, room - randInt(rand, 20));
      expect(both({ block: compress(data), history, room })).toBe(8 + history.length + data.length);
    }
    // a match of 4 that ends exactly at dLimit = window end (16-byte wild store into the slack)
    const history = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const room = small.window.length - 8 - history.length;
    const block = Uint8Array.from([...sequence(new Uint8Array(room - 4).fill(7), { offset: 10, len: 4 }), 0x00]);
    expect(both({ block: block.subarray(0, block.length - 1), history, room })).toBe(small.window.length);
    expect(LZ4_WASM_SLACK).toBeGreaterThanOrEqual(WILD);
  });

  it('copies overlapping matches at offsets 1..8 (and 9..17) for short and long lengths', () => {
    for (let offset = 1; offset <= 17; offset++) {
      for (const len of [4, 5, 7, 8, 9, 15, 16, 17, 18, 19, 23, 24, 31, 32, 33, 64, 65, 100, 255, 1000, 4000]) {
        const seed = Array.from({ length: offset }, (_, k) => 0x41 + k);
        const block = Uint8Array.from([...sequence(seed, { offset, len }), ...sequence([0x7a, 0x7b])]);
        const end = both({ block, history: new Uint8Array(0), room: offset + len + 2 });
        expect(end).toBe(8 + offset + len + 2);
        const out = small.window.subarray(8, end);
        for (let k = 0; k < offset + len; k++) expect(out[k]).toBe(seed[k % offset]);
        // the same match reaching into the history instead of this block's output
        const fromHistory = Uint8Array.from([...sequence([], { offset, len }), ...sequence([0x7a])]);
        expect(both({ block: fromHistory, history: Uint8Array.from(seed), room: len + 1 })).toBe(8 + offset + len + 1);
      }
    }
  });

  it('fills with offset 1 and copies long non-overlapping matches (memory.fill / memory.copy paths)', () => {
    const rand = mulberry32(4);
    const history = randomBytes(rand, 5000);
    for (const len of [65, 66, 100, 1000, 4999]) {
      const block = Uint8Array.from([...sequence([], { offset: 5000, len }), ...sequence([1]), ...[]]);
      expect(both({ block, history, room: len + 1 })).toBe(8 + 5000 + len + 1);
    }
    const fill = Uint8Array.from([...sequence([9], { offset: 1, len: 5000 }), ...sequence([])]);
    expect(both({ block: fill.subarray(0, fill.length - 1), history: new Uint8Array(0), room: 5001 })).toBe(8 + 5001);
  });
});

describe('Lz4WasmDecoder on corrupt blocks (same codes as decompressBlock, nothing written outside)', () => {
  const HISTORY = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const code = (hexText: string, room = 64, history = HISTORY): number => both({ block: Uint8Array.from(hex(hexText)), history, room, left: 32 });

  it('LZ4_ERR_TRUNCATED: a literal length, a match offset or a match length cut by the block end', () => {
    expect(code('f0')).toBe(LZ4_ERR_TRUNCATED);
    expect(code('f0 ff ff')).toBe(LZ4_ERR_TRUNCATED);
    expect(code('10 41 01')).toBe(LZ4_ERR_TRUNCATED);
    expect(code('1f 41 0100')).toBe(LZ4_ERR_TRUNCATED);
    expect(code('1f 41 0100 ff')).toBe(LZ4_ERR_TRUNCATED);
  });

  it('LZ4_ERR_LITERALS_PAST_INPUT: a literal run longer than the rest of the block', () => {
    expect(code('50 414243')).toBe(LZ4_ERR_LITERALS_PAST_INPUT);
    expect(code('f0 ff 0a 414243')).toBe(LZ4_ERR_LITERALS_PAST_INPUT);
    expect(code('f0 ff ff ff ff ff ff ff ff 00 41')).toBe(LZ4_ERR_LITERALS_PAST_INPUT);
  });

  it('LZ4_ERR_BAD_OFFSET: offset 0, an offset before dMin, a match with no history and no output', () => {
    expect(code('10 41 0000 50 4142434445')).toBe(LZ4_ERR_BAD_OFFSET);
    expect(code('10 41 1200 50 4142434445')).toBe(LZ4_ERR_BAD_OFFSET); // one byte before dMin
    expect(code('10 41 1100 50 4142434445')).toBeGreaterThan(0); // exactly dMin
    expect(code('00 0100 50 4142434445', 64, new Uint8Array(0))).toBe(LZ4_ERR_BAD_OFFSET);
    expect(code('00 ffff 50 4142434445')).toBe(LZ4_ERR_BAD_OFFSET);
  });

  it('LZ4_ERR_OUTPUT_OVERFLOW: literals or a match past dLimit, by one byte and by a lot', () => {
    expect(code('50 4142434445', 4)).toBe(LZ4_ERR_OUTPUT_OVERFLOW);
    expect(code('50 4142434445', 5)).toBe(5 + 32 + 16);
    expect(code('1f 41 0100 ff ff 00', 64)).toBe(LZ4_ERR_OUTPUT_OVERFLOW); // 1 + 4 + 15 + 510 bytes
    expect(code('10 41 0100 10 42', 5)).toBe(LZ4_ERR_OUTPUT_OVERFLOW); // the match fits, the last literal does not
    expect(code('13 41 0100', 7)).toBe(LZ4_ERR_OUTPUT_OVERFLOW); // 1 + 7 bytes in 7
    expect(code('13 41 0100', 8)).toBe(8 + 32 + 16);
    expect(code('0f 1000 ff ff ff ff ff ff ff ff 00')).toBe(LZ4_ERR_OUTPUT_OVERFLOW);
  });

  it('a fuzz of mutated valid blocks: both decoders return the same code and output, the WASM one writes nowhere else', () => {
    const rand = mulberry32(5);
    const counts = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const history = randomBytes(rand, randInt(rand, 4) === 0 ? 0 : randInt(rand, 3000));
      const room = 16 + randInt(rand, 6000);
      const valid = rand() < 0.5 ? randomValidBlock(rand, history.length, room, 2000) : compress(compressibleBytes(rand, randInt(rand, room)));
      const block = mutate(rand, valid);
      if (block.length > small.block.length) continue;
      // now and then less room than the block decodes to
      const end = both({ block, history, room: rand() < 0.2 ? randInt(rand, room + 1) : room, left: randInt(rand, 64) });
      const key = end < 0 ? end : 0;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // every outcome was reached many times
    for (const c of [0, LZ4_ERR_LITERALS_PAST_INPUT, LZ4_ERR_OUTPUT_OVERFLOW, LZ4_ERR_BAD_OFFSET, LZ4_ERR_TRUNCATED]) {
      expect(counts.get(c) ?? 0, `outcome ${c}`).toBeGreaterThan(20);
    }
  });
});

/** A few random byte changes, a cut, or random bytes in place of a sequence. */
function mutate(rand: () => number, valid: Uint8Array): Uint8Array {
  const b = valid.slice();
  const kind = randInt(rand, 5);
  if (kind === 0 && b.length > 0) return b.subarray(0, randInt(rand, b.length));
  if (kind === 1 && b.length > 0) {
    const at = randInt(rand, b.length);
    b.set(randomBytes(rand, Math.min(b.length - at, 1 + randInt(rand, 8))), at);
    return b;
  }
  const flips = 1 + randInt(rand, 4);
  for (let k = 0; k < flips && b.length > 0; k++) {
    const at = randInt(rand, Math.min(b.length, kind === 2 ? 16 : b.length));
    b[at] = rand() < 0.5 ? randInt(rand, 256) : b[at]! ^ (1 << randInt(rand, 8));
  }
  return b;
}

// ---- the real recordings, frame by frame through FrameInflater ----

/** Every frame of a recording decoded with decompressBlock and the inflater's window scheme. */
function framesWithJs(stream: Uint8Array): Uint8Array[] {
  const window = new Uint8Array(INFLATE_WINDOW_SIZE);
  const flags = stream[1 + 64]!;
  let p = 1 + WELCOME_SIZE + (flags & WelcomeFlag.OnDemand ? ON_DEMAND_PAYLOAD_SIZE : 0);
  let write = 0;
  let history = 0;
  const out: Uint8Array[] = [];
  while (p + 4 <= stream.length) {
    const size = (stream[p]! | (stream[p + 1]! << 8) | (stream[p + 2]! << 16) | (stream[p + 3]! << 24)) >>> 0;
    p += 4;
    if (p + size > stream.length) break;
    if (write + TARGET_FRAME_SIZE > window.length) {
      window.copyWithin(0, write - history, write);
      write = history;
    }
    const end = decompressBlock(stream, p, size, window, write, write + TARGET_FRAME_SIZE, write - history);
    if (end < 0) throw new Error(`JS decoder: bad block at ${p}`);
    out.push(window.slice(write, end));
    history = Math.min(LZ4_HISTORY_SIZE, history + end - write);
    write = end;
    p += size;
  }
  return out;
}

const RECORDINGS = readdirSync(LOCAL_TRACY_FIXTURES).filter((f) => f.endsWith('.client.bin'));

describe('FrameInflater with the WASM decoder on the real recordings', () => {
  it('finds the recordings', () => {
    expect(RECORDINGS.length).toBeGreaterThanOrEqual(4);
  });

  for (const name of RECORDINGS) {
    it(`${name}: every frame equals decompressBlock's, pushed whole and in 1000-byte pieces`, () => {
      const stream = new Uint8Array(readFileSync(join(LOCAL_TRACY_FIXTURES, name)));
      const expected = framesWithJs(stream);
      expect(expected.length).toBeGreaterThan(0);
      for (const step of [stream.length, 1000]) {
        let i = 0;
        const inflater = new FrameInflater({
          welcomeRead() {},
          frameRead(items, start, end) {
            const want = expected[i++];
            if (!want || !sameBytes(items.subarray(start, end), want)) throw new Error(`${name}: frame ${i - 1} differs (step ${step})`);
          },
        });
        for (let p = 0; p < stream.length; p += step) inflater.push(stream, p, Math.min(stream.length, p + step));
        expect(inflater.lz4Decoder).toBe('wasm');
        expect(FrameInflater.lz4Fallback).toBeNull();
        expect(i).toBe(expected.length);
        expect(inflater.retainedBytes).toBe(large.memoryBytes);
        inflater.release();
        expect(inflater.retainedBytes).toBe(0);
      }
    });
  }
});
