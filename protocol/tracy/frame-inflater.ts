import {
  HANDSHAKE_STATUS_NAMES,
  HandshakeStatus,
  LZ4_HISTORY_SIZE,
  LZ4_SIZE,
  ON_DEMAND_PAYLOAD_SIZE,
  TARGET_FRAME_SIZE,
  WELCOME_SIZE,
  WelcomeFlag,
} from './constants.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { decodeOnDemandPayload, decodeWelcome, validateWelcome, type OnDemandPayload, type WelcomeMessage } from './handshake.js';
import { decompressBlock, LZ4_ERROR_TEXT } from './lz4-block.js';
import { Lz4WasmDecoder } from './lz4-wasm.js';

const STATUS = 0;
const WELCOME = 1;
const ON_DEMAND = 2;
const FRAME_HEADER = 3;
const FRAME_BODY = 4;
const FAILED = 5;

/**
 * Decompressed output window: the last 64 KiB of output always sit directly in front of the
 * next block's destination, so back-references across frames (and across the sender's ring
 * wrap) resolve in place (tracy-protocol.md 2.3). Room for two full frames after the history:
 * the slide (one 64 KiB copyWithin) then happens at most once per 256 KiB of output, a few
 * microseconds against the milliseconds of walking those items, while every live connection
 * holds 576 KiB rather than 1.06 MiB.
 */
export const INFLATE_WINDOW_SIZE = LZ4_HISTORY_SIZE + 2 * TARGET_FRAME_SIZE;
/** First size of the buffer that collects a frame split across chunks (grows by doubling to LZ4Size). */
const MIN_BLOCK_BUFFER = 4096;
const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Windows and full-size frame buffers of released inflaters, kept for the next streams: a
 * server that sees many short connections then reuses a few buffers instead of leaving
 * hundreds of dead 576 KiB arrays for the garbage collector (which frees them only when its
 * external-memory trigger, tens of MiB, is reached). At most POOL_SIZE of each are kept: 8 x
 * 896 KiB WebAssembly decoders (block + window + slack in one 14-page memory), or with the JS
 * fallback 8 x (576 + 257) KiB. A reused buffer needs no clearing: the decoder reads only bytes this stream
 * wrote (matches reach back to the start of this stream's history at most, frames are read
 * after they are written; the WebAssembly decoder's wild copies write garbage only past the
 * output's end, into bytes that are written again before they are read).
 */
const POOL_SIZE = 8;
const decoderPool: Lz4WasmDecoder[] = [];
const windowPool: Uint8Array[] = [];
const blockPool: Uint8Array[] = [];

function recycle(pool: Uint8Array[], buffer: Uint8Array, size: number): void {
  if (buffer.length === size && pool.length < POOL_SIZE) pool.push(buffer);
}

/**
 * Why the WebAssembly LZ4 decoder is not used (null while it is, or before the first frame
 * tried it): set once, by the first failure to compile or instantiate it (no WebAssembly, a
 * policy that forbids it, memory refused). Every inflater that allocates its window after that
 * uses decompressBlock (lz4-block.ts), which has the same checks and results. Read it as
 * FrameInflater.lz4Fallback (protocol/ does no I/O: the server logs it).
 */
let lz4WasmUnavailable: string | null = null;

/** A pooled or new WebAssembly decoder, or null (and the reason recorded once) if there is none. */
function takeDecoder(): Lz4WasmDecoder | null {
  if (lz4WasmUnavailable !== null) return null;
  const pooled = decoderPool.pop();
  if (pooled) return pooled;
  try {
    return new Lz4WasmDecoder(LZ4_SIZE, INFLATE_WINDOW_SIZE);
  } catch (err) {
    lz4WasmUnavailable = `WebAssembly LZ4 decoder unavailable, using the JS decoder: ${err instanceof Error ? err.message : String(err)}`;
    return null;
  }
}

/** Where an inflater delivers what it read. */
export interface InflaterSink {
  /** After the WelcomeMessage (validated) and the on-demand payload, if any, were read. */
  welcomeRead(welcome: WelcomeMessage, onDemand: OnDemandPayload | null): void;
  /**
   * One decompressed frame: its queue items are `items[start, end)`, a view into the
   * inflater's window, valid until this call returns. `frameStart` is the frame header's
   * offset in the stream (for error messages).
   */
  frameRead(items: Uint8Array, start: number, end: number, frameStart: number): void;
}

/**
 * The first stage of reading the app -> receiver byte stream (tracy-protocol.md 1.3, 2):
 * status byte, WelcomeMessage, optional OnDemandPayloadMessage, then `u32 size + LZ4 block`
 * frames, decompressed into a window that keeps the 64 KiB LZ4 history. Feed it chunks of any
 * size (one byte at a time works); it keeps the state between them. No I/O, and it does not
 * look inside the items: TracyStreamReader walks them in the same call, the ingest worker
 * (server/ingest/inflate-worker.ts) hands them to another thread.
 *
 * Errors are ProtocolErrors with the byte offset in this stream; after one, the inflater stays
 * failed and throws the same error again.
 */
export class FrameInflater {
  welcome: WelcomeMessage | null = null;
  onDemand: OnDemandPayload | null = null;
  /** Bytes of the stream consumed (status byte included). */
  bytes = 0;
  /** Compressed bytes of frames, headers included. */
  compressedBytes = 0;
  decompressedBytes = 0;
  frames = 0;
  error: ProtocolError | null = null;

  private readonly sink: InflaterSink;
  private state = STATUS;
  /** Collects the welcome, on-demand payload and split frame headers; dropped by release(). */
  private head: Uint8Array = new Uint8Array(WELCOME_SIZE);
  private headLength = 0;
  private frameSize = 0;
  private frameStart = 0;
  /**
   * The buffers below are allocated on first use (a connection that never sends a frame holds
   * none) and dropped by release(): an ended stream keeps only its counters.
   */
  private block = EMPTY;
  private blockLength = 0;
  /**
   * The WebAssembly decoder owning `window` (and, as `block`, the split-frame buffer), or null
   * with the JS decoder (see FrameInflater.lz4Fallback) and before the first frame.
   */
  private wasm: Lz4WasmDecoder | null = null;
  private window = EMPTY;
  private windowView = new DataView(EMPTY.buffer);
  private writePos = 0;
  private history = 0;
  /**
   * The chunk last pushed and a plain Uint8Array over its bytes. Node hands in Buffers, a
   * Uint8Array subclass with a map of its own: decoded beside the inflater's own Uint8Arrays
   * (split frames) they made decompressBlock's byte loads polymorphic for the life of the
   * process, and Buffer.subarray goes through the species constructor. One view per chunk, so
   * a caller pushing one chunk in steps (Session) does not allocate per step.
   */
  private lastChunk: Uint8Array = EMPTY;
  private lastPlain: Uint8Array = EMPTY;

  constructor(sink: InflaterSink) {
    this.sink = sink;
  }

  /**
   * Null while the WebAssembly LZ4 decoder is used (or not yet tried); else why not, in one
   * sentence, once for the thread: the JS decoder is then used, with identical results.
   */
  static get lz4Fallback(): string | null {
    return lz4WasmUnavailable;
  }

  /**
   * Compiles and instantiates the WebAssembly decoder now (the instance waits in the pool), so
   * the first stream does not pay for it; servers call it at start to log a fallback at once.
   * @returns lz4Fallback
   */
  static prepareLz4(): string | null {
    if (decoderPool.length === 0) {
      const decoder = takeDecoder();
      if (decoder !== null) decoderPool.push(decoder);
    }
    return lz4WasmUnavailable;
  }

  /** True once the WelcomeMessage was read and frames are expected. */
  get streaming(): boolean {
    return this.state === FRAME_HEADER || this.state === FRAME_BODY;
  }

  /**
   * Consumes `chunk[start, end)`.
   * @throws ProtocolError for anything that is not a valid stream (and whatever the sink throws)
   */
  push(chunk: Uint8Array, start = 0, end = chunk.length): void {
    if (this.error) throw this.error;
    if (chunk !== this.lastChunk) {
      this.lastChunk = chunk;
      this.lastPlain = chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    try {
      this.consume(this.lastPlain, start, end);
    } catch (err) {
      if (err instanceof ProtocolError) this.fail(err);
      throw err;
    }
  }

  /** Marks the stream failed with `err` (also for errors its sink raised about a frame). */
  fail(err: ProtocolError): void {
    this.error = err;
    this.state = FAILED;
  }

  /**
   * Drops the decode buffers (LZ4 window, split-frame buffer) once the stream is over.
   * Counters, the welcome and the error stay. Afterwards push() throws ZS_PROTOCOL_BAD_STATE.
   */
  release(): void {
    if (this.wasm !== null) {
      if (decoderPool.length < POOL_SIZE) decoderPool.push(this.wasm);
      this.wasm = null;
    } else {
      recycle(windowPool, this.window, INFLATE_WINDOW_SIZE);
      recycle(blockPool, this.block, LZ4_SIZE);
    }
    this.window = EMPTY;
    this.windowView = new DataView(EMPTY.buffer);
    this.block = EMPTY;
    this.head = EMPTY;
    this.lastChunk = this.lastPlain = EMPTY;
    if (this.error === null) {
      this.error = new ProtocolError(ProtocolErrorCode.BadState, 'the reader was released: the stream is over', this.bytes);
    }
    this.state = FAILED;
  }

  /**
   * Bytes of decode buffers held now (the WebAssembly decoder's whole memory, or the JS
   * decoder's window and split-frame buffer); 0 after release().
   */
  get retainedBytes(): number {
    return this.wasm !== null ? this.wasm.memoryBytes : this.window.byteLength + this.block.byteLength;
  }

  /** 'wasm' or 'js': the LZ4 decoder this stream uses ('none' before its first frame). */
  get lz4Decoder(): 'wasm' | 'js' | 'none' {
    return this.wasm !== null ? 'wasm' : this.window.length > 0 ? 'js' : 'none';
  }

  /**
   * Says whether the stream ended cleanly, on a frame boundary.
   * @returns null if so, else what was cut (what and where)
   */
  truncation(): string | null {
    switch (this.state) {
      case STATUS:
        return this.bytes === 0 ? 'the stream is empty' : null;
      case WELCOME:
        return `the stream ended inside the WelcomeMessage (${this.headLength} of ${WELCOME_SIZE} bytes) at offset ${this.bytes}`;
      case ON_DEMAND:
        return `the stream ended inside the OnDemandPayloadMessage (${this.headLength} of ${ON_DEMAND_PAYLOAD_SIZE} bytes) at offset ${this.bytes}`;
      case FRAME_HEADER:
        return this.headLength === 0 ? null : `the stream ended inside a frame header (${this.headLength} of 4 bytes) at offset ${this.bytes}`;
      case FRAME_BODY:
        return `the stream ended inside the frame at offset ${this.frameStart} (${this.blockLength} of ${this.frameSize} bytes)`;
      default:
        return null;
    }
  }

  private consume(chunk: Uint8Array, start: number, end: number): void {
    let p = start;
    while (p < end) {
      switch (this.state) {
        case STATUS: {
          const status = chunk[p]!;
          if (status !== HandshakeStatus.Welcome) {
            const name = HANDSHAKE_STATUS_NAMES[status] ?? `unknown status ${status}`;
            throw new ProtocolError(ProtocolErrorCode.HandshakeRejected, `the app answered the handshake with ${name} (${status}), not Welcome (1)`, this.bytes);
          }
          p++;
          this.bytes++;
          this.state = WELCOME;
          this.headLength = 0;
          break;
        }
        case WELCOME:
        case ON_DEMAND: {
          const need = (this.state === WELCOME ? WELCOME_SIZE : ON_DEMAND_PAYLOAD_SIZE) - this.headLength;
          const n = Math.min(need, end - p);
          this.head.set(chunk.subarray(p, p + n), this.headLength);
          this.headLength += n;
          p += n;
          this.bytes += n;
          if (n < need) break;
          if (this.state === WELCOME) {
            this.welcome = decodeWelcome(this.head, 0);
            const invalid = validateWelcome(this.welcome, this.bytes - WELCOME_SIZE);
            if (invalid) throw invalid;
            this.headLength = 0;
            if (this.welcome.flags & WelcomeFlag.OnDemand) {
              this.state = ON_DEMAND;
              break;
            }
          } else {
            this.onDemand = decodeOnDemandPayload(this.head, 0);
          }
          this.state = FRAME_HEADER;
          this.headLength = 0;
          this.sink.welcomeRead(this.welcome!, this.onDemand);
          break;
        }
        case FRAME_HEADER: {
          if (this.headLength === 0 && end - p >= 4) {
            this.frameSize = (chunk[p]! | (chunk[p + 1]! << 8) | (chunk[p + 2]! << 16) | (chunk[p + 3]! << 24)) >>> 0;
            p += 4;
          } else {
            this.head[this.headLength++] = chunk[p++]!;
            if (this.headLength < 4) {
              this.bytes++;
              break;
            }
            this.frameSize = (this.head[0]! | (this.head[1]! << 8) | (this.head[2]! << 16) | (this.head[3]! << 24)) >>> 0;
            this.bytes -= 3;
            this.headLength = 0;
          }
          this.frameStart = this.bytes;
          this.bytes += 4;
          if (this.frameSize === 0 || this.frameSize > LZ4_SIZE) {
            throw new ProtocolError(
              ProtocolErrorCode.BadFrameSize,
              `frame size ${this.frameSize} is outside 1..${LZ4_SIZE} (LZ4Size)`,
              this.frameStart,
            );
          }
          this.state = FRAME_BODY;
          this.blockLength = 0;
          // Fast path: the whole block is in this chunk, decode it in place.
          if (end - p >= this.frameSize) {
            const size = this.frameSize;
            this.bytes += size;
            this.decodeFrame(chunk, p, size);
            p += size;
            this.state = FRAME_HEADER;
          }
          break;
        }
        case FRAME_BODY: {
          if (this.window.length === 0) this.allocateWindow();
          if (this.block.length < this.frameSize) this.growBlock();
          const n = Math.min(this.frameSize - this.blockLength, end - p);
          this.block.set(chunk.subarray(p, p + n), this.blockLength);
          this.blockLength += n;
          p += n;
          this.bytes += n;
          if (this.blockLength === this.frameSize) {
            this.decodeFrame(this.block, 0, this.frameSize);
            this.state = FRAME_HEADER;
          }
          break;
        }
        default:
          throw this.error ?? new ProtocolError(ProtocolErrorCode.BadState, 'reader used after a failure', this.bytes);
      }
    }
  }

  /** Room for the frame being collected: doubling from 4 KiB, at most LZ4Size; keeps what is collected. */
  private growBlock(): void {
    let size = Math.max(MIN_BLOCK_BUFFER, this.block.length);
    while (size < this.frameSize) size *= 2;
    const grown = size >= LZ4_SIZE ? (blockPool.pop() ?? new Uint8Array(LZ4_SIZE)) : new Uint8Array(size);
    grown.set(this.block.subarray(0, this.blockLength));
    this.block = grown;
  }

  /**
   * First frame: the window (and with WebAssembly the block region) is allocated here, off the
   * per-frame path.
   */
  private allocateWindow(): void {
    const wasm = (this.wasm = takeDecoder());
    if (wasm !== null) {
      this.window = wasm.window;
      this.block = wasm.block; // LZ4_SIZE bytes: growBlock is never needed
    } else {
      this.window = windowPool.pop() ?? new Uint8Array(INFLATE_WINDOW_SIZE);
      this.windowView = new DataView(this.window.buffer);
    }
  }

  private decodeFrame(src: Uint8Array, start: number, size: number): void {
    if (this.window.length === 0) this.allocateWindow();
    const window = this.window;
    if (this.writePos + TARGET_FRAME_SIZE > window.length) {
      window.copyWithin(0, this.writePos - this.history, this.writePos);
      this.writePos = this.history;
    }
    const out = this.writePos;
    const wasm = this.wasm;
    let end: number;
    if (wasm !== null) {
      // a split frame was collected in the block region already; a whole one is copied there
      if (src !== wasm.block) wasm.block.set(start === 0 && size === src.length ? src : src.subarray(start, start + size));
      end = wasm.decode(size, out, out + TARGET_FRAME_SIZE, out - this.history);
    } else {
      end = decompressBlock(src, start, size, window, out, out + TARGET_FRAME_SIZE, out - this.history, this.windowView);
    }
    if (end < 0) {
      throw new ProtocolError(
        ProtocolErrorCode.BadLz4Block,
        `corrupt LZ4 block of ${size} bytes: ${LZ4_ERROR_TEXT[end]}`,
        this.frameStart,
      );
    }
    this.frames++;
    this.compressedBytes += size + 4;
    this.decompressedBytes += end - out;
    this.writePos = end;
    this.history = Math.min(LZ4_HISTORY_SIZE, this.history + (end - out));
    this.sink.frameRead(window, out, end, this.frameStart);
  }
}
