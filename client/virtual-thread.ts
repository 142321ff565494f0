/**
 * A Tracy thread that no JS code runs on, for events measured elsewhere and reported after the
 * fact: GC pauses from a PerformanceObserver arrive with a start time and a duration once they
 * are over. The public API times zones when it is called, on the calling thread, so this writes
 * queue items through the lowest hook the SDK has: the Recorder's QueueWriter (`w`) and id
 * tables (`ids`), both public fields of every client the SDK makes (main thread and workers).
 *
 * Thread ids: a JS thread is `threadId + 1` and its async tracks `(threadId + 1) * 65536 + lane`
 * with lane 1..65535 (ids.ts), so `(threadId + 1) * 65536` ("lane 0") is never minted for
 * anything else: it is the virtual thread of that JS thread.
 *
 * Whether the session still takes events and the writer has room comes from the Recorder's
 * public `canRecord(bytes)`, as for every other event.
 */
import { LANES_PER_THREAD } from './ids.js';
import { Recorder } from './recorder.js';
import type { TracyClient } from './types.js';

/** Bytes one completed zone with text can take: ThreadContext, begin, staged text, end. */
const ZONE_BYTES = 5 + 9 + 9 + 3 + 256 + 1;


/** The Recorder behind a client the SDK made, or null (a wrapper or a stand-in). */
export function recorderOf(tracy: TracyClient): Recorder | null {
  return tracy instanceof Recorder ? tracy : null;
}

/** The virtual thread id of the JS thread `rec` records for. */
export function virtualThreadId(rec: Recorder): number {
  return rec.thread.tid * LANES_PER_THREAD;
}

export class VirtualThread {
  readonly tid: number;
  /** End of the last zone written, ns: zones on one thread must not overlap unless nested. */
  private lastEndNs = -Infinity;

  /**
   * @param name the thread's name in the receiver (asked once, answered from the id tables)
   */
  constructor(
    private readonly rec: Recorder,
    private readonly tracy: TracyClient,
    name: string,
  ) {
    this.tid = virtualThreadId(rec);
    rec.ids.setThreadName(this.tid, name);
  }

  /** A source location for zones of this thread; `fn` and `file` say where the events come from. */
  sourceLocation(name: string, fn: string, file: string, color: number): number {
    return this.rec.ids.srcloc(name, fn, file, 0, color & 0xffffff);
  }

  /**
   * A finished zone, [startNs, endNs] on the SDK's clock (clock.ts nowNs). A zone starting before
   * the previous one ended is moved to start at that end (its length kept where possible), so
   * the thread's zones never interleave.
   * @returns false when it was dropped (session over, or the buffer full: counted in stats.dropped)
   */
  zone(srcloc: number, startNs: number, endNs: number, text?: string): boolean {
    if (!this.canWrite()) {
      if (this.tracy.state !== 'closed') this.rec.dropped++;
      return false;
    }
    let start = Math.round(startNs);
    let end = Math.max(start, Math.round(endNs));
    if (start < this.lastEndNs) {
      end = Math.max(this.lastEndNs, end);
      start = this.lastEndNs;
    }
    this.lastEndNs = end;
    const w = this.rec.w;
    w.zoneBegin(this.tid, start, srcloc);
    if (text !== undefined && text !== '') w.zoneText(this.tid, text.slice(0, 256));
    w.zoneEnd(this.tid, end);
    return true;
  }

  private canWrite(): boolean {
    return this.tracy.state !== 'closed' && this.rec.canRecord(ZONE_BYTES);
  }
}
