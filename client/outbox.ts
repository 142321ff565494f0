import { FrameEncoder } from '../protocol/tracy/frame-encoder.js';
import type { QueueWriter } from '../protocol/tracy/queue-writer.js';
import type { ClientTransport } from './transport.js';

/** Stop handing chunks to a transport that holds this many unsent bytes; go on when it drains. */
export const TRANSPORT_HIGH_WATER = 4 * 1024 * 1024;

/**
 * The session's outgoing byte stream, in order: frames encoded from the queue writer, frames
 * spliced in from worker threads, and the transport that takes them when it can.
 *
 *   QueueWriter --pump()--> [frame][frame][worker frame][frame] --drain()--> transport
 *                           (held while waiting for a receiver or while the transport is full)
 *
 * Frames are LZ4 blocks compressed independently (valid for every Tracy receiver).
 */
export class Outbox {
  /** Frames encoded but not yet handed to a transport. */
  queuedBytes = 0;
  frames = 0;
  sentBytes = 0;

  private readonly queue: Uint8Array[] = [];
  private head = 0;
  private readonly encoder: FrameEncoder;

  constructor(
    private readonly w: QueueWriter,
    compress: boolean,
  ) {
    this.encoder = new FrameEncoder({ compress });
  }

  /** Encodes every frame the writer holds (closing its open one). */
  pump(): void {
    for (let f = this.w.takeFrame(); f !== null; f = this.w.takeFrame()) {
      this.push(this.encoder.encode(f, 0, f.length));
    }
  }

  /** Appends frames encoded elsewhere (a worker's) after everything pumped so far. */
  append(frames: readonly Uint8Array[]): void {
    this.pump();
    for (const f of frames) this.push(f);
  }

  /** A raw chunk (the status byte and welcome) ahead of all frames. */
  sendFirst(transport: ClientTransport, chunk: Uint8Array): void {
    this.sentBytes += chunk.length;
    transport.write(chunk);
  }

  /** Hands queued chunks to the transport until it holds TRANSPORT_HIGH_WATER bytes. */
  drain(transport: ClientTransport): void {
    while (this.head < this.queue.length && transport.bufferedBytes < TRANSPORT_HIGH_WATER) {
      const chunk = this.queue[this.head]!;
      this.queue[this.head++] = EMPTY;
      this.queuedBytes -= chunk.length;
      this.sentBytes += chunk.length;
      this.frames++;
      transport.write(chunk);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** True when nothing is waiting to be handed over. */
  get empty(): boolean {
    return this.head === this.queue.length && this.w.length === 0;
  }

  private push(frame: Uint8Array): void {
    this.queue.push(frame);
    this.queuedBytes += frame.length;
  }
}

const EMPTY = new Uint8Array(0);
