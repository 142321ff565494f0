import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES_PRESENT, fixture } from '../../test/support/inspect-fixtures.js';
import { encodeClientStream, LZ4_SIZE, NullVisitor, ON_DEMAND_PAYLOAD_SIZE, TracyStreamReader, WELCOME_SIZE, WelcomeFlag, type WelcomeMessage } from '../tracy/index.js';
import { CaptureError, CaptureReader, encodeCaptureHead, isCaptureMagic, ZSCAP_MAGIC, ZSCAP_VERSION, type CaptureHeader } from './index.js';

/** A client stream (status byte onwards) split into its head and its frames (prefix included). */
interface SplitStream {
  head: Uint8Array;
  welcome: Uint8Array;
  onDemand: Uint8Array | null;
  frames: Uint8Array[];
}

function splitClientStream(bin: Uint8Array, maxFrames = Infinity): SplitStream {
  const welcome = bin.slice(1, 1 + WELCOME_SIZE);
  const onDemand = welcome[64]! & WelcomeFlag.OnDemand ? bin.slice(1 + WELCOME_SIZE, 1 + WELCOME_SIZE + ON_DEMAND_PAYLOAD_SIZE) : null;
  let p = 1 + WELCOME_SIZE + (onDemand ? ON_DEMAND_PAYLOAD_SIZE : 0);
  const head = bin.slice(0, p);
  const frames: Uint8Array[] = [];
  while (p + 4 <= bin.length && frames.length < maxFrames) {
    const size = new DataView(bin.buffer, bin.byteOffset + p).getUint32(0, true);
    if (p + 4 + size > bin.length) break;
    frames.push(bin.slice(p, p + 4 + size));
    p += 4 + size;
  }
  return { head, welcome, onDemand, frames };
}

function headerFor(s: SplitStream, extra: Partial<CaptureHeader> = {}): CaptureHeader {
  return { formatVersion: ZSCAP_VERSION, app: 'app', pid: 42, hostInfo: 'host', wallClockStartMs: 1_700_000_000_000, welcome: s.welcome, onDemand: s.onDemand, source: 'tcp', ...extra };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads `bytes` pushed in the given chunk sizes; returns the stream passed on and the end stats. */
function readAll(bytes: Uint8Array, cuts: number[] = []) {
  const out: Uint8Array[] = [];
  const reader = new CaptureReader((b) => out.push(b.slice()));
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.push(bytes.subarray(from, cut));
    from = cut;
  }
  return { reader, stream: concat(out), end: reader.end() };
}

function syntheticWelcome(flags = 0): WelcomeMessage {
  return {
    timerMul: 1, initBegin: 0n, initEnd: 0n, resolution: 1n, epoch: 1_700_000_000n, exectime: 0n, pid: 7n, samplingPeriod: 0n,
    flags, cpuArch: 0, cpuManufacturer: '', cpuId: 0, programName: 'synthetic', hostInfo: 'test host',
  };
}

/** A synthetic client stream: zones, then Terminate (two frames). */
function syntheticStream(): Uint8Array {
  return encodeClientStream(syntheticWelcome(), (q) => {
    for (let i = 0; i < 200; i++) {
      q.zoneBegin(1, i * 100, 0x10);
      q.zoneEnd(1, i * 100 + 50);
    }
  });
}

function expectCaptureError(fn: () => unknown, code: string, message: RegExp, offset?: number): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).code).toBe(code);
    expect((err as CaptureError).message).toMatch(message);
    if (offset !== undefined) expect((err as CaptureError).offset).toBe(offset);
    return;
  }
  throw new Error(`expected a CaptureError ${code}`);
}

describe('.zscap head', () => {
  it('starts with the 8-byte magic "ZSCAP\\0\\r\\n" and the header length', () => {
    const s = splitClientStream(syntheticStream());
    const head = encodeCaptureHead(headerFor(s));
    expect([...head.subarray(0, 8)]).toEqual([0x5a, 0x53, 0x43, 0x41, 0x50, 0x00, 0x0d, 0x0a]);
    expect([...ZSCAP_MAGIC]).toEqual([...head.subarray(0, 8)]);
    expect(isCaptureMagic(head)).toBe(true);
    expect(new DataView(head.buffer).getUint32(8, true)).toBe(head.length - 12);
  });

  it('refuses a welcome of the wrong size', () => {
    const s = splitClientStream(syntheticStream());
    expect(() => encodeCaptureHead(headerFor(s, { welcome: new Uint8Array(10) }))).toThrow(TypeError);
  });
});

describe('CaptureReader', () => {
  it('round-trips a synthetic stream: the header, then exactly the client stream', () => {
    const bin = syntheticStream();
    const s = splitClientStream(bin);
    const header = headerFor(s, { sessionId: '3', remote: '127.0.0.1:5555', note: 'hello' });
    const { reader, stream, end } = readAll(concat([encodeCaptureHead(header), ...s.frames]));
    expect(reader.header).toEqual(header);
    expect(stream).toEqual(bin);
    expect(end).toEqual({ frames: s.frames.length, bytes: encodeCaptureHead(header).length + bin.length - s.head.length, cutBytes: 0 });
    // and what it passes on is a valid Tracy stream
    const tracy = new TracyStreamReader(new NullVisitor());
    tracy.push(stream);
    expect(tracy.truncation()).toBeNull();
    expect(tracy.frames).toBe(s.frames.length);
  });

  it('passes on the on-demand payload after the welcome', () => {
    const bin = encodeClientStream(syntheticWelcome(WelcomeFlag.OnDemand), (q) => q.zoneBegin(1, 5, 0x10), { onDemand: { frames: 3n, currentTime: 99n } });
    const s = splitClientStream(bin);
    expect(s.onDemand).not.toBeNull();
    const { stream } = readAll(concat([encodeCaptureHead(headerFor(s)), ...s.frames]));
    expect(stream).toEqual(bin);
  });

  it('passes the complete frames of one chunk on as one view, and frames split over chunks as their own arrays', () => {
    const s = splitClientStream(syntheticStream());
    const head = encodeCaptureHead(headerFor(s));
    const file = concat([head, ...s.frames]);
    const seen: Uint8Array[] = [];
    const reader = new CaptureReader((b) => seen.push(b));
    reader.push(file);
    expect(seen.length).toBe(2); // the client head, then all frames in one view
    expect(seen[1]!.buffer).toBe(file.buffer);
    const cut = head.length + 2; // inside the first frame's size prefix
    const seen2: Uint8Array[] = [];
    const reader2 = new CaptureReader((b) => seen2.push(b));
    reader2.push(file.subarray(0, cut));
    reader2.push(file.subarray(cut));
    expect(seen2[1]!.buffer).not.toBe(file.buffer);
    expect(seen2[1]!.length).toBe(s.frames[0]!.length);
  });

  it('reads a synthetic capture split at every byte into two chunks identically', () => {
    const bin = syntheticStream();
    const s = splitClientStream(bin);
    const file = concat([encodeCaptureHead(headerFor(s)), ...s.frames]);
    for (let cut = 0; cut <= file.length; cut++) {
      const { stream, end } = readAll(file, [cut]);
      if (stream.length !== bin.length || end.cutBytes !== 0) throw new Error(`split at ${cut}: ${stream.length} bytes, cut ${end.cutBytes}`);
    }
  });

  it('rejects a file without the magic, naming the first wrong byte', () => {
    expectCaptureError(() => new CaptureReader(() => {}).push(Uint8Array.of(0x5a, 0x53, 0x43, 0x41, 0x51)), 'ZS_CAPTURE_NOT_A_CAPTURE', /byte 4 is 0x51, expected 0x50/, 4);
    // a Tracy client recording is not a capture
    expectCaptureError(() => new CaptureReader(() => {}).push(syntheticStream()), 'ZS_CAPTURE_NOT_A_CAPTURE', /not a \.zscap capture: byte 0 is 0x01/, 0);
  });

  it('says "newer version" for a capture of a later format, whatever else its header holds', () => {
    const s = splitClientStream(syntheticStream());
    const file = encodeCaptureHead({ ...headerFor(s), formatVersion: ZSCAP_VERSION + 1, app: 7 as unknown as string });
    expectCaptureError(() => new CaptureReader(() => {}).push(file), 'ZS_CAPTURE_NEWER_VERSION', /format version 2 is newer than this zonescope reads \(1\)/, 12);
  });

  it('rejects a corrupt header length before allocating it', () => {
    const s = splitClientStream(syntheticStream());
    const file = encodeCaptureHead(headerFor(s));
    new DataView(file.buffer).setUint32(8, 0xfffffff0, true);
    expectCaptureError(() => new CaptureReader(() => {}).push(file), 'ZS_CAPTURE_BAD_HEADER', /header length 4294967280 is outside 1\.\.1048576 at offset 8/, 8);
    new DataView(file.buffer).setUint32(8, 0, true);
    expectCaptureError(() => new CaptureReader(() => {}).push(file), 'ZS_CAPTURE_BAD_HEADER', /header length 0/, 8);
  });

  it('rejects a header that is not msgpack or lacks a field', () => {
    const s = splitClientStream(syntheticStream());
    const file = encodeCaptureHead(headerFor(s));
    const broken = file.slice();
    broken[12] = 0xc1; // never used in msgpack
    expectCaptureError(() => new CaptureReader(() => {}).push(broken), 'ZS_CAPTURE_BAD_HEADER', /not valid msgpack/, 12);
    const noApp = encodeCaptureHead({ ...headerFor(s), app: undefined as unknown as string });
    expectCaptureError(() => new CaptureReader(() => {}).push(noApp), 'ZS_CAPTURE_BAD_HEADER', /app is not a string/);
    const flags = encodeCaptureHead({ ...headerFor(s), onDemand: new Uint8Array(16) });
    expectCaptureError(() => new CaptureReader(() => {}).push(flags), 'ZS_CAPTURE_BAD_HEADER', /onDemand is set but the welcome lacks the OnDemand flag/);
  });

  it('rejects a frame size beyond Tracy\'s LZ4 limit, after passing on the frames before it', () => {
    const s = splitClientStream(syntheticStream());
    const head = encodeCaptureHead(headerFor(s));
    const bad = Uint8Array.of(0, 0, 0, 0, 1, 2, 3);
    new DataView(bad.buffer).setUint32(0, LZ4_SIZE + 1, true);
    const file = concat([head, s.frames[0]!, bad]);
    const seen: Uint8Array[] = [];
    const reader = new CaptureReader((b) => seen.push(b.slice()));
    const at = head.length + s.frames[0]!.length;
    expectCaptureError(() => reader.push(file), 'ZS_CAPTURE_BAD_FRAME', new RegExp(`frame 2 at offset ${at}: size ${LZ4_SIZE + 1} is outside 1\\.\\.${LZ4_SIZE}`), at);
    expect(concat(seen).length).toBe(s.head.length + s.frames[0]!.length);
    // the reader stays failed
    expectCaptureError(() => reader.push(Uint8Array.of(1)), 'ZS_CAPTURE_BAD_FRAME', /frame 2/);
    // a zero size too, also when the prefix is split over chunks
    const zero = concat([head, Uint8Array.of(0, 0, 0, 0)]);
    const r2 = new CaptureReader(() => {});
    r2.push(zero.subarray(0, zero.length - 2));
    expectCaptureError(() => r2.push(zero.subarray(zero.length - 2)), 'ZS_CAPTURE_BAD_FRAME', /size 0 is outside/, head.length);
  });

  it('reports an empty input as nothing cut and no header', () => {
    const reader = new CaptureReader(() => {});
    expect(reader.end()).toEqual({ frames: 0, bytes: 0, cutBytes: 0 });
    expect(reader.header).toBeNull();
  });
});

describe.skipIf(!FIXTURES_PRESENT)('CaptureReader on a real recording', () => {
  const bin = FIXTURES_PRESENT ? new Uint8Array(readFileSync(fixture('small.client.bin'))) : new Uint8Array(0);

  it('opens a capture of a fixture prefix cut at every byte, with exactly the complete frames before the cut', () => {
    const s = splitClientStream(bin, 6);
    const head = encodeCaptureHead(headerFor(s));
    const file = concat([head, ...s.frames]);
    const frameEnds: number[] = [];
    let at = head.length;
    for (const f of s.frames) frameEnds.push((at += f.length));
    expect(file.length).toBeGreaterThan(2000);
    for (let cut = 0; cut <= file.length; cut++) {
      const prefix = file.slice(0, cut);
      const out: Uint8Array[] = [];
      const reader = new CaptureReader((b) => out.push(b.slice()));
      reader.push(prefix);
      const end = reader.end();
      const complete = frameEnds.filter((e) => e <= cut).length;
      const lastEnd = cut < head.length ? 0 : complete > 0 ? frameEnds[complete - 1]! : head.length;
      const stream = concat(out);
      const expected = cut < head.length ? new Uint8Array(0) : concat([s.head, ...s.frames.slice(0, complete)]);
      const ok =
        end.frames === complete &&
        end.bytes === cut &&
        end.cutBytes === cut - lastEnd &&
        (reader.header !== null) === cut >= head.length &&
        stream.length === expected.length &&
        Buffer.compare(stream, expected) === 0 &&
        reader.partialFrame().length === (cut >= head.length ? cut - lastEnd : 0);
      if (!ok) throw new Error(`cut at ${cut} (head ${head.length}): ${JSON.stringify(end)}, expected ${complete} frames, cut ${cut - lastEnd}; header ${reader.header !== null}, stream ${stream.length}/${expected.length}, partial ${reader.partialFrame().length}`);
    }
  });

  it('passes on a stream a TracyStreamReader decodes exactly like the recording, whatever the chunking', () => {
    const s = splitClientStream(bin);
    const file = concat([encodeCaptureHead(headerFor(s)), ...s.frames]);
    const direct = new TracyStreamReader(new NullVisitor());
    direct.push(bin);
    for (const size of [1, 7, 4096, 65536]) {
      const tracy = new TracyStreamReader(new NullVisitor());
      const reader = new CaptureReader((b) => tracy.push(b));
      for (let p = 0; p < file.length; p += size) reader.push(file.subarray(p, p + size));
      expect(reader.end().cutBytes).toBe(0);
      expect(tracy.frames).toBe(direct.frames);
      expect(tracy.decoder.items).toBe(direct.decoder.items);
      expect(tracy.bytes).toBe(direct.bytes);
    }
  });
});
