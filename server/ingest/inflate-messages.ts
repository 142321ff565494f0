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
  /** Once, at the worker's start, when its WebAssembly LZ4 decoder is unavailable (id 0: no stream). */
  | { t: 'notice'; id: 0; message: string }
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
 * Streams a worker (or the pool) may serve with the deep pipeline below; past it, every stream
 * gets the shallow one, so many connections do not each hold megabytes between the threads
 * (their parallelism comes from each other then).
 */
export const FEW_STREAMS = 4;
/**
 * Batches a stream may have posted and not yet had acknowledged: MAX_BATCHES_OUT while its
 * worker serves at most FEW_STREAMS streams, else 1. With the input fed in INPUT_STEP pieces (a
 * step completes at most a few frames), a stream holds at most (credit + 1) x BATCH_BYTES of
 * decompressed items between the threads: 9 MiB, or 2 MiB.
 */
export const MAX_BATCHES_OUT = 8;
/** Wire bytes inflated between two checks of the batch credit. */
export const INPUT_STEP = 4096;
/**
 * Wire bytes posted to the worker and not yet inflated and walked past which the session
 * pauses its transport: WIRE_AHEAD_FEW while the pool serves at most FEW_STREAMS streams, else
 * WIRE_AHEAD_MANY. Both exceed two frames (LZ4Size each), so what is left once the worker and
 * the walk caught up (at most one partial frame) is always below them and reading resumes.
 */
export const WIRE_AHEAD_FEW = 8 * 1024 * 1024;
export const WIRE_AHEAD_MANY = 768 * 1024;
