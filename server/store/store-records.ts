/** The records a SessionStore keeps besides its zone columns and messages, and what each is charged. */
import type { AllocLog } from './alloc-log.js';
import type { TimeSeries } from './time-series.js';

/** A frame set: continuous marks (each ends the previous frame) or start/end spans. */
export interface FrameSet {
  namePtr: number;
  /** continuous: `marks` holds (markNs, 0); discontinuous: `spans` holds (startNs, endNs) */
  continuous: boolean;
  marks: TimeSeries;
  spans: TimeSeries;
  /** FrameMarkStart waiting for its end, or NaN */
  openStartNs: number;
  /** marks (continuous) or ends (discontinuous) ever received */
  count: number;
  /** FrameMarkEnd without a start: counted, ignored */
  unmatchedEnds: number;
}

export interface PlotTrack {
  namePtr: number;
  series: TimeSeries;
  /** PlotConfig: 0 Number, 1 Memory, 2 Percentage, 3 Watt */
  format: number;
  step: boolean;
  fill: boolean;
  /** 0xRRGGBB, 0 = default */
  color: number;
}

export interface MemoryPool {
  namePtr: number;
  usedBytes: number;
  allocs: number;
  frees: number;
  /** Bytes of every allocation ever made in the pool (the app's own "bytes allocated" counter). */
  allocatedBytes: number;
  /** Live allocations: pointer -> the row of its record in `records` (`records.live`, see alloc-log.ts). */
  live: Map<number, number>;
  /** Every allocation's record (address, size, thread, times, zone), for the memory window. */
  records: AllocLog;
  /** Bytes in use after every event. */
  usage: TimeSeries;
  /** Frees of unknown pointers (Tracy fails the capture without IgnoreMemFaults): counted. */
  unknownFrees: number;
}

export interface LockInfo {
  id: number;
  srcloc: number;
  name: string | null;
  shared: boolean;
  obtains: number;
  announcedNs: number;
  terminatedNs: number;
}

/*
 * Table charges: what each record costs on the heap besides the segments (which charge their
 * own bytes), so the budget counts what an ended session really keeps (a thread: THREAD_BYTES).
 */

/** A frame set, plot or memory pool: its record, its series objects and map entry (a pool: its AllocLog and live Map too). */
export const FRAME_SET_BYTES = 384;
export const PLOT_BYTES = 256;
export const POOL_BYTES = 448 + 256;
/** A lock record and its map entry. */
export const LOCK_BYTES = 160;
