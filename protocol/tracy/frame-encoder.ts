import { HandshakeStatus, ON_DEMAND_PAYLOAD_SIZE, TARGET_FRAME_SIZE, WELCOME_SIZE, WelcomeFlag } from './constants.js';
import { encodeOnDemandPayload, encodeWelcome, type OnDemandPayload, type WelcomeMessage } from './handshake.js';
import { compressBound, Lz4BlockEncoder, writeLiteralBlock } from './lz4-block.js';
import { QueueWriter } from './queue-writer.js';

/** Size of a frame's header: u32 LE compressed size. */
export const FRAME_HEADER_SIZE = 4;

export interface FrameEncoderOptions {
  /**
   * true (default): LZ4-compress each block independently (a literal-only block when that is
   * not smaller). false: literal-only blocks, byte-predictable (tracy-protocol.md 2.3 and 6.2).
   */
  compress?: boolean;
}

/**
 * Turns runs of complete queue items into wire frames: `u32 LE compressed size` + one raw LZ4
 * block (tracy-protocol.md 2.1). Every block is independent (no history), which every Tracy
 * receiver accepts. One instance is reused for all frames; not re-entrant.
 */
export class FrameEncoder {
  private readonly lz4: Lz4BlockEncoder | null;
  private readonly scratch = new Uint8Array(FrameEncoder.bound(TARGET_FRAME_SIZE));

  constructor(options: FrameEncoderOptions = {}) {
    this.lz4 = options.compress === false ? null : new Lz4BlockEncoder();
  }

  /** Largest frame (header included) that `length` item bytes can produce. */
  static bound(length: number): number {
    return FRAME_HEADER_SIZE + compressBound(length);
  }

  /**
   * Writes the frame of `items[start, start + length)` into `dst` at `dIndex`, which must have
   * FrameEncoder.bound(length) bytes free.
   * @returns the frame's size in bytes, header included
   * @throws RangeError if length is 0 or larger than TARGET_FRAME_SIZE (262144)
   */
  encodeInto(items: Uint8Array, start: number, length: number, dst: Uint8Array, dIndex: number): number {
    if (length <= 0 || length > TARGET_FRAME_SIZE) {
      throw new RangeError(`a frame holds 1..${TARGET_FRAME_SIZE} item bytes, got ${length}`);
    }
    const body = dIndex + FRAME_HEADER_SIZE;
    const n = this.lz4 !== null ? this.lz4.compress(items, start, length, dst, body) : writeLiteralBlock(items, start, length, dst, body);
    dst[dIndex] = n & 0xff;
    dst[dIndex + 1] = (n >>> 8) & 0xff;
    dst[dIndex + 2] = (n >>> 16) & 0xff;
    dst[dIndex + 3] = n >>> 24;
    return FRAME_HEADER_SIZE + n;
  }

  /** As encodeInto, into a new array of exactly the frame's size (safe to queue on a socket). */
  encode(items: Uint8Array, start: number, length: number): Uint8Array {
    const n = this.encodeInto(items, start, length, this.scratch, 0);
    return this.scratch.slice(0, n);
  }
}

/** Receives the stream's chunks in order; each chunk is a new array the receiver may keep. */
export type ChunkSink = (chunk: Uint8Array) => void;

export interface TracyStreamWriterOptions extends FrameEncoderOptions {
  /** Most item bytes per frame (see QueueWriterOptions.maxFrameSize). Default 262144. */
  maxFrameSize?: number;
  /** Initial size of the item buffer. Default 65536. */
  initialCapacity?: number;
}

/**
 * The app side of one connection's byte stream, as the receiver reads it after the handshake:
 * status byte Welcome (1), the 1170-byte WelcomeMessage, the 16-byte OnDemandPayloadMessage when
 * the welcome has the OnDemand flag, then LZ4 frames of queue items. Write items through
 * `queue`; a frame goes to the sink whenever the next item group would not fit in it, and on
 * `flush`. No I/O: the sink decides where chunks go.
 */
export class TracyStreamWriter {
  readonly queue: QueueWriter;
  /** Frames emitted on this connection. */
  frames = 0;
  /** Bytes emitted on this connection (status byte and welcome included). */
  bytes = 0;

  private readonly sink: ChunkSink;
  private readonly encoder: FrameEncoder;

  constructor(sink: ChunkSink, options: TracyStreamWriterOptions = {}) {
    this.sink = sink;
    this.encoder = new FrameEncoder(options);
    this.queue = new QueueWriter({
      initialCapacity: options.initialCapacity,
      maxFrameSize: options.maxFrameSize,
      onFrame: (items, start, length) => this.emitFrame(items, start, length),
    });
  }

  /**
   * Starts a connection: resets the queue writer (time references, current thread, held
   * items), then emits status Welcome + WelcomeMessage (+ OnDemandPayloadMessage) as one chunk.
   * @throws TypeError if the OnDemand flag and the presence of `onDemand` disagree
   */
  welcome(welcome: WelcomeMessage, onDemand: OnDemandPayload | null = null): void {
    const flagged = (welcome.flags & WelcomeFlag.OnDemand) !== 0;
    if (flagged !== (onDemand !== null)) {
      throw new TypeError(
        flagged ? 'welcome.flags has OnDemand but no OnDemandPayload was given' : 'an OnDemandPayload was given but welcome.flags lacks OnDemand (0x01)',
      );
    }
    this.queue.reset();
    this.frames = 0;
    this.bytes = 0;
    const chunk = new Uint8Array(1 + WELCOME_SIZE + (onDemand !== null ? ON_DEMAND_PAYLOAD_SIZE : 0));
    chunk[0] = HandshakeStatus.Welcome;
    chunk.set(encodeWelcome(welcome), 1);
    if (onDemand !== null) chunk.set(encodeOnDemandPayload(onDemand), 1 + WELCOME_SIZE);
    this.emit(chunk);
  }

  /** Emits the items written so far as a frame (nothing if there are none). */
  flush(): void {
    this.queue.flush();
  }

  /** Flushes, then sends Terminate in a frame of its own, as Tracy's client does (`02 00 00 00 10 49`). */
  terminate(): void {
    this.queue.flush();
    this.queue.terminate();
    this.queue.flush();
  }

  private emitFrame(items: Uint8Array, start: number, length: number): void {
    this.frames++;
    this.emit(this.encoder.encode(items, start, length));
  }

  private emit(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.sink(chunk);
  }
}

export interface ClientStreamOptions extends TracyStreamWriterOptions {
  /** Required when welcome.flags has OnDemand, forbidden otherwise. */
  onDemand?: OnDemandPayload | null;
  /** End the stream with a Terminate frame. Default true. */
  terminate?: boolean;
}

/**
 * Builds a whole app -> receiver stream in memory (for tests, fixtures and benchmarks): the
 * welcome, the items `write` puts into the queue writer, a final flush and (by default) the
 * Terminate frame.
 */
export function encodeClientStream(welcome: WelcomeMessage, write: (queue: QueueWriter) => void, options: ClientStreamOptions = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const writer = new TracyStreamWriter((chunk) => chunks.push(chunk), options);
  writer.welcome(welcome, options.onDemand ?? null);
  write(writer.queue);
  if (options.terminate === false) writer.flush();
  else writer.terminate();
  return concatChunks(chunks);
}

/** Concatenates byte chunks into one new array. */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (let i = 0; i < chunks.length; i++) total += chunks[i]!.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    out.set(chunks[i]!, at);
    at += chunks[i]!.length;
  }
  return out;
}
