import { describe, expect, it } from 'vitest';
import {
  CheckingVisitor,
  concat,
  FIRST_FRAME,
  frame,
  frameOffsets,
  mulberry32,
  randInt,
  readTracyFixture,
} from '../../test/support/tracy-streams.js';
import { LZ4_HISTORY_SIZE, TARGET_FRAME_SIZE } from './constants.js';
import { ItemError, ProtocolError, ProtocolErrorCode } from './errors.js';
import { decompressBlock } from './lz4-block.js';
import { QueueDecoder } from './queue-decoder.js';
import { QUEUE_ITEM_SIZE, QUEUE_TYPE_COUNT, QUEUE_TYPE_NAMES, QueueType as Q } from './queue-types.js';
import { TracyStreamReader } from './stream-reader.js';

/*
 * Robustness of the app -> receiver stream decoder against damaged input. Every run must either
 * decode or throw a ProtocolError with a stable code and a byte offset inside the stream; never
 * another exception type (a TypeError or RangeError is a decoder bug), never a hang, and memory
 * stays bounded. Runs are seeded: a failure names its seed and mutations, and
 * `ZS_FUZZ_SEED=<seed> npx vitest run protocol/tracy/stream-reader.fuzz.test.ts` replays only
 * that seed.
 *
 * Kept apart from stream-reader.test.ts so the two files run in parallel.
 */

const SMALL = readTracyFixture('small.client.bin', 'stream-reader.fuzz.test');
const ONLY_SEED = Number(process.env.ZS_FUZZ_SEED ?? 0) || 0;
const SCALE = Number(process.env.ZS_FUZZ_SCALE ?? 1) || 1;
const FLIP_RUNS = Math.round(2000 * SCALE);
const MUTATION_RUNS = Math.round(10_000 * SCALE);
const ITEM_RUNS = Math.round(2000 * SCALE);
/** The default 60 s per test, grown with the scale for long campaigns. */
const TIMEOUT_MS = 60_000 * Math.max(1, SCALE / 0.4);
/** Seeds 1..n, or only ZS_FUZZ_SEED when it is set (whatever the scale). */
function seeds(n: number): number[] {
  if (ONLY_SEED) return [ONLY_SEED];
  return Array.from({ length: n }, (_, i) => i + 1);
}

const KNOWN_CODES = new Set<string>(Object.values(ProtocolErrorCode));
/** Far above a normal run (a few ms); catches a super-linear loop. A true hang stops the suite. */
const RUN_TIME_LIMIT_MS = 2000;

/**
 * Decodes `bytes` pushed in pieces ending at `cuts` and checks the outcome. Returns the error
 * (or null). Throws a plain Error naming `label` for anything that is a decoder bug.
 */
function fuzzRun(label: string, bytes: Uint8Array, cuts: number[]): ProtocolError | null {
  const reader = new TracyStreamReader(new CheckingVisitor());
  const started = performance.now();
  let error: ProtocolError | null = null;
  try {
    let prev = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut < prev) continue;
      reader.push(bytes, prev, cut);
      prev = cut;
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      const what = err instanceof Error ? `${err.constructor.name}: ${err.stack ?? err.message}` : String(err);
      throw new Error(`${label}: the decoder threw ${what}`);
    }
    error = err;
  }
  const ms = performance.now() - started;
  if (ms > RUN_TIME_LIMIT_MS) throw new Error(`${label}: decoding ${bytes.length} bytes took ${ms.toFixed(0)} ms`);
  if (error) {
    const ok =
      KNOWN_CODES.has(error.code) &&
      Number.isInteger(error.offset) &&
      error.offset >= 0 &&
      error.offset < bytes.length &&
      error.message.length > 0 &&
      reader.error === error;
    if (!ok) throw new Error(`${label}: malformed ProtocolError ${error.code} at ${error.offset}: ${error.message}`);
    let again: unknown = null;
    try {
      reader.push(bytes, 0, 1);
    } catch (err) {
      again = err;
    }
    if (again !== error) throw new Error(`${label}: push after ${error.code} threw ${String(again)}, not the same error`);
  }
  return error;
}

function randomCutsFor(rand: () => number, length: number): number[] {
  const n = randInt(rand, 4);
  const cuts: number[] = [];
  for (let i = 0; i < n; i++) cuts.push(randInt(rand, length + 1));
  return cuts.sort((a, b) => a - b);
}

/** Decompresses every frame of a stream (frames start at `first`) into separate item buffers. */
function decompressFrames(stream: Uint8Array, first: number): Uint8Array[] {
  const window = new Uint8Array(LZ4_HISTORY_SIZE + stream.length * 8);
  const out: Uint8Array[] = [];
  let pos = 0;
  for (const at of frameOffsets(stream, first)) {
    const size = new DataView(stream.buffer, stream.byteOffset).getUint32(at, true);
    const end = decompressBlock(stream, at + 4, size, window, pos, pos + TARGET_FRAME_SIZE, 0);
    if (end < 0) throw new Error(`fixture frame at ${at} does not decode (${end})`);
    out.push(window.slice(pos, end));
    pos = end;
  }
  return out;
}

describe('fuzz: every queue type with random payloads', () => {
  // The reader decodes into a window whose end may coincide with a frame's end, so an item
  // handler that reads one byte past its item would throw a RangeError there. Placing each item
  // at the very end of a buffer of its own makes any such read throw every time.
  const VARIABLE = new Set<number>([Q.SingleStringData, Q.SecondStringData, Q.SingleStringData8, Q.SecondStringData8]);

  /** Staged data every consumer may need: single and second string, pool name, srcloc payload. */
  const payload = [0x11, 0x22, 0x33, 0, 7, 0, 0, 0, 0x66, 0, 0x66, 0, 0x6e];
  const STAGING = [
    Q.SingleStringData8, 1, 0x61,
    Q.SecondStringData8, 1, 0x62,
    Q.MemNamePayload, 1, 0, 0, 0, 0, 0, 0, 0,
    Q.SourceLocationPayload, 0, 0, 0, 0, 0, 0, 0, 0, payload.length, 0, ...payload,
  ];

  function itemAtEnd(rand: () => number, t: number): Uint8Array {
    let length: number;
    if (t >= Q.StringData) {
      const wide = t === Q.FrameImageData || t === Q.SymbolCode || t === Q.SourceCode;
      length = (wide ? 13 : 11) + randInt(rand, 40);
    } else if (t === Q.SingleStringData || t === Q.SecondStringData) {
      length = 3 + 256 + randInt(rand, 40);
    } else if (VARIABLE.has(t)) {
      length = 2 + randInt(rand, 40);
    } else {
      length = QUEUE_ITEM_SIZE[t]!;
    }
    const item = Uint8Array.from({ length }, () => randInt(rand, 256));
    item[0] = t;
    // make the length fields agree with the item's size
    const v = new DataView(item.buffer);
    if (t === Q.FrameImageData || t === Q.SymbolCode || t === Q.SourceCode) v.setUint32(9, length - 13, true);
    else if (t >= Q.StringData) v.setUint16(9, length - 11, true);
    else if (t === Q.SingleStringData || t === Q.SecondStringData) v.setUint16(1, length - 3 - 256, true);
    else if (VARIABLE.has(t)) item[1] = length - 2;
    const buf = new Uint8Array(STAGING.length + length);
    buf.set(STAGING, 0);
    buf.set(item, STAGING.length);
    return buf;
  }

  it('reads no byte past the end of any item type and throws only ItemErrors', () => {
    const rand = mulberry32(2024);
    const outcomes = new Map<string, number>();
    for (let t = 0; t < QUEUE_TYPE_COUNT; t++) {
      for (let run = 0; run < 40; run++) {
        const buf = itemAtEnd(rand, t);
        const decoder = new QueueDecoder(new CheckingVisitor());
        decoder.setClock(0.5, 123456789n);
        try {
          // the first walk primes one outstanding SourceLocation query, for a SourceLocation reply
          decoder.walk(Uint8Array.of(Q.ZoneBegin16, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), 0, 11);
          decoder.walk(buf, 0, buf.length);
          outcomes.set('decoded', (outcomes.get('decoded') ?? 0) + 1);
        } catch (err) {
          if (!(err instanceof ItemError)) {
            throw new Error(`type ${t} (${QUEUE_TYPE_NAMES[t]}), run ${run}, item ${Buffer.from(buf).toString('hex')}: ${String(err)}`);
          }
          outcomes.set(err.code, (outcomes.get(err.code) ?? 0) + 1);
        }
      }
    }
    // only the three client-internal types are refused; everything else decodes
    expect(outcomes.get(ProtocolErrorCode.UnknownQueueType)).toBe(3 * 40);
  });
});

describe.skipIf(!SMALL)('fuzz: mutated small.client.bin', () => {
  const small = SMALL ?? new Uint8Array(0);
  const frames = SMALL ? frameOffsets(small, FIRST_FRAME) : [];
  const frameOf = (offset: number): number => {
    let k = 0;
    while (k + 1 < frames.length && frames[k + 1]! <= offset) k++;
    return frames[k]!;
  };

  it(`survives ${FLIP_RUNS} runs of 1-8 random byte flips after the welcome`, () => {
    const codes = new Map<string, number>();
    for (const seed of seeds(FLIP_RUNS)) {
      const rand = mulberry32(seed);
      const bytes = small.slice();
      const flips = 1 + randInt(rand, 8);
      let firstFlip = bytes.length;
      for (let f = 0; f < flips; f++) {
        const at = FIRST_FRAME + randInt(rand, bytes.length - FIRST_FRAME);
        bytes[at] = bytes[at]! ^ (1 + randInt(rand, 255));
        firstFlip = Math.min(firstFlip, at);
      }
      const label = `byte flips, seed ${seed}`;
      const err = fuzzRun(label, bytes, randomCutsFor(rand, bytes.length));
      const code = err?.code ?? 'decoded';
      codes.set(code, (codes.get(code) ?? 0) + 1);
      // the frames before the first flip are intact, so the error cannot be blamed on them
      if (err && err.offset < frameOf(firstFlip)) {
        throw new Error(`${label}: error at ${err.offset}, before the frame of the first flip (${frameOf(firstFlip)}): ${err.message}`);
      }
    }
    if (!ONLY_SEED) expect(codes.get(ProtocolErrorCode.BadLz4Block) ?? 0).toBeGreaterThan(0);
  }, TIMEOUT_MS);

  it(`survives ${MUTATION_RUNS} random mutations (flip, insert, delete, overwrite a run, truncate) anywhere`, () => {
    const codes = new Map<string, number>();
    for (const seed of seeds(MUTATION_RUNS)) {
      const rand = mulberry32(0x9e3779b9 ^ seed);
      let bytes: Uint8Array = small;
      const ops: string[] = [];
      const count = 1 + randInt(rand, 4);
      for (let k = 0; k < count; k++) {
        const at = randInt(rand, bytes.length + 1);
        const op = randInt(rand, 5);
        if (op === 0 && at < bytes.length) {
          bytes = bytes.slice();
          bytes[at] = randInt(rand, 256);
          ops.push(`set ${at}`);
        } else if (op === 1) {
          const n = 1 + randInt(rand, 16);
          const ins = Uint8Array.from({ length: n }, () => randInt(rand, 256));
          bytes = concat([bytes.subarray(0, at), ins, bytes.subarray(at)]);
          ops.push(`insert ${n} at ${at}`);
        } else if (op === 2) {
          const n = 1 + randInt(rand, 16);
          bytes = concat([bytes.subarray(0, at), bytes.subarray(at + n)]);
          ops.push(`delete ${n} at ${at}`);
        } else if (op === 3) {
          const n = 1 + randInt(rand, 64);
          const fill = [0x00, 0xff, randInt(rand, 256)][randInt(rand, 3)]!;
          bytes = bytes.slice();
          bytes.fill(fill, at, at + n);
          ops.push(`fill ${n} x ${fill} at ${at}`);
        } else {
          bytes = bytes.slice(0, at);
          ops.push(`truncate at ${at}`);
        }
      }
      const label = `mutations, seed ${seed} (${ops.join(', ')})`;
      const err = fuzzRun(label, bytes, randomCutsFor(rand, bytes.length));
      codes.set(err?.code ?? 'decoded', (codes.get(err?.code ?? 'decoded') ?? 0) + 1);
    }
    if (!ONLY_SEED) {
      expect(codes.get('decoded') ?? 0).toBeGreaterThan(0);
      expect(codes.size).toBeGreaterThan(3);
    }
  }, TIMEOUT_MS);

  it('never throws on a clean prefix and says whether it was cut inside a frame', () => {
    const boundaries = new Set([FIRST_FRAME, ...frames, small.length]);
    const rand = mulberry32(4242);
    for (let i = 0; i < 150; i++) {
      const n = i < 20 ? [...boundaries][i % boundaries.size]! : randInt(rand, small.length + 1);
      const reader = new TracyStreamReader(new CheckingVisitor());
      reader.push(small, 0, n);
      const cut = reader.truncation();
      if (n === 0) expect(cut).toBe('the stream is empty');
      else if (boundaries.has(n)) expect(cut, `prefix of ${n}`).toBeNull();
      else expect(cut, `prefix of ${n}`).toMatch(/^the stream ended inside/);
    }
  });

  it(`survives ${ITEM_RUNS} mutations of the decompressed items, re-framed as literal blocks`, () => {
    const payloads = decompressFrames(small, FIRST_FRAME);
    const framed = payloads.map((p) => frame(p));
    const head = small.subarray(0, FIRST_FRAME);
    const codes = new Map<string, number>();
    for (const seed of seeds(ITEM_RUNS)) {
      const rand = mulberry32(0x51ed ^ (seed * 7919));
      const k = randInt(rand, payloads.length);
      let items: Uint8Array = payloads[k]!.slice();
      const ops: string[] = [];
      const count = 1 + randInt(rand, 3);
      for (let m = 0; m < count; m++) {
        const at = randInt(rand, items.length + 1);
        const op = randInt(rand, 4);
        if (op === 0 && at < items.length) {
          items[at] = randInt(rand, 256);
          ops.push(`set ${at}`);
        } else if (op === 1) {
          const n = 1 + randInt(rand, 12);
          items = concat([items.subarray(0, at), Uint8Array.from({ length: n }, () => randInt(rand, 256)), items.subarray(at)]);
          ops.push(`insert ${n} at ${at}`);
        } else if (op === 2) {
          const n = 1 + randInt(rand, 12);
          items = concat([items.subarray(0, at), items.subarray(at + n)]);
          ops.push(`delete ${n} at ${at}`);
        } else {
          // a plausible type byte in a random place: the walker then reads a wrong layout
          items = items.slice();
          if (at < items.length) items[at] = randInt(rand, 136);
          ops.push(`type byte at ${at}`);
        }
      }
      const stream = concat([head, ...framed.map((f, i) => (i === k ? frame(items) : f))]);
      const label = `item mutations, seed ${seed} (frame ${k}: ${ops.join(', ')})`;
      const err = fuzzRun(label, stream, randomCutsFor(rand, stream.length));
      codes.set(err?.code ?? 'decoded', (codes.get(err?.code ?? 'decoded') ?? 0) + 1);
    }
    if (!ONLY_SEED) {
      expect(codes.get(ProtocolErrorCode.UnknownQueueType) ?? 0).toBeGreaterThan(0);
      expect(codes.get(ProtocolErrorCode.ItemSpansFrame) ?? 0).toBeGreaterThan(0);
    }
  }, TIMEOUT_MS);

  it('stays within bounded memory after the fuzz runs', () => {
    // Each run allocates a fresh reader (about 1.5 MiB of buffers); none may stay reachable.
    const MiB = 1024 * 1024;
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    expect(heapUsed, `heapUsed ${(heapUsed / MiB).toFixed(0)} MiB`).toBeLessThan(512 * MiB);
    expect(arrayBuffers, `arrayBuffers ${(arrayBuffers / MiB).toFixed(0)} MiB`).toBeLessThan(512 * MiB);
  });
});
