import {
  FrameWalker,
  ProtocolError,
  TracyStreamReader,
  type OnDemandPayload,
  type ProtocolErrorCodeValue,
  type StreamReaderHooks,
  type TracyVisitor,
  type WelcomeMessage,
} from '../../protocol/tracy/index.js';
import { FEW_STREAMS, WIRE_AHEAD_FEW, WIRE_AHEAD_MANY, type FromInflater } from '../ingest/inflate-messages.js';
import type { InflateChannel, InflatePool } from '../ingest/inflate-pool.js';

/** What a session reads about its stream: counters, welcome, decoder tables. */
export type SessionReader = FrameWalker & {
  readonly retainedBytes: number;
};

/**
 * Where a session's bytes are decoded: on the main thread in slices (SyncDecodeSource), or
 * decompressed by an ingest worker and walked here (WorkerDecodeSource). The session drives
 * either the same way: receive bytes, decode a slice per event-loop turn, pause the transport
 * while `behind`, end when `finished`.
 */
export interface DecodeSource {
  readonly reader: SessionReader;
  /** Bytes from the app, in order. */
  receive(chunk: Uint8Array): void;
  /** No more bytes will come (the connection closed). */
  close(): void;
  /**
   * Decodes what is ready until performance.now() reaches `untilMs` (or `budgetBytes` of input
   * were consumed on the main thread).
   * @throws ProtocolError for an invalid stream, or what the store throws
   */
  decodeSlice(untilMs: number, budgetBytes: number): void;
  /** Something can be decoded now. */
  readonly ready: boolean;
  /** Input is piling up: the transport should stop reading. */
  readonly behind: boolean;
  /** Nothing received is waiting anywhere (decoded, or nothing came). */
  readonly idle: boolean;
  /** close() was called and everything before it is decoded. */
  readonly finished: boolean;
  /** How the stream ended, once finished: null on a frame boundary, else what was cut. */
  truncation(): string | null;
  /** Bytes held outside the store: decode buffers, input and batches waiting. */
  readonly retainedBytes: number;
  /** The session is over: drop every buffer (counters and tables stay). */
  release(): void;
}

/** Input bytes walked per step on the main thread (the clock is read between steps). */
const STEP_BYTES = 1024;

/**
 * Decodes on the main thread: LZ4 and the item walk in one pass over each chunk, in steps of
 * STEP_BYTES with the clock read between steps, so a slice overshoots by at most the frames
 * one step completes (a frame of 256 KiB of items takes at least ~1 KiB of wire).
 */
export class SyncDecodeSource implements DecodeSource {
  readonly reader: TracyStreamReader;
  private readonly pending: Uint8Array[] = [];
  private pendingOffset = 0;
  private closed = false;

  constructor(visitor: TracyVisitor, hooks: StreamReaderHooks) {
    this.reader = new TracyStreamReader(visitor, hooks);
  }

  receive(chunk: Uint8Array): void {
    this.pending.push(chunk);
  }

  close(): void {
    this.closed = true;
  }

  decodeSlice(untilMs: number, budgetBytes: number): void {
    let left = budgetBytes;
    while (left > 0 && this.pending.length > 0 && performance.now() < untilMs) {
      const chunk = this.pending[0]!;
      const n = Math.min(chunk.length - this.pendingOffset, left, STEP_BYTES);
      const from = this.pendingOffset;
      this.reader.push(chunk, from, from + n);
      left -= n;
      this.pendingOffset += n;
      if (this.pendingOffset === chunk.length) {
        this.pending.shift();
        this.pendingOffset = 0;
      }
    }
  }

  get ready(): boolean {
    return this.pending.length > 0;
  }
  get behind(): boolean {
    return this.pending.length > 0;
  }
  get idle(): boolean {
    return this.pending.length === 0;
  }
  get finished(): boolean {
    return this.closed && this.pending.length === 0;
  }

  truncation(): string | null {
    return this.reader.truncation();
  }

  get retainedBytes(): number {
    let n = this.reader.retainedBytes;
    for (const c of this.pending) n += c.byteLength;
    return n;
  }

  release(): void {
    this.pending.length = 0;
    this.pendingOffset = 0;
    this.reader.release();
  }
}

/** The main thread's reader of a worker-inflated stream: counters as the worker reported them. */
export class InflatedStreamReader extends FrameWalker {
  welcome: WelcomeMessage | null = null;
  onDemand: OnDemandPayload | null = null;
  bytes = 0;
  compressedBytes = 0;
  decompressedBytes = 0;
  frames = 0;
  error: ProtocolError | null = null;
  /** Decode buffers the worker holds for this stream. */
  workerBytes = 0;
  /** Bytes of decompressed batches received and not yet walked. */
  batchBytes = 0;

  get retainedBytes(): number {
    return this.workerBytes + this.batchBytes + this.decoder.scratchBytes;
  }

  count(m: { bytes: number; compressedBytes: number; decompressedBytes: number; frames: number; retained: number }): void {
    this.bytes = m.bytes;
    this.compressedBytes = m.compressedBytes;
    this.decompressedBytes = m.decompressedBytes;
    this.frames = m.frames;
    this.workerBytes = m.retained;
  }
}

/**
 * Decodes with an ingest worker: the worker frames and decompresses (the LZ4 half of the
 * work), this thread walks the items into the store in slices, frame by frame. Decompressed
 * batches waiting here are bounded by the worker's batch credit (MAX_BATCHES_OUT or 1), wire
 * bytes waiting there by WIRE_AHEAD_FEW or WIRE_AHEAD_MANY (the transport is paused past it).
 */
export class WorkerDecodeSource implements DecodeSource {
  readonly reader: InflatedStreamReader;
  private readonly channel: InflateChannel;
  private readonly queue: FromInflater[] = [];
  /** Next frame of the batch at the head of the queue. */
  private frameIndex = 0;
  private view: Uint8Array = new Uint8Array(0);
  private closed = false;
  private ended = false;
  private endTruncation: string | null = null;
  private released = false;

  /** `wake` is called when the worker's answer makes something ready. */
  constructor(
    private readonly pool: InflatePool,
    visitor: TracyVisitor,
    hooks: StreamReaderHooks,
    wake: () => void,
  ) {
    this.reader = new InflatedStreamReader(visitor, hooks);
    this.channel = pool.open((m) => {
      if (this.released) return;
      if (m.t === 'frames') this.reader.batchBytes += m.buf.byteLength;
      this.queue.push(m);
      wake();
    });
  }

  receive(chunk: Uint8Array): void {
    this.channel.send(chunk);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.end();
  }

  decodeSlice(untilMs: number): void {
    const reader = this.reader;
    while (this.queue.length > 0 && performance.now() < untilMs) {
      const m = this.queue[0]!;
      switch (m.t) {
        case 'welcome':
          this.queue.shift();
          reader.count(m);
          reader.welcome = m.welcome;
          reader.onDemand = m.onDemand;
          reader.welcomeRead(m.welcome, m.onDemand);
          break;
        case 'frames': {
          const i = this.frameIndex;
          if (i === 0) this.view = new Uint8Array(m.buf);
          const start = i === 0 ? 0 : m.index[2 * i - 2]!;
          this.frameIndex++;
          if (this.frameIndex === m.count) {
            // counters as of this batch's last frame, before the walk's hooks read them
            this.queue.shift();
            this.frameIndex = 0;
            reader.count(m);
          }
          try {
            reader.frameRead(this.view, start, m.index[2 * i]!, m.index[2 * i + 1]!);
          } catch (err) {
            if (err instanceof ProtocolError) reader.error = err;
            throw err;
          } finally {
            if (this.frameIndex === 0) {
              reader.batchBytes -= m.buf.byteLength;
              this.view = new Uint8Array(0);
              this.channel.ack(m.buf);
            }
          }
          break;
        }
        case 'error': {
          this.queue.shift();
          if (m.bytes !== undefined) reader.count(m as typeof m & { bytes: number; compressedBytes: number; decompressedBytes: number; frames: number; retained: number });
          if (!m.code.startsWith('ZS_PROTOCOL_')) throw Object.assign(new Error(m.message), { code: m.code });
          const err = new ProtocolError(m.code as ProtocolErrorCodeValue, m.message, m.offset, m.queueType, m.itemOffset);
          reader.error = err;
          throw err;
        }
        case 'ended':
          this.queue.shift();
          reader.count(m);
          this.ended = true;
          this.endTruncation = m.truncation;
          break;
      }
    }
  }

  get ready(): boolean {
    return this.queue.length > 0;
  }
  get behind(): boolean {
    return this.channel.posted - this.reader.bytes > (this.pool.streams <= FEW_STREAMS ? WIRE_AHEAD_FEW : WIRE_AHEAD_MANY);
  }
  /**
   * Bytes at the worker are inflated within milliseconds or are a partial frame waiting for
   * its rest: an app stalled mid-frame is idle, not busy.
   */
  get idle(): boolean {
    return this.queue.length === 0;
  }
  get finished(): boolean {
    return this.ended && this.queue.length === 0;
  }

  truncation(): string | null {
    return this.endTruncation;
  }

  get retainedBytes(): number {
    return this.released ? 0 : this.reader.retainedBytes + Math.max(0, this.channel.posted - this.reader.bytes);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.channel.close();
    this.queue.length = 0;
    this.reader.batchBytes = 0;
    this.reader.workerBytes = 0;
    this.view = new Uint8Array(0);
    this.reader.decoder.release();
    if (this.reader.error === null) {
      this.reader.error = new ProtocolError('ZS_PROTOCOL_BAD_STATE' as ProtocolErrorCodeValue, 'the reader was released: the stream is over', this.reader.bytes);
    }
  }
}
