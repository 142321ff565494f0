/**
 * Test support for the Tracy protocol core: reading the real recordings in place, a seeded
 * PRNG, building app -> receiver streams from hex literals, and visitors that record or check
 * what the decoder reports. Only tests import this file (test/ is not part of the build).
 */
import { existsSync, readFileSync } from 'node:fs';
import { tracyFixturePath } from './fixture-paths.js';
import { WELCOME_SIZE } from '../../protocol/tracy/constants.js';
import { compressBound, writeLiteralBlock } from '../../protocol/tracy/lz4-block.js';
import { NullVisitor, type TracyVisitor } from '../../protocol/tracy/visitor.js';

/** Reads a recording, or returns null and says on the console why the tests needing it skip. */
export function readTracyFixture(name: string, who: string): Uint8Array | null {
  const path = tracyFixturePath(name);
  if (existsSync(path)) return new Uint8Array(readFileSync(path));
  console.warn(`${who}: skipping the tests that need ${name}: ${path} not found`);
  return null;
}

/** Offset of the first frame in a stream without the on-demand payload: status byte + welcome. */
export const FIRST_FRAME = 1 + WELCOME_SIZE;

// ---- seeded randomness ----

/** mulberry32: a tiny seeded PRNG, so every random case can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randInt(rand: () => number, n: number): number {
  return (rand() * n) | 0;
}

// ---- bytes ----

/** "10 4a 0000" -> [0x10, 0x4a, 0x00, 0x00] (whitespace ignored). */
export function hex(s: string): number[] {
  const clean = s.replace(/\s+/g, '');
  const out: number[] = [];
  for (let i = 0; i < clean.length; i += 2) out.push(parseInt(clean.slice(i, i + 2), 16));
  return out;
}

export function concat(parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A frame: u32 LE block size + a literal-only LZ4 block of `items` (tracy-protocol.md 2.1, 2.3). */
export function frame(items: Uint8Array | readonly number[]): Uint8Array {
  const src = items instanceof Uint8Array ? items : Uint8Array.from(items);
  const out = new Uint8Array(4 + compressBound(src.length));
  const size = writeLiteralBlock(src, 0, src.length, out, 4);
  new DataView(out.buffer).setUint32(0, size, true);
  return out.subarray(0, 4 + size);
}

/** A frame header followed by a raw (possibly corrupt) block. */
export function rawFrame(block: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 + block.length);
  new DataView(out.buffer).setUint32(0, block.length, true);
  out.set(block, 4);
  return out;
}

/** Offsets of every frame header of a stream whose frames start at `first`. */
export function frameOffsets(stream: Uint8Array, first: number): number[] {
  const v = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const out: number[] = [];
  for (let p = first; p + 4 <= stream.length; p += 4 + v.getUint32(p, true)) out.push(p);
  return out;
}

// ---- visitors ----

const utf8 = new TextDecoder('utf-8');
const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);
/** Callback name -> small number, hashed instead of the name's characters. */
const EVENT_IDS = new Map<string, number>();

function text(bytes: Uint8Array, start: number, length: number): string {
  return utf8.decode(bytes.subarray(start, start + length));
}

/**
 * Records every callback with its arguments (texts decoded to strings). It always keeps a
 * count and a 64-bit hash of the whole log; with `keepLog` it also keeps the log itself as
 * strings, so a mismatch can name the first differing event.
 */
export class RecordingVisitor implements TracyVisitor {
  readonly log: string[] | null;
  count = 0;
  private h1 = 0x811c9dc5;
  private h2 = 0x1b873593;

  constructor(keepLog: boolean) {
    this.log = keepLog ? [] : null;
  }

  get digest(): string {
    return `${this.count} events, hash ${(this.h1 >>> 0).toString(16)}${(this.h2 >>> 0).toString(16)}`;
  }

  private mix(word: number): void {
    this.h1 = Math.imul(this.h1 ^ word, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ word, 0x5bd1e995) ^ (this.h2 >>> 13);
  }

  private ev(name: string, ...args: (number | boolean | string)[]): void {
    this.count++;
    let id = EVENT_IDS.get(name);
    if (id === undefined) EVENT_IDS.set(name, (id = EVENT_IDS.size + 1));
    this.mix(id);
    for (const a of args) {
      if (typeof a === 'number') {
        f64[0] = a;
        this.mix(f64Words[0]!);
        this.mix(f64Words[1]!);
      } else if (typeof a === 'boolean') {
        this.mix(a ? 0x7001 : 0x7000);
      } else {
        this.mix(a.length);
        for (let i = 0; i < a.length; i++) this.mix(a.charCodeAt(i));
      }
    }
    this.log?.push(`${name}(${args.map((a) => (typeof a === 'string' ? JSON.stringify(a) : String(a))).join(', ')})`);
  }

  threadContext(thread: number): void { this.ev('threadContext', thread); }
  zoneBegin(thread: number, timeNs: number, srcloc: number): void { this.ev('zoneBegin', thread, timeNs, srcloc); }
  zoneEnd(thread: number, timeNs: number): void { this.ev('zoneEnd', thread, timeNs); }
  zoneText(thread: number, bytes: Uint8Array, start: number, length: number): void { this.ev('zoneText', thread, text(bytes, start, length)); }
  zoneName(thread: number, bytes: Uint8Array, start: number, length: number): void { this.ev('zoneName', thread, text(bytes, start, length)); }
  zoneColor(thread: number, rgb: number): void { this.ev('zoneColor', thread, rgb); }
  zoneValue(thread: number, lo: number, hi: number): void { this.ev('zoneValue', thread, lo, hi); }
  frameMark(kind: number, namePtr: number, timeNs: number): void { this.ev('frameMark', kind, namePtr, timeNs); }
  plot(namePtr: number, timeNs: number, value: number): void { this.ev('plot', namePtr, timeNs, value); }
  plotConfig(namePtr: number, format: number, step: boolean, fill: boolean, rgb: number): void { this.ev('plotConfig', namePtr, format, step, fill, rgb); }
  message(thread: number, timeNs: number, bytes: Uint8Array, start: number, length: number, rgb: number, metadata: number): void {
    this.ev('message', thread, timeNs, text(bytes, start, length), rgb, metadata);
  }
  messageLiteral(thread: number, timeNs: number, textPtr: number, rgb: number, metadata: number): void { this.ev('messageLiteral', thread, timeNs, textPtr, rgb, metadata); }
  appInfo(timeNs: number, bytes: Uint8Array, start: number, length: number): void { this.ev('appInfo', timeNs, text(bytes, start, length)); }
  memAlloc(thread: number, timeNs: number, ptr: number, size: number, poolPtr: number): void { this.ev('memAlloc', thread, timeNs, ptr, size, poolPtr); }
  memFree(thread: number, timeNs: number, ptr: number, poolPtr: number): void { this.ev('memFree', thread, timeNs, ptr, poolPtr); }
  memDiscard(thread: number, timeNs: number, poolPtr: number): void { this.ev('memDiscard', thread, timeNs, poolPtr); }
  lockAnnounce(id: number, timeNs: number, srcloc: number, shared: boolean): void { this.ev('lockAnnounce', id, timeNs, srcloc, shared); }
  lockTerminate(id: number, timeNs: number): void { this.ev('lockTerminate', id, timeNs); }
  lockEvent(kind: number, shared: boolean, thread: number, id: number, timeNs: number): void { this.ev('lockEvent', kind, shared, thread, id, timeNs); }
  lockName(id: number, bytes: Uint8Array, start: number, length: number): void { this.ev('lockName', id, text(bytes, start, length)); }
  sysTime(timeNs: number, percent: number): void { this.ev('sysTime', timeNs, percent); }
  stringData(type: number, ptr: number, bytes: Uint8Array, start: number, length: number): void { this.ev('stringData', type, ptr, text(bytes, start, length)); }
  sourceLocation(srcloc: number): void { this.ev('sourceLocation', srcloc); }
  terminate(): void { this.ev('terminate'); }
  crash(): void { this.ev('crash'); }
}

/**
 * For fuzzing: accepts any values (mutated streams give garbage) and records nothing, to keep
 * thousands of runs fast; but a byte range outside its buffer would be a decoder bug, so it
 * throws a plain Error for one.
 */
export class CheckingVisitor extends NullVisitor {
  private check(bytes: Uint8Array, start: number, length: number): void {
    if (!(Number.isInteger(start) && Number.isInteger(length) && start >= 0 && length >= 0 && start + length <= bytes.length)) {
      throw new Error(`visitor got the byte range [${start}, ${start + length}) of a ${bytes.length}-byte buffer`);
    }
  }
  override zoneText(_thread: number, bytes: Uint8Array, start: number, length: number): void { this.check(bytes, start, length); }
  override zoneName(_thread: number, bytes: Uint8Array, start: number, length: number): void { this.check(bytes, start, length); }
  override message(_thread: number, _timeNs: number, bytes: Uint8Array, start: number, length: number): void { this.check(bytes, start, length); }
  override appInfo(_timeNs: number, bytes: Uint8Array, start: number, length: number): void { this.check(bytes, start, length); }
  override lockName(_id: number, bytes: Uint8Array, start: number, length: number): void { this.check(bytes, start, length); }
  override stringData(_type: number, _ptr: number, bytes: Uint8Array, start: number, length: number): void { this.check(bytes, start, length); }
}
