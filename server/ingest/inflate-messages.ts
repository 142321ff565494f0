import type { OnDemandPayload, WelcomeMessage } from '../../protocol/tracy/index.js';

/**
 * The conversation between the server's main thread and an ingest worker
 * (server/ingest/inflate-worker.ts). One worker serves many streams, each named by `id`;
 * messages of one stream arrive in the order they were posted.
 */

/** Main -> worker. */
export type ToInflater =
  /** A new stream: its first bytes are the handshake status byte. */
  | { t: 'open'; id: number }
  /** Bytes of the stream, `buf[0, length)`, transferred. */
  | { t: 'data'; id: number; buf: ArrayBuffer; length: number }
  /** The connection closed: answer 'ended' once everything before it was inflated. */
  | { t: 'end'; id: number }
  /** The session is over: drop the stream's state without answering. */
  | { t: 'close'; id: number }
  /** A 'frames' batch was walked: its buffer comes back for the next batch (transferred). */
  | { t: 'ack'; id: number; buf: ArrayBuffer };

/** Counters of the worker's inflater after a message. */
export interface InflateCounters {
  /** Bytes of the stream consumed (status byte included). */
  bytes: number;
  compressedBytes: number;
  decompressedBytes: number;
  frames: number;
  /** Bytes of decode buffers the worker holds for this stream (window, split-frame buffer). */
  retained: number;
}

/** Worker -> main. */
export type FromInflater =
  | ({ t: 'welcome'; id: number; welcome: WelcomeMessage; onDemand: OnDemandPayload | null } & InflateCounters)
  /**
   * Decompressed frames, back to back in `buf` (transferred). `index` holds 2 numbers per
   * frame: where its items end in `buf` (they start where the previous frame's end) and the
   * frame header's offset in the stream. Counters are as of the batch's last frame.
   */
  | ({ t: 'frames'; id: number; buf: ArrayBuffer; index: Float64Array; count: number } & InflateCounters)
  /** The stream is invalid: everything before it was sent; nothing follows. */
  | ({ t: 'error'; id: number; code: string; message: string; offset: number; queueType: number; itemOffset: number } & Partial<InflateCounters>)
  /** Answer to 'end': `truncation` says what was cut (null: the stream ended on a frame boundary). */
  | ({ t: 'ended'; id: number; truncation: string | null } & InflateCounters);

/** Bytes of one 'frames' batch buffer: four full frames. */
export const BATCH_BYTES = 1024 * 1024;
/**
 * Batches a stream may have posted and not yet had acknowledged. With the input fed in
 * INPUT_STEP pieces (a step completes at most a few frames), a stream holds at most
 * (MAX_BATCHES_OUT + 1) x BATCH_BYTES of decompressed items between the threads: 5 MiB.
 */
export const MAX_BATCHES_OUT = 4;
/** Wire bytes inflated between two checks of the batch credit. */
export const INPUT_STEP = 4096;
