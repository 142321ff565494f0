import type { IdDef } from './ids.js';

/**
 * How worker threads join the main thread's session (Node.js). Every message is structured-cloned
 * through BroadcastChannels, which reach every thread of the process without the application
 * passing ports around:
 *
 *   worker                         HELLO_CHANNEL                       main (WorkerHub)
 *     hello {threadId, hrOrigin}  ------------------------------------>
 *                                    channel "zonescope:client:<threadId>"
 *                                 <------------------------------------ welcome {hub, offsetNs}
 *     batch {defs, frames, open}  ------------------------------------> spliced into the stream
 *                                 <------------------------------------ ack {bytes}
 *                                 <------------------------------------ flush (main is closing)
 *     batch {..., reply: true}    ------------------------------------>
 *                                 <------------------------------------ ended
 *
 * A worker encodes its own LZ4 frames (off the main thread); each batch starts with a
 * ThreadContext, so the main thread splices it between two of its own frames as is.
 */
export const HELLO_CHANNEL = 'zonescope:client:hello';

export function workerChannelName(threadId: number): string {
  return `zonescope:client:${threadId}`;
}

export interface HelloMessage {
  type: 'hello';
  threadId: number;
  /** process.hrtime (ns) at the worker's performance.now() origin */
  hrOrigin: bigint;
}

export type ToMain =
  | {
      type: 'batch';
      hub: number;
      defs: IdDef[];
      frames: Uint8Array[];
      /** compressed bytes in `frames` (acknowledged back) */
      bytes: number;
      /** the worker's tracks with open zones after this batch: tid, depth, tid, depth, ... */
      open: number[];
      /** this batch answers a `flush` */
      reply: boolean;
    }
  | { type: 'bye'; hub: number; open: number[] };

export type ToWorker =
  /** threadId: the worker's thread id when the main thread assigns it (browsers) */
  | { type: 'welcome'; hub: number; offsetNs: number; threadId?: number }
  | { type: 'ack'; hub: number; bytes: number }
  | { type: 'flush'; hub: number }
  | { type: 'ended'; hub: number };

/**
 * process.hrtime in ns at this thread's performance.now() origin: the constant that puts
 * performance.now() of different threads on one time line (both read uv_hrtime). Taken between
 * two performance.now() readings; the error is about the time of one hrtime call.
 */
export function hrOriginNs(): bigint {
  let best: bigint = 0n;
  let bestGap = Infinity;
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    const h = process.hrtime.bigint();
    const b = performance.now();
    if (b - a < bestGap) {
      bestGap = b - a;
      best = h - BigInt(Math.round(((a + b) / 2) * 1e6));
    }
  }
  return best;
}
