/**
 * Stage 3 of a mutated stream (see mutate.ts): byte-level damage to the assembled bytes, and how
 * the bytes are cut into the chunks they arrive in.
 */
import type { Prng } from './prng.js';

export function randomBytes(rng: Prng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

const CHROME_TOKENS = ['{', '}', '[', ']', ',', '"', ':', 'null', '1e400', '-0', '"ph":"E",', '"ph":"B",', '"ts":-1e308,', '"dur":1e300,', '"tid":4294967296,', '\\u0000', '\\ud800', '[[[[[[[[[[[[[[[[', '{"a":{"b":{"c":'];

/**
 * One byte-level mutation of `bytes` (a new array when changed; `bytes` is never written),
 * described in `out`. `chrome`: JSON text, where inserted tokens are tried too.
 */
export function mutateBytes(rng: Prng, bytes: Uint8Array, chrome: boolean, out: string[]): Uint8Array {
  if (bytes.length === 0) return bytes;
  const at = rng.int(bytes.length);
  switch (rng.weighted([22, 18, 18, 10, 8, 8, chrome ? 16 : 0])) {
    case 0: {
      const b = bytes.slice();
      const where = [at];
      for (let k = rng.int(8); k > 0; k--) where.push(rng.int(b.length));
      for (const i of where) b[i] = b[i]! ^ (1 << rng.int(8));
      out.push(`bitflip@${where.join(',')}`);
      return b;
    }
    case 1: {
      const b = bytes.slice();
      const v = rng.pick([0, 0xff, rng.int(256)]);
      const k = rng.range(1, 4);
      for (let i = 0; i < k && at + i < b.length; i++) b[at + i] = v;
      out.push(`set@${at}x${k}=${v}`);
      return b;
    }
    case 2:
      out.push(`truncate@${at}`);
      return bytes.subarray(0, at);
    case 3: {
      const n = rng.range(1, rng.chance(0.9) ? 32 : 4096);
      out.push(`garbage@${at}(${n})`);
      return splice(bytes, at, 0, randomBytes(rng, n));
    }
    case 4: {
      const n = Math.min(bytes.length - at, rng.range(1, 4096));
      out.push(`delete@${at}(${n})`);
      return splice(bytes, at, n, new Uint8Array(0));
    }
    case 5: {
      const n = Math.min(bytes.length - at, rng.range(1, 8192));
      const to = rng.int(bytes.length);
      out.push(`duplicate@${at}(${n})->${to}`);
      return splice(bytes, to, 0, bytes.slice(at, at + n));
    }
    default: {
      const token = rng.pick(CHROME_TOKENS);
      out.push(`token@${at}=${token}`);
      return splice(bytes, at, 0, new TextEncoder().encode(token));
    }
  }
}

/**
 * Where to cut `length` bytes into the chunks they arrive in (the ends of the chunks): mostly
 * one chunk, else a few random cuts, else fixed small chunks (1-byte ones only for short streams).
 */
export function deliveryCuts(rng: Prng, length: number): number[] {
  const style = rng.weighted([55, 30, 15]);
  if (style === 0 || length < 2) return [length];
  if (style === 1) {
    const cuts: number[] = [];
    const k = rng.range(1, 4);
    for (let i = 0; i < k; i++) cuts.push(1 + rng.int(length - 1));
    cuts.sort((a, b) => a - b);
    cuts.push(length);
    return cuts;
  }
  const size = length <= 4096 ? rng.range(1, 64) : 2 ** rng.range(6, 14);
  const cuts: number[] = [];
  for (let p = size; p < length; p += size) cuts.push(p);
  cuts.push(length);
  return cuts;
}
