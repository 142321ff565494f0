/**
 * V8's sampling heap profiler (node:inspector HeapProfiler.startSampling) streamed as Tracy
 * allocations with callstacks, in the memory pool HEAP_POOL (docs/client.md "Profiling").
 *
 * V8 samples about one allocation per `heapIntervalBytes` and keeps each sample while its object
 * lives; getSamplingProfile lists the live samples (a unique ordinal, the node of the allocating
 * stack, and the bytes the sample stands for, already scaled by V8). Every heapPollMs the list is
 * compared with the previous poll's: a new ordinal is written as MemAllocCallstackNamed (ptr =
 * ordinal + 1, its stack, its size), an ordinal that is gone as MemFreeNamed (the collector freed
 * it: no JS stack to attach). Both carry the poll's time: the receiver sees allocations and frees
 * to within one poll interval, and the live set (what a leak is) exactly as V8 sampled it.
 *
 * Bounded: at most maxHeapSamples live samples are tracked; newer ones past it, and ones that do
 * not fit the client's buffer, are not sent and counted once (ordinals only grow) in
 * stats.profileDropped. Cost per poll: one getSamplingProfile (proportional to the live samples:
 * ~3000 for 100 MB of live sampled objects at the default interval) and its JSON.
 */
import { Session } from 'node:inspector';
import { nowNs } from './clock.js';
import { FrameTable, ProfileTree, type V8CallFrame } from './callstacks.js';
import type { Recorder } from './recorder.js';
import type { TracyClient } from './types.js';

/** The pool the samples go to (a named memory pool in Tracy's memory window). */
export const HEAP_POOL = 'V8 heap (sampled)';

interface HeapNode {
  id: number;
  callFrame: V8CallFrame;
  children: HeapNode[];
}

interface SamplingHeapProfile {
  head: HeapNode;
  samples: Array<{ size: number; nodeId: number; ordinal: number }>;
}

/** Bytes one allocation takes at most: payload header, 128 addresses, CallstackSerial, MemNamePayload, the item. */
const ALLOC_BYTES = 11 + 8 * 128 + 1 + 9 + 27;

export class HeapSampler {
  private readonly session = new Session();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly pool: number;
  /** live ordinal -> the poll generation that last saw it */
  private readonly live = new Map<number, number>();
  private generation = 0;
  /** Highest ordinal handled (sent or dropped): older ones not in `live` were dropped already. */
  private maxOrdinal = -1;
  private running = true;
  private pending: Promise<void> = Promise.resolve();

  /**
   * Starts sampling at once.
   * @param intervalBytes mean bytes between samples
   * @param pollMs how often live samples are compared, ms
   * @param maxSamples most live samples tracked
   */
  constructor(
    private readonly rec: Recorder,
    private readonly tracy: TracyClient,
    private readonly frames: FrameTable,
    intervalBytes: number,
    pollMs: number,
    private readonly maxSamples: number,
  ) {
    this.pool = rec.ids.string(HEAP_POOL);
    this.session.connect();
    this.session.post('HeapProfiler.enable');
    this.session.post('HeapProfiler.startSampling', { samplingInterval: intervalBytes });
    this.timer = setInterval(() => void this.poll(), pollMs);
    this.timer.unref();
  }

  /** Sends the last changes and stops the sampling (idempotent). */
  stop(): Promise<void> {
    if (!this.running) return this.pending;
    this.running = false;
    clearInterval(this.timer);
    const last = this.poll().finally(() => {
      this.session.post('HeapProfiler.stopSampling', () => this.session.disconnect());
    });
    this.pending = last;
    return last;
  }

  private poll(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.session.post('HeapProfiler.getSamplingProfile', (err, result) => {
        if (err === null && result !== undefined) this.write(result.profile as unknown as SamplingHeapProfile);
        resolve();
      });
    });
  }

  private write(p: SamplingHeapProfile): void {
    const rec = this.rec;
    if (this.tracy.state !== 'connected' && this.tracy.state !== 'waiting') return;
    const tree = new ProfileTree(this.frames, p.head.id);
    // Iterative: a deep recursion in the app must not overflow our stack here.
    const todo: Array<[HeapNode, number]> = [[p.head, -1]];
    while (todo.length > 0) {
      const [n, parent] = todo.pop()!;
      tree.node(n.id, n.callFrame, parent);
      for (const c of n.children) todo.push([c, n.id]);
    }
    const gen = ++this.generation;
    const now = nowNs();
    const tid = rec.thread.tid;
    let maxSeen = this.maxOrdinal;
    for (const s of p.samples) {
      if (this.live.has(s.ordinal)) {
        this.live.set(s.ordinal, gen);
        continue;
      }
      if (s.ordinal <= this.maxOrdinal) continue; // dropped before, counted then
      if (s.ordinal > maxSeen) maxSeen = s.ordinal;
      if (this.live.size >= this.maxSamples || !rec.canRecord(ALLOC_BYTES)) {
        rec.profileDropped++;
        continue;
      }
      let stack = tree.stack(s.nodeId);
      if (stack.length === 0) stack = Float64Array.of(this.frames.address({ functionName: '(unknown)', url: '', lineNumber: -1, columnNumber: -1 }));
      rec.w.memAllocCallstack(tid, now, s.ordinal + 1, Math.max(0, Math.round(s.size)), this.pool, stack, stack.length);
      rec.profileSamples++;
      this.live.set(s.ordinal, gen);
    }
    this.maxOrdinal = maxSeen;
    for (const [ordinal, seen] of this.live) {
      if (seen === gen) continue;
      // Frees are not dropped (a lost one would show as a leak): at most maxSamples of them, 30 bytes each.
      rec.w.memFree(tid, now, ordinal + 1, this.pool);
      this.live.delete(ordinal);
    }
  }
}
