import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tracyFixturePath } from '../../test/support/fixture-paths.js';
import { mulberry32 } from '../../test/support/tracy-streams.js';
import { ProtocolError } from './errors.js';
import { FrameInflater } from './frame-inflater.js';

/*
 * The JS fallback of FrameInflater: when the WebAssembly decoder cannot be instantiated, the
 * inflater says why once (FrameInflater.lz4Fallback) and decodes with decompressBlock, with the
 * same frames and the same errors. Its own file: the fallback is sticky for the thread (vitest
 * runs each file in a fresh module context).
 */

interface Outcome {
  decoder: string;
  frames: number;
  /** a checksum of every frame's bytes */
  sum: number;
  error: string | null;
}

function inflate(stream: Uint8Array, step: number, release = true): Outcome {
  let sum = 0;
  const inflater = new FrameInflater({
    welcomeRead() {},
    frameRead(items, start, end) {
      for (let i = start; i < end; i++) sum = (Math.imul(sum, 31) + items[i]!) | 0;
    },
  });
  let error: string | null = null;
  try {
    for (let p = 0; p < stream.length; p += step) inflater.push(stream, p, Math.min(stream.length, p + step));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    error = `${err.code} at ${err.offset}: ${err.message}`;
  }
  const outcome = { decoder: inflater.lz4Decoder, frames: inflater.frames, sum, error };
  if (release) inflater.release();
  return outcome;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('FrameInflater without WebAssembly', () => {
  it('falls back to the JS decoder once, saying why, with the same frames and the same errors', () => {
    const medium = new Uint8Array(readFileSync(tracyFixturePath('medium.client.bin')));
    // corrupt streams, in many places after the welcome: a bit flipped or 256 bytes of noise
    // (mostly wrong bytes out, no error: LZ4 is tolerant), 8 bytes of 0xff (huge lengths) or of
    // zeros (offset 0)
    const rand = mulberry32(7);
    const streams = [medium];
    for (let k = 1; k <= 40; k++) {
      const bad = medium.slice();
      const at = 200 + Math.floor((k * (medium.length - 600)) / 41);
      const kind = k % 4;
      if (kind === 0) bad[at] = bad[at]! ^ 0x10;
      else if (kind === 1) for (let i = 0; i < 256; i++) bad[at + i] = (rand() * 256) | 0;
      else bad.fill(kind === 2 ? 0xff : 0, at, at + 8);
      streams.push(bad);
    }
    // with WebAssembly (the inflaters are not released: the pool stays empty, so the next
    // inflater has to instantiate the module again)
    const withWasm = streams.map((s, i) => inflate(s, i % 2 === 0 ? s.length : 70_000, false));
    expect(withWasm.every((o) => o.decoder === 'wasm')).toBe(true);
    expect(withWasm.filter((o) => o.error !== null && o.error.includes('corrupt LZ4 block')).length).toBeGreaterThan(5);
    expect(FrameInflater.lz4Fallback).toBeNull();

    vi.stubGlobal('WebAssembly', {
      ...WebAssembly,
      Memory: class {
        constructor() {
          throw new RangeError('WebAssembly.Memory(): could not allocate memory');
        }
      },
    });
    const withJs = streams.map((s, i) => inflate(s, i % 2 === 0 ? s.length : 70_000));
    expect(FrameInflater.lz4Fallback).toBe('WebAssembly LZ4 decoder unavailable, using the JS decoder: WebAssembly.Memory(): could not allocate memory');
    expect(withJs.every((o) => o.decoder === 'js')).toBe(true);
    expect(withJs).toEqual(withWasm.map((o) => ({ ...o, decoder: 'js' })));

    // sticky: WebAssembly works again, the fallback stays (one reason, no retry per stream)
    vi.unstubAllGlobals();
    expect(inflate(medium, medium.length).decoder).toBe('js');
  });
});
