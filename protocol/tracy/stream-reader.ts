import { ItemError, ProtocolError } from './errors.js';
import { FrameInflater, type InflaterSink } from './frame-inflater.js';
import type { OnDemandPayload, WelcomeMessage } from './handshake.js';
import { QueueDecoder } from './queue-decoder.js';
import { QUEUE_TYPE_NAMES } from './queue-types.js';
import type { TracyVisitor } from './visitor.js';

export interface StreamReaderHooks {
  /** After the WelcomeMessage (and the on-demand payload, if any) was read. */
  onWelcome?(welcome: WelcomeMessage, onDemand: OnDemandPayload | null): void;
  /** After each frame's items were walked. */
  onFrame?(): void;
}

/**
 * The second stage of reading the app's stream, shared by the readers: sets the decoder's
 * clock from the welcome and walks each decompressed frame's queue items into the visitor,
 * turning an item error into a ProtocolError that names the frame. Where the decompressed
 * frames come from is the subclass's business: TracyStreamReader inflates them in the same
 * call, InflatedStreamReader receives them from the ingest worker.
 */
export abstract class FrameWalker implements InflaterSink {
  readonly decoder: QueueDecoder;
  protected readonly hooks: StreamReaderHooks;
  abstract readonly welcome: WelcomeMessage | null;
  abstract readonly onDemand: OnDemandPayload | null;
  /** Bytes of the stream consumed (status byte included). */
  abstract readonly bytes: number;
  /** Compressed bytes of frames, headers included. */
  abstract readonly compressedBytes: number;
  abstract readonly decompressedBytes: number;
  abstract readonly frames: number;
  abstract readonly error: ProtocolError | null;

  constructor(visitor: TracyVisitor, hooks: StreamReaderHooks) {
    this.decoder = new QueueDecoder(visitor);
    this.hooks = hooks;
  }

  /** The welcome was read and validated: times can be converted from now on. */
  welcomeRead(welcome: WelcomeMessage, onDemand: OnDemandPayload | null): void {
    this.decoder.setClock(welcome.timerMul, welcome.initBegin);
    this.hooks.onWelcome?.(welcome, onDemand);
  }

  /**
   * Walks one decompressed frame, `items[start, end)`.
   * @throws ProtocolError (ItemError with the frame's offset), or what the visitor throws
   */
  frameRead(items: Uint8Array, start: number, end: number, frameStart: number): void {
    try {
      this.decoder.walk(items, start, end);
    } catch (err) {
      if (err instanceof ItemError) {
        const type = err.queueType >= 0 ? ` (type ${err.queueType} ${QUEUE_TYPE_NAMES[err.queueType] ?? '?'})` : '';
        throw new ProtocolError(
          err.code,
          `${err.message} at byte ${err.itemOffset} of the frame at offset ${frameStart}${type}`,
          frameStart,
          err.queueType,
          err.itemOffset,
        );
      }
      throw err;
    }
    this.hooks.onFrame?.();
  }
}

/**
 * Incremental decoder of the app -> receiver byte stream, starting at the handshake status byte:
 * status, WelcomeMessage, optional OnDemandPayloadMessage, then `u32 size + LZ4 block` frames
 * of queue items, each walked into the visitor as soon as it is decompressed. Feed it chunks of
 * any size (one byte at a time works); it keeps the state between them. No I/O.
 *
 * Errors are ProtocolErrors with the byte offset in this stream; after one, the reader stays
 * failed and throws the same error again.
 */
export class TracyStreamReader extends FrameWalker {
  private readonly inflater: FrameInflater;

  constructor(visitor: TracyVisitor, hooks: StreamReaderHooks = {}) {
    super(visitor, hooks);
    this.inflater = new FrameInflater(this);
  }

  get welcome(): WelcomeMessage | null {
    return this.inflater.welcome;
  }
  get onDemand(): OnDemandPayload | null {
    return this.inflater.onDemand;
  }
  get bytes(): number {
    return this.inflater.bytes;
  }
  get compressedBytes(): number {
    return this.inflater.compressedBytes;
  }
  get decompressedBytes(): number {
    return this.inflater.decompressedBytes;
  }
  get frames(): number {
    return this.inflater.frames;
  }
  get error(): ProtocolError | null {
    return this.inflater.error;
  }

  /** True once the WelcomeMessage was read and frames are expected. */
  get streaming(): boolean {
    return this.inflater.streaming;
  }

  /**
   * Consumes `chunk[start, end)`.
   * @throws ProtocolError for anything that is not a valid stream
   */
  push(chunk: Uint8Array, start = 0, end = chunk.length): void {
    this.inflater.push(chunk, start, end);
  }

  /**
   * Drops the decode buffers (LZ4 window, split-frame buffer) and the decoder's scratch and
   * pending queries, once the stream is over. Counters, the welcome, the error and the decoder's
   * name and source-location tables stay (a store resolves names through them). Afterwards
   * push() throws ZS_PROTOCOL_BAD_STATE.
   */
  release(): void {
    this.inflater.release();
    this.decoder.release();
  }

  /** Bytes of decode buffers this reader holds now (window, split-frame buffer, decoder scratch); 0 after release(). */
  get retainedBytes(): number {
    return this.inflater.retainedBytes + this.decoder.scratchBytes;
  }

  /**
   * Says whether the stream ended cleanly, on a frame boundary.
   * @returns null if so, else what was cut (what and where)
   */
  truncation(): string | null {
    return this.inflater.truncation();
  }
}
