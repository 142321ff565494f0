/**
 * Mutations of real streams. A stream is built in three stages, each recorded in its label so
 * a failure says what was done:
 *   1. a base: a recording, whole or cut after its first frames, sent as the raw client stream
 *      or wrapped in a .zscap; or a small Chrome JSON file;
 *   2. structural mutations on the head and the list of frames: frame-size prefixes (huge,
 *      zero, off by one), duplicated, dropped, swapped and garbage frames, queue items damaged
 *      inside a frame (re-sent as a literal LZ4 block), welcome fields, the status byte;
 *   3. byte mutations on the assembled bytes (mutate-bytes.ts): bit flips, bytes set to
 *      0 / 0xff / random, truncation, inserted garbage, deleted and duplicated ranges; for a
 *      .zscap also its header length and msgpack header (here), for Chrome JSON inserted tokens.
 */
import { LZ4_SIZE, ON_DEMAND_PAYLOAD_SIZE, WELCOME_SIZE, WelcomeFlag, writeLiteralBlock } from '../protocol/tracy/index.js';
import { captureHeadOf, type FuzzInputs, type Recording } from './inputs.js';
import { mutateBytes, randomBytes } from './mutate-bytes.js';
import type { Prng } from './prng.js';

export type StreamKind = 'client' | 'zscap' | 'chrome';

export interface MutatedStream {
  kind: StreamKind;
  /** The base's name, e.g. "small", "medium[0..12)". */
  base: string;
  bytes: Uint8Array;
  /** One short text per mutation applied, in order. */
  mutations: string[];
}

/** Relative weights of the bases (a stream's kind and recording). */
export interface BaseWeights {
  /** Raw client stream of a small recording. */
  client: number;
  /** Raw client stream: the medium recording cut after its first frames (at most PREFIX_BYTES). */
  mediumPrefix: number;
  /** Raw client stream: the whole medium recording (3 MB, ~0.1 s to decode: keep it rare). */
  mediumWhole: number;
  /** A .zscap of a small recording or of a medium prefix. */
  zscap: number;
  /** A Chrome JSON file (when any was found). */
  chrome: number;
}

/**
 * Share of small-recording streams cut after a random number of frames (the rest are whole, so
 * Terminate and the last query replies are reached).
 */
const SMALL_PREFIX_SHARE = 0.5;
/** The medium prefixes stay below this many bytes of frames (a decode of a few ms). */
const PREFIX_BYTES = 128 * 1024;

interface Parts {
  head: Uint8Array;
  frames: Uint8Array[];
  /** Decompressed items of each frame, parallel to `frames` (null for frames made up here). */
  items: (Uint8Array | null)[];
}

/** Builds one mutated stream from `rng`. */
export function mutateStream(rng: Prng, inputs: FuzzInputs, weights: BaseWeights): MutatedStream {
  const small = inputs.recordings.filter((r) => r.name !== 'medium');
  const medium = inputs.recordings.find((r) => r.name === 'medium') ?? small[0]!;
  const hasMedium = medium.name === 'medium';
  const which = rng.weighted([
    weights.client,
    hasMedium ? weights.mediumPrefix : 0,
    hasMedium ? weights.mediumWhole : 0,
    weights.zscap,
    inputs.chrome.length > 0 ? weights.chrome : 0,
  ]);
  if (which === 4) return mutateChrome(rng, inputs);
  let kind: StreamKind = 'client';
  let parts: Parts;
  let base: string;
  if (which === 0 || (which === 3 && rng.chance(0.7))) {
    const r = rng.pick(small);
    if (rng.chance(SMALL_PREFIX_SHARE)) {
      // the app went away after k frames: a shorter real stream, the same code paths, less time
      const k = 1 + rng.int(r.frames.length);
      parts = { head: r.head, frames: r.frames.slice(0, k), items: r.items.slice(0, k) };
      base = `${r.name}[0..${k})`;
    } else {
      parts = wholeParts(r);
      base = r.name;
    }
  } else if (which === 2) {
    parts = wholeParts(medium);
    base = medium.name;
  } else {
    const n = prefixFrames(rng, medium);
    parts = { head: medium.head, frames: medium.frames.slice(0, n), items: medium.items.slice(0, n) };
    base = `${medium.name}[0..${n})`;
  }
  if (which === 3) kind = 'zscap';
  const mutations: string[] = [];
  const count = mutationCount(rng);
  const byteMutations = count - structural(rng, parts, count, mutations);
  let bytes = kind === 'zscap' ? assembleCapture(parts, rng, mutations) : assemble(parts.head, parts.frames);
  for (let i = 0; i < byteMutations; i++) bytes = mutateBytes(rng, bytes, false, mutations);
  return { kind, base, bytes, mutations };
}

/** How many mutations: mostly one, sometimes a few stacked. */
function mutationCount(rng: Prng): number {
  return 1 + rng.weighted([55, 30, 10, 5]);
}

function wholeParts(r: Recording): Parts {
  return { head: r.head, frames: r.frames.slice(), items: r.items.slice() };
}

/** A number of leading frames of `r` whose bytes stay under PREFIX_BYTES (at least one). */
function prefixFrames(rng: Prng, r: Recording): number {
  let max = 0;
  let bytes = 0;
  while (max < r.frames.length && bytes + r.frames[max]!.length <= PREFIX_BYTES) bytes += r.frames[max++]!.length;
  return 1 + rng.int(Math.max(1, max));
}

// ---- stage 2: structure ----

/**
 * Tries `count` times, with even odds, a structural mutation; returns how many were applied
 * (one that finds nothing to change, e.g. no frame left, is not counted).
 */
function structural(rng: Prng, p: Parts, count: number, out: string[]): number {
  const before = out.length;
  for (let i = 0; i < count; i++) {
    if (rng.chance(0.5)) continue;
    const n = p.frames.length;
    const f = rng.int(n);
    switch (rng.weighted([14, 10, 8, 8, 18, 12, 4, 4, 6])) {
      case 0: {
        const old = n > 0 ? p.frames[f]!.length - 4 : 0;
        const size = rng.pick([0, 0xffffffff, 0x80000000, LZ4_SIZE + 1, LZ4_SIZE, old - 1, old + 1, old + 2, rng.int(2 ** 32), rng.int(64)]) >>> 0;
        if (n === 0) break;
        const frame = p.frames[f]!.slice();
        new DataView(frame.buffer).setUint32(0, size, true);
        p.frames[f] = frame;
        out.push(`frameSize[${f}]=${size}`);
        break;
      }
      case 1: {
        const times = rng.chance(0.05) ? rng.range(10, 60) : rng.range(1, 3);
        if (n === 0) break;
        for (let k = 0; k < times; k++) {
          p.frames.splice(f + 1, 0, p.frames[f]!);
          p.items.splice(f + 1, 0, p.items[f]!);
        }
        out.push(`dupFrame[${f}]x${times}`);
        break;
      }
      case 2:
        if (n === 0) break;
        p.frames.splice(f, 1);
        p.items.splice(f, 1);
        out.push(`dropFrame[${f}]`);
        break;
      case 3: {
        const g = rng.int(n);
        if (n === 0) break;
        [p.frames[f], p.frames[g]] = [p.frames[g]!, p.frames[f]!];
        [p.items[f], p.items[g]] = [p.items[g]!, p.items[f]!];
        out.push(`swapFrames[${f},${g}]`);
        break;
      }
      case 4:
        if (n === 0) break;
        mutateItems(rng, p, f, out);
        break;
      case 5:
        mutateWelcome(rng, p, out);
        break;
      case 6: {
        const status = rng.pick([0, 2, 3, 4, rng.int(256)]);
        p.head = p.head.slice();
        p.head[0] = status;
        out.push(`status=${status}`);
        break;
      }
      case 7: {
        const len = rng.range(1, 64);
        const garbage = randomBytes(rng, 4 + len);
        new DataView(garbage.buffer).setUint32(0, len, true);
        p.frames.splice(f, 0, garbage);
        p.items.splice(f, 0, null);
        out.push(`garbageFrame@${f}(${len})`);
        break;
      }
      default: {
        // the last frames cut off cleanly: a stream that ends on a frame boundary early
        const keep = rng.int(n + 1);
        p.frames.length = keep;
        p.items.length = keep;
        out.push(`keepFrames(${keep})`);
      }
    }
  }
  return out.length - before;
}

/** Damages the queue items of frame `f` and sends them as a literal-only LZ4 block. */
function mutateItems(rng: Prng, p: Parts, f: number, out: string[]): void {
  const src = p.items[f];
  if (!src || src.length === 0) return;
  const items = src.slice();
  const view = new DataView(items.buffer);
  const edits: string[] = [];
  const k = rng.range(1, 4);
  for (let i = 0; i < k; i++) {
    const at = rng.int(items.length);
    switch (rng.int(5)) {
      case 0:
        items[at] = items[at]! ^ (1 << rng.int(8));
        edits.push(`flip@${at}`);
        break;
      case 1: {
        const v = rng.pick([0, 0xff, rng.int(256)]);
        items[at] = v;
        edits.push(`${at}=${v}`);
        break;
      }
      case 2:
        if (at + 2 <= items.length) {
          const v = rng.pick([0, 0xffff, 0xfeff, rng.int(65536)]);
          view.setUint16(at, v, true);
          edits.push(`u16@${at}=${v}`);
        }
        break;
      case 3:
        if (at + 4 <= items.length) {
          const v = rng.pick([0, 0xffffffff, 0x7fffffff, rng.int(2 ** 32)]);
          view.setUint32(at, v >>> 0, true);
          edits.push(`u32@${at}=${v >>> 0}`);
        }
        break;
      default:
        if (at + 8 <= items.length) {
          const v = rng.pick([Number.NaN, Number.POSITIVE_INFINITY, -1e300, 1e300, -0]);
          view.setFloat64(at, v, true);
          edits.push(`f64@${at}=${v}`);
        }
    }
  }
  const frame = new Uint8Array(4 + items.length + Math.ceil(items.length / 255) + 16);
  const size = writeLiteralBlock(items, 0, items.length, frame, 4);
  new DataView(frame.buffer).setUint32(0, size, true);
  p.frames[f] = frame.subarray(0, 4 + size);
  p.items[f] = items;
  out.push(`items[${f}](${edits.join(',')})`);
}

/** Welcome fields by offset in the WelcomeMessage (tracy-protocol.md 1.4). */
const WELCOME_FIELDS: { name: string; at: number; values: (rng: Prng) => (view: DataView, at: number) => string }[] = [
  { name: 'timerMul', at: 0, values: (rng) => f64(rng.pick([Number.NaN, Infinity, -Infinity, 0, -1, 1e300, 5e-324, 1e-300, 1e9])) },
  { name: 'initBegin', at: 8, values: (rng) => i64(rng.pick([0x7fffffffffffffffn, -0x8000000000000000n, 0n, -1n, 1n << 62n])) },
  { name: 'initEnd', at: 16, values: (rng) => i64(rng.pick([0x7fffffffffffffffn, -0x8000000000000000n, 0n, -1n])) },
  { name: 'resolution', at: 24, values: (rng) => i64(rng.pick([0n, -1n, 0x7fffffffffffffffn])) },
  { name: 'epoch', at: 32, values: (rng) => i64(rng.pick([0n, -1n])) },
  { name: 'pid', at: 48, values: (rng) => i64(rng.pick([0n, -1n, 0x7fffffffffffffffn])) },
  { name: 'samplingPeriod', at: 56, values: (rng) => i64(rng.pick([0n, -1n])) },
  { name: 'flags', at: 64, values: (rng) => u8(rng.int(256)) },
  { name: 'cpuArch', at: 65, values: (rng) => u8(rng.int(256)) },
  { name: 'programName', at: 82, values: (rng) => fill(64, rng.pick([0x41, 0xff, 0xc3])) },
  { name: 'hostInfo', at: 146, values: (rng) => fill(1024, rng.pick([0x41, 0xff, 0xe2])) },
];

function f64(v: number) {
  return (view: DataView, at: number) => (view.setFloat64(at, v, true), String(v));
}
function i64(v: bigint) {
  return (view: DataView, at: number) => (view.setBigInt64(at, v, true), String(v));
}
function u8(v: number) {
  return (view: DataView, at: number) => (view.setUint8(at, v), String(v));
}
/** Fills a fixed-size string field without its NUL terminator (or with invalid UTF-8). */
function fill(size: number, byte: number) {
  return (view: DataView, at: number) => {
    for (let i = 0; i < size; i++) view.setUint8(at + i, byte);
    return `${size}x0x${byte.toString(16)}`;
  };
}

function mutateWelcome(rng: Prng, p: Parts, out: string[]): void {
  if (p.head.length < 1 + WELCOME_SIZE) return;
  const field = rng.pick(WELCOME_FIELDS);
  p.head = p.head.slice();
  const view = new DataView(p.head.buffer);
  const what = field.values(rng)(view, 1 + field.at);
  out.push(`welcome.${field.name}=${what}`);
}

function assemble(head: Uint8Array, frames: readonly Uint8Array[]): Uint8Array {
  let size = head.length;
  for (const f of frames) size += f.length;
  const out = new Uint8Array(size);
  out.set(head, 0);
  let at = head.length;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/**
 * The .zscap of the parts: the capture header carries the (maybe mutated) welcome. A welcome
 * whose OnDemand flag was toggled gets an on-demand payload of zeros, or loses it, so that the
 * header can be encoded at all (a capture header always agrees with its flags).
 */
function assembleCapture(p: Parts, rng: Prng, out: string[]): Uint8Array {
  const flagged = ((p.head[1 + 64] ?? 0) & WelcomeFlag.OnDemand) !== 0;
  const want = 1 + WELCOME_SIZE + (flagged ? ON_DEMAND_PAYLOAD_SIZE : 0);
  let consistent = p.head;
  if (p.head.length !== want) {
    consistent = new Uint8Array(want);
    consistent.set(p.head.subarray(0, want), 0);
  }
  const head = captureHead(consistent);
  const bytes = assemble(head, p.frames);
  if (rng.chance(0.1)) {
    // the capture head itself: its length field or its msgpack body
    const view = new DataView(bytes.buffer);
    const n = view.getUint32(8, true);
    if (rng.chance(0.5)) {
      const v = rng.pick([0, 1, n - 1, n + 1, 0xffffffff, (1 << 20) + 1, rng.int(2 ** 32)]) >>> 0;
      view.setUint32(8, v, true);
      out.push(`zscap.headerLength=${v}`);
    } else {
      const at = 12 + rng.int(n);
      const v = rng.pick([0xc1, 0xdf, 0xff, 0, rng.int(256)]);
      bytes[at] = v;
      out.push(`zscap.header@${at}=${v}`);
    }
  }
  return bytes;
}

const captureHeads = new Map<Uint8Array, Uint8Array>();

function captureHead(head: Uint8Array): Uint8Array {
  let cached = captureHeads.get(head);
  if (cached === undefined) {
    cached = captureHeadOf(head);
    // only the recordings' own heads repeat; mutated ones are fresh arrays each time
    if (captureHeads.size < 16) captureHeads.set(head, cached);
  }
  return cached;
}

function mutateChrome(rng: Prng, inputs: FuzzInputs): MutatedStream {
  const file = rng.pick(inputs.chrome);
  const mutations: string[] = [];
  let bytes = file.bytes;
  const count = mutationCount(rng);
  for (let i = 0; i < count; i++) bytes = mutateBytes(rng, bytes, true, mutations);
  return { kind: 'chrome', base: file.name, bytes, mutations };
}

/** A short text for the stream: kind, base, mutations. */
export function describe(m: MutatedStream): string {
  return `${m.kind} ${m.base} ${m.bytes.length} B: ${m.mutations.join(' + ') || '(none)'}`;
}
