import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  concat,
  FIRST_FRAME,
  frame,
  frameOffsets,
  hex,
  mulberry32,
  randInt,
  rawFrame,
  readTracyFixture,
  RecordingVisitor,
} from '../../test/support/tracy-streams.js';
import { tracyFixturePath } from '../../test/support/fixture-paths.js';
import { LZ4_HISTORY_SIZE, LZ4_SIZE, TARGET_FRAME_SIZE, WelcomeFlag } from './constants.js';
import { ProtocolError, ProtocolErrorCode, type ProtocolErrorCodeValue } from './errors.js';
import { decodeWelcome, encodeOnDemandPayload, encodeWelcome, type WelcomeMessage } from './handshake.js';
import { compressBound, writeLiteralBlock } from './lz4-block.js';
import { QUEUE_TYPE_NAMES, QueueType as Q } from './queue-types.js';
import { TracyStreamReader } from './stream-reader.js';

// Fixtures are read in place from ../shared/fixtures/tracy; tests that need a missing one skip.
const WHO = 'stream-reader.test';
const SMALL = readTracyFixture('small.client.bin', WHO);
const SMALL_DECODED_PATH = tracyFixturePath('small.decoded.json');
const SMALL_DECODED = existsSync(SMALL_DECODED_PATH)
  ? (JSON.parse(readFileSync(SMALL_DECODED_PATH, 'utf8')) as {
      client: { lz4Frames: number; decompressedBytes: number; items: number; itemHistogram: Record<string, number> };
    })
  : null;
const MEDIUM_PATH = tracyFixturePath('medium.client.bin');
const haveMedium = existsSync(MEDIUM_PATH);
if (!haveMedium) console.warn(`${WHO}: skipping the medium split tests: ${MEDIUM_PATH} not found`);

// ---- decoding helpers ----

interface DecodeResult {
  log: string[] | null;
  digest: string;
  summary: Record<string, unknown>;
}

/** Everything the reader and its decoder know at the end, for comparing two decodes. */
function summarize(reader: TracyStreamReader): Record<string, unknown> {
  const d = reader.decoder;
  const queries = new Uint8Array(d.queries.length * 13);
  d.queries.drainInto(queries, 0, d.queries.length);
  return {
    bytes: reader.bytes,
    compressedBytes: reader.compressedBytes,
    decompressedBytes: reader.decompressedBytes,
    frames: reader.frames,
    truncation: reader.truncation(),
    welcome: reader.welcome,
    onDemand: reader.onDemand,
    items: d.items,
    histogram: Array.from(d.histogram),
    repliesCounted: d.repliesCounted,
    droppedNonFinite: d.droppedNonFinite,
    terminated: d.terminated,
    srclocs: d.srclocs.count,
    names: [d.names.strings.size, d.names.threads.size, d.names.plots.size, d.names.frames.size],
    queries: Buffer.from(queries).toString('hex'),
  };
}

/**
 * Decodes `stream` pushed in the pieces that end at `cuts` (ascending offsets). Each piece is
 * copied into one reused scratch buffer that is overwritten after the push, as a socket may do,
 * so a reader that kept a view of a chunk would decode garbage.
 */
function decodeWithCuts(stream: Uint8Array, cuts: Iterable<number>, keepLog: boolean): DecodeResult {
  const visitor = new RecordingVisitor(keepLog);
  const reader = new TracyStreamReader(visitor);
  const scratch = new Uint8Array(1 << 16);
  let prev = 0;
  const push = (end: number): void => {
    if (end - prev > scratch.length) {
      reader.push(stream.slice(prev, end));
    } else {
      scratch.set(stream.subarray(prev, end));
      reader.push(scratch, 0, end - prev);
      scratch.fill(0xcc, 0, end - prev);
    }
    prev = end;
  };
  for (const cut of cuts) if (cut > prev && cut < stream.length) push(cut);
  push(stream.length);
  return { log: visitor.log, digest: visitor.digest, summary: summarize(reader) };
}

function decodeWhole(stream: Uint8Array, keepLog: boolean): DecodeResult {
  const visitor = new RecordingVisitor(keepLog);
  const reader = new TracyStreamReader(visitor);
  reader.push(stream);
  return { log: visitor.log, digest: visitor.digest, summary: summarize(reader) };
}

function* fixedCuts(length: number, size: number): Generator<number> {
  for (let p = size; p < length; p += size) yield p;
}

/** Random piece sizes, mostly small, sometimes large (seeded). */
function* randomCuts(length: number, seed: number): Generator<number> {
  const rand = mulberry32(seed);
  let p = 0;
  while (p < length) {
    const r = rand();
    p += r < 0.5 ? 1 + randInt(rand, 16) : r < 0.9 ? 1 + randInt(rand, 2048) : 1 + randInt(rand, 100_000);
    yield p;
  }
}

/** Compares two decodes; names the first differing event instead of diffing huge arrays. */
function expectSameDecode(actual: DecodeResult, expected: DecodeResult, label: string): void {
  if (actual.log && expected.log) {
    const n = Math.min(actual.log.length, expected.log.length);
    for (let i = 0; i < n; i++) {
      if (actual.log[i] !== expected.log[i]) {
        throw new Error(`${label}: event ${i} differs: ${actual.log[i]} instead of ${expected.log[i]}`);
      }
    }
    expect(actual.log.length, `${label}: number of events`).toBe(expected.log.length);
  }
  expect(actual.digest, `${label}: event log`).toBe(expected.digest);
  expect(actual.summary, `${label}: counters`).toEqual(expected.summary);
}

// ---- building streams from hex literals ----

const SYNTHETIC_WELCOME: WelcomeMessage = {
  timerMul: 1,
  initBegin: 1000n,
  initEnd: 2000n,
  resolution: 1n,
  epoch: 1795874343n,
  exectime: 0n,
  pid: 1n,
  samplingPeriod: 0n,
  flags: 0,
  cpuArch: 2,
  cpuManufacturer: 'GenuineIntel',
  cpuId: 0,
  programName: 'synthetic',
  hostInfo: 'OS: Linux\n',
};
/** The real welcome of small.client.bin when it is there, else a synthetic one. */
const WELCOME = SMALL ? SMALL.slice(1, FIRST_FRAME) : encodeWelcome(SYNTHETIC_WELCOME);

/** Status byte Welcome (1), the welcome, then frames. */
function session(...frames: Uint8Array[]): Uint8Array {
  return concat([[1], WELCOME, ...frames]);
}

/** Pushes `stream` (whole, or one byte at a time) and returns the ProtocolError it throws. */
function pushError(stream: Uint8Array, oneByteAtATime = false): ProtocolError {
  const reader = new TracyStreamReader(new RecordingVisitor(false));
  try {
    if (oneByteAtATime) for (let i = 0; i < stream.length; i++) reader.push(stream, i, i + 1);
    else reader.push(stream);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect(reader.error).toBe(err);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError, the stream was accepted');
}

interface Expected {
  code: ProtocolErrorCodeValue;
  offset: number;
  message: string | RegExp;
  queueType?: number;
  itemOffset?: number;
}

/** Checks the error both for one push and byte by byte (the incremental path). */
function expectStreamError(stream: Uint8Array, want: Expected): ProtocolError {
  const errors = [pushError(stream), pushError(stream, true)];
  for (const err of errors) {
    expect(err.code).toBe(want.code);
    expect(err.offset).toBe(want.offset);
    if (typeof want.message === 'string') expect(err.message).toBe(want.message);
    else expect(err.message).toMatch(want.message);
    expect(err.queueType).toBe(want.queueType ?? -1);
    expect(err.itemOffset).toBe(want.itemOffset ?? -1);
  }
  return errors[0]!;
}

const u64 = (lo: number, hi = 0): number[] => hex(
  [lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff, (hi >>> 16) & 0xff, hi >>> 24]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(''),
);
const u16 = (n: number): number[] => [n & 0xff, n >>> 8];

// =====================================================================================

describe.skipIf(!SMALL)('split points: the small fixture', () => {
  const small = SMALL ?? new Uint8Array(0);
  const reference = SMALL ? decodeWhole(small, true) : null!;

  it('decodes in one push to the counts of the independent decoder (small.decoded.json)', () => {
    const s = reference.summary;
    expect(s.bytes).toBe(small.length);
    expect(s.truncation).toBeNull();
    expect(s.terminated).toBe(true);
    if (SMALL_DECODED) {
      const c = SMALL_DECODED.client;
      expect(s.frames).toBe(c.lz4Frames);
      expect(s.decompressedBytes).toBe(c.decompressedBytes);
      expect(s.items).toBe(c.items);
      const histogram = s.histogram as number[];
      const named: Record<string, number> = {};
      histogram.forEach((n, t) => {
        if (n > 0) named[QUEUE_TYPE_NAMES[t]!] = n;
      });
      expect(named).toEqual(c.itemHistogram);
    }
    expect(reference.log!.length).toBeGreaterThan(10_000);
    expect(reference.log!.filter((e) => /^zoneText\(\d+, "iter=\d+"\)$/.test(e))).toHaveLength(200);
  });

  for (const size of [1, 2, 3, 7, 4096]) {
    it(`decodes the same in chunks of ${size} bytes as in one push`, () => {
      expectSameDecode(decodeWithCuts(small, fixedCuts(small.length, size), true), reference, `chunks of ${size}`);
    });
  }

  it('decodes the same at random chunk boundaries (seeds 1..20)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      expectSameDecode(decodeWithCuts(small, randomCuts(small.length, seed), seed <= 3), reference, `random cuts, seed ${seed}`);
    }
  });

  it('decodes the same when split once at every offset of the first frames (0..1500)', () => {
    // Offsets 0..1500 cover the status byte, the welcome, frame 0 and the start of frame 1 (which
    // ends at 14829). Decoding up to the end of frame 2 is enough to see any damage, and
    // keeps 1,501 decodes fast.
    const prefix = small.subarray(0, frameOffsets(small, FIRST_FRAME)[3]);
    const expected = decodeWhole(prefix, false);
    expect(expected.summary.frames).toBe(3);
    for (let n = 0; n <= 1500; n++) expectSameDecode(decodeWithCuts(prefix, [n], false), expected, `split at ${n}`);
  });

  it('decodes the same when split once around every frame header and at 100 random offsets', () => {
    const cuts = new Set<number>();
    for (const at of frameOffsets(small, FIRST_FRAME)) for (let d = -2; d <= 6; d++) cuts.add(at + d);
    const rand = mulberry32(99);
    for (let i = 0; i < 100; i++) cuts.add(randInt(rand, small.length));
    for (const n of cuts) expectSameDecode(decodeWithCuts(small, [n], false), reference, `split at ${n}`);
  });

  it('decodes the same from views that do not start at byte 0 of their buffer', () => {
    const padded = new Uint8Array(small.length + 13).fill(0xee);
    padded.set(small, 7);
    const visitor = new RecordingVisitor(true);
    const reader = new TracyStreamReader(visitor);
    const view = padded.subarray(7, 7 + small.length);
    const half = 30_001; // inside the frame at 28617
    reader.push(view.subarray(0, half));
    reader.push(view, half, view.length);
    expectSameDecode({ log: visitor.log, digest: visitor.digest, summary: summarize(reader) }, reference, 'views');
  });

  it('decodes the same from Uint8Array-subclass chunks (like Node Buffers) pushed in 1 KiB steps', () => {
    class Bytes extends Uint8Array {}
    const padded = new Bytes(small.length + 5);
    padded.set(small, 5);
    const visitor = new RecordingVisitor(true);
    const reader = new TracyStreamReader(visitor);
    // 64 KiB chunks that are subclass views into one buffer, each pushed in steps as Session does
    for (let c = 0; c < small.length; c += 65_536) {
      const chunk = new Bytes(padded.buffer, 5 + c, Math.min(65_536, small.length - c));
      for (let p = 0; p < chunk.length; p += 1024) reader.push(chunk, p, Math.min(chunk.length, p + 1024));
    }
    expectSameDecode({ log: visitor.log, digest: visitor.digest, summary: summarize(reader) }, reference, 'subclass chunks in steps');
  });

  it('decodes the same when every frame header arrives one byte at a time', () => {
    const cuts: number[] = [];
    for (const at of frameOffsets(small, FIRST_FRAME)) cuts.push(at, at + 1, at + 2, at + 3, at + 4);
    expectSameDecode(decodeWithCuts(small, cuts, true), reference, 'headers byte by byte');
  });
});

describe('split points: the other small fixtures', () => {
  for (const name of ['small-default', 'small-ondemand']) {
    const stream = readTracyFixture(`${name}.client.bin`, WHO);
    it.skipIf(!stream)(`decodes ${name} the same in 7-byte chunks and at random boundaries as in one push`, () => {
      const reference = decodeWhole(stream!, true);
      expect(reference.summary.truncation).toBeNull();
      expectSameDecode(decodeWithCuts(stream!, fixedCuts(stream!.length, 7), true), reference, `${name} chunks of 7`);
      expectSameDecode(decodeWithCuts(stream!, randomCuts(stream!.length, 5), true), reference, `${name} random cuts`);
      if (name === 'small-ondemand') expect(reference.summary.onDemand).not.toBeNull();
    });
  }
});

describe.skipIf(!haveMedium)('split points: the medium fixture', () => {
  const medium = haveMedium ? new Uint8Array(readFileSync(MEDIUM_PATH)) : new Uint8Array(0);
  const reference = haveMedium ? decodeWhole(medium, false) : null!;

  it('decodes every frame of medium, including one that reaches the 262,142-byte mark', () => {
    expect(reference.summary.frames).toBe(201);
    expect(reference.summary.items).toBe(818_780);
    expect(reference.summary.decompressedBytes).toBe(8_985_440);
    expect(reference.summary.truncation).toBeNull();
  });

  for (const size of [4096, 65536]) {
    it(`decodes medium the same in chunks of ${size} bytes as in one push`, () => {
      expectSameDecode(decodeWithCuts(medium, fixedCuts(medium.length, size), false), reference, `chunks of ${size}`);
    });
  }

  it('decodes medium the same at random chunk boundaries', () => {
    expectSameDecode(decodeWithCuts(medium, randomCuts(medium.length, 7), false), reference, 'random cuts, seed 7');
  });
});

// =====================================================================================

describe('bad input', () => {
  describe('truncation()', () => {
    function readerAfter(stream: Uint8Array): TracyStreamReader {
      const reader = new TracyStreamReader(new RecordingVisitor(false));
      reader.push(stream);
      return reader;
    }

    it('says the stream is empty before any byte, also after an empty chunk', () => {
      const reader = new TracyStreamReader(new RecordingVisitor(false));
      expect(reader.truncation()).toBe('the stream is empty');
      reader.push(new Uint8Array(0));
      expect(reader.truncation()).toBe('the stream is empty');
      expect(reader.bytes).toBe(0);
    });

    it('says when the stream ended inside the WelcomeMessage, with how much and where', () => {
      expect(readerAfter(Uint8Array.of(1)).truncation()).toBe('the stream ended inside the WelcomeMessage (0 of 1170 bytes) at offset 1');
      const reader = readerAfter(concat([[1], WELCOME.subarray(0, 500)]));
      expect(reader.truncation()).toBe('the stream ended inside the WelcomeMessage (500 of 1170 bytes) at offset 501');
      expect(reader.welcome).toBeNull();
      expect(reader.streaming).toBe(false);
    });

    it('says when the stream ended inside the OnDemandPayloadMessage', () => {
      const onDemandWelcome = encodeWelcome({ ...SYNTHETIC_WELCOME, flags: WelcomeFlag.OnDemand });
      const payload = encodeOnDemandPayload({ frames: 3n, currentTime: 5000n });
      const reader = readerAfter(concat([[1], onDemandWelcome, payload.subarray(0, 10)]));
      expect(reader.truncation()).toBe('the stream ended inside the OnDemandPayloadMessage (10 of 16 bytes) at offset 1181');
      reader.push(payload.subarray(10));
      expect(reader.truncation()).toBeNull();
      expect(reader.onDemand).toEqual({ frames: 3n, currentTime: 5000n });
    });

    it('is null on a frame boundary and says where a frame header or body was cut', () => {
      const keepAlive = frame([Q.KeepAlive, Q.KeepAlive, Q.KeepAlive]);
      expect(readerAfter(session()).truncation()).toBeNull();
      expect(readerAfter(session(keepAlive)).truncation()).toBeNull();
      expect(readerAfter(session(keepAlive.subarray(0, 2))).truncation()).toBe(
        'the stream ended inside a frame header (2 of 4 bytes) at offset 1173',
      );
      expect(readerAfter(session(keepAlive.subarray(0, 5))).truncation()).toBe(
        'the stream ended inside the frame at offset 1171 (1 of 4 bytes)',
      );
      const second = FIRST_FRAME + keepAlive.length;
      expect(readerAfter(session(keepAlive, keepAlive.subarray(0, 7))).truncation()).toBe(
        `the stream ended inside the frame at offset ${second} (3 of 4 bytes)`,
      );
    });
  });

  describe('handshake status', () => {
    const cases: [number, string][] = [
      [2, 'ProtocolMismatch (2)'],
      [3, 'NotAvailable (3)'],
      [0, 'Pending (0)'],
      [4, 'Dropped (4)'],
      [200, 'unknown status 200 (200)'],
    ];
    for (const [status, name] of cases) {
      it(`rejects status ${status} with ZS_PROTOCOL_HANDSHAKE_REJECTED at offset 0`, () => {
        expectStreamError(concat([[status], WELCOME]), {
          code: ProtocolErrorCode.HandshakeRejected,
          offset: 0,
          message: `the app answered the handshake with ${name}, not Welcome (1)`,
        });
      });
    }
  });

  describe('frame size', () => {
    const ok = frame([Q.KeepAlive]);

    it('rejects a frame size of 0 with ZS_PROTOCOL_BAD_FRAME_SIZE at that frame', () => {
      expectStreamError(session(rawFrame([])), {
        code: ProtocolErrorCode.BadFrameSize,
        offset: FIRST_FRAME,
        message: 'frame size 0 is outside 1..263188 (LZ4Size)',
      });
      expectStreamError(session(ok, ok, rawFrame([])), {
        code: ProtocolErrorCode.BadFrameSize,
        offset: FIRST_FRAME + 2 * ok.length,
        message: 'frame size 0 is outside 1..263188 (LZ4Size)',
      });
    });

    it('rejects LZ4Size + 1 with ZS_PROTOCOL_BAD_FRAME_SIZE before reading the body', () => {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, LZ4_SIZE + 1, true);
      expectStreamError(session(ok, header), {
        code: ProtocolErrorCode.BadFrameSize,
        offset: FIRST_FRAME + ok.length,
        message: 'frame size 263189 is outside 1..263188 (LZ4Size)',
      });
      new DataView(header.buffer).setUint32(0, 0xffffffff, true);
      expectStreamError(session(header), {
        code: ProtocolErrorCode.BadFrameSize,
        offset: FIRST_FRAME,
        message: 'frame size 4294967295 is outside 1..263188 (LZ4Size)',
      });
    });

    it('accepts a frame of exactly LZ4Size bytes', () => {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, LZ4_SIZE, true);
      const reader = new TracyStreamReader(new RecordingVisitor(false));
      reader.push(session(header));
      expect(reader.truncation()).toBe(`the stream ended inside the frame at offset ${FIRST_FRAME} (0 of ${LZ4_SIZE} bytes)`);
    });
  });

  describe('LZ4 blocks', () => {
    it('rejects a match with offset 0 with ZS_PROTOCOL_BAD_LZ4_BLOCK at the frame', () => {
      expectStreamError(session(frame([Q.KeepAlive]), rawFrame(hex('10 4a 0000 50 4a4a4a4a4a'))), {
        code: ProtocolErrorCode.BadLz4Block,
        offset: FIRST_FRAME + 6,
        message: 'corrupt LZ4 block of 10 bytes: a match offset is 0 or reaches before the history window',
      });
    });

    it('rejects a match into history that does not exist yet (first frame)', () => {
      expectStreamError(session(rawFrame(hex('00 0100 50 4a4a4a4a4a'))), {
        code: ProtocolErrorCode.BadLz4Block,
        offset: FIRST_FRAME,
        message: 'corrupt LZ4 block of 9 bytes: a match offset is 0 or reaches before the history window',
      });
    });

    it('resolves a match into the previous frame and rejects one reaching before the stream start', () => {
      // frame 1: 3 KeepAlives; frame 2: match of 4 bytes at offset 3 (reaching into frame 1) + 1 literal
      const good = session(frame([Q.KeepAlive, Q.KeepAlive, Q.KeepAlive]), rawFrame(hex('00 0300 10 4a')));
      const reader = new TracyStreamReader(new RecordingVisitor(false));
      reader.push(good);
      expect(reader.decoder.histogram[Q.KeepAlive]).toBe(3 + 5);
      expect(reader.decompressedBytes).toBe(8);
      // offset 4 after 3 bytes of output reaches one byte before the stream's first byte
      expectStreamError(session(frame([Q.KeepAlive, Q.KeepAlive, Q.KeepAlive]), rawFrame(hex('00 0400 10 4a'))), {
        code: ProtocolErrorCode.BadLz4Block,
        offset: FIRST_FRAME + 8,
        message: 'corrupt LZ4 block of 5 bytes: a match offset is 0 or reaches before the history window',
      });
      // after more than 64 KiB of output, the largest offset (65535) is fine
      const big = frame(new Uint8Array(LZ4_HISTORY_SIZE + 10).fill(Q.KeepAlive));
      const farMatch = rawFrame(hex('00 ffff 10 4a'));
      const reader2 = new TracyStreamReader(new RecordingVisitor(false));
      reader2.push(session(big, farMatch));
      expect(reader2.decoder.items).toBe(LZ4_HISTORY_SIZE + 10 + 5);
    });

    it('resolves a back-reference across the slide of the output window', () => {
      // Four full frames fill the reader's window (64 KiB history + 2 x 256 KiB) twice, so the
      // fifth frame is decoded after the last 64 KiB were moved to the front. Its match must copy the
      // bytes that were 65280 back in stream order. Every item is a 256-byte StringData whose
      // text names its frame and index, so the copied items say where they came from.
      const ITEM = 256;
      const textOf = (f: number, i: number): string => `frame ${f} item ${i} `.padEnd(ITEM - 11, '.');
      const frames: Uint8Array[] = [];
      for (let f = 0; f < 4; f++) {
        const items = new Uint8Array(TARGET_FRAME_SIZE);
        const v = new DataView(items.buffer);
        for (let i = 0; i < TARGET_FRAME_SIZE / ITEM; i++) {
          items[i * ITEM] = Q.StringData;
          v.setUint32(i * ITEM + 1, f * 10_000 + i, true);
          v.setUint16(i * ITEM + 9, ITEM - 11, true);
          items.set(new TextEncoder().encode(textOf(f, i)), i * ITEM + 11);
        }
        frames.push(frame(items));
      }
      // 0 literals, match of 4 + 15 + 255 x 3 + 240 = 1024 bytes (4 items) at offset 65280
      // (255 items back), then 5 literal KeepAlives
      frames.push(rawFrame(hex('0f 00ff ff ff ff f0  50 4a4a4a4a4a')));
      const visitor = new RecordingVisitor(true);
      const reader = new TracyStreamReader(visitor);
      reader.push(session(...frames));
      expect(reader.truncation()).toBeNull();
      expect(reader.decompressedBytes).toBe(4 * TARGET_FRAME_SIZE + 1029);
      const first = TARGET_FRAME_SIZE / ITEM - 255;
      expect(visitor.log!.slice(-4)).toEqual(
        [0, 1, 2, 3].map((k) => `stringData(${Q.StringData}, ${30_000 + first + k}, ${JSON.stringify(textOf(3, first + k))})`),
      );
      expect(reader.decoder.histogram[Q.KeepAlive]).toBe(5);
    });

    it('rejects a block that ends inside a sequence header or whose literals run past it', () => {
      expectStreamError(session(rawFrame(hex('f0'))), {
        code: ProtocolErrorCode.BadLz4Block,
        offset: FIRST_FRAME,
        message: 'corrupt LZ4 block of 1 bytes: the block ends inside a sequence header',
      });
      expectStreamError(session(rawFrame(hex('50 4a4a'))), {
        code: ProtocolErrorCode.BadLz4Block,
        offset: FIRST_FRAME,
        message: 'corrupt LZ4 block of 3 bytes: a literal run reaches past the end of the block',
      });
    });

    it('rejects decoded output larger than 262144 bytes', () => {
      expectStreamError(session(frame(new Uint8Array(TARGET_FRAME_SIZE + 1).fill(Q.KeepAlive))), {
        code: ProtocolErrorCode.BadLz4Block,
        offset: FIRST_FRAME,
        message: 'corrupt LZ4 block of 263174 bytes: the decompressed output exceeds its limit',
      });
      // A match that grows the output past the limit: 262142 literals, then the same sequence's
      // match part, offset 1 (u16 LE) with length 0 + 4 from the token's low nibble = 262146 bytes.
      const full = new Uint8Array(TARGET_FRAME_SIZE - 2).fill(Q.KeepAlive);
      const src = new Uint8Array(compressBound(full.length));
      const n = writeLiteralBlock(full, 0, full.length, src, 0);
      expectStreamError(session(rawFrame([...src.subarray(0, n), 0x01, 0x00])), {
        code: ProtocolErrorCode.BadLz4Block,
        offset: FIRST_FRAME,
        message: `corrupt LZ4 block of ${n + 2} bytes: the decompressed output exceeds its limit`,
      });
    });

    it('accepts a frame of exactly 262144 decoded bytes', () => {
      const reader = new TracyStreamReader(new RecordingVisitor(false));
      reader.push(session(frame(new Uint8Array(TARGET_FRAME_SIZE).fill(Q.KeepAlive))));
      expect(reader.decoder.items).toBe(TARGET_FRAME_SIZE);
      expect(reader.truncation()).toBeNull();
    });
  });

  describe('queue items', () => {
    for (const type of [132, 200, 255]) {
      it(`rejects unknown queue type ${type} with ZS_PROTOCOL_UNKNOWN_QUEUE_TYPE and the type and item offset`, () => {
        expectStreamError(session(frame([Q.KeepAlive]), frame([Q.KeepAlive, type, 0, 0, 0])), {
          code: ProtocolErrorCode.UnknownQueueType,
          offset: FIRST_FRAME + 6,
          queueType: type,
          itemOffset: 1,
          message: `unknown queue type ${type} at byte 1 of the frame at offset ${FIRST_FRAME + 6} (type ${type} ?)`,
        });
      });
    }

    for (const type of [65, 66, 67]) {
      it(`rejects client-internal queue type ${type} (${QUEUE_TYPE_NAMES[type]}) with ZS_PROTOCOL_UNKNOWN_QUEUE_TYPE`, () => {
        expectStreamError(session(frame([type])), {
          code: ProtocolErrorCode.UnknownQueueType,
          offset: FIRST_FRAME,
          queueType: type,
          itemOffset: 0,
          message: `queue type ${type} (${QUEUE_TYPE_NAMES[type]}) never appears on the wire at byte 0 of the frame at offset ${FIRST_FRAME} (type ${type} ${QUEUE_TYPE_NAMES[type]})`,
        });
      });
    }

    it('rejects a keyed string transfer whose length runs past the frame with ZS_PROTOCOL_ITEM_SPANS_FRAME', () => {
      // StringData: type, u64 ptr, u16 length 10, but only 3 bytes follow
      expectStreamError(session(frame([Q.StringData, ...u64(0x1234), ...u16(10), 0x61, 0x62, 0x63])), {
        code: ProtocolErrorCode.ItemSpansFrame,
        offset: FIRST_FRAME,
        queueType: Q.StringData,
        itemOffset: 0,
        message: /^StringData item needs 21 bytes but the frame has 14 left at byte 0 of the frame at offset 1171/,
      });
    });

    it('rejects a 16-bit zone begin or end cut by the frame end with ZS_PROTOCOL_ITEM_SPANS_FRAME (the walk\'s fast path)', () => {
      // ZoneEnd16: type, u16 delta (3 bytes); ZoneBegin16: type, u16 delta, u64 srcloc (11 bytes)
      expectStreamError(session(frame([Q.KeepAlive, Q.ZoneEnd16, 5])), {
        code: ProtocolErrorCode.ItemSpansFrame,
        offset: FIRST_FRAME,
        queueType: Q.ZoneEnd16,
        itemOffset: 1,
        message: /^ZoneEnd16 item needs 3 bytes but the frame has 2 left/,
      });
      expectStreamError(session(frame([Q.ZoneBegin16, ...u16(7), ...u64(0x1234).slice(0, 7)])), {
        code: ProtocolErrorCode.ItemSpansFrame,
        offset: FIRST_FRAME,
        queueType: Q.ZoneBegin16,
        itemOffset: 0,
        message: /^ZoneBegin16 item needs 11 bytes but the frame has 10 left/,
      });
    });

    it('rejects transfers whose header, or whose u32 length, is cut by the frame end', () => {
      expectStreamError(session(frame([Q.KeepAlive, Q.ThreadName, 1, 2, 3])), {
        code: ProtocolErrorCode.ItemSpansFrame,
        offset: FIRST_FRAME,
        queueType: Q.ThreadName,
        itemOffset: 1,
        message: /^ThreadName item needs 11 bytes but the frame has 4 left/,
      });
      expectStreamError(session(frame([Q.SourceCode, ...u64(1), 0xe8, 0x03, 0, 0, 0x61])), {
        code: ProtocolErrorCode.ItemSpansFrame,
        offset: FIRST_FRAME,
        queueType: Q.SourceCode,
        itemOffset: 0,
        message: /^SourceCode item needs 1013 bytes but the frame has 14 left/,
      });
      expectStreamError(session(frame([Q.SingleStringData, 0x10, 0x00, 0x61])), {
        code: ProtocolErrorCode.ItemSpansFrame,
        offset: FIRST_FRAME,
        queueType: Q.SingleStringData,
        itemOffset: 0,
        message: /^SingleStringData item needs 275 bytes but the frame has 4 left/,
      });
      expectStreamError(session(frame([Q.SecondStringData8, 5, 0x61, 0x62])), {
        code: ProtocolErrorCode.ItemSpansFrame,
        offset: FIRST_FRAME,
        queueType: Q.SecondStringData8,
        itemOffset: 0,
        message: /^SecondStringData8 item needs 7 bytes but the frame has 4 left/,
      });
    });

    it('rejects a fixed-size item cut by the frame end, even when the next frame holds the rest', () => {
      // ZoneBegin16 is 11 bytes; 5 in this frame, 6 in the next
      expectStreamError(session(frame([Q.ZoneBegin16, 1, 0, 0, 0]), frame([0, 0, 0, 0, 0, 0])), {
        code: ProtocolErrorCode.ItemSpansFrame,
        offset: FIRST_FRAME,
        queueType: Q.ZoneBegin16,
        itemOffset: 0,
        message: /^ZoneBegin16 item needs 11 bytes but the frame has 5 left/,
      });
    });

    it('rejects a consumer without its staged string with ZS_PROTOCOL_BAD_STATE', () => {
      expectStreamError(session(frame([Q.ZoneText])), {
        code: ProtocolErrorCode.BadState,
        offset: FIRST_FRAME,
        queueType: Q.ZoneText,
        itemOffset: 0,
        message: /^ZoneText without a staged string \(SingleStringData\) before it/,
      });
    });

    it('rejects a SourceLocation reply nobody asked for and a malformed SourceLocationPayload', () => {
      expectStreamError(session(frame([Q.SourceLocation, ...new Array<number>(31).fill(0)])), {
        code: ProtocolErrorCode.BadState,
        offset: FIRST_FRAME,
        queueType: Q.SourceLocation,
        itemOffset: 0,
        message: /^SourceLocation reply with no source-location query outstanding/,
      });
      expectStreamError(session(frame([Q.SourceLocationPayload, ...u64(0), ...u16(3), 1, 2, 3])), {
        code: ProtocolErrorCode.BadLength,
        offset: FIRST_FRAME,
        queueType: Q.SourceLocationPayload,
        itemOffset: 0,
        message: /^malformed SourceLocationPayload of 3 bytes/,
      });
    });

    it('carries a staged string from the end of one frame to its consumer in the next', () => {
      const visitor = new RecordingVisitor(true);
      const reader = new TracyStreamReader(visitor);
      reader.push(session(frame([Q.ThreadContext, 7, 0, 0, 0, Q.SingleStringData8, 2, 0x68, 0x69]), frame([Q.ZoneText])));
      expect(visitor.log).toEqual(['threadContext(7)', 'zoneText(7, "hi")']);
    });
  });

  describe('after an error', () => {
    it('throws the same error again on every further push, also for valid data', () => {
      const reader = new TracyStreamReader(new RecordingVisitor(false));
      const bad = session(frame([Q.KeepAlive]), frame([150]));
      let first: unknown;
      try {
        reader.push(bad);
      } catch (err) {
        first = err;
      }
      expect(first).toBeInstanceOf(ProtocolError);
      expect((first as ProtocolError).code).toBe(ProtocolErrorCode.UnknownQueueType);
      expect(reader.error).toBe(first);
      for (const more of [frame([Q.KeepAlive]), new Uint8Array(0), Uint8Array.of(0)]) {
        expect(() => reader.push(more)).toThrow(first as Error);
        try {
          reader.push(more);
        } catch (err) {
          expect(err).toBe(first);
        }
      }
      expect(reader.frames).toBe(2);
    });

    it('keeps the items decoded before the bad frame', () => {
      const visitor = new RecordingVisitor(true);
      const reader = new TracyStreamReader(visitor);
      expect(() => reader.push(session(frame([Q.ThreadContext, 9, 0, 0, 0]), rawFrame(hex('f0'))))).toThrow(ProtocolError);
      expect(visitor.log).toEqual(['threadContext(9)']);
      expect(reader.frames).toBe(1);
    });
  });
});

// =====================================================================================
// The welcome must decode for the fixture-free streams above to be meaningful.
it('uses a welcome that decodes', () => {
  expect(decodeWelcome(WELCOME).cpuManufacturer).toBe('GenuineIntel');
});

describe('welcome validation and released buffers', () => {
  it('ends the stream with ZS_PROTOCOL_BAD_WELCOME when the welcome has an unusable clock, before onWelcome', () => {
    let welcomed = 0;
    const reader = new TracyStreamReader(new RecordingVisitor(false), { onWelcome: () => welcomed++ });
    const stream = concat([[1], encodeWelcome({ ...SYNTHETIC_WELCOME, timerMul: NaN }), frame(new Uint8Array([Q.KeepAlive]))]);
    expectStreamError(stream, { code: ProtocolErrorCode.BadWelcome, offset: 1, message: 'WelcomeMessage timerMul NaN is not a finite number of ns per tick in [0.001, 1000000]' });
    expect(() => reader.push(stream)).toThrow(ProtocolError);
    expect(welcomed).toBe(0);
    expect(reader.streaming).toBe(false);
  });

  it('holds no decode buffer before the first frame, and none after release, keeping its counters and tables', () => {
    const reader = new TracyStreamReader(new RecordingVisitor(false));
    reader.push(concat([[1], WELCOME]));
    expect(reader.retainedBytes).toBe(reader.decoder.scratchBytes); // no window, no frame buffer yet
    const stream = SMALL ?? session(frame(new Uint8Array([Q.KeepAlive])));
    const full = new TracyStreamReader(new RecordingVisitor(false));
    // split every frame across two pushes, so the split-frame buffer is used too
    for (let p = 0; p < stream.length; p += 1000) full.push(stream, p, Math.min(stream.length, p + 1000));
    expect(full.retainedBytes).toBeGreaterThan(LZ4_HISTORY_SIZE);
    const items = full.decoder.items;
    const srclocs = full.decoder.srclocs.count;
    full.release();
    expect(full.retainedBytes).toBe(0);
    expect(full.decoder.scratchBytes).toBe(0);
    expect(full.decoder.items).toBe(items);
    expect(full.decoder.srclocs.count).toBe(srclocs);
    const err = pushError(concat([[0]]));
    expect(err.code).toBe(ProtocolErrorCode.HandshakeRejected); // a fresh reader still works
    let after: unknown = null;
    try {
      full.push(new Uint8Array([0, 0, 0, 0]));
    } catch (e) {
      after = e;
    }
    expect(after).toBeInstanceOf(ProtocolError);
    expect((after as ProtocolError).code).toBe(ProtocolErrorCode.BadState);
    expect((after as ProtocolError).message).toBe('the reader was released: the stream is over');
  });
});
