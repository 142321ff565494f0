/**
 * Node's memory anatomy as plots, the V8 twin of Go's MemStats (HeapSys, HeapIdle...): what
 * process.memoryUsage() says, and where V8's part of it lives. Every plot is in bytes (PlotConfig
 * format Memory); names without the runtime-metrics prefix ("worker N " in worker N):
 *
 *   rss, heapTotal, heapUsed, external, arrayBuffers    process.memoryUsage()
 *   v8 <space> size, v8 <space> used                    v8.getHeapSpaceStatistics(): space_size
 *                                                       and space_used_size of each heap space,
 *                                                       <space> as V8 names it (old_space,
 *                                                       new_space, code_space, ...)
 *   v8 heap available                                   v8.getHeapStatistics().total_available_size
 *   v8 malloced                                         v8.getHeapStatistics().malloced_memory
 *   rss - heapTotal - external                          derived: the resident memory that neither
 *                                                       the JS heap nor external memory explains
 *                                                       (native code, malloc of Node and addons,
 *                                                       thread stacks; negative when external
 *                                                       memory is not resident)
 *
 * The spaces are V8's: their set depends on the V8 version (Node 20: read_only, new, old, code,
 * shared, new_large_object, large_object, code_large_object, shared_large_object). heapTotal is
 * the sum of the spaces' sizes; heapUsed that of their used sizes (both read a moment apart).
 *
 * All points of one sample carry the same timestamp (written through the recorder, as GC zones
 * are), so a chart can line them up exactly and the derived value is exact at each sample.
 * Cost per sample (bench/runtime-metrics-bench.ts, 2-core dev machine shared with other work):
 * a whole sample of 26 plots 21-33 us, nearly all of it memoryUsage() (9 us at load 3.7,
 * 19-27 us at load 10: it reads /proc for rss), and ~2.1 KB of garbage; getHeapSpaceStatistics()
 * 0.5-1.7 us and ~1.3 KB (an object per space), getHeapStatistics() 0.3-1.1 us and ~360 B;
 * heapSpaces: false saves 1-7 us and ~1.8 KB. Then 25 bytes of queue per point (~650 B per
 * sample before compression).
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { PlotKind } from '../protocol/tracy/queue-writer.js';
import { nowNs } from './clock.js';
import type { TracyClient } from './types.js';
import { recorderOf } from './virtual-thread.js';

/** The process.memoryUsage() plots, in the order they are sampled (without the prefix). */
export const MEMORY_PLOTS = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const;
export const HEAP_AVAILABLE_PLOT = 'v8 heap available';
export const MALLOCED_PLOT = 'v8 malloced';
export const UNEXPLAINED_RSS_PLOT = 'rss - heapTotal - external';

/** The two plots of a V8 heap space, e.g. "v8 old_space size" and "v8 old_space used". */
export function heapSpacePlots(space: string): [size: string, used: string] {
  return [`v8 ${space} size`, `v8 ${space} used`];
}

/** At most this many heap spaces are plotted (V8 has 9 in Node 20); the rest are left out. */
export const MAX_HEAP_SPACES = 32;
/** Bytes one plot point takes in the queue: PlotDataDouble (25) and a ThreadContext (5) at worst. */
const POINT_BYTES = 30;

export interface MemorySamplerOptions {
  /** prepended to every plot name */
  prefix: string;
  /** the per-space plots and the two v8 totals (false: only the memoryUsage() and derived plots) */
  heapSpaces: boolean;
}

/**
 * Samples the memory plots into `tracy`, one timestamp per sample. Construct once (it sends the
 * PlotConfigs), then call sample() on the sampler's timer.
 */
export class MemorySampler {
  private readonly names: string[];
  private readonly ids: number[];
  private readonly spaces = new Map<string, [sizeId: number, usedId: number]>();
  private readonly values: number[] = [];
  /** plot id -> name, for clients without a recorder (their plot() takes names) */
  private readonly nameOf = new Map<number, string>();

  constructor(
    private readonly tracy: TracyClient,
    private readonly options: MemorySamplerOptions,
  ) {
    const fixed = [...MEMORY_PLOTS, UNEXPLAINED_RSS_PLOT];
    if (options.heapSpaces) fixed.push(HEAP_AVAILABLE_PLOT, MALLOCED_PLOT);
    this.names = fixed.map((n) => options.prefix + n);
    this.ids = this.names.map((n) => this.plotId(n));
    if (options.heapSpaces) for (const s of getHeapSpaceStatistics()) this.space(s.space_name);
  }

  /** Every plot name this sampler has configured so far (with the prefix). */
  plotNames(): string[] {
    return [...this.nameOf.values()];
  }

  /** One sample of every plot, all at one time. */
  sample(): void {
    const v = this.values;
    v.length = 0;
    const ids = this.ids;
    const m = process.memoryUsage();
    v.push(ids[0]!, m.rss, ids[1]!, m.heapTotal, ids[2]!, m.heapUsed, ids[3]!, m.external, ids[4]!, m.arrayBuffers);
    v.push(ids[5]!, m.rss - m.heapTotal - m.external);
    if (this.options.heapSpaces) {
      const h = getHeapStatistics();
      v.push(ids[6]!, h.total_available_size, ids[7]!, h.malloced_memory);
      for (const s of getHeapSpaceStatistics()) {
        const pair = this.space(s.space_name);
        if (pair) v.push(pair[0], s.space_size, pair[1], s.space_used_size);
      }
    }
    this.write(v);
  }

  /** Writes (id, value) pairs with one timestamp through the recorder, else through plot(). */
  private write(pairs: number[]): void {
    const rec = recorderOf(this.tracy);
    if (rec === null) {
      for (let i = 0; i < pairs.length; i += 2) this.tracy.plot(this.nameOf.get(pairs[i]!)!, pairs[i + 1]!);
      return;
    }
    const n = pairs.length / 2;
    if (!rec.canRecord(n * POINT_BYTES)) {
      // the session is over or the buffer full: counted like every dropped event
      if (this.tracy.state !== 'closed') rec.dropped += n;
      return;
    }
    const t = nowNs(); // the clock the recorder's own plot() stamps points with
    const tid = rec.thread.tid;
    for (let i = 0; i < pairs.length; i += 2) rec.w.plot(tid, pairs[i]!, t, pairs[i + 1]!, PlotKind.Double);
  }

  /** The plot ids of a heap space, configured on first sight; null past MAX_HEAP_SPACES. */
  private space(name: string): [number, number] | null {
    const known = this.spaces.get(name);
    if (known) return known;
    if (this.spaces.size >= MAX_HEAP_SPACES) return null;
    const [size, used] = heapSpacePlots(name);
    const pair: [number, number] = [this.plotId(this.options.prefix + size), this.plotId(this.options.prefix + used)];
    this.spaces.set(name, pair);
    return pair;
  }

  /** Sends the plot's PlotConfig (bytes) and returns its id (the recorder's, or a local one). */
  private plotId(name: string): number {
    this.tracy.plotConfig(name, { format: 'memory' });
    const rec = recorderOf(this.tracy);
    const id = rec !== null ? rec.ids.plot(name) : this.nameOf.size + 1;
    this.nameOf.set(id, name);
    return id;
  }
}
