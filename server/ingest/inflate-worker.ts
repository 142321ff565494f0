import { parentPort } from 'node:worker_threads';
import { FrameInflater, ProtocolError, type InflaterSink, type OnDemandPayload, type WelcomeMessage } from '../../protocol/tracy/index.js';
import { BATCH_BYTES, FEW_STREAMS, INPUT_STEP, MAX_BATCHES_OUT, type FromInflater, type InflateCounters, type ToInflater } from './inflate-messages.js';

/**
 * An ingest worker: the first stage of reading apps' streams (LZ4 framing and decompression,
 * FrameInflater) on its own thread, the way Tracy's receiver splits receiving + decompressing
 * from walking the items. Decompressed frames go back to the main thread in batches of up to
 * BATCH_BYTES whose buffers travel back and forth (transferred, not copied); a stream with its
 * credit of batches unacknowledged (MAX_BATCHES_OUT, or 1 when the worker serves more than
 * FEW_STREAMS streams) stops inflating and keeps its input until the main thread catches up
 * (and the main thread pauses the socket while its input piles up).
 */

const port = parentPort;
if (port === null) throw new Error('inflate-worker.ts runs as a worker thread');

class Stream implements InflaterSink {
  readonly inflater: FrameInflater;
  /** Input not yet inflated: chunks and the offset into the first. */
  private readonly input: Uint8Array[] = [];
  private inputOffset = 0;
  private batch: Uint8Array | null = null;
  private batchLength = 0;
  /** 2 numbers per frame: end of its items in the batch, frame offset in the stream. */
  private index: number[] = [];
  private out = 0;
  private readonly spare: ArrayBuffer[] = [];
  private endWanted = false;
  failed = false;

  constructor(readonly id: number) {
    this.inflater = new FrameInflater(this);
  }

  data(bytes: Uint8Array): void {
    this.input.push(bytes);
    this.pump();
  }

  end(): void {
    this.endWanted = true;
    this.pump();
  }

  ack(buf: ArrayBuffer): void {
    this.out--;
    // a stream's batches cycle between the threads: no new buffer per batch (and no freed one
    // left in this thread's malloc arena) while it streams
    if (this.spare.length <= MAX_BATCHES_OUT) this.spare.push(buf);
    this.pump();
  }

  welcomeRead(welcome: WelcomeMessage, onDemand: OnDemandPayload | null): void {
    this.flush();
    post({ t: 'welcome', id: this.id, welcome, onDemand, ...this.counters() });
  }

  frameRead(items: Uint8Array, start: number, end: number, frameStart: number): void {
    const n = end - start;
    if (this.batch !== null && this.batchLength + n > this.batch.length) this.flush();
    if (this.batch === null) {
      this.batch = new Uint8Array(this.spare.pop() ?? new ArrayBuffer(BATCH_BYTES));
      this.batchLength = 0;
    }
    this.batch.set(items.subarray(start, end), this.batchLength);
    this.batchLength += n;
    this.index.push(this.batchLength, frameStart);
  }

  /** Inflates queued input while the batch credit allows; answers 'end' once all is inflated. */
  private pump(): void {
    if (this.failed) return;
    try {
      const credit = streams.size <= FEW_STREAMS ? MAX_BATCHES_OUT : 1;
      while (this.input.length > 0 && this.out < credit) {
        const chunk = this.input[0]!;
        const n = Math.min(INPUT_STEP, chunk.length - this.inputOffset);
        this.inflater.push(chunk, this.inputOffset, this.inputOffset + n);
        this.inputOffset += n;
        if (this.inputOffset === chunk.length) {
          this.input.shift();
          this.inputOffset = 0;
        }
      }
    } catch (err) {
      this.flush();
      this.failed = true;
      this.input.length = 0;
      const e = err instanceof ProtocolError ? err : null;
      post({
        t: 'error',
        id: this.id,
        code: e?.code ?? 'ZS_SESSION_INTERNAL',
        message: err instanceof Error ? err.message : String(err),
        offset: e?.offset ?? this.inflater.bytes,
        queueType: e?.queueType ?? -1,
        itemOffset: e?.itemOffset ?? -1,
        ...this.counters(),
      });
      this.release();
      return;
    }
    // what was inflated goes out now: a live stream's zones are not held back for a full batch
    this.flush();
    if (this.endWanted && this.input.length === 0) {
      this.endWanted = false;
      post({ t: 'ended', id: this.id, truncation: this.inflater.truncation(), ...this.counters() });
    }
  }

  private flush(): void {
    if (this.batch === null || this.index.length === 0) return;
    const index = Float64Array.from(this.index);
    const buf = this.batch.buffer as ArrayBuffer;
    post({ t: 'frames', id: this.id, buf, index, count: index.length / 2, ...this.counters() }, [buf, index.buffer as ArrayBuffer]);
    this.out++;
    this.batch = null;
    this.batchLength = 0;
    this.index = [];
  }

  private counters(): InflateCounters {
    const f = this.inflater;
    return { bytes: f.bytes, compressedBytes: f.compressedBytes, decompressedBytes: f.decompressedBytes, frames: f.frames, retained: f.retainedBytes };
  }

  release(): void {
    this.input.length = 0;
    this.spare.length = 0;
    this.inflater.release();
  }
}

function post(message: FromInflater, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

const streams = new Map<number, Stream>();

// the LZ4 decoder instantiated before the first stream; if it cannot be, say so once
const lz4Fallback = FrameInflater.prepareLz4();
if (lz4Fallback !== null) post({ t: 'notice', id: 0, message: lz4Fallback });

port.on('message', (m: ToInflater) => {
  switch (m.t) {
    case 'open':
      streams.set(m.id, new Stream(m.id));
      break;
    case 'data':
      streams.get(m.id)?.data(new Uint8Array(m.buf, 0, m.length));
      break;
    case 'end':
      streams.get(m.id)?.end();
      break;
    case 'ack':
      streams.get(m.id)?.ack(m.buf);
      break;
    case 'close': {
      const s = streams.get(m.id);
      if (s) {
        streams.delete(m.id);
        if (!s.failed) s.release();
      }
      break;
    }
  }
});
