import { LZ4_WASM_BASE64 } from './lz4-wasm-bytes.js';

/**
 * The WebAssembly LZ4 block decoder (lz4-block.wat): the same semantics, checks and result codes
 * as decompressBlock in lz4-block.ts, at several GB/s instead of ~0.8. Used by FrameInflater on
 * the server (main thread and ingest worker); the viewer and the SDK keep lz4js / lz4-block.ts
 * (they do not inflate streams, and a browser bundle gains nothing from carrying the module).
 *
 * One Lz4WasmDecoder owns one instance with its own fixed-size memory, laid out as
 *
 *   [block: blockSize + SLACK][window: windowSize + SLACK]
 *
 * The caller copies a compressed block into `block` and decodes it into `window`; matches reach
 * back into the window's earlier bytes (the history). The memory never grows, so the two views
 * stay valid for the life of the decoder. Pure: no I/O, nothing allocated per call.
 */

/**
 * Bytes past each region the decoder may touch (lz4-block.wat: 16-byte wild copies read up to
 * 16 bytes past the input's end and past dLimit, write up to 16 bytes past dLimit). Reserved
 * after both regions; 32 leaves a margin and keeps the window 16-byte aligned.
 */
export const LZ4_WASM_SLACK = 32;
const PAGE = 65536;

type DecodeFn = (src: number, srcLength: number, dIndex: number, dLimit: number, dMin: number) => number;

let compiled: WebAssembly.Module | null = null;

/** The assembled module's bytes (lz4-wasm-bytes.ts). */
export function lz4WasmBytes(): Uint8Array<ArrayBuffer> {
  // atob: a global in Node and in browsers alike (protocol/ runs in both)
  return Uint8Array.from(atob(LZ4_WASM_BASE64), (c) => c.charCodeAt(0));
}

/** Compiles the module once per thread (synchronously: it is 600 bytes). Throws if it cannot. */
function lz4WasmModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(lz4WasmBytes());
  return compiled;
}

/** One decoder instance with its memory: a block region and an output window region. */
export class Lz4WasmDecoder {
  /** The compressed block region (`blockSize` bytes usable; the slack after it is the decoder's). */
  readonly block: Uint8Array;
  /** The output window region (`windowSize` bytes usable; the slack after it is the decoder's). */
  readonly window: Uint8Array;
  /** Bytes of linear memory this instance holds. */
  readonly memoryBytes: number;
  /** Offsets of the regions in linear memory. */
  readonly blockOffset = 0;
  readonly windowOffset: number;
  /** The whole linear memory (tests check the slack and the bytes around the regions). */
  readonly memory: Uint8Array;
  private readonly decodeFn: DecodeFn;

  /**
   * @throws whatever WebAssembly compilation or instantiation throws (no WebAssembly, a CSP
   *   that forbids it, memory refused): callers fall back to decompressBlock
   */
  constructor(blockSize: number, windowSize: number) {
    if (!(blockSize > 0 && windowSize > 0 && Number.isInteger(blockSize) && Number.isInteger(windowSize))) {
      throw new RangeError(`Lz4WasmDecoder sizes must be positive integers (block ${blockSize}, window ${windowSize})`);
    }
    this.windowOffset = align16(blockSize + LZ4_WASM_SLACK);
    const end = this.windowOffset + windowSize + LZ4_WASM_SLACK;
    const pages = Math.ceil(end / PAGE);
    // maximum = initial: the module never grows it, and views must stay attached
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(lz4WasmModule(), { env: { memory } });
    this.decodeFn = instance.exports['decode'] as DecodeFn;
    this.memoryBytes = pages * PAGE;
    this.memory = new Uint8Array(memory.buffer);
    this.block = new Uint8Array(memory.buffer, 0, blockSize);
    this.window = new Uint8Array(memory.buffer, this.windowOffset, windowSize);
  }

  /**
   * Decodes `block[0, srcLength)` into `window` from `dIndex` (window indices, like
   * decompressBlock's dst indices): matches may reach back to `dMin`, output may not pass
   * `dLimit`. The caller keeps 0 <= dMin <= dIndex <= dLimit <= window.length and
   * srcLength <= block.length (RangeError otherwise: those are caller bugs, not bad input).
   * @returns the new end index in `window`, or a negative LZ4_ERR_* code (as decompressBlock)
   */
  decode(srcLength: number, dIndex: number, dLimit: number, dMin: number): number {
    if (!(srcLength >= 0 && srcLength <= this.block.length && dMin >= 0 && dMin <= dIndex && dIndex <= dLimit && dLimit <= this.window.length)) {
      throw new RangeError(
        `Lz4WasmDecoder.decode(${srcLength}, ${dIndex}, ${dLimit}, ${dMin}) outside block ${this.block.length} / window ${this.window.length}`,
      );
    }
    const base = this.windowOffset;
    const end = this.decodeFn(0, srcLength, base + dIndex, base + dLimit, base + dMin);
    return end < 0 ? end : end - base;
  }
}

function align16(n: number): number {
  return (n + 15) & ~15;
}
